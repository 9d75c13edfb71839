//! Whisper's audio encoder: two convolutions over the log-mel frames (the second halves the
//! time axis), sinusoidal positions, pre-LN transformer layers and a final LayerNorm.

use burn::module::{Module, Param};
use burn::nn::conv::Conv1d;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::{Bool, Int, Tensor};

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
    /// - pad: `[batch, positions]`, `true` at positions no one attends to (the 30-s window's
    ///   padding when a clip's frames are cut out of it; all `false` in the encoder)
    pub fn forward(&self, x: Tensor<3>, pad: Tensor<2, Bool>) -> Tensor<3> {
        let x = x.clone() + self.attention.forward_self(normalize(&self.attention_norm, x), pad);
        let h = linear(&self.fc2, gelu(linear(&self.fc1, normalize(&self.ffn_norm, x.clone()))));
        x + h
    }
}

/// The frozen encoder (for audio classes: its layers below the cut); its outputs are what the
/// speech and audio tasks cache.
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
        normalize(&self.norm, self.hidden(mel))
    }

    /// The last layer's output, before the final norm.
    ///
    /// # Shapes
    /// - mel: `[batch, mels, frames]` (80 × 3 000)
    /// - output: `[batch, positions, d]`
    pub fn hidden(&self, mel: Tensor<3>) -> Tensor<3> {
        let [batch, _, frames] = mel.dims();
        let pad = Tensor::<2, Int>::zeros([batch, frames.div_ceil(2)], &mel.device()).bool();
        self.hidden_masked(mel, pad)
    }

    /// As [`Self::hidden`] on the first `frames` of the window (up to 3 000), attending only to
    /// the positions `pad` leaves open.
    ///
    /// # Shapes
    /// - mel: `[batch, mels, frames]`
    /// - pad: `[batch, frames / 2]`, `true` at positions no one attends to
    /// - output: `[batch, frames / 2, d]`
    pub fn hidden_masked(&self, mel: Tensor<3>, pad: Tensor<2, Bool>) -> Tensor<3> {
        let x = gelu(self.conv1.forward(mel));
        let x = gelu(self.conv2.forward(x)).swap_dims(1, 2);
        let positions = x.dims()[1];
        let mut x = x + self.positions.val().slice([0..positions]).unsqueeze::<3>();
        for layer in &self.layers {
            x = layer.forward(x, pad.clone());
        }
        x
    }
}
