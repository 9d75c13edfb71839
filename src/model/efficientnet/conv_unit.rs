//! A convolution with its batch-norm folded in, optionally followed by ReLU6: the building unit
//! of EfficientNet-Lite (every conv there is conv → BN → [ReLU6]).
//!
//! Batch-norm is used in inference mode throughout fine-tuning (running statistics fixed, as Keras'
//! transfer-learning guide recommends for small data), so it folds exactly into the convolution:
//! `W' = W · γ/√(σ²+ε)`, `b' = β − μ · γ/√(σ²+ε)`. The folded weight and bias are what trains.

use burn::module::{Module, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor, TensorData};

use crate::ops::{dense, depthwise_conv_nhwc, relu6};
use crate::weights::{WeightError, WeightFile};

/// Batch-norm epsilon of EfficientNet-Lite (TF's default for these models).
pub const BN_EPS: f32 = 1e-3;

/// Host-side, BN-folded weights of one convolution: the form weights are kept in between the
/// weights file and a module on some device.
#[derive(Clone, Debug)]
pub struct FoldedConv {
    /// `[out, in / groups, k, k]`.
    pub shape: [usize; 4],
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub stride: usize,
    pub groups: usize,
    pub relu6: bool,
}

impl FoldedConv {
    /// Reads `{conv}.weight` and the batch-norm `{bn}.*` tensors and folds them.
    pub fn load(
        file: &WeightFile,
        conv: &str,
        bn: &str,
        shape: [usize; 4],
        stride: usize,
        groups: usize,
        relu6: bool,
    ) -> Result<Self, WeightError> {
        let out = shape[0];
        let mut weight = file.tensor(&format!("{conv}.weight"), &shape)?;
        let gamma = file.tensor(&format!("{bn}.weight"), &[out])?;
        let beta = file.tensor(&format!("{bn}.bias"), &[out])?;
        let mean = file.tensor(&format!("{bn}.running_mean"), &[out])?;
        let var = file.tensor(&format!("{bn}.running_var"), &[out])?;
        let per_out = weight.len() / out;
        let mut bias = vec![0.0; out];
        for o in 0..out {
            let scale = gamma[o] / (var[o] + BN_EPS).sqrt();
            weight[o * per_out..(o + 1) * per_out].iter_mut().for_each(|w| *w *= scale);
            bias[o] = beta[o] - mean[o] * scale;
        }
        Ok(Self { shape, weight, bias, stride, groups, relu6 })
    }

    /// Builds the module on `device` (an autodiff device makes it trainable).
    pub fn init(&self, device: &Device) -> ConvUnit {
        let [out, _, k, _] = self.shape;
        let conv = Conv2d {
            weight: Param::from_data(TensorData::new(self.weight.clone(), self.shape), device),
            bias: Some(Param::from_data(TensorData::new(self.bias.clone(), [out]), device)),
            stride: [self.stride; 2],
            kernel_size: [k, k],
            dilation: [1, 1],
            groups: self.groups,
            padding: PaddingConfig2d::Same,
        };
        ConvUnit { conv, relu6: self.relu6 }
    }
}

/// Convolution (TF "SAME" padding, bias = folded BN) and an optional ReLU6, on channels-last
/// activations.
///
/// The parameters keep burn's `Conv2d` layout (`[out, in / groups, k, k]`, so model files do not
/// depend on how the unit computes), but the three kinds of convolution in the network run the way
/// that is fast for each: a 1×1 convolution is one matrix product over all pixels of the batch
/// (burn-flex would run one small product per image), a depthwise one is
/// [`depthwise_conv_nhwc`], and the only other one (the 3×3 stem) is burn's `conv2d` on NCHW.
#[derive(Module, Debug)]
pub struct ConvUnit {
    pub conv: Conv2d,
    pub relu6: bool,
}

impl ConvUnit {
    /// # Shapes
    /// - input: `[batch, h, w, in]`
    /// - output: `[batch, ceil(h / stride), ceil(w / stride), out]`
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        // Every convolution of the network is "SAME"-padded and undilated (`FoldedConv::init`),
        // which the two fast paths below assume.
        debug_assert!(self.conv.padding == PaddingConfig2d::Same && self.conv.dilation == [1, 1]);
        let [out, per_group, k, _] = self.conv.weight.dims();
        let weight = self.conv.weight.val();
        let bias = self.conv.bias.as_ref().expect("folded convolutions have a bias").val();
        let x = if k == 1 && self.conv.stride == [1, 1] && self.conv.groups == 1 {
            let [batch, h, w, channels] = input.dims();
            let rows = input.reshape([batch * h * w, channels]);
            let y = dense(rows, weight.reshape([out, per_group]).transpose(), bias);
            y.reshape([batch, h, w, out])
        } else if per_group == 1 && self.conv.groups == out {
            let weight = weight.reshape([out, k * k]).transpose().reshape([k, k, out]);
            depthwise_conv_nhwc(input, weight, bias, self.conv.stride[0])
        } else {
            self.conv.forward(input.permute([0, 3, 1, 2])).permute([0, 2, 3, 1])
        };
        if self.relu6 { relu6(x) } else { x }
    }

    /// The unit on a channels-first input (the stem: images arrive as `[batch, 3, h, w]`).
    ///
    /// # Shapes
    /// - input: `[batch, in, h, w]`
    /// - output: `[batch, out, ceil(h / stride), ceil(w / stride)]`
    pub fn forward_nchw(&self, input: Tensor<4>) -> Tensor<4> {
        let x = self.conv.forward(input);
        if self.relu6 { relu6(x) } else { x }
    }
}
