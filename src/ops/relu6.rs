//! ReLU6 (`min(max(x, 0), 6)`) with a one-pass backward, as a burn backend extension.
//!
//! burn's `relu6` is `clamp(0, 6)`, whose autodiff backward builds two comparison masks, ORs them
//! and runs a `mask_fill` that burn-flex executes as a branchy scalar loop (19 % of an
//! EfficientNet training step in a profile). Here the backward is one element-wise select,
//! `grad` where `0 < x < 6`, else 0: a vectorised zip on the CPU; the default bodies (the GPU) use
//! burn's clamp and masks.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::Tensor;
use burn_flex::FlexTensor;
use burn_flex::ops::binary::binary_op;
use burn_flex::ops::unary::unary_op;

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait Relu6Backend: Backend {
    fn relu6(input: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::float_clamp(input, 0.0.into(), 6.0.into())
    }

    /// `grad` where `0 < input < 6`, else 0.
    fn relu6_grad(input: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        masked_grad::<Self>(input, grad)
    }
}

/// The portable gradient: burn's comparison masks and `mask_fill`.
pub fn masked_grad<B: Backend>(input: FloatTensor<B>, grad: FloatTensor<B>) -> FloatTensor<B> {
    let dtype = burn::backend::get_or_init_device_settings::<B>(&input.device()).bool_dtype;
    let low = B::float_lower_equal_elem(input.clone(), 0.0.into(), dtype);
    let high = B::float_greater_equal_elem(input, 6.0.into(), dtype);
    B::float_mask_fill(grad, B::bool_or(low, high), 0.0.into())
}

#[cfg(feature = "wgpu")]
impl Relu6Backend for burn::backend::Cube {}

impl Relu6Backend for Flex {
    fn relu6(input: FlexTensor) -> FlexTensor {
        unary_op(input, |x: f32| x.clamp(0.0, 6.0), |x: f64| x.clamp(0.0, 6.0))
    }

    fn relu6_grad(input: FlexTensor, grad: FlexTensor) -> FlexTensor {
        binary_op(
            input,
            grad,
            |x: f32, g| if x > 0.0 && x < 6.0 { g } else { 0.0 },
            |x: f64, g| if x > 0.0 && x < 6.0 { g } else { 0.0 },
            None,
        )
    }
}

#[derive(Debug)]
struct Relu6Backward;

impl<B: Relu6Backend> Backward<B, 1> for Relu6Backward {
    /// The checkpointed input.
    type State = NodeId;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [parent] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let input = checkpointer.retrieve_node_output::<FloatTensor<B>>(ops.state);
        if let Some(node) = parent {
            grads.register::<B>(node.id, B::relu6_grad(input, grad));
        }
    }
}

impl<B: Relu6Backend, C: CheckpointStrategy> Relu6Backend for Autodiff<B, C> {
    fn relu6(input: FloatTensor<Self>) -> FloatTensor<Self> {
        match Relu6Backward.prepare::<C>([input.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = prep.checkpoint(&input);
                prep.finish(state, B::relu6(input.into_primitive()))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::relu6(input.into_primitive())),
        }
    }
}

/// `min(max(x, 0), 6)` element-wise, on any device.
pub fn relu6<const D: usize>(input: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as Relu6Backend>::relu6(input.into_dispatch()))
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};

    use super::*;

    /// Output and gradient equal burn's `clamp(0, 6)` on the CPU backend, around both kinks; the
    /// portable gradient (what the GPU runs) gives the same.
    #[test]
    fn matches_burns_clamp_with_gradient() {
        let device = Device::flex().autodiff();
        let values = [-3.0f32, -0.5, 0.25, 1.0, 5.5, 5.99, 6.5, 9.0];
        let x = Tensor::<1>::from_data(TensorData::from(values), &device).require_grad();
        let upstream = Tensor::<1>::from_data(TensorData::from([1.0f32, 2., 3., 4., 5., 6., 7., 8.]), &device);
        let expected = TensorData::from([0.0f32, 0., 3., 4., 5., 6., 0., 0.]);
        let ours = relu6(x.clone());
        let theirs = x.clone().clamp(0.0, 6.0);
        ours.to_data().assert_eq(&theirs.to_data(), true);
        let grad = |y: Tensor<1>| x.grad(&(y * upstream.clone()).sum().backward()).unwrap().into_data();
        grad(ours).assert_eq(&grad(theirs), true);
        grad(relu6(x.clone())).assert_eq(&expected, true);

        let plain = |t: Tensor<1>| t.inner().try_into_primitive::<Flex>().unwrap();
        let portable = masked_grad::<Flex>(plain(x.clone()), plain(upstream.clone()));
        portable.into_data().assert_eq(&expected, true);
    }
}
