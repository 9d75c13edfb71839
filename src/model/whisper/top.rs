//! The trainable top for transcription: the upper decoder layers (backbone learning rate) and the
//! final LayerNorm (the "head": it feeds the logits directly), over the frozen token embedding,
//! which is also the output projection.

use burn::module::Module;
use burn::nn::LayerNorm;
use burn::tensor::{Device, Gradients, Int, Tensor};

use super::{DECODER_LAYERS, DecoderLayer, EncodedAudio, TokenEmbedding, VOCAB, WhisperWeights, normalize};
use crate::train::mix::mix_weights;
use crate::train::{TrainableTop, TwoRateOptimizer};

/// A batch of cached trunk outputs with the teacher-forced targets, padded to its longest
/// transcript.
#[derive(Clone, Debug)]
pub struct TranscriptBatch {
    /// Encoder output, `[batch, positions, d]`, and its padding.
    pub audio: EncodedAudio,
    /// The frozen decoder part's output on the decoder input tokens, `[batch, len, d]`.
    pub hidden: Tensor<3>,
    /// The positions whose prediction counts (transcript tokens and the end of text; not the
    /// prompt, not padding), as indices into `batch · len`: `[counted]`.
    pub rows: Tensor<1, Int>,
    /// The next token at each counted position, `[counted]`.
    pub targets: Tensor<1, Int>,
}

#[derive(Module, Debug)]
pub struct WhisperTop {
    /// Pretrained decoder layers above the cut (lower learning rate).
    pub upper: Vec<DecoderLayer>,
    /// The decoder's final LayerNorm (the head's learning rate).
    pub norm: LayerNorm,
    /// Frozen (no gradients): embeds nothing here, projects to the vocabulary.
    pub embedding: TokenEmbedding,
}

#[derive(Clone, Copy, Debug)]
pub struct WhisperTopConfig {
    /// Decoder layers that train, from the top (1 to 4).
    pub layers: usize,
    /// Their dropout while training ([`super::DROPOUT`] by default).
    pub dropout: f64,
}

impl WhisperTopConfig {
    /// The pretrained upper layers and norm; build it on an autodiff device to train.
    pub fn init(&self, weights: &WhisperWeights, device: &Device) -> WhisperTop {
        WhisperTop {
            upper: weights.decoder_layers(DECODER_LAYERS - self.layers..DECODER_LAYERS, self.dropout, device),
            norm: weights.decoder_norm(device),
            embedding: weights.embedding(device),
        }
    }
}

impl WhisperTop {
    /// `share` of these trained layers and final norm, `1 − share` of `pretrained`'s (WiSE-FT);
    /// the frozen embedding is shared, not mixed.
    #[allow(clippy::ptr_arg)] // a Vec is the module (burn has no slice modules)
    pub fn mixed_with(&self, pretrained_upper: &Vec<DecoderLayer>, pretrained_norm: &LayerNorm, share: f32) -> WhisperTop {
        WhisperTop {
            upper: mix_weights(self.upper.clone(), pretrained_upper, share),
            norm: mix_weights(self.norm.clone(), pretrained_norm, share),
            embedding: self.embedding.clone(),
        }
    }

    /// Logits of the counted positions only (the vocabulary projection is the costliest part of a
    /// step: padding and the prompt are left out).
    ///
    /// # Shapes
    /// - input: audio `[batch, positions, d]`, hidden `[batch, len, d]`, rows `[counted]`
    /// - output: `[counted, vocab]` logits
    pub fn forward(&self, input: TranscriptBatch) -> Tensor<2> {
        let mut x = input.hidden;
        for layer in &self.upper {
            x = layer.forward(x, &input.audio);
        }
        let [batch, len, d] = x.dims();
        let counted = x.reshape([batch * len, d]).select(0, input.rows);
        let logits = self.embedding.logits(normalize(&self.norm, counted));
        debug_assert_eq!(logits.dims()[1], VOCAB);
        logits
    }
}

impl TrainableTop for WhisperTop {
    type Input = TranscriptBatch;

    fn forward(&self, input: TranscriptBatch) -> Tensor<2> {
        WhisperTop::forward(self, input)
    }

    fn device(&self) -> Device {
        self.norm.gamma.device()
    }

    fn step(mut self, grads: &mut Gradients, optim: &mut TwoRateOptimizer, learning_rate: f64, backbone_learning_rate: f64) -> Self {
        (self.norm, self.upper) = optim.step(grads, self.norm, self.upper, learning_rate, backbone_learning_rate);
        self
    }
}
