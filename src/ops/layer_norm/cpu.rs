//! Layer normalisation over the last dimension, on f32 rows: the CPU backend's implementation of
//! [`super::LayerNormBackend`]. Blocks of rows run in parallel (burn-flex's fused
//! forward runs on one thread; under autodiff burn records ~8 element-wise ops instead, each a
//! pass and a buffer, and as many again backward).

use crate::ops::cpu::parallel::{collect_row_blocks, map_row_blocks};
use crate::ops::cpu::simd::{LANES, lane_dot, widest_simd};

/// Mean and `1 / √(variance + eps)` of one row (sums kept per lane: one running float sum is a
/// chain of dependent adds that does not vectorise).
#[inline(always)]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = lane_dot(row, None) / n;
    let mut lanes = [0.0f32; LANES];
    for chunk in row.chunks(LANES) {
        for (l, &v) in lanes.iter_mut().zip(chunk) {
            *l += (v - mean) * (v - mean);
        }
    }
    (mean, 1.0 / (lanes.iter().sum::<f32>() / n + eps).sqrt())
}

#[inline(always)]
fn forward_block(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32, out: &mut [f32]) {
    let d = gamma.len();
    for (row, out) in x.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
        let (mean, inv) = moments(row, eps);
        for (((o, &v), &g), &b) in out.iter_mut().zip(row).zip(gamma).zip(beta) {
            *o = (v - mean) * inv * g + b;
        }
    }
}

/// `dx` of a block of rows, written over their gradient `grad_dx`; adds the block's `dγ`, `dβ`
/// into `d_gamma`, `d_beta`.
#[inline(always)]
fn backward_block(x: &[f32], gamma: &[f32], eps: f32, grad_dx: &mut [f32], d_gamma: &mut [f32], d_beta: &mut [f32]) {
    let d = gamma.len();
    let n = d as f32;
    for (row, dy) in x.chunks_exact(d).zip(grad_dx.chunks_exact_mut(d)) {
        let (mean, inv) = moments(row, eps);
        // dx̂ = dy·γ; dx = inv · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂))
        let (mut sum, mut dot) = ([0.0f32; LANES], [0.0f32; LANES]);
        let lanes = row.chunks(LANES).zip(dy.chunks(LANES)).zip(gamma.chunks(LANES));
        for (((row, dy), gamma), (dg, db)) in lanes.zip(d_gamma.chunks_mut(LANES).zip(d_beta.chunks_mut(LANES))) {
            let each = row.iter().zip(dy).zip(gamma).zip(dg.iter_mut().zip(db.iter_mut()));
            for ((((&v, &dy), &g), (dg, db)), (s, t)) in each.zip(sum.iter_mut().zip(dot.iter_mut())) {
                let xhat = (v - mean) * inv;
                *dg += dy * xhat;
                *db += dy;
                *s += dy * g;
                *t += dy * g * xhat;
            }
        }
        let (sum, dot) = (sum.iter().sum::<f32>() / n, dot.iter().sum::<f32>() / n);
        for ((dy, &v), &g) in dy.iter_mut().zip(row).zip(gamma) {
            let xhat = (v - mean) * inv;
            *dy = inv * (*dy * g - sum - xhat * dot);
        }
    }
}

/// # Shapes
/// - x: `[rows, d]`; gamma, beta: `[d]`
/// - returns: `[rows, d]`
pub fn forward(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> Vec<f32> {
    let d = gamma.len();
    collect_row_blocks(x.len(), d, |first, out| {
        let x = &x[first * d..][..out.len()];
        widest_simd!(forward_block(x: &[f32] = x, gamma: &[f32] = gamma, beta: &[f32] = beta, eps: f32 = eps, out: &mut [f32] = out))
    })
    .0
}

/// Gradients of the input (written over the output's gradient `grad_dx`), γ and β.
///
/// # Shapes
/// - x, grad_dx: `[rows, d]`; gamma: `[d]`
/// - returns: `[d]`, `[d]`
pub fn backward(x: &[f32], gamma: &[f32], grad_dx: &mut [f32], eps: f32) -> (Vec<f32>, Vec<f32>) {
    let d = gamma.len();
    let partials = map_row_blocks(grad_dx, d, |first, grad_dx| {
        let x = &x[first * d..][..grad_dx.len()];
        let (mut d_gamma, mut d_beta) = (vec![0.0; d], vec![0.0; d]);
        widest_simd!(backward_block(
            x: &[f32] = x,
            gamma: &[f32] = gamma,
            eps: f32 = eps,
            grad_dx: &mut [f32] = grad_dx,
            d_gamma: &mut [f32] = &mut d_gamma,
            d_beta: &mut [f32] = &mut d_beta
        ));
        (d_gamma, d_beta)
    });
    let (mut d_gamma, mut d_beta) = (vec![0.0; d], vec![0.0; d]);
    for (g, b) in partials {
        d_gamma.iter_mut().zip(&g).for_each(|(a, v)| *a += v);
        d_beta.iter_mut().zip(&b).for_each(|(a, v)| *a += v);
    }
    (d_gamma, d_beta)
}
