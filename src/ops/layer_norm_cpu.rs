//! Layer normalisation over the last dimension, on f32 rows: the CPU backend's implementation of
//! [`super::layer_norm::LayerNormBackend`]. Blocks of rows run in parallel (burn-flex's fused
//! forward runs on one thread; under autodiff burn records ~8 element-wise ops instead, each a
//! pass and a buffer, and as many again backward).

use super::parallel::collect_row_blocks;
use super::simd::widest_simd;

/// Mean and `1 / √(variance + eps)` of one row.
#[inline(always)]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
    (mean, 1.0 / (var + eps).sqrt())
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

/// `dx` of a block of rows; adds the block's `dγ`, `dβ` into `d_gamma`, `d_beta`.
#[inline(always)]
fn backward_block(
    x: &[f32],
    gamma: &[f32],
    grad: &[f32],
    eps: f32,
    dx: &mut [f32],
    d_gamma: &mut [f32],
    d_beta: &mut [f32],
) {
    let d = gamma.len();
    let n = d as f32;
    for ((row, dy), dx) in x.chunks_exact(d).zip(grad.chunks_exact(d)).zip(dx.chunks_exact_mut(d)) {
        let (mean, inv) = moments(row, eps);
        // dx̂ = dy·γ; dx = inv · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂))
        let (mut sum, mut dot) = (0.0f32, 0.0f32);
        for (((&v, &dy), &g), (dg, db)) in row.iter().zip(dy).zip(gamma).zip(d_gamma.iter_mut().zip(d_beta.iter_mut()))
        {
            let xhat = (v - mean) * inv;
            *dg += dy * xhat;
            *db += dy;
            sum += dy * g;
            dot += dy * g * xhat;
        }
        let (sum, dot) = (sum / n, dot / n);
        for (((o, &v), &dy), &g) in dx.iter_mut().zip(row).zip(dy).zip(gamma) {
            let xhat = (v - mean) * inv;
            *o = inv * (dy * g - sum - xhat * dot);
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

/// Gradients of the input, γ and β from the output's gradient `grad`.
///
/// # Shapes
/// - x, grad: `[rows, d]`; gamma: `[d]`
/// - returns: `[rows, d]`, `[d]`, `[d]`
pub fn backward(x: &[f32], gamma: &[f32], grad: &[f32], eps: f32) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let d = gamma.len();
    let (dx, partials) = collect_row_blocks(x.len(), d, |first, dx| {
        let (x, grad) = (&x[first * d..][..dx.len()], &grad[first * d..][..dx.len()]);
        let (mut d_gamma, mut d_beta) = (vec![0.0; d], vec![0.0; d]);
        widest_simd!(backward_block(
            x: &[f32] = x,
            gamma: &[f32] = gamma,
            grad: &[f32] = grad,
            eps: f32 = eps,
            dx: &mut [f32] = dx,
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
    (dx, d_gamma, d_beta)
}
