//! Multi-head self-attention kernels on f32 slices: the CPU backend's implementation of
//! [`super::attention::AttentionBackend`].
//!
//! Queries, keys and values stay in the layout of their fused projection
//! `[batch, len, 3 · heads · head_dim]` (no split, reshape or transpose copies); one batch item
//! at a time (in parallel where rayon is built in) walks its heads, and each head goes row by row: scores, softmax, dropout and the weighted
//! sum of values for one query, with every inner loop a contiguous run the compiler vectorises.
//! burn's `MultiHeadAttention` instead runs two batched matrix products of tiny per-head matrices
//! (gemm packs each one) and several full passes for the swaps, the mask, softmax and dropout.
//!
//! Padded keys get zero weight (exactly; burn's module fills −10 000 before softmax, the same
//! after rounding). `keep`, when given, gives the dropout multiplier of every attention weight
//! (`0` or `1 / (1 − p)`) by its index in `[batch, heads, len, len]`, one row at a time.

use super::attention_tiles::{backward_item_tiled, forward_item_tiled};
use super::dropout::MaskKey;
use super::fast_math::exp;
use super::parallel::{collect_chunk_pairs, collect_chunks};
use super::simd::{LANES, lane_dot, widest_simd};

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
    let weights_item = if with_weights { g.weights_item() } else { 0 };
    let (ctx, weights, _) =
        collect_chunk_pairs(g.batch * g.item(), g.item(), g.batch * weights_item, weights_item, |b, ctx, probs| {
            let qkv = &x.qkv[b * g.qkv_item()..][..g.qkv_item()];
            widest_simd!(forward_kernel(
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
        widest_simd!(backward_kernel(
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

/// One batch item of [`forward`]: register tiles where the head size allows, else row by row.
#[inline(always)]
fn forward_kernel(
    x: AttentionInputs,
    qkv: &[f32],
    g: &AttentionGeometry,
    b: usize,
    ctx: &mut [f32],
    probs: &mut [f32],
) {
    if g.head_dim % LANES == 0 {
        forward_item_tiled(x, qkv, g, b, ctx, probs)
    } else {
        forward_item(x, qkv, g, b, ctx, probs)
    }
}

/// One batch item of [`backward`], the same way.
#[inline(always)]
fn backward_kernel(
    x: AttentionInputs,
    qkv: &[f32],
    probs: &[f32],
    grad: &[f32],
    g: &AttentionGeometry,
    b: usize,
    out: &mut [f32],
) {
    if g.head_dim % LANES == 0 {
        backward_item_tiled(x, qkv, probs, grad, g, b, out)
    } else {
        backward_item(x, qkv, probs, grad, g, b, out)
    }
}

/// Part `part` (0 q, 1 k, 2 v), head `h` of one batch item gathered into contiguous scratch
/// `[len, head_dim]`.
#[inline(always)]
fn gather_rows(qkv: &[f32], g: &AttentionGeometry, part: usize, h: usize, rows: &mut [f32]) {
    let d = g.head_dim;
    for (t, out) in rows.chunks_exact_mut(d).enumerate() {
        out.copy_from_slice(&qkv[g.at(part, t, h)..][..d]);
    }
}

/// The same, transposed: `[head_dim, len]`.
#[inline(always)]
fn gather_cols(qkv: &[f32], g: &AttentionGeometry, part: usize, h: usize, cols: &mut [f32]) {
    let (d, len) = (g.head_dim, g.len);
    for t in 0..len {
        for (k, &value) in qkv[g.at(part, t, h)..][..d].iter().enumerate() {
            cols[k * len + t] = value;
        }
    }
}

/// `out[j] = Σ_k a[k] · cols[k][j]` for `cols` `[a.len(), out.len()]`.
#[inline(always)]
fn row_times(a: &[f32], cols: &[f32], out: &mut [f32]) {
    out.fill(0.0);
    let n = out.len();
    for (k, &ak) in a.iter().enumerate() {
        for (o, &c) in out.iter_mut().zip(&cols[k * n..][..n]) {
            *o += ak * c;
        }
    }
}

/// `acc += s · x`.
#[inline(always)]
fn axpy(acc: &mut [f32], s: f32, x: &[f32]) {
    for (a, &x) in acc.iter_mut().zip(x) {
        *a += s * x;
    }
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

#[inline(always)]
fn forward_item(x: AttentionInputs, qkv: &[f32], g: &AttentionGeometry, b: usize, ctx: &mut [f32], probs: &mut [f32]) {
    let (d, len, scale) = (g.head_dim, g.len, g.scale());
    let pad = &x.pad[b * len..][..len];
    let (mut k_cols, mut v_rows) = (vec![0.0; len * d], vec![0.0; len * d]);
    let (mut row, mut query, mut keep) = (vec![0.0; len], vec![0.0; d], vec![0.0; len]);
    for h in 0..g.heads {
        gather_cols(qkv, g, 1, h, &mut k_cols);
        gather_rows(qkv, g, 2, h, &mut v_rows);
        for i in 0..len {
            query.iter_mut().zip(&qkv[g.at(0, i, h)..][..d]).for_each(|(o, &q)| *o = q * scale);
            row_times(&query, &k_cols, &mut row);
            masked_softmax(&mut row, pad);
            if !probs.is_empty() {
                probs[(h * len + i) * len..][..len].copy_from_slice(&row);
            }
            if let Some(key) = x.keep {
                key.fill(b * g.weights_item() + (h * len + i) * len, &mut keep);
                row.iter_mut().zip(&keep).for_each(|(p, &m)| *p *= m);
            }
            let out = &mut ctx[i * g.width() + h * d..][..d];
            for (j, &p) in row.iter().enumerate() {
                if p != 0.0 {
                    axpy(out, p, &v_rows[j * d..][..d]);
                }
            }
        }
    }
}

/// One batch item of [`backward`]: `out` is its `[len, 3 · width]` gradient of `qkv`.
#[inline(always)]
fn backward_item(
    x: AttentionInputs,
    qkv: &[f32],
    probs: &[f32],
    grad: &[f32],
    g: &AttentionGeometry,
    b: usize,
    out: &mut [f32],
) {
    let (d, len, scale) = (g.head_dim, g.len, g.scale());
    let [mut q_rows, mut k_rows, mut v_cols] = [0; 3].map(|_| vec![0.0; len * d]);
    let (mut d_weights, mut dropped, mut keep_row) = (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
    for h in 0..g.heads {
        gather_rows(qkv, g, 0, h, &mut q_rows);
        gather_rows(qkv, g, 1, h, &mut k_rows);
        gather_cols(qkv, g, 2, h, &mut v_cols);
        for i in 0..len {
            let at = b * g.weights_item() + (h * len + i) * len;
            let p = &probs[at..][..len];
            let keep = x.keep.map(|key| {
                key.fill(at, &mut keep_row);
                &keep_row
            });
            let dc = &grad[b * g.item() + i * g.width() + h * d..][..d];
            // d(dropped weights) = dC_i · Vᵀ; dV_j += dropped_ij · dC_i
            row_times(dc, &v_cols, &mut d_weights);
            dropped.copy_from_slice(p);
            if let Some(keep) = keep {
                dropped.iter_mut().zip(keep).for_each(|(w, &m)| *w *= m);
                d_weights.iter_mut().zip(keep).for_each(|(w, &m)| *w *= m);
            }
            for (j, &w) in dropped.iter().enumerate() {
                if w != 0.0 {
                    axpy(&mut out[g.at(2, j, h)..][..d], w, dc);
                }
            }
            // softmax backward: dS_ij = P_ij (dP_ij − Σ_l dP_il P_il), times the score scale
            let dot = lane_dot(&d_weights, Some(p));
            d_weights.iter_mut().zip(p).for_each(|(w, &p)| *w = p * (*w - dot) * scale);
            for (j, &s) in d_weights.iter().enumerate() {
                if s != 0.0 {
                    axpy(&mut out[g.at(0, i, h)..][..d], s, &k_rows[j * d..][..d]);
                    axpy(&mut out[g.at(1, j, h)..][..d], s, &q_rows[i * d..][..d]);
                }
            }
        }
    }
}
