//! The trainable top for text: unfrozen upper encoder layers, mean pooling and a new N-class head.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::{EncoderLayer, HIDDEN, MiniLmWeights};
use crate::model::Unfreeze;
use crate::model::sequence::{SequenceBatch, mean_pool};
use crate::model::dropout::SeededDropout;
use crate::ops::linear;

#[derive(Module, Debug)]
pub struct MiniLmClassifier {
    /// Pretrained layers above the cut (lower learning rate).
    pub upper: Vec<EncoderLayer>,
    pub dropout: SeededDropout,
    pub head: Linear,
}

#[derive(Clone, Copy, Debug)]
pub struct MiniLmClassifierConfig {
    pub classes: usize,
    pub unfreeze: Unfreeze,
    /// Dropout of the upper layers and before the head while training (BERT's 0.1: [`super::DROPOUT`]).
    pub dropout: f64,
}

impl MiniLmClassifierConfig {
    /// Upper layers from the pretrained weights, fresh head. Build it on an autodiff device to train.
    pub fn init(&self, weights: &MiniLmWeights, device: &Device) -> MiniLmClassifier {
        MiniLmClassifier {
            upper: weights.upper(self.unfreeze, self.dropout, device),
            dropout: SeededDropout::new(self.dropout),
            head: LinearConfig::new(HIDDEN, self.classes).init(device),
        }
    }
}

impl MiniLmClassifier {
    /// # Shapes
    /// - input: hidden `[batch, len, hidden]`, mask_pad `[batch, len]`
    /// - output: `[batch, classes]` logits
    pub fn forward(&self, input: SequenceBatch) -> Tensor<2> {
        linear(&self.head, self.dropout.forward(self.features(input)))
    }

    /// What the head reads: the upper layers' output, mean-pooled over the real tokens.
    ///
    /// # Shapes
    /// - input: hidden `[batch, len, hidden]`, mask_pad `[batch, len]`
    /// - output: `[batch, hidden]`
    pub fn features(&self, input: SequenceBatch) -> Tensor<2> {
        let mut x = input.hidden;
        for layer in &self.upper {
            x = layer.forward(x, input.mask_pad.clone());
        }
        mean_pool(x, input.mask_pad)
    }
}
