//! Splitting element-wise kernels over the CPU's threads (natively, and in the browser's threaded
//! module); elsewhere they run on the calling thread.
//!
//! burn-flex runs its element-wise ops on one thread: on two cores about a third of a MiniLM
//! training step ran on one core while the other waited. New buffers are not zero-filled up
//! front either (`vec![0.0; n]` is a memset on the calling thread, ~3 % of a step): each piece is
//! zeroed by the thread that then writes it, while the piece is in its cache.

use std::mem::MaybeUninit;

/// Elements per piece: large enough to amortise the hand-off, small enough to balance.
const PIECE: usize = 1 << 15;

/// Calls `f(start, piece)` for consecutive pieces of `out` (`start` = the piece's offset), in
/// parallel where rayon is built in.
pub fn for_each_piece(out: &mut [f32], f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    {
        use rayon::prelude::*;
        if out.len() > PIECE {
            out.par_chunks_mut(PIECE).enumerate().for_each(|(i, piece)| f(i * PIECE, piece));
            return;
        }
    }
    f(0, out);
}

/// Calls `f` on every task, in parallel where rayon is built in.
pub fn for_each_task<T: Send>(tasks: Vec<T>, f: impl Fn(T) + Sync + Send) {
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    {
        use rayon::prelude::*;
        tasks.into_par_iter().for_each(f);
    }
    #[cfg(not(any(not(target_arch = "wasm32"), feature = "threads")))]
    tasks.into_iter().for_each(f);
}

/// A new buffer of `len` values, each piece written by `f(start, piece)` (see [`for_each_piece`]).
pub fn collect_pieces(len: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) -> Vec<f32> {
    let chunk = if cfg!(any(not(target_arch = "wasm32"), feature = "threads")) { PIECE } else { len.max(1) };
    collect_chunks(len, chunk, |i, piece| f(i * chunk, piece)).0
}

/// Calls `f(first_row, block)` for consecutive blocks of whole `row_len`-long rows of `out`, in
/// parallel where rayon is built in, and returns the blocks' results in order.
pub fn map_row_blocks<T: Send>(
    out: &mut [f32],
    row_len: usize,
    f: impl Fn(usize, &mut [f32]) -> T + Sync + Send,
) -> Vec<T> {
    let rows_per_block = PIECE.div_ceil(row_len.max(1)).max(1);
    let block = rows_per_block * row_len.max(1);
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(block).enumerate().map(|(i, b)| f(i * rows_per_block, b)).collect()
    }
    #[cfg(not(any(not(target_arch = "wasm32"), feature = "threads")))]
    out.chunks_mut(block).enumerate().map(|(i, b)| f(i * rows_per_block, b)).collect()
}

/// A new buffer of `len` values in blocks of whole `row_len`-long rows, each written by
/// `f(first_row, block)`, in parallel where rayon is built in; returns the blocks' results in
/// order.
pub fn collect_row_blocks<T: Send>(
    len: usize,
    row_len: usize,
    f: impl Fn(usize, &mut [f32]) -> T + Sync + Send,
) -> (Vec<f32>, Vec<T>) {
    let rows_per_block = PIECE.div_ceil(row_len.max(1)).max(1);
    collect_chunks(len, rows_per_block * row_len.max(1), |i, block| f(i * rows_per_block, block))
}

/// A new buffer of `len` values cut into `chunk`-long pieces (the last may be shorter), each
/// zeroed and then written by `f(index, piece)` on the thread that runs it.
pub fn collect_chunks<T: Send>(
    len: usize,
    chunk: usize,
    f: impl Fn(usize, &mut [f32]) -> T + Sync + Send,
) -> (Vec<f32>, Vec<T>) {
    let (values, _, results) = collect_chunk_pairs(len, chunk, 0, 0, |i, piece, _| f(i, piece));
    (values, results)
}

/// Two new buffers cut into as many pieces (`a_len / a_chunk`; `b_chunk` 0 leaves the second
/// empty), each pair zeroed and then written by `f(index, a piece, b piece)` on the thread that
/// runs it, in parallel where rayon is built in.
pub fn collect_chunk_pairs<T: Send>(
    a_len: usize,
    a_chunk: usize,
    b_len: usize,
    b_chunk: usize,
    f: impl Fn(usize, &mut [f32], &mut [f32]) -> T + Sync + Send,
) -> (Vec<f32>, Vec<f32>, Vec<T>) {
    let pieces = a_len.div_ceil(a_chunk.max(1));
    assert!(if b_chunk == 0 { b_len == 0 } else { b_len.div_ceil(b_chunk) == pieces }, "pieces must pair up");
    let (mut a, mut b) = (Vec::with_capacity(a_len), Vec::with_capacity(b_len));
    let b_pieces: Vec<&mut [MaybeUninit<f32>]> = if b_chunk == 0 {
        (0..pieces).map(|_| &mut [][..]).collect()
    } else {
        b.spare_capacity_mut()[..b_len].chunks_mut(b_chunk).collect()
    };
    let a_spare = &mut a.spare_capacity_mut()[..a_len];
    let job = |(i, (a, b)): (usize, (&mut [MaybeUninit<f32>], &mut [MaybeUninit<f32>]))| f(i, zeroed(a), zeroed(b));
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    let results = {
        use rayon::prelude::*;
        a_spare.par_chunks_mut(a_chunk.max(1)).zip(b_pieces).enumerate().map(job).collect()
    };
    #[cfg(not(any(not(target_arch = "wasm32"), feature = "threads")))]
    let results = a_spare.chunks_mut(a_chunk.max(1)).zip(b_pieces).enumerate().map(job).collect();
    // SAFETY: the pieces cover both buffers (same count, asserted above) and each went
    // through `zeroed`.
    unsafe {
        a.set_len(a_len);
        b.set_len(b_len);
    }
    (a, b, results)
}

/// Zeroes a piece of a buffer being built and returns it as values.
fn zeroed(piece: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    piece.fill(MaybeUninit::new(0.0));
    // SAFETY: every element was just written; MaybeUninit<f32> has f32's layout.
    unsafe { &mut *(piece as *mut [MaybeUninit<f32>] as *mut [f32]) }
}

/// [`for_each_piece`] over three equally long buffers at once: `f(start, a, b, c)`.
pub fn for_each_piece3(
    a: &mut [f32],
    b: &mut [f32],
    c: &mut [f32],
    f: impl Fn(usize, &mut [f32], &mut [f32], &mut [f32]) + Sync + Send,
) {
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    {
        use rayon::prelude::*;
        if a.len() > PIECE {
            a.par_chunks_mut(PIECE)
                .zip(b.par_chunks_mut(PIECE))
                .zip(c.par_chunks_mut(PIECE))
                .enumerate()
                .for_each(|(i, ((a, b), c))| f(i * PIECE, a, b, c));
            return;
        }
    }
    f(0, a, b, c);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every piece arrives zeroed, pieces pair up in order (the last ones shorter) and the
    /// results come back in order.
    #[test]
    fn chunk_pairs_cover_both_buffers_in_order() {
        let (a_len, b_len) = (10 * PIECE + 7, 11 * 3 - 2);
        let (a, b, results) = collect_chunk_pairs(a_len, PIECE, b_len, 3, |i, a, b| {
            assert!(a.iter().chain(b.iter()).all(|&v| v == 0.0), "piece {i} not zeroed");
            a.iter_mut().enumerate().for_each(|(j, v)| *v = (i * PIECE + j) as f32);
            b.iter_mut().enumerate().for_each(|(j, v)| *v = -((i * 3 + j) as f32));
            (i, a.len(), b.len())
        });
        assert!(a.iter().enumerate().all(|(j, &v)| v == j as f32));
        assert!(b.iter().enumerate().all(|(j, &v)| v == -(j as f32)));
        assert_eq!(results.len(), 11);
        assert!(results.iter().enumerate().all(|(i, r)| r.0 == i));
        assert_eq!((results[10].1, results[10].2), (7, 1));
        // no second buffer; blocks of whole rows
        let (rows, firsts) = collect_row_blocks(PIECE * 3, 1000, |first, block| {
            block.iter_mut().enumerate().for_each(|(j, v)| *v = (first * 1000 + j) as f32);
            first
        });
        assert!(rows.iter().enumerate().all(|(j, &v)| v == j as f32));
        assert_eq!(firsts[1], PIECE.div_ceil(1000));
        assert_eq!(collect_pieces(0, |_, _| unreachable!("no piece of nothing")), Vec::<f32>::new());
    }

    #[test]
    #[should_panic(expected = "pieces must pair up")]
    fn unpaired_pieces_are_refused() {
        collect_chunk_pairs(100, 10, 100, 20, |_, _, _| ());
    }
}
