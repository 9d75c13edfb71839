//! A dense layer (`x · weight + bias`) as a burn backend extension with its own backward pass.
//!
//! - CPU (`Flex`): [`cpu`] calls gemm directly: no zero-filled output, no
//!   separate bias pass, no copies of the transposed operands in the backward products.
//! - GPU (`Cube`, i.e. wgpu): the trait's default bodies (burn's `matmul` and `add`).
//! - `Autodiff<B>`: one node (burn records a matmul and a broadcast add, two nodes).
//!
//! The weight is `[d_in, d_out]`, as in burn's `Linear`; [`linear`] applies a `Linear` module.

pub mod cpu;

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::nn::Linear;
use burn::tensor::{Shape, Tensor};
use burn_flex::FlexTensor;

use crate::ops::cpu::flex_data::{all_f32, flex, with_contents};
use cpu::{LinearGeometry, Strided};

fn geometry(x: &Shape, weight: &Shape) -> LinearGeometry {
    LinearGeometry { rows: x[0], d_in: weight[0], d_out: weight[1] }
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait LinearBackend: Backend {
    /// # Shapes
    /// - x: `[rows, d_in]`; weight: `[d_in, d_out]`; bias: `[d_out]`
    /// - returns: `[rows, d_out]`
    fn linear(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        portable::forward::<Self>(x, weight, bias)
    }

    /// Gradient of `x` (`[rows, d_in]`) from the output's gradient `grad` (`[rows, d_out]`).
    fn linear_input_grad(weight: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        portable::input_grad::<Self>(weight, grad)
    }

    /// Gradient of the weight (`[d_in, d_out]`).
    fn linear_weight_grad(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        portable::weight_grad::<Self>(x, grad)
    }
}

/// The dense layer from burn's ops (what the GPU runs).
pub mod portable {
    use super::*;

    pub fn forward<B: Backend>(x: FloatTensor<B>, weight: FloatTensor<B>, bias: FloatTensor<B>) -> FloatTensor<B> {
        let out = weight.shape()[1];
        let product = B::float_matmul(x, weight);
        let rows = B::float_expand(B::float_reshape(bias, Shape::new([1, out])), product.shape());
        B::float_add(product, rows)
    }

    pub fn input_grad<B: Backend>(weight: FloatTensor<B>, grad: FloatTensor<B>) -> FloatTensor<B> {
        B::float_matmul(grad, B::float_transpose(weight))
    }

    pub fn weight_grad<B: Backend>(x: FloatTensor<B>, grad: FloatTensor<B>) -> FloatTensor<B> {
        B::float_matmul(B::float_transpose(x), grad)
    }
}

#[cfg(feature = "wgpu")]
impl LinearBackend for burn::backend::Cube {}

/// Calls `f` with a 2-D CPU tensor as a strided matrix: views (a transposed weight) are read in
/// place; anything else unusual is made contiguous first.
fn with_matrix<R>(t: FlexTensor, f: impl FnOnce(Strided) -> R) -> R {
    let (layout, cols) = (t.layout(), t.shape()[1]);
    let strides = [layout.strides()[0], layout.strides()[1]];
    if strides.iter().all(|&s| s >= 0) {
        return f(Strided { values: &t.storage::<f32>()[layout.start_offset()..], strides });
    }
    with_contents(t, |values| f(Strided::contiguous(values, cols)))
}

impl LinearBackend for Flex {
    fn linear(x: FlexTensor, weight: FlexTensor, bias: FlexTensor) -> FlexTensor {
        if !all_f32(&[&x, &weight, &bias]) {
            return portable::forward::<Self>(x, weight, bias);
        }
        let g = geometry(&x.shape(), &weight.shape());
        let y =
            with_contents(x, |x| with_matrix(weight, |w| with_contents(bias, |b| cpu::forward(x, w, b, &g))));
        flex(y, [g.rows, g.d_out])
    }

    fn linear_input_grad(weight: FlexTensor, grad: FlexTensor) -> FlexTensor {
        if !all_f32(&[&weight, &grad]) {
            return portable::input_grad::<Self>(weight, grad);
        }
        let g = LinearGeometry { rows: grad.shape()[0], d_in: weight.shape()[0], d_out: weight.shape()[1] };
        let dx = with_matrix(weight, |w| with_contents(grad, |dy| cpu::input_grad(w, dy, &g)));
        flex(dx, [g.rows, g.d_in])
    }

    fn linear_weight_grad(x: FlexTensor, grad: FlexTensor) -> FlexTensor {
        if !all_f32(&[&x, &grad]) {
            return portable::weight_grad::<Self>(x, grad);
        }
        let g = LinearGeometry { rows: x.shape()[0], d_in: x.shape()[1], d_out: grad.shape()[1] };
        let dw = with_contents(x, |x| with_contents(grad, |dy| cpu::weight_grad(x, dy, &g)));
        flex(dw, [g.d_in, g.d_out])
    }
}

/// The backward step of [`LinearBackend::linear`] under autodiff.
#[derive(Debug)]
struct LinearBackward;

impl<B: LinearBackend> Backward<B, 3> for LinearBackward {
    /// Checkpointed input and weight.
    type State = (NodeId, NodeId);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state) = ops.state;
        if let Some(node) = node_bias {
            let out = grad.shape()[1];
            grads.register::<B>(node.id, B::float_reshape(B::float_sum_dim(grad.clone(), 0), Shape::new([out])));
        }
        if let Some(node) = node_weight {
            let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x_state);
            grads.register::<B>(node.id, B::linear_weight_grad(x, grad.clone()));
        }
        if let Some(node) = node_x {
            let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight_state);
            grads.register::<B>(node.id, B::linear_input_grad(weight, grad));
        }
    }
}

impl<B: LinearBackend, C: CheckpointStrategy> LinearBackend for Autodiff<B, C> {
    fn linear(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        match LinearBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&weight));
                prep.finish(
                    state,
                    <B as LinearBackend>::linear(x.into_primitive(), weight.into_primitive(), bias.into_primitive()),
                )
            }
            OpsKind::UnTracked(prep) => prep.finish(<B as LinearBackend>::linear(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
            )),
        }
    }
}

/// `layer` applied to the last dimension of `x`, on any device (burn's `Linear::forward`
/// without a bias when the layer has none).
///
/// # Shapes
/// - x: `[..., d_in]`
/// - output: `[..., d_out]`
pub fn linear<const D: usize>(layer: &Linear, x: Tensor<D>) -> Tensor<D> {
    let Some(bias) = &layer.bias else { return layer.forward(x) };
    let dims = x.dims();
    let [d_in, d_out] = layer.weight.dims();
    let rows = dims[..D - 1].iter().product();
    let mut out_dims = dims;
    out_dims[D - 1] = d_out;
    dense(x.reshape([rows, d_in]), layer.weight.val(), bias.val()).reshape(out_dims)
}

/// `x · weight + bias` on any device; `weight` may be a view (e.g. a transposed `[d_out, d_in]`
/// parameter), which the CPU reads in place.
///
/// # Shapes
/// - x: `[rows, d_in]`; weight: `[d_in, d_out]`; bias: `[d_out]`
/// - output: `[rows, d_out]`
pub fn dense(x: Tensor<2>, weight: Tensor<2>, bias: Tensor<1>) -> Tensor<2> {
    let out = <Dispatch as LinearBackend>::linear(x.into_dispatch(), weight.into_dispatch(), bias.into_dispatch());
    Tensor::from_dispatch(out)
}
