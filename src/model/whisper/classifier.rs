//! Audio classes on Whisper's encoder: the frozen trunk (the encoder below the cut) and the
//! trainable top (the encoder layers above the cut, the final norm, mean pooling, a new head).
//!
//! The encoder runs on the clip's own frames, not on a 30-s window padded with silence: a clip
//! of a batch attends only to its own positions, and pooling averages them only. On the
//! benchmark's 1-s clips this caches 68 clips/s instead of 1 and scores 75 % instead of 69 % on
//! the held-out clips (docs/benchmarks.md, "Audio classes"): the features describe the sound, not
//! 29 s of padding.

use burn::module::Module;
use burn::nn::{LayerNorm, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor};

use super::{AudioEncoder, D, ENCODER_LAYERS, EncoderLayer, WhisperWeights, normalize};
use crate::model::Unfreeze;
use crate::model::dropout::SeededDropout;
use crate::model::sequence::{SequenceBatch, mean_pool};
use crate::ops::linear;

/// `Err` with a message when the encoder has no such cut.
pub fn check_encoder_cut(unfreeze: Unfreeze) -> Result<(), String> {
    match unfreeze.blocks() {
        k if k > ENCODER_LAYERS => Err(format!("cannot unfreeze {k} encoder layers: Whisper tiny.en's encoder has {ENCODER_LAYERS}")),
        _ => Ok(()),
    }
}

/// The frozen part: the encoder below the cut, on the clips' own frames. With nothing unfrozen it
/// ends with the final norm and the pooling, so each clip caches one vector.
#[derive(Module, Debug)]
pub struct AudioTrunk {
    pub encoder: AudioEncoder,
    pub pool: bool,
}

impl AudioTrunk {
    /// # Shapes
    /// - mel: `[batch, mels, frames]` (the window's first `frames`, up to 3 000)
    /// - mask_pad: `[batch, frames / 2]`, `true` past each clip's end
    /// - output: `[batch, 1, d]` pooled when `pool`, else `[batch, frames / 2, d]` (the cut's input)
    pub fn forward(&self, mel: Tensor<3>, mask_pad: Tensor<2, Bool>) -> Tensor<3> {
        let hidden = self.encoder.hidden_masked(mel, mask_pad.clone());
        if self.pool { mean_pool(normalize(&self.encoder.norm, hidden), mask_pad).unsqueeze_dim(1) } else { hidden }
    }
}

/// The pretrained layers above the cut (backbone learning rate): encoder layers and, when any,
/// the encoder's final norm.
#[derive(Module, Debug)]
pub struct AudioUpper {
    pub layers: Vec<EncoderLayer>,
    pub norm: Option<LayerNorm>,
}

/// Upper encoder layers + mean pooling + a new head.
#[derive(Module, Debug)]
pub struct AudioClassifier {
    pub upper: AudioUpper,
    pub dropout: SeededDropout,
    pub head: Linear,
}

#[derive(Clone, Copy, Debug)]
pub struct AudioClassifierConfig {
    pub classes: usize,
    pub unfreeze: Unfreeze,
    /// Dropout before the head while training ([`super::DROPOUT`] by default).
    pub dropout: f64,
}

impl AudioClassifierConfig {
    /// The trunk below this cut on `device`, frozen.
    pub fn trunk(&self, weights: &WhisperWeights, device: &Device) -> AudioTrunk {
        let k = self.unfreeze.blocks();
        AudioTrunk { encoder: weights.encoder_below(ENCODER_LAYERS - k, device), pool: k == 0 }
    }

    /// Upper layers from the pretrained weights, a fresh head. Build it on an autodiff device to
    /// train it.
    pub fn init(&self, weights: &WhisperWeights, device: &Device) -> AudioClassifier {
        let k = self.unfreeze.blocks();
        AudioClassifier {
            upper: AudioUpper {
                layers: weights.encoder_layers(ENCODER_LAYERS - k..ENCODER_LAYERS, device),
                norm: (k > 0).then(|| weights.encoder_norm(device)),
            },
            dropout: SeededDropout::new(self.dropout),
            head: LinearConfig::new(D, self.classes).init(device),
        }
    }
}

impl AudioClassifier {
    /// # Shapes
    /// - input: hidden `[batch, len, d]` (the clips' frames, or one pooled row), mask_pad `[batch, len]`
    /// - output: `[batch, classes]` logits
    pub fn forward(&self, input: SequenceBatch) -> Tensor<2> {
        linear(&self.head, self.dropout.forward(self.features(input)))
    }

    /// What the head reads: the upper layers' output, mean-pooled over the clip's frames.
    ///
    /// # Shapes
    /// - input: hidden `[batch, len, d]`, mask_pad `[batch, len]`
    /// - output: `[batch, d]`
    pub fn features(&self, input: SequenceBatch) -> Tensor<2> {
        let mut x = input.hidden;
        for layer in &self.upper.layers {
            x = layer.forward(x, input.mask_pad.clone());
        }
        if let Some(norm) = &self.upper.norm {
            x = normalize(norm, x);
        }
        mean_pool(x, input.mask_pad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoder_has_four_cuts() {
        assert!(check_encoder_cut(Unfreeze::Head).is_ok());
        assert!(check_encoder_cut(Unfreeze::Blocks(4)).is_ok());
        assert_eq!(check_encoder_cut(Unfreeze::Blocks(5)).unwrap_err(), "cannot unfreeze 5 encoder layers: Whisper tiny.en's encoder has 4");
    }
}
