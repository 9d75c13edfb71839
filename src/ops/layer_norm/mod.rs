//! Layer normalisation over the last dimension as a burn backend extension with its own backward.
//!
//! - CPU (`Flex`): [`cpu`], blocks of rows in parallel.
//! - GPU (`Cube`, i.e. wgpu): the trait's default bodies — burn's `layer_norm` op and the
//!   gradient composed from burn ops.
//! - `Autodiff<B>`: one node (burn 0.22 records the decomposed normalisation: ~8 nodes).

pub mod cpu;

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Shape, Tensor};
use burn_flex::FlexTensor;

use crate::ops::cpu::flex_data::{all_f32, flex, update_in_place, with_contents};

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait LayerNormBackend: Backend {
    /// # Shapes
    /// - x: `[rows, d]`; gamma, beta: `[d]`
    /// - returns: `[rows, d]`
    fn layer_norm_rows(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self> {
        Self::layer_norm(x, gamma, Some(beta), epsilon as f64)
    }

    /// Gradients of `x`, `gamma` and `beta` from the output's gradient `grad`.
    fn layer_norm_rows_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        epsilon: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        portable_backward::<Self>(x, gamma, grad, epsilon)
    }
}

/// The gradients from burn's ops (what the GPU runs):
/// `dx = r · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂))`, `dx̂ = dy · γ`, `r = 1/√(σ² + ε)`.
pub fn portable_backward<B: Backend>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    grad: FloatTensor<B>,
    epsilon: f32,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let full = x.shape();
    let d = full[1];
    let wide = |t: FloatTensor<B>| B::float_expand(t, full.clone());
    let centered = B::float_sub(x.clone(), wide(B::float_mean_dim(x, 1)));
    let var = B::float_mean_dim(B::float_mul(centered.clone(), centered.clone()), 1);
    let inv = wide(B::float_recip(B::float_sqrt(B::float_add_scalar(var, epsilon.into()))));
    let xhat = B::float_mul(centered, inv.clone());
    let row = |t: FloatTensor<B>| B::float_reshape(B::float_sum_dim(t, 0), Shape::new([d]));
    let d_beta = row(grad.clone());
    let d_gamma = row(B::float_mul(grad.clone(), xhat.clone()));
    let dxhat = B::float_mul(grad, wide(B::float_reshape(gamma, Shape::new([1, d]))));
    let mean = wide(B::float_mean_dim(dxhat.clone(), 1));
    let dot = wide(B::float_mean_dim(B::float_mul(dxhat.clone(), xhat.clone()), 1));
    let dx = B::float_mul(inv, B::float_sub(B::float_sub(dxhat, mean), B::float_mul(xhat, dot)));
    (dx, d_gamma, d_beta)
}

#[cfg(feature = "wgpu")]
impl LayerNormBackend for burn::backend::Cube {}

impl LayerNormBackend for Flex {
    fn layer_norm_rows(x: FlexTensor, gamma: FlexTensor, beta: FlexTensor, epsilon: f32) -> FlexTensor {
        if !all_f32(&[&x, &gamma, &beta]) {
            return Self::layer_norm(x, gamma, Some(beta), epsilon as f64);
        }
        let shape = x.shape();
        let y = with_contents(x, |x| {
            with_contents(gamma, |gamma| with_contents(beta, |beta| cpu::forward(x, gamma, beta, epsilon)))
        });
        flex(y, shape)
    }

    fn layer_norm_rows_backward(
        x: FlexTensor,
        gamma: FlexTensor,
        grad: FlexTensor,
        epsilon: f32,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        if !all_f32(&[&x, &gamma, &grad]) {
            return portable_backward::<Self>(x, gamma, grad, epsilon);
        }
        let d = gamma.shape()[0];
        // dx is written over the gradient (usually this op's alone: no new buffer)
        let (dx, (d_gamma, d_beta)) = with_contents(x, |x| {
            with_contents(gamma, |gamma| {
                update_in_place(grad, |grad| cpu::backward(x, gamma, grad, epsilon))
            })
        });
        (dx, flex(d_gamma, [d]), flex(d_beta, [d]))
    }
}

/// The backward step of [`LayerNormBackend::layer_norm_rows`] under autodiff.
#[derive(Debug)]
struct LayerNormBackward;

impl<B: LayerNormBackend> Backward<B, 3> for LayerNormBackward {
    /// Checkpointed input and γ, and ε.
    type State = (NodeId, NodeId, f32);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, gamma, epsilon) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
        let gamma = checkpointer.retrieve_node_output::<FloatTensor<B>>(gamma);
        let (dx, d_gamma, d_beta) = B::layer_norm_rows_backward(x, gamma, grad, epsilon);
        for (node, g) in [(node_x, dx), (node_gamma, d_gamma), (node_beta, d_beta)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

impl<B: LayerNormBackend, C: CheckpointStrategy> LayerNormBackend for Autodiff<B, C> {
    fn layer_norm_rows(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self> {
        match LayerNormBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&gamma), epsilon);
                let out =
                    B::layer_norm_rows(x.into_primitive(), gamma.into_primitive(), beta.into_primitive(), epsilon);
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::layer_norm_rows(
                x.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                epsilon,
            )),
        }
    }
}

/// `(x − mean) / √(var + ε) · γ + β` over the last dimension, on any device.
///
/// # Shapes
/// - x: `[..., d]`; gamma, beta: `[d]`
/// - output: like `x`
pub fn layer_norm<const D: usize>(x: Tensor<D>, gamma: Tensor<1>, beta: Tensor<1>, epsilon: f32) -> Tensor<D> {
    let dims = x.dims();
    let d = dims[D - 1];
    let rows = dims[..D - 1].iter().product();
    let out = <Dispatch as LayerNormBackend>::layer_norm_rows(
        x.reshape([rows, d]).into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        epsilon,
    );
    Tensor::<2>::from_dispatch(out).reshape(dims)
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::nn::LayerNormConfig;
    use burn::tensor::{Device, Distribution, Tolerance};

    use super::*;

    /// Output and the three gradients against burn's `LayerNorm` under autodiff; the CPU
    /// backward against the portable one, in place and on a shared gradient. Rows of whole
    /// lanes (48) and with a remainder (37).
    #[test]
    fn matches_burns_layer_norm_with_gradients() {
        for d in [48, 37] {
            matches_burns_layer_norm(300, d, 1e-5);
        }
    }

    fn matches_burns_layer_norm(rows: usize, d: usize, eps: f32) {
        let device = Device::flex().autodiff();
        let mut norm = LayerNormConfig::new(d).with_epsilon(eps as f64).init(&device);
        norm.gamma = Param::from_tensor(Tensor::random([d], Distribution::Normal(1.0, 0.3), &device));
        norm.beta = Some(Param::from_tensor(Tensor::random([d], Distribution::Normal(0.0, 0.3), &device)));
        let x = Tensor::<3>::random([3, rows / 3, d], Distribution::Normal(0.5, 2.0), &device).require_grad();
        let upstream = Tensor::<3>::random([3, rows / 3, d], Distribution::Normal(0.0, 1.0), &device);
        let beta = norm.beta.as_ref().unwrap();
        let ours = layer_norm(x.clone(), norm.gamma.val(), beta.val(), eps);
        let theirs = norm.forward(x.clone());
        let tolerance = Tolerance::rel_abs(1e-4, 1e-5);
        ours.to_data().assert_approx_eq::<f32>(&theirs.to_data(), tolerance);
        let (a, b) = ((ours * upstream.clone()).sum().backward(), (theirs * upstream).sum().backward());
        x.grad(&a).unwrap().to_data().assert_approx_eq::<f32>(&x.grad(&b).unwrap().to_data(), tolerance);
        for p in [&norm.gamma, beta] {
            p.val()
                .grad(&a)
                .unwrap()
                .to_data()
                .assert_approx_eq::<f32>(&p.val().grad(&b).unwrap().to_data(), tolerance);
        }

        let random = |shape: Vec<usize>, mean| {
            FlexTensor::from_data(
                Tensor::<2>::random([rows, d], Distribution::Normal(mean, 1.0), &Device::flex()).to_data(),
            )
            .reshape(Shape::from(shape))
        };
        let (x, gamma, dy) = (random(vec![rows, d], 0.5), random(vec![rows * d], 1.0), random(vec![rows, d], 0.0));
        let gamma = with_contents(gamma, |g| flex(g[..d].to_vec(), [d]));
        let portable = portable_backward::<Flex>(x.clone(), gamma.clone(), dy.clone(), eps);
        let dy_before = dy.clone().into_data();
        let own_dy = flex(with_contents(dy.clone(), <[f32]>::to_vec), [rows, d]);
        let in_place = Flex::layer_norm_rows_backward(x.clone(), gamma.clone(), own_dy, eps);
        let shared = Flex::layer_norm_rows_backward(x, gamma, dy.clone(), eps);
        for cpu in [in_place, shared] {
            for (c, p) in [(cpu.0, &portable.0), (cpu.1, &portable.1), (cpu.2, &portable.2)] {
                c.into_data().assert_approx_eq::<f32>(&p.clone().into_data(), tolerance);
            }
        }
        dy.into_data().assert_eq(&dy_before, true); // a shared gradient is not overwritten
    }
}
