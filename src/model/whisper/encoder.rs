//! Whisper's audio encoder: two convolutions over the log-mel frames (the second halves the
//! time axis), sinusoidal positions, pre-LN transformer layers and a final LayerNorm.

use burn::module::{Module, Param};
use burn::nn::conv::Conv1d;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;

use super::{Attention, normalize};
use crate::ops::{gelu, linear};

/// One pre-LN encoder layer: self-attention and a GELU feed-forward, each on a normalised input
/// and added to the residual stream.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    pub attention: Attention,
    pub attention_norm: LayerNorm,
    pub fc1: Linear,
    pub fc2: Linear,
    pub ffn_norm: LayerNorm,
}

impl EncoderLayer {
    /// # Shapes
    /// - x, output: `[batch, positions, d]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let x = x.clone() + self.attention.forward_self(normalize(&self.attention_norm, x));
        let h = linear(&self.fc2, gelu(linear(&self.fc1, normalize(&self.ffn_norm, x.clone()))));
        x + h
    }
}

/// The frozen encoder; its outputs are what the speech and audio tasks cache.
#[derive(Module, Debug)]
pub struct AudioEncoder {
    pub conv1: Conv1d,
    /// Stride 2: 3 000 frames → 1 500 positions.
    pub conv2: Conv1d,
    /// `[positions, d]` sinusoids.
    pub positions: Param<Tensor<2>>,
    pub layers: Vec<EncoderLayer>,
    pub norm: LayerNorm,
}

impl AudioEncoder {
    /// # Shapes
    /// - mel: `[batch, mels, frames]` (80 × 3 000: one 30-s window)
    /// - output: `[batch, positions, d]` (1 500 × 384)
    pub fn forward(&self, mel: Tensor<3>) -> Tensor<3> {
        let x = gelu(self.conv1.forward(mel));
        let x = gelu(self.conv2.forward(x)).swap_dims(1, 2);
        let mut x = x + self.positions.val().unsqueeze::<3>();
        for layer in &self.layers {
            x = layer.forward(x);
        }
        normalize(&self.norm, x)
    }
}
