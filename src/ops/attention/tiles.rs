//! The attention kernels of [`super::cpu`], one batch item at a time: the products as
//! register tiles of 4 rows × 16 lanes, four independent chains of multiply-adds (a row-by-row
//! loop keeps one chain waiting on itself). Heads are gathered into scratch rows padded with zeros
//! to whole tiles (head size to a multiple of 16: MiniLM's 32 needs none), so any size works.

use super::cpu::{AttentionGeometry, AttentionInputs, masked_softmax};
use crate::ops::cpu::simd::{LANES, lane_dot};

/// Rows of a register tile: independent multiply-add chains.
const TILE_ROWS: usize = 4;

/// `out[r][j] = Σ_k a[r][k] · b[k][j]` for `TILE_ROWS` rows of `a` (row stride `a_stride`, `k`
/// elements used) and `LANES` columns of `b` (row stride `b_stride`): four independent chains of
/// multiply-adds held in registers.
#[inline(always)]
fn tile(a: &[f32], a_stride: usize, k: usize, b: &[f32], b_stride: usize) -> [[f32; LANES]; TILE_ROWS] {
    let mut acc = [[0.0f32; LANES]; TILE_ROWS];
    for kk in 0..k {
        let col: &[f32; LANES] = b[kk * b_stride..][..LANES].try_into().expect("a full tile");
        for (r, acc) in acc.iter_mut().enumerate() {
            let ar = a[r * a_stride + kk];
            for (o, &c) in acc.iter_mut().zip(col) {
                *o += ar * c;
            }
        }
    }
    acc
}

/// `out = a · b` for all of `out`'s rows (a multiple of `TILE_ROWS`) and `cols` columns (a
/// multiple of `LANES`): `a` has row stride `a_stride` and `k` used columns, `b` is `k × cols`.
#[inline(always)]
fn all_tiles(a: &[f32], a_stride: usize, k: usize, b: &[f32], cols: usize, out: &mut [f32]) {
    for i0 in (0..out.len() / cols).step_by(TILE_ROWS) {
        for j0 in (0..cols).step_by(LANES) {
            let acc = tile(&a[i0 * a_stride..], a_stride, k, &b[j0..], cols);
            for (r, acc) in acc.iter().enumerate() {
                out[(i0 + r) * cols + j0..][..LANES].copy_from_slice(acc);
            }
        }
    }
}

/// Head sizes padded to whole tiles: the row stride of the scratch buffers.
fn padded(head_dim: usize) -> usize {
    head_dim.div_ceil(LANES) * LANES
}

/// Copies the first lanes of tile rows `acc` (at most `len - i0` of them) to `out` at
/// `at(row)`, `lanes` values each: what of a tile lies inside the head and the sequence.
#[inline(always)]
fn store(acc: &[[f32; LANES]; TILE_ROWS], rows: usize, lanes: usize, out: &mut [f32], at: impl Fn(usize) -> usize) {
    for (r, acc) in acc.iter().enumerate().take(rows) {
        out[at(r)..][..lanes].copy_from_slice(&acc[..lanes]);
    }
}

/// [`super::cpu`]'s forward kernel for one batch item: scores and the weighted sum of
/// values as register tiles of 4 query rows × 16 lanes.
#[inline(always)]
pub(super) fn forward_item(
    x: AttentionInputs,
    qkv: &[f32],
    g: &AttentionGeometry,
    b: usize,
    ctx: &mut [f32],
    probs: &mut [f32],
) {
    let (d, dp, len, scale) = (g.head_dim, padded(g.head_dim), g.len, g.scale());
    let pad = &x.pad[b * len..][..len];
    let cols = len.div_ceil(LANES) * LANES; // key columns, zero-padded to whole tiles
    let rows = len.div_ceil(TILE_ROWS) * TILE_ROWS; // query rows, zero-padded to whole tiles
    // scratch: padding rows and columns stay zero for every head
    let mut k_cols = vec![0.0; d * cols];
    let mut queries = vec![0.0; rows * dp];
    let mut v_rows = vec![0.0; cols * dp];
    let (mut weights, mut keep) = (vec![0.0; rows * cols], vec![0.0; len]);
    for h in 0..g.heads {
        for t in 0..len {
            for (k, &value) in qkv[g.at(1, t, h)..][..d].iter().enumerate() {
                k_cols[k * cols + t] = value;
            }
            let q = &qkv[g.at(0, t, h)..][..d];
            queries[t * dp..][..d].iter_mut().zip(q).for_each(|(o, &q)| *o = q * scale);
            v_rows[t * dp..][..d].copy_from_slice(&qkv[g.at(2, t, h)..][..d]);
        }
        all_tiles(&queries, dp, d, &k_cols, cols, &mut weights);
        for i in 0..len {
            let row = &mut weights[i * cols..][..len];
            masked_softmax(row, pad);
            if !probs.is_empty() {
                probs[(h * len + i) * len..][..len].copy_from_slice(row);
            }
            if let Some(key) = x.keep {
                key.fill(b * g.weights_item() + (h * len + i) * len, &mut keep);
                row.iter_mut().zip(&keep).for_each(|(p, &m)| *p *= m);
            }
            weights[i * cols + len..][..cols - len].fill(0.0);
        }
        // context rows = weights · V, tile by tile over the head's lanes
        for i0 in (0..len).step_by(TILE_ROWS) {
            for c0 in (0..d).step_by(LANES) {
                let acc = tile(&weights[i0 * cols..], cols, len, &v_rows[c0..], dp);
                store(&acc, len - i0, LANES.min(d - c0), ctx, |r| (i0 + r) * g.width() + h * d + c0);
            }
        }
    }
}

/// Its backward kernel, with the products as register tiles (see [`forward_item`]).
#[inline(always)]
pub(super) fn backward_item(
    x: AttentionInputs,
    qkv: &[f32],
    probs: &[f32],
    grad: &[f32],
    g: &AttentionGeometry,
    b: usize,
    out: &mut [f32],
) {
    let (d, dp, len, scale) = (g.head_dim, padded(g.head_dim), g.len, g.scale());
    let cols = len.div_ceil(LANES) * LANES;
    let rows = len.div_ceil(TILE_ROWS) * TILE_ROWS;
    // scratch: padding rows and columns stay zero for every head
    let [mut q_rows, mut k_rows, mut d_ctx] = [0; 3].map(|_| vec![0.0; rows * dp]);
    let mut v_cols = vec![0.0; d * cols];
    let [mut d_weights, mut dropped_t, mut d_scores_t] = [0; 3].map(|_| vec![0.0; rows * cols]);
    let mut keep = vec![0.0; len];
    for h in 0..g.heads {
        for t in 0..len {
            q_rows[t * dp..][..d].copy_from_slice(&qkv[g.at(0, t, h)..][..d]);
            k_rows[t * dp..][..d].copy_from_slice(&qkv[g.at(1, t, h)..][..d]);
            for (k, &value) in qkv[g.at(2, t, h)..][..d].iter().enumerate() {
                v_cols[k * cols + t] = value;
            }
            d_ctx[t * dp..][..d].copy_from_slice(&grad[b * g.item() + t * g.width() + h * d..][..d]);
        }
        // d(dropped weights) = dC · Vᵀ
        all_tiles(&d_ctx, dp, d, &v_cols, cols, &mut d_weights);
        // through dropout and softmax, row by row: dS = P ∘ (dP − Σ dP ∘ P) · scale
        for i in 0..len {
            let at = b * g.weights_item() + (h * len + i) * len;
            let p = &probs[at..][..len];
            let dw = &mut d_weights[i * cols..][..len];
            match x.keep {
                Some(key) => {
                    key.fill(at, &mut keep);
                    dw.iter_mut().zip(&keep).for_each(|(w, &m)| *w *= m);
                    for (j, (&p, &m)) in p.iter().zip(&keep).enumerate() {
                        dropped_t[j * cols + i] = p * m;
                    }
                }
                None => p.iter().enumerate().for_each(|(j, &p)| dropped_t[j * cols + i] = p),
            }
            let dot = lane_dot(dw, Some(p));
            for (j, (w, &p)) in dw.iter_mut().zip(p).enumerate() {
                *w = p * (*w - dot) * scale;
                d_scores_t[j * cols + i] = *w;
            }
        }
        // dQ = dS · K, dK = dSᵀ · Q, dV = (dropped weights)ᵀ · dC, tile by tile over the lanes
        for i0 in (0..len).step_by(TILE_ROWS) {
            for c0 in (0..d).step_by(LANES) {
                let products = [
                    (0, tile(&d_weights[i0 * cols..], cols, len, &k_rows[c0..], dp)),
                    (1, tile(&d_scores_t[i0 * cols..], cols, len, &q_rows[c0..], dp)),
                    (2, tile(&dropped_t[i0 * cols..], cols, len, &d_ctx[c0..], dp)),
                ];
                for (part, acc) in products {
                    store(&acc, len - i0, LANES.min(d - c0), out, |r| g.at(part, i0 + r, h) + c0);
                }
            }
        }
        // columns beyond `len` of the scores' rows were never written; rows are reused per head
    }
}
