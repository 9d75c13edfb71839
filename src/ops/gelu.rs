//! GELU (`x · Φ(x)`, the exact erf form BERT uses) with its backward, as a burn backend extension.
//!
//! burn-flex runs both as fused element-wise loops, but with scalar `erff`/`expf` calls (~7 % of
//! a MiniLM training step); here the CPU uses the vectorisable polynomials of
//! [`crate::ops::cpu::fast_math`]. The GPU's default bodies are burn's own `gelu` and the exact
//! derivative from burn's element-wise ops.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::ActivationOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{DType, Tensor};
use burn_flex::FlexTensor;

use crate::ops::cpu::fast_math::{erf, exp};
use crate::ops::cpu::flex_data::{flex, update_in_place, with_contents};
use crate::ops::cpu::parallel::{collect_pieces, for_each_piece};
use crate::ops::cpu::simd::widest_simd;

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait GeluBackend: Backend {
    fn gelu_exact(input: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu(input)
    }

    /// `grad · (Φ(x) + x·φ(x))`.
    fn gelu_exact_grad(input: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        portable_grad::<Self>(input, grad)
    }
}

/// GELU's exact gradient from burn's element-wise ops (what the GPU runs). Not burn's
/// `gelu_backward`: that is the derivative of GELU's tanh approximation, 2·10⁻³ off the exact
/// form's gradients in a MiniLM layer (found by the WebGPU gradient check: docs/benchmarks.md,
/// "WebGPU correctness").
pub fn portable_grad<B: Backend>(input: FloatTensor<B>, grad: FloatTensor<B>) -> FloatTensor<B> {
    let half_x_squared = B::float_mul_scalar(B::float_mul(input.clone(), input.clone()), (-0.5f32).into());
    // φ(x) = e^(−x²/2) / √(2π)
    let pdf = B::float_mul_scalar(B::float_exp(half_x_squared), (0.5 * std::f32::consts::FRAC_2_SQRT_PI * std::f32::consts::FRAC_1_SQRT_2).into());
    // Φ(x) = (1 + erf(x / √2)) / 2
    let erf = B::float_erf(B::float_mul_scalar(input.clone(), std::f32::consts::FRAC_1_SQRT_2.into()));
    let cdf = B::float_mul_scalar(B::float_add_scalar(erf, 1f32.into()), 0.5f32.into());
    B::float_mul(grad, B::float_add(cdf, B::float_mul(input, pdf)))
}

#[cfg(feature = "wgpu")]
impl GeluBackend for burn::backend::Cube {}

// Plain loops into a given buffer: an iterator `collect` would leave the loop in a generic
// function compiled without the caller's SIMD features.
#[inline(always)]
fn gelu_loop(x: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(x) {
        *o = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Multiplies each `grad` value by GELU's derivative at `x`, in place.
#[inline(always)]
fn gelu_grad_loop(x: &[f32], grad: &mut [f32]) {
    let inv_sqrt_2pi = 0.5 * std::f32::consts::FRAC_2_SQRT_PI * std::f32::consts::FRAC_1_SQRT_2;
    for (g, &x) in grad.iter_mut().zip(x) {
        let cdf = 0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
        *g *= cdf + x * inv_sqrt_2pi * exp(-0.5 * x * x);
    }
}

/// GELU of f32 values (vectorised, on every thread).
pub fn gelu_values(x: &[f32]) -> Vec<f32> {
    collect_pieces(x.len(), |start, out| {
        let x = &x[start..start + out.len()];
        widest_simd!(gelu_loop(x: &[f32] = x, out: &mut [f32] = out))
    })
}

/// `grad` times the gradient of [`gelu_values`] at `x`, in place (vectorised, on every thread).
pub fn gelu_grad_in_place(x: &[f32], grad: &mut [f32]) {
    assert_eq!(x.len(), grad.len());
    for_each_piece(grad, |start, grad| {
        let x = &x[start..start + grad.len()];
        widest_simd!(gelu_grad_loop(x: &[f32] = x, grad: &mut [f32] = grad))
    })
}

impl GeluBackend for Flex {
    fn gelu_exact(input: FlexTensor) -> FlexTensor {
        if input.dtype() != DType::F32 {
            return Self::gelu(input);
        }
        let shape = input.shape();
        flex(with_contents(input, gelu_values), shape)
    }

    fn gelu_exact_grad(input: FlexTensor, grad: FlexTensor) -> FlexTensor {
        if input.dtype() != DType::F32 || grad.dtype() != DType::F32 {
            return Self::gelu_backward(input, grad);
        }
        // The incoming gradient is usually this op's alone: overwritten, no new buffer.
        with_contents(input, |x| update_in_place(grad, |grad| gelu_grad_in_place(x, grad)).0)
    }
}

/// The backward step of [`GeluBackend::gelu_exact`] under autodiff.
#[derive(Debug)]
struct GeluBackward;

impl<B: GeluBackend> Backward<B, 1> for GeluBackward {
    /// The checkpointed input.
    type State = NodeId;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let input = checkpointer.retrieve_node_output::<FloatTensor<B>>(ops.state);
        if let Some(node) = &ops.parents[0] {
            grads.register::<B>(node.id, B::gelu_exact_grad(input, grad));
        }
    }
}

impl<B: GeluBackend, C: CheckpointStrategy> GeluBackend for Autodiff<B, C> {
    fn gelu_exact(input: FloatTensor<Self>) -> FloatTensor<Self> {
        match GeluBackward.prepare::<C>([input.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = prep.checkpoint(&input);
                prep.finish(state, B::gelu_exact(input.into_primitive()))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::gelu_exact(input.into_primitive())),
        }
    }
}

/// GELU, `x · Φ(x)`, on any device.
///
/// # Shapes
/// - input, output: any, the same
pub fn gelu<const D: usize>(input: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as GeluBackend>::gelu_exact(input.into_dispatch()))
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tolerance};

    use super::*;

    /// Values and gradient against burn's `gelu` (burn-flex's erf form) under autodiff.
    #[test]
    fn matches_burns_gelu_with_gradient() {
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::random([64, 97], Distribution::Normal(0.0, 3.0), &device).require_grad();
        let upstream = Tensor::<2>::random([64, 97], Distribution::Normal(0.0, 1.0), &device);
        let ours = gelu(x.clone());
        let theirs = burn::tensor::activation::gelu(x.clone());
        ours.to_data().assert_approx_eq::<f32>(&theirs.to_data(), Tolerance::rel_abs(1e-4, 1e-5));
        let (a, b) = ((ours * upstream.clone()).sum().backward(), (theirs * upstream).sum().backward());
        let grad = |g| x.grad(g).expect("gradient").to_data();
        grad(&a).assert_approx_eq::<f32>(&grad(&b), Tolerance::rel_abs(1e-4, 1e-5));
    }

    /// The CPU kernel's gradient against the portable body's (burn ops, here on the CPU backend).
    #[test]
    fn the_portable_gradient_is_the_exact_one() {
        let x: Vec<f32> = (0..2000).map(|i| (i as f32 - 1000.0) / 150.0).collect();
        let grad: Vec<f32> = (0..2000).map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0).collect();
        let cpu = Flex::gelu_exact_grad(flex(x.clone(), [2000]), flex(grad.clone(), [2000]));
        let portable = portable_grad::<Flex>(flex(x, [2000]), flex(grad.clone(), [2000]));
        let largest = |a: FlexTensor, b: FlexTensor| {
            with_contents(a, |a| with_contents(b.clone(), |b| a.iter().zip(b).zip(&grad).map(|((a, b), g)| (a - b).abs() / g.abs().max(1e-3)).fold(0.0f32, f32::max)))
        };
        let d = largest(cpu, portable);
        assert!(d < 2e-6, "CPU against portable: {d}");
    }

    /// The CPU gradient overwrites the incoming gradient only when nothing else holds it.
    #[test]
    fn shared_gradients_are_not_overwritten() {
        let x = flex((0..1000).map(|i| (i as f32 - 500.0) / 100.0).collect(), [1000]);
        let grad = flex(vec![2.0; 1000], [1000]);
        let kept = grad.clone();
        let out = Flex::gelu_exact_grad(x.clone(), grad);
        let expected = Flex::gelu_backward(x, flex(vec![2.0; 1000], [1000]));
        with_contents(out, |out| {
            with_contents(expected, |e| assert!(out.iter().zip(e).all(|(a, b)| (a - b).abs() < 1e-5)))
        });
        with_contents(kept, |kept| assert!(kept.iter().all(|&v| v == 2.0), "the shared gradient changed"));
    }
}
