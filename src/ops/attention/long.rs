//! The forward kernel of [`super::cpu`] for long sequences (Whisper's encoder: 1 500 positions),
//! where attention is most of the work (40 % of the encoder's multiply-adds): both products of
//! each head go through `gemm`, which reads q, k and v in place in the fused projection (strides)
//! and runs at the dense layers' speed; the register tiles of [`super::tiles`] are made for short
//! texts and ran ~4× slower per multiply-add here. The queries are taken in blocks of rows, so
//! that a block's scores stay in the core's cache and the blocks spread over the threads whatever
//! the batch (one 30-s window has 12 blocks).

use super::cpu::{AttentionGeometry, AttentionInputs, masked_softmax};
use crate::ops::cpu::gemm::{View, product};
use crate::ops::cpu::parallel::for_each_task;
use crate::ops::cpu::simd::widest_simd;

/// The shortest sequence that takes this path: below it the register tiles are as fast and
/// `gemm`'s packing does not pay.
pub const MIN_LEN: usize = 256;

/// Query rows per block: the block's scores (`BLOCK × len`) stay in the core's L2 cache.
const BLOCK: usize = 128;

/// The context (`[batch, len, heads · head_dim]`; see [`super::cpu::forward`]).
pub(super) fn forward(x: AttentionInputs, g: &AttentionGeometry) -> Vec<f32> {
    let mut ctx = vec![0.0; g.batch * g.item()];
    let blocks: Vec<(usize, usize, &mut [f32])> = ctx
        .chunks_mut(g.item())
        .enumerate()
        .flat_map(|(b, item)| item.chunks_mut(BLOCK * g.width()).enumerate().map(move |(i, rows)| (b, i * BLOCK, rows)))
        .collect();
    for_each_task(blocks, |(b, first, out)| {
        widest_simd!(block(x: AttentionInputs = x, g: &AttentionGeometry = g, b: usize = b, first: usize = first, out: &mut [f32] = out))
    });
    ctx
}

/// The context rows `first..` of batch item `b` (as many as `out` holds), every head.
#[inline(always)]
fn block(x: AttentionInputs, g: &AttentionGeometry, b: usize, first: usize, out: &mut [f32]) {
    let (len, d, width) = (g.len, g.head_dim, g.width());
    let rows = out.len() / width;
    let qkv = &x.qkv[b * 3 * g.item()..][..3 * g.item()];
    let pad = &x.pad[b * len..][..len];
    let stride = (3 * width) as isize; // between positions in the fused projection
    let mut scores = vec![0.0; rows * len];
    let mut keep = if x.keep.is_some() { vec![0.0; len] } else { Vec::new() };
    for h in 0..g.heads {
        let (q, k, v) = (&qkv[g.at(0, first, h)..], &qkv[g.at(1, 0, h)..], &qkv[g.at(2, 0, h)..]);
        assert!(q.len() >= (rows - 1) * 3 * width + d && k.len() >= (len - 1) * 3 * width + d && v.len() >= (len - 1) * 3 * width + d);
        // SAFETY: the slices cover the strided rows (asserted just above); `scores` is rows × len.
        unsafe {
            let scores = View { ptr: scores.as_mut_ptr(), strides: [len as isize, 1] };
            // scores = scale · q · kᵀ (kᵀ: k read with its strides swapped)
            let q = View { ptr: q.as_ptr(), strides: [stride, 1] };
            let k = View { ptr: k.as_ptr(), strides: [1, stride] };
            product([rows, len, d], scores, false, q, k, g.scale(), false);
        }
        for (i, row) in scores.chunks_mut(len).enumerate() {
            masked_softmax(row, pad);
            if let Some(key) = x.keep {
                key.fill(b * g.weights_item() + (h * len + first + i) * len, &mut keep);
                row.iter_mut().zip(&keep).for_each(|(p, &m)| *p *= m);
            }
        }
        assert!(out.len() >= (rows - 1) * width + h * d + d);
        // SAFETY: `out` covers rows × width and this head's columns (asserted); `scores` rows × len.
        unsafe {
            let dst = View { ptr: out[h * d..].as_mut_ptr(), strides: [width as isize, 1] };
            let weights = View { ptr: scores.as_ptr(), strides: [len as isize, 1] };
            let v = View { ptr: v.as_ptr(), strides: [stride, 1] };
            product([rows, d, len], dst, false, weights, v, 1.0, false);
        }
    }
}
