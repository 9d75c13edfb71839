//! Multi-head self-attention kernels on f32 slices: the CPU backend's implementation of
//! [`super::AttentionBackend`].
//!
//! Queries, keys and values are read in the layout of their fused projection
//! `[batch, len, 3 · heads · head_dim]` (no split, reshape or transpose passes); one batch item
//! at a time (in parallel where rayon is built in) walks its heads: each head is gathered into
//! small scratch buffers, its products run as register tiles ([`super::tiles`]) and
//! softmax, padding and dropout go row by row in between. burn's `MultiHeadAttention` instead
//! runs two batched matrix products of tiny per-head matrices (gemm packs each one) and several
//! full passes for the swaps, the mask, softmax and dropout.
//!
//! Long sequences without training (Whisper's encoder) take [`super::long`] instead: both
//! products through `gemm`, query rows in blocks.
//!
//! Padded keys get zero weight (exactly; burn's module fills −10 000 before softmax, the same
//! after rounding). `keep`, when given, gives the dropout multiplier of every attention weight
//! (`0` or `1 / (1 − p)`) by its index in `[batch, heads, len, len]`, one row at a time.

use super::long;
use super::tiles::{backward_item, forward_item};
use crate::ops::dropout::MaskKey;
use crate::ops::cpu::fast_math::exp;
use crate::ops::cpu::parallel::{collect_chunk_pairs, collect_chunks};
use crate::ops::cpu::simd::{LANES, lane_dot, widest_simd};

/// Sizes of one attention call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttentionGeometry {
    pub batch: usize,
    pub len: usize,
    pub heads: usize,
    pub head_dim: usize,
}

impl AttentionGeometry {
    /// `heads · head_dim`: the width of each of q, k, v and of the context.
    pub(super) fn width(&self) -> usize {
        self.heads * self.head_dim
    }

    /// Elements of one batch item of the context: `len · width`.
    pub(super) fn item(&self) -> usize {
        self.len * self.width()
    }

    /// Elements of one batch item of the projections `[q | k | v]`: `len · 3 · width`.
    fn qkv_item(&self) -> usize {
        3 * self.item()
    }

    /// Elements of one batch item of the attention weights: `heads · len · len`.
    pub(super) fn weights_item(&self) -> usize {
        self.heads * self.len * self.len
    }

    pub(super) fn scale(&self) -> f32 {
        1.0 / (self.head_dim as f32).sqrt()
    }

    /// Offset in a `[len, 3 · width]` batch item of row `t`, head `h` of part `part` (0 = q,
    /// 1 = k, 2 = v).
    pub(super) fn at(&self, part: usize, t: usize, h: usize) -> usize {
        t * 3 * self.width() + part * self.width() + h * self.head_dim
    }
}

/// The inputs every kernel reads: the three projections side by side, `qkv`
/// (`[batch, len, 3 · heads · head_dim]`: q, then k, then v), `pad` (`[batch, len]`, non-zero
/// at padding) and the optional dropout multipliers.
#[derive(Clone, Copy)]
pub struct AttentionInputs<'a> {
    pub qkv: &'a [f32],
    pub pad: &'a [f32],
    pub keep: Option<MaskKey>,
}

/// The context (`[batch, len, heads · head_dim]`) and, if `with_weights`, the attention weights
/// before dropout (`[batch, heads, len, len]`; empty otherwise), which the backward pass needs.
pub fn forward(x: AttentionInputs, g: &AttentionGeometry, with_weights: bool) -> (Vec<f32>, Vec<f32>) {
    if !with_weights && g.len >= long::MIN_LEN {
        return (long::forward(x, g), Vec::new());
    }
    let weights_item = if with_weights { g.weights_item() } else { 0 };
    let (ctx, weights, _) =
        collect_chunk_pairs(g.batch * g.item(), g.item(), g.batch * weights_item, weights_item, |b, ctx, probs| {
            let qkv = &x.qkv[b * g.qkv_item()..][..g.qkv_item()];
            widest_simd!(forward_item(
                x: AttentionInputs = x,
                qkv: &[f32] = qkv,
                g: &AttentionGeometry = g,
                b: usize = b,
                ctx: &mut [f32] = ctx,
                probs: &mut [f32] = probs
            ));
        });
    (ctx, weights)
}

/// The gradient of `qkv` (`[batch, len, 3 · heads · head_dim]`) from the context's gradient
/// `grad`, given the forward pass's attention weights `probs` (before dropout).
pub fn backward(x: AttentionInputs, probs: &[f32], grad: &[f32], g: &AttentionGeometry) -> Vec<f32> {
    collect_chunks(g.batch * g.qkv_item(), g.qkv_item(), |b, out| {
        let qkv = &x.qkv[b * g.qkv_item()..][..g.qkv_item()];
        widest_simd!(backward_item(
            x: AttentionInputs = x,
            qkv: &[f32] = qkv,
            probs: &[f32] = probs,
            grad: &[f32] = grad,
            g: &AttentionGeometry = g,
            b: usize = b,
            out: &mut [f32] = out
        ));
    })
    .0
}

/// Softmax of `row` in place over the unpadded positions; padded ones get 0. The maximum and the
/// sum are kept per lane (a float reduction in one variable does not vectorise).
#[inline(always)]
pub(super) fn masked_softmax(row: &mut [f32], pad: &[f32]) {
    for (s, &p) in row.iter_mut().zip(pad) {
        *s = if p == 0.0 { *s } else { f32::NEG_INFINITY };
    }
    let mut lanes = [f32::NEG_INFINITY; LANES];
    for chunk in row.chunks(LANES) {
        for (l, &s) in lanes.iter_mut().zip(chunk) {
            *l = if s > *l { s } else { *l };
        }
    }
    let max = lanes.iter().fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    if max == f32::NEG_INFINITY {
        row.fill(0.0); // every key is padding: nothing to attend to
        return;
    }
    for (s, &p) in row.iter_mut().zip(pad) {
        *s = if p == 0.0 { exp(*s - max) } else { 0.0 };
    }
    let inv = 1.0 / lane_dot(row, None);
    row.iter_mut().for_each(|s| *s *= inv);
}
