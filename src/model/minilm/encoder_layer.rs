//! One post-LayerNorm BERT encoder layer: self-attention and a GELU feed-forward, each followed by
//! a residual add and LayerNorm.

use burn::module::Module;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::{Bool, Tensor};

use super::SelfAttention;
use super::norm::normalize;
use crate::model::dropout::SeededDropout;
use crate::ops::{gelu, linear};

#[derive(Module, Debug)]
pub struct EncoderLayer {
    pub attention: SelfAttention,
    pub attention_norm: LayerNorm,
    pub intermediate: Linear,
    pub output: Linear,
    pub output_norm: LayerNorm,
    /// Active only while training (on an autodiff device), as in BERT fine-tuning.
    pub dropout: SeededDropout,
}

impl EncoderLayer {
    /// # Shapes
    /// - x: `[batch, len, hidden]`
    /// - mask_pad: `[batch, len]`, `true` at padding
    /// - output: `[batch, len, hidden]`
    pub fn forward(&self, x: Tensor<3>, mask_pad: Tensor<2, Bool>) -> Tensor<3> {
        let attended = self.attention.forward(x.clone(), mask_pad);
        let x = normalize(&self.attention_norm, x + self.dropout.forward(attended));
        let h = linear(&self.output, gelu(linear(&self.intermediate, x.clone())));
        normalize(&self.output_norm, x + self.dropout.forward(h))
    }
}
