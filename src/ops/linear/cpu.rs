//! Dense-layer kernels on f32 slices (row-major), calling `gemm` directly: the CPU backend's
//! implementation of [`super::LinearBackend`].
//!
//! burn-flex's `matmul` zero-fills every output (`FlexTensor::empty` is `vec![0u8; n]`, then a
//! realigning copy) and the bias is one more pass and buffer; transposed operands of the backward
//! products are fine for gemm (strides), so nothing is copied here: the forward product starts
//! from the bias rows, the gradients are written into uninitialised buffers.

use crate::ops::cpu::gemm::{self, View};
use crate::ops::cpu::parallel::collect_row_blocks;

/// A read-only matrix by its elements and (row, column) strides, as burn views store it (a
/// transposed weight is the same buffer with its strides swapped).
#[derive(Clone, Copy, Debug)]
pub struct Strided<'a> {
    pub values: &'a [f32],
    pub strides: [isize; 2],
}

impl<'a> Strided<'a> {
    pub fn contiguous(values: &'a [f32], cols: usize) -> Self {
        Self { values, strides: [cols as isize, 1] }
    }

    fn transposed(self) -> Self {
        Self { values: self.values, strides: [self.strides[1], self.strides[0]] }
    }

    /// Whether a `rows × cols` matrix with these strides lies inside `values`.
    fn covers(&self, [rows, cols]: [usize; 2]) -> bool {
        let last = (rows.max(1) - 1) as isize * self.strides[0] + (cols.max(1) - 1) as isize * self.strides[1];
        self.strides.iter().all(|&s| s >= 0) && (last as usize) < self.values.len().max(1)
    }
}

/// Sizes of one dense layer applied to `rows` vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearGeometry {
    pub rows: usize,
    pub d_in: usize,
    pub d_out: usize,
}

/// `dst = [dst +] lhs · rhs` for an `m × n` row-major `dst`; strides in elements.
///
/// # Safety
/// The pointers must cover the strided `m × k`, `k × n` and `m × n` matrices.
unsafe fn product([m, n, k]: [usize; 3], dst: *mut f32, accumulate: bool, lhs: *const f32, lhs_strides: [isize; 2], rhs: *const f32, rhs_strides: [isize; 2]) {
    let dst = View { ptr: dst, strides: [n as isize, 1] };
    // SAFETY: the caller's contract.
    unsafe {
        gemm::product([m, n, k], dst, accumulate, View { ptr: lhs, strides: lhs_strides }, View { ptr: rhs, strides: rhs_strides }, 1.0, m * n * k >= 192 * 192 * 192);
    }
}

/// A buffer of `len` values that `fill` writes completely.
fn written(len: usize, k: usize, fill: impl FnOnce(*mut f32)) -> Vec<f32> {
    if k == 0 {
        return vec![0.0; len]; // an empty sum: gemm would have nothing to write
    }
    let mut out = Vec::with_capacity(len);
    fill(out.as_mut_ptr());
    // SAFETY: gemm without `read_dst` wrote all `len` elements.
    unsafe { out.set_len(len) };
    out
}

/// `x · weight + bias`.
///
/// # Shapes
/// - x: `[rows, d_in]`; weight: `[d_in, d_out]`; bias: `[d_out]`
/// - returns: `[rows, d_out]`
pub fn forward(x: &[f32], weight: Strided, bias: &[f32], g: &LinearGeometry) -> Vec<f32> {
    assert!(x.len() == g.rows * g.d_in && weight.covers([g.d_in, g.d_out]) && bias.len() == g.d_out);
    // The bias rows are where gemm adds the product; written on every thread.
    let (mut out, _) = collect_row_blocks(g.rows * g.d_out, g.d_out, |_, rows| {
        rows.chunks_mut(g.d_out).for_each(|row| row.copy_from_slice(bias));
    });
    // SAFETY: sizes checked above.
    unsafe {
        let d_in = g.d_in as isize;
        let w = weight.values.as_ptr();
        product([g.rows, g.d_out, g.d_in], out.as_mut_ptr(), true, x.as_ptr(), [d_in, 1], w, weight.strides);
    }
    out
}

/// Gradient of the input: `grad · weightᵀ`.
///
/// # Shapes
/// - weight: `[d_in, d_out]`; grad: `[rows, d_out]`
/// - returns: `[rows, d_in]`
pub fn input_grad(weight: Strided, grad: &[f32], g: &LinearGeometry) -> Vec<f32> {
    assert!(grad.len() == g.rows * g.d_out && weight.covers([g.d_in, g.d_out]));
    let (d_out, wt) = (g.d_out as isize, weight.transposed());
    written(g.rows * g.d_in, g.d_out, |dst| unsafe {
        // SAFETY: sizes checked above; weightᵀ is read through its strides.
        product([g.rows, g.d_in, g.d_out], dst, false, grad.as_ptr(), [d_out, 1], wt.values.as_ptr(), wt.strides);
    })
}

/// Gradient of the weight: `xᵀ · grad`.
///
/// # Shapes
/// - x: `[rows, d_in]`; grad: `[rows, d_out]`
/// - returns: `[d_in, d_out]`
pub fn weight_grad(x: &[f32], grad: &[f32], g: &LinearGeometry) -> Vec<f32> {
    assert!(x.len() == g.rows * g.d_in && grad.len() == g.rows * g.d_out);
    let (d_in, d_out) = (g.d_in as isize, g.d_out as isize);
    written(g.d_in * g.d_out, g.rows, |dst| unsafe {
        // SAFETY: sizes checked above; xᵀ is read through its strides.
        product([g.d_in, g.d_out, g.rows], dst, false, x.as_ptr(), [1, d_in], grad.as_ptr(), [d_out, 1]);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0).collect()
    }

    /// The three products against the direct sums, for sizes on both sides of gemm's
    /// parallel threshold.
    #[test]
    fn products_match_the_direct_sums() {
        for (rows, d_in, d_out) in [(3, 5, 4), (1, 1, 7), (300, 200, 190)] {
            let g = LinearGeometry { rows, d_in, d_out };
            let (x, w, b, dy) =
                (values(rows * d_in, 1), values(d_in * d_out, 2), values(d_out, 3), values(rows * d_out, 4));
            let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * (1.0 + b.abs());
            let y = forward(&x, Strided::contiguous(&w, d_out), &b, &g);
            let dx = input_grad(Strided::contiguous(&w, d_out), &dy, &g);
            let dw = weight_grad(&x, &dy, &g);
            for r in 0..rows {
                for o in 0..d_out {
                    let direct = b[o] + (0..d_in).map(|i| x[r * d_in + i] * w[i * d_out + o]).sum::<f32>();
                    assert!(close(y[r * d_out + o], direct), "forward {g:?}");
                }
                for i in 0..d_in {
                    let direct: f32 = (0..d_out).map(|o| dy[r * d_out + o] * w[i * d_out + o]).sum();
                    assert!(close(dx[r * d_in + i], direct), "input grad {g:?}");
                }
            }
            for i in 0..d_in {
                for o in 0..d_out {
                    let direct: f32 = (0..rows).map(|r| x[r * d_in + i] * dy[r * d_out + o]).sum();
                    assert!(close(dw[i * d_out + o], direct), "weight grad {g:?}");
                }
            }
            // the weight stored transposed (`[d_out, d_in]`, as a 1×1 convolution keeps it)
            let wt: Vec<f32> = (0..d_out * d_in).map(|j| w[(j % d_in) * d_out + j / d_in]).collect();
            let view = Strided { values: &wt, strides: [1, d_in as isize] };
            let same = |a: Vec<f32>, b: &[f32]| a.iter().zip(b).all(|(a, b)| close(*a, *b));
            assert!(same(forward(&x, view, &b, &g), &y), "forward, transposed weight {g:?}");
            assert!(same(input_grad(view, &dy, &g), &dx), "input grad, transposed weight {g:?}");
        }
    }
}
