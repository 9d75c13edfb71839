//! A convolution with its batch-norm folded in, optionally followed by ReLU6: the building unit
//! of EfficientNet-Lite (every conv there is conv → BN → [ReLU6]).
//!
//! Batch-norm is used in inference mode throughout fine-tuning (running statistics fixed, as Keras'
//! transfer-learning guide recommends for small data), so it folds exactly into the convolution:
//! `W' = W · γ/√(σ²+ε)`, `b' = β − μ · γ/√(σ²+ε)`. The folded weight and bias are what trains.

use burn::module::{Module, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::activation::relu6;
use burn::tensor::{Device, Tensor, TensorData};

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

/// Convolution (TF "SAME" padding, bias = folded BN) and an optional ReLU6.
#[derive(Module, Debug)]
pub struct ConvUnit {
    pub conv: Conv2d,
    pub relu6: bool,
}

impl ConvUnit {
    /// # Shapes
    /// - input: `[batch, in, h, w]`
    /// - output: `[batch, out, ceil(h / stride), ceil(w / stride)]`
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let x = self.conv.forward(input);
        if self.relu6 { relu6(x) } else { x }
    }
}
