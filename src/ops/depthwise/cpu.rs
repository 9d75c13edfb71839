//! Depthwise convolution kernels on channels-last (`[batch, h, w, channels]`) f32 slices: the CPU
//! backend's implementation of [`super::DepthwiseBackend`].
//!
//! Channels-last makes every inner loop a run over contiguous channels (one multiply-add per
//! channel and tap), which the compiler vectorises (SIMD128 in wasm, SSE/AVX natively); burn-flex's
//! NCHW depthwise path walks 7×7 planes one at a time and its backward runs one convolution per
//! channel. Batch items run in parallel where rayon is available (natively, and in the browser's
//! threaded module).
//!
//! Padding is TF/ONNX "SAME": `total = max((out − 1)·stride + k − in, 0)`, `begin = total / 2`.

/// Sizes of one depthwise convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthwiseGeometry {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub kernel: usize,
    pub stride: usize,
}

impl DepthwiseGeometry {
    /// Output side (`ceil(in / stride)`, "SAME").
    pub fn out_size(&self) -> [usize; 2] {
        [self.height.div_ceil(self.stride), self.width.div_ceil(self.stride)]
    }

    /// `[(top, bottom), (left, right)]` padding.
    pub fn padding(&self) -> [(usize, usize); 2] {
        let [oh, ow] = self.out_size();
        let pad = |out: usize, size: usize| {
            let total = ((out - 1) * self.stride + self.kernel).saturating_sub(size);
            (total / 2, total - total / 2)
        };
        [pad(oh, self.height), pad(ow, self.width)]
    }

    fn in_item(&self) -> usize {
        self.height * self.width * self.channels
    }

    fn out_item(&self) -> usize {
        let [oh, ow] = self.out_size();
        oh * ow * self.channels
    }

    /// Calls `f(input offset, output offset, weight offset, len)` for every in-bounds (output
    /// pixel, tap) pair of one batch item and every block of channels: the `len` channels from
    /// those offsets (elements from the item's / weight's start) go together. Channels are
    /// blocked outermost so that a block's weights and input rows stay in the L1 cache.
    #[inline(always)]
    fn for_each_tap(&self, mut f: impl FnMut(usize, usize, usize, usize)) {
        let [oh, ow] = self.out_size();
        let [(top, _), (left, _)] = self.padding();
        let (k, s, c) = (self.kernel, self.stride, self.channels);
        for c0 in (0..c).step_by(CHANNEL_BLOCK) {
            let len = CHANNEL_BLOCK.min(c - c0);
            for y in 0..oh {
                for x in 0..ow {
                    let out_row = (y * ow + x) * c + c0;
                    for i in 0..k {
                        let Some(iy) = (y * s + i).checked_sub(top).filter(|&v| v < self.height) else { continue };
                        for j in 0..k {
                            let Some(ix) = (x * s + j).checked_sub(left).filter(|&v| v < self.width) else { continue };
                            f((iy * self.width + ix) * c + c0, out_row, (i * k + j) * c + c0, len);
                        }
                    }
                }
            }
        }
    }
}

use crate::ops::cpu::simd::widest_simd;

/// Channels per cache block of [`DepthwiseGeometry::for_each_tap`].
const CHANNEL_BLOCK: usize = 128;

/// `acc[c] += a[c] · b[c]`.
#[inline(always)]
fn mul_add(acc: &mut [f32], a: &[f32], b: &[f32]) {
    for ((o, &a), &b) in acc.iter_mut().zip(a).zip(b) {
        *o += a * b;
    }
}

/// # Shapes
/// - input: `[batch, h, w, c]`
/// - weight: `[k, k, c]`
/// - bias: `[c]`
/// - returns: `[batch, ceil(h / stride), ceil(w / stride), c]`
pub fn forward(input: &[f32], weight: &[f32], bias: &[f32], g: &DepthwiseGeometry) -> Vec<f32> {
    let mut out = bias.repeat(g.batch * g.out_item() / g.channels); // every output pixel starts at the bias
    for_each_item(&mut out, g.out_item(), |b, out| {
        let x = &input[b * g.in_item()..][..g.in_item()];
        widest_simd!(forward_item(x: &[f32] = x, w: &[f32] = weight, out: &mut [f32] = out, g: &DepthwiseGeometry = g));
    });
    out
}

/// Gradient of the input.
///
/// # Shapes
/// - grad: `[batch, oh, ow, c]` (gradient of the output)
/// - weight: `[k, k, c]`
/// - returns: `[batch, h, w, c]`
pub fn input_grad(grad: &[f32], weight: &[f32], g: &DepthwiseGeometry) -> Vec<f32> {
    let mut dx = vec![0.0; g.batch * g.in_item()];
    for_each_item(&mut dx, g.in_item(), |b, dx| {
        let dy = &grad[b * g.out_item()..][..g.out_item()];
        widest_simd!(input_grad_item(dy: &[f32] = dy, w: &[f32] = weight, dx: &mut [f32] = dx, g: &DepthwiseGeometry = g));
    });
    dx
}

/// Gradient of the weight.
///
/// # Shapes
/// - input: `[batch, h, w, c]`
/// - grad: `[batch, oh, ow, c]`
/// - returns: `[k, k, c]`
pub fn weight_grad(input: &[f32], grad: &[f32], g: &DepthwiseGeometry) -> Vec<f32> {
    sum_over_items(g.batch, g.kernel * g.kernel * g.channels, |b, dw| {
        let input = &input[b * g.in_item()..][..g.in_item()];
        let dy = &grad[b * g.out_item()..][..g.out_item()];
        widest_simd!(weight_grad_item(x: &[f32] = input, dy: &[f32] = dy, dw: &mut [f32] = dw, g: &DepthwiseGeometry = g));
    })
}

/// One batch item of [`forward`] (`out` holds the bias on entry).
#[inline(always)]
fn forward_item(input: &[f32], weight: &[f32], out: &mut [f32], g: &DepthwiseGeometry) {
    g.for_each_tap(|i, o, w, n| mul_add(&mut out[o..o + n], &input[i..i + n], &weight[w..w + n]));
}

/// One batch item of [`input_grad`].
#[inline(always)]
fn input_grad_item(grad: &[f32], weight: &[f32], dx: &mut [f32], g: &DepthwiseGeometry) {
    g.for_each_tap(|i, o, w, n| mul_add(&mut dx[i..i + n], &grad[o..o + n], &weight[w..w + n]));
}

/// One batch item of [`weight_grad`], added into `dw`.
#[inline(always)]
fn weight_grad_item(input: &[f32], grad: &[f32], dw: &mut [f32], g: &DepthwiseGeometry) {
    g.for_each_tap(|i, o, w, n| mul_add(&mut dw[w..w + n], &grad[o..o + n], &input[i..i + n]));
}

/// Runs `f(item, chunk)` on each `item_len` chunk of `out`, in parallel where rayon is built in.
fn for_each_item(out: &mut [f32], item_len: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(item_len).enumerate().for_each(|(b, chunk)| f(b, chunk));
    }
    #[cfg(not(any(not(target_arch = "wasm32"), feature = "threads")))]
    out.chunks_mut(item_len).enumerate().for_each(|(b, chunk)| f(b, chunk));
}

/// `Σ_items f(item, partial)`: each call adds into its own zeroed `len` buffer (in parallel where
/// rayon is built in), and the partial sums are added up in item order: the same sum, bit for
/// bit, whatever the threads and their timing (a fold over rayon's adaptive splits is not).
fn sum_over_items(items: usize, len: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) -> Vec<f32> {
    let partial = |b: usize| {
        let mut acc = vec![0.0; len];
        f(b, &mut acc);
        acc
    };
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    let partials: Vec<Vec<f32>> = {
        use rayon::prelude::*;
        (0..items).into_par_iter().map(partial).collect()
    };
    #[cfg(not(any(not(target_arch = "wasm32"), feature = "threads")))]
    let partials: Vec<Vec<f32>> = (0..items).map(partial).collect();
    let mut partials = partials.into_iter();
    let mut sum = partials.next().unwrap_or_else(|| vec![0.0; len]);
    for p in partials {
        sum.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct NCHW-free reference: out[b,y,x,c] = bias[c] + Σ taps.
    fn reference(input: &[f32], weight: &[f32], bias: &[f32], g: &DepthwiseGeometry) -> Vec<f32> {
        let [oh, ow] = g.out_size();
        let [(top, _), (left, _)] = g.padding();
        let (k, c) = (g.kernel, g.channels);
        let mut out = vec![0.0; g.batch * oh * ow * c];
        for b in 0..g.batch {
            for y in 0..oh {
                for x in 0..ow {
                    for ch in 0..c {
                        let mut s = bias[ch];
                        for i in 0..k {
                            for j in 0..k {
                                let iy = (y * g.stride + i) as isize - top as isize;
                                let ix = (x * g.stride + j) as isize - left as isize;
                                if iy < 0 || ix < 0 || iy >= g.height as isize || ix >= g.width as isize {
                                    continue;
                                }
                                let at = ((b * g.height + iy as usize) * g.width + ix as usize) * c + ch;
                                s += input[at] * weight[(i * k + j) * c + ch];
                            }
                        }
                        out[((b * oh + y) * ow + x) * c + ch] = s;
                    }
                }
            }
        }
        out
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0).collect()
    }

    #[test]
    fn same_padding_matches_tf() {
        let g = |h, k, s| DepthwiseGeometry { batch: 1, height: h, width: h, channels: 1, kernel: k, stride: s };
        assert_eq!(g(7, 5, 1).padding(), [(2, 2), (2, 2)]);
        assert_eq!(g(14, 5, 2).padding(), [(1, 2), (1, 2)]); // TF: total 3, extra at the end
        assert_eq!(g(112, 3, 2).padding(), [(0, 1), (0, 1)]);
        assert_eq!(g(14, 5, 2).out_size(), [7, 7]);
    }

    /// Forward against the direct formula; both gradients against the identity
    /// ⟨dy, conv(x)⟩ = ⟨dx, x⟩ (input) and ⟨dy, conv(x)⟩ − ⟨dy, bias⟩ = ⟨dw, w⟩ (weight),
    /// which hold exactly for a map linear in x and in w.
    #[test]
    fn forward_and_gradients_are_consistent() {
        for (h, w, k, s) in [(7, 7, 5, 1), (7, 6, 3, 1), (9, 8, 5, 2), (8, 8, 3, 2)] {
            let g = DepthwiseGeometry { batch: 3, height: h, width: w, channels: 5, kernel: k, stride: s };
            let x = values(3 * h * w * 5, 1);
            let wt = values(k * k * 5, 2);
            let zero = vec![0.0; 5];
            let bias = values(5, 3);
            let out = forward(&x, &wt, &bias, &g);
            let expected = reference(&x, &wt, &bias, &g);
            assert!(out.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-5), "forward {g:?}");
            let dy = values(out.len(), 4);
            let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(a, b)| (a * b) as f64).sum::<f64>();
            let y0 = forward(&x, &wt, &zero, &g);
            let (lhs, dx, dw) = (dot(&dy, &y0), input_grad(&dy, &wt, &g), weight_grad(&x, &dy, &g));
            assert!((lhs - dot(&dx, &x)).abs() < 1e-3 * lhs.abs().max(1.0), "input grad {g:?}");
            assert!((lhs - dot(&dw, &wt)).abs() < 1e-3 * lhs.abs().max(1.0), "weight grad {g:?}");
        }
    }

    #[test]
    fn summing_over_items_adds_in_item_order_whatever_the_threads() {
        // Values whose sum depends on the order of the additions in f32.
        let values: Vec<f32> = (0..64).map(|b| if b % 3 == 0 { 1e8 } else { 1.0 + b as f32 * 1e-3 }).map(|v| if b_sign(v) { v } else { -v }).collect();
        fn b_sign(v: f32) -> bool {
            (v.to_bits() >> 3) & 1 == 0
        }
        let expected = values.iter().fold(0.0f32, |acc, v| acc + v);
        for _ in 0..50 {
            let sum = sum_over_items(values.len(), 1, |b, acc| acc[0] += values[b]);
            assert_eq!(sum[0].to_bits(), expected.to_bits(), "{} vs {expected}", sum[0]);
        }
    }
}
