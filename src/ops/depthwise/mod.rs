//! Depthwise convolution on channels-last tensors as a burn backend extension, with its own
//! backward pass.
//!
//! - CPU (`Flex`): the kernels of [`cpu`] on the tensors' f32 storage.
//! - GPU (`Cube`, i.e. wgpu): the trait's default bodies — permute to NCHW and use burn's grouped
//!   `conv2d` and its backward ops.
//! - `Autodiff<B>`: records one node whose backward calls the two gradient ops below (burn's
//!   generic grouped-conv weight gradient runs one convolution per channel: 1 152 for a Lite0
//!   block).
//!
//! Padding is TF "SAME" (as `PaddingConfig2d::Same`), the weight is `[k, k, channels]`.

pub mod cpu;

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::ConvOptions;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{DType, Shape, Tensor};
use burn_flex::FlexTensor;

use cpu::DepthwiseGeometry;
use crate::ops::cpu::flex_data::{flex, with_contents};

/// Geometry of a channels-last input `[batch, h, w, c]` and a `[k, k, c]` weight.
fn geometry(input: &Shape, weight: &Shape, stride: usize) -> DepthwiseGeometry {
    let [batch, height, width, channels] = [input[0], input[1], input[2], input[3]];
    DepthwiseGeometry { batch, height, width, channels, kernel: weight[0], stride }
}

fn nchw_options(g: &DepthwiseGeometry) -> ConvOptions<2> {
    ConvOptions::new_with_padding([g.stride; 2], g.padding(), [1, 1], g.channels)
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait DepthwiseBackend: Backend {
    /// # Shapes
    /// - input: `[batch, h, w, c]`
    /// - weight: `[k, k, c]`
    /// - bias: `[c]`
    /// - returns: `[batch, ceil(h / stride), ceil(w / stride), c]`
    fn depthwise_nhwc(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride: usize,
    ) -> FloatTensor<Self> {
        grouped::forward::<Self>(input, weight, bias, stride)
    }

    /// Gradient of the input (`[batch, h, w, c]`) from the output's gradient `grad`.
    fn depthwise_nhwc_input_grad(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        stride: usize,
    ) -> FloatTensor<Self> {
        grouped::input_grad::<Self>(input, weight, grad, stride)
    }

    /// Gradient of the weight (`[k, k, c]`) from the output's gradient `grad`.
    fn depthwise_nhwc_weight_grad(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        stride: usize,
    ) -> FloatTensor<Self> {
        grouped::weight_grad::<Self>(input, weight, grad, stride)
    }
}

/// The portable implementation: burn's grouped `conv2d` and its backward ops on NCHW.
pub mod grouped {
    use super::*;

    pub fn forward<B: Backend>(
        input: FloatTensor<B>,
        weight: FloatTensor<B>,
        bias: FloatTensor<B>,
        stride: usize,
    ) -> FloatTensor<B> {
        let g = geometry(&input.shape(), &weight.shape(), stride);
        let x = B::float_permute(input, &[0, 3, 1, 2]);
        let y = B::conv2d(x, weight_nchw::<B>(weight), Some(bias), nchw_options(&g));
        B::float_permute(y, &[0, 2, 3, 1])
    }

    pub fn input_grad<B: Backend>(
        input: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        stride: usize,
    ) -> FloatTensor<B> {
        let (x, dy, g) = nchw::<B>(input, &weight, grad, stride);
        let dx = B::conv2d_x_backward(x, weight_nchw::<B>(weight), dy, nchw_options(&g));
        B::float_permute(dx, &[0, 2, 3, 1])
    }

    pub fn weight_grad<B: Backend>(
        input: FloatTensor<B>,
        weight: FloatTensor<B>,
        grad: FloatTensor<B>,
        stride: usize,
    ) -> FloatTensor<B> {
        let (x, dy, g) = nchw::<B>(input, &weight, grad, stride);
        let dw = B::conv2d_weight_backward(x, weight_nchw::<B>(weight), dy, nchw_options(&g));
        let dw = B::float_reshape(dw, Shape::new([g.channels, g.kernel, g.kernel]));
        B::float_permute(dw, &[1, 2, 0])
    }

    /// The input and the output's gradient as NCHW, with the geometry.
    fn nchw<B: Backend>(
        input: FloatTensor<B>,
        weight: &FloatTensor<B>,
        grad: FloatTensor<B>,
        stride: usize,
    ) -> (FloatTensor<B>, FloatTensor<B>, DepthwiseGeometry) {
        let g = geometry(&input.shape(), &weight.shape(), stride);
        (B::float_permute(input, &[0, 3, 1, 2]), B::float_permute(grad, &[0, 3, 1, 2]), g)
    }

    /// `[k, k, c]` → burn's grouped-conv layout `[c, 1, k, k]`.
    fn weight_nchw<B: Backend>(weight: FloatTensor<B>) -> FloatTensor<B> {
        let [k, _, c] = [weight.shape()[0], weight.shape()[1], weight.shape()[2]];
        let w = B::float_permute(weight, &[2, 0, 1]);
        B::float_reshape(w, Shape::new([c, 1, k, k]))
    }
}

#[cfg(feature = "wgpu")]
impl DepthwiseBackend for burn::backend::Cube {}

impl DepthwiseBackend for Flex {
    fn depthwise_nhwc(input: FlexTensor, weight: FlexTensor, bias: FlexTensor, stride: usize) -> FlexTensor {
        let g = geometry(&input.shape(), &weight.shape(), stride);
        if input.dtype() != DType::F32 {
            return grouped::forward::<Self>(input, weight, bias, stride);
        }
        let [oh, ow] = g.out_size();
        let out = with_contents(input, |x| {
            with_contents(weight, |w| with_contents(bias, |b| cpu::forward(x, w, b, &g)))
        });
        flex(out, [g.batch, oh, ow, g.channels])
    }

    fn depthwise_nhwc_input_grad(input: FlexTensor, weight: FlexTensor, grad: FlexTensor, stride: usize) -> FlexTensor {
        let g = geometry(&input.shape(), &weight.shape(), stride);
        if input.dtype() != DType::F32 {
            return grouped::input_grad::<Self>(input, weight, grad, stride);
        }
        let dx = with_contents(grad, |dy| with_contents(weight, |w| cpu::input_grad(dy, w, &g)));
        flex(dx, [g.batch, g.height, g.width, g.channels])
    }

    fn depthwise_nhwc_weight_grad(
        input: FlexTensor,
        weight: FlexTensor,
        grad: FlexTensor,
        stride: usize,
    ) -> FlexTensor {
        let g = geometry(&input.shape(), &weight.shape(), stride);
        if input.dtype() != DType::F32 {
            return grouped::weight_grad::<Self>(input, weight, grad, stride);
        }
        let dw = with_contents(input, |x| with_contents(grad, |dy| cpu::weight_grad(x, dy, &g)));
        flex(dw, [g.kernel, g.kernel, g.channels])
    }
}

/// The backward step of [`DepthwiseBackend::depthwise_nhwc`] under autodiff.
#[derive(Debug)]
struct DepthwiseBackward;

impl<B: DepthwiseBackend> Backward<B, 3> for DepthwiseBackward {
    /// Checkpointed input and weight, and the stride.
    type State = (NodeId, NodeId, usize);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_input, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (input_state, weight_state, stride) = ops.state;
        let input = checkpointer.retrieve_node_output::<FloatTensor<B>>(input_state);
        let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight_state);
        if let Some(node) = node_bias {
            let channels = grad.shape()[3];
            let rows = grad.shape().num_elements() / channels;
            let flat = B::float_reshape(grad.clone(), Shape::new([rows, channels]));
            let db = B::float_reshape(B::float_sum_dim(flat, 0), Shape::new([channels]));
            grads.register::<B>(node.id, db);
        }
        if let Some(node) = node_weight {
            let dw = B::depthwise_nhwc_weight_grad(input.clone(), weight.clone(), grad.clone(), stride);
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = node_input {
            grads.register::<B>(node.id, B::depthwise_nhwc_input_grad(input, weight, grad, stride));
        }
    }
}

impl<B: DepthwiseBackend, C: CheckpointStrategy> DepthwiseBackend for Autodiff<B, C> {
    fn depthwise_nhwc(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride: usize,
    ) -> FloatTensor<Self> {
        match DepthwiseBackward.prepare::<C>([input.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&input), prep.checkpoint(&weight), stride);
                let out =
                    B::depthwise_nhwc(input.into_primitive(), weight.into_primitive(), bias.into_primitive(), stride);
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::depthwise_nhwc(
                input.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                stride,
            )),
        }
    }
}

/// Depthwise convolution ("SAME" padding) of a channels-last tensor on any device.
///
/// # Shapes
/// - input: `[batch, h, w, c]`
/// - weight: `[k, k, c]`
/// - bias: `[c]`
/// - output: `[batch, ceil(h / stride), ceil(w / stride), c]`
pub fn depthwise_conv_nhwc(input: Tensor<4>, weight: Tensor<3>, bias: Tensor<1>, stride: usize) -> Tensor<4> {
    let out = <Dispatch as DepthwiseBackend>::depthwise_nhwc(
        input.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        stride,
    );
    Tensor::from_dispatch(out)
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2d;
    use burn::tensor::{Device, Distribution, Tolerance};

    use super::*;

    /// (batch, side h, side w, channels, kernel, stride): the Lite0 shapes (7×7 k5/k3, 14→7 k5
    /// stride 2) and odd sizes.
    const CASES: [(usize, usize, usize, usize, usize, usize); 5] =
        [(2, 7, 7, 24, 5, 1), (2, 7, 7, 16, 3, 1), (2, 14, 14, 8, 5, 2), (3, 9, 8, 5, 3, 2), (1, 6, 5, 4, 5, 1)];

    fn random(shape: [usize; 4], device: &Device) -> Tensor<4> {
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
    }

    /// The CPU kernels and the trait's autodiff node give burn's own grouped `Conv2d` (on NCHW,
    /// with burn's backward) for the output and all three gradients.
    #[test]
    fn matches_burns_grouped_conv_with_gradients() {
        let device = Device::flex().autodiff();
        for (batch, h, w, c, k, stride) in CASES {
            let x = random([batch, h, w, c], &device).require_grad();
            let weight = random([c, 1, k, k], &device).require_grad();
            let bias = Tensor::<1>::random([c], Distribution::Normal(0.0, 1.0), &device).require_grad();
            let conv = Conv2d {
                weight: Param::from_tensor(weight.clone()),
                bias: Some(Param::from_tensor(bias.clone())),
                stride: [stride; 2],
                kernel_size: [k, k],
                dilation: [1, 1],
                groups: c,
                padding: PaddingConfig2d::Same,
            };
            let expected = conv.forward(x.clone().permute([0, 3, 1, 2])).permute([0, 2, 3, 1]);
            let weight_kkc = weight.clone().reshape([c, k * k]).transpose().reshape([k, k, c]);
            let out = depthwise_conv_nhwc(x.clone(), weight_kkc, bias.clone(), stride);
            out.to_data().assert_approx_eq::<f32>(&expected.to_data(), Tolerance::permissive());

            let upstream = random(out.dims(), &device);
            let grads = (out * upstream.clone()).sum().backward();
            let reference = (expected * upstream).sum().backward();
            let case = format!("{:?}", (batch, h, w, c, k, stride));
            for (ours, theirs, what) in [
                (x.grad(&grads).unwrap().into_data(), x.grad(&reference).unwrap().into_data(), "input"),
                (weight.grad(&grads).unwrap().into_data(), weight.grad(&reference).unwrap().into_data(), "weight"),
                (bias.grad(&grads).unwrap().into_data(), bias.grad(&reference).unwrap().into_data(), "bias"),
            ] {
                assert_eq!(ours.shape(), theirs.shape(), "{what} gradient shape {case}");
                ours.assert_approx_eq::<f32>(&theirs, Tolerance::permissive());
            }
        }
    }

    /// The GPU's implementation (the trait's default bodies) run on the CPU backend gives the
    /// same as the CPU kernels.
    #[test]
    fn portable_bodies_match_the_cpu_kernels() {
        let device = Device::flex();
        for (batch, h, w, c, k, stride) in CASES {
            let x = random([batch, h, w, c], &device);
            let weight = random([1, k, k, c], &device).reshape([k, k, c]);
            let bias = Tensor::<1>::random([c], Distribution::Normal(0.0, 1.0), &device);
            let flex = |t: Tensor<4>| t.try_into_primitive::<Flex>().unwrap();
            let (xp, wp) = (flex(x.clone()), flex(weight.clone().unsqueeze::<4>()).reshape(Shape::new([k, k, c])));
            let bp = flex(bias.clone().reshape([1, 1, 1, c])).reshape(Shape::new([c]));
            let ours = Flex::depthwise_nhwc(xp.clone(), wp.clone(), bp.clone(), stride);
            let portable = grouped::forward::<Flex>(xp.clone(), wp.clone(), bp, stride);
            ours.clone().into_data().assert_approx_eq::<f32>(&portable.into_data(), Tolerance::permissive());
            let dy = flex(random([batch, ours.shape()[1], ours.shape()[2], c], &device));
            let pairs = [
                (
                    Flex::depthwise_nhwc_input_grad(xp.clone(), wp.clone(), dy.clone(), stride),
                    grouped::input_grad::<Flex>(xp.clone(), wp.clone(), dy.clone(), stride),
                ),
                (
                    Flex::depthwise_nhwc_weight_grad(xp.clone(), wp.clone(), dy.clone(), stride),
                    grouped::weight_grad::<Flex>(xp, wp, dy, stride),
                ),
            ];
            for (a, b) in pairs {
                assert_eq!(a.shape(), b.shape());
                a.into_data().assert_approx_eq::<f32>(&b.into_data(), Tolerance::permissive());
            }
        }
    }
}
