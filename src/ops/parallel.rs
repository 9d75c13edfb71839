//! Splitting element-wise kernels over the CPU's threads (natively, and in the browser's threaded
//! module); elsewhere they run on the calling thread.
//!
//! burn-flex runs its element-wise ops on one thread: on two cores about a third of a MiniLM
//! training step ran on one core while the other waited.

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

/// A new buffer of `len` values, each piece written by `f(start, piece)` (see [`for_each_piece`]).
pub fn collect_pieces(len: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) -> Vec<f32> {
    let mut out = vec![0.0; len];
    for_each_piece(&mut out, f);
    out
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
