//! The trainable top: unfrozen pretrained layers plus a new N-class head.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::conv_unit::ConvUnit;
use super::{EfficientNetWeights, FEATURES};
use super::mbconv::MbConv;
use crate::model::Unfreeze;
use crate::model::dropout::SeededDropout;
use crate::ops::linear;

/// Pretrained layers above the cut. They train with the lower (backbone) learning rate.
#[derive(Module, Debug)]
pub struct UpperBlocks {
    pub blocks: Vec<MbConv>,
    pub conv_head: Option<ConvUnit>,
}

impl UpperBlocks {
    /// # Shapes
    /// - features: `[batch, h, w, c]` (trunk output, channels-last)
    /// - output: `[batch, 1280]` pooled embedding
    pub fn forward(&self, features: Tensor<4>) -> Tensor<2> {
        let mut x = features;
        for block in &self.blocks {
            x = block.forward(x);
        }
        if let Some(head) = &self.conv_head {
            x = head.forward(x); // [batch, h, w, 1280]
        }
        let [batch, h, w, channels] = x.dims();
        x.reshape([batch, h * w, channels]).mean_dim(1).reshape([batch, channels]) // global average pool
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.conv_head.is_none()
    }
}

/// Upper layers + classification head.
#[derive(Module, Debug)]
pub struct EfficientNetClassifier {
    pub upper: UpperBlocks,
    /// Before the head, while training (0 by default: the numbers were better without).
    pub dropout: SeededDropout,
    pub head: Linear,
}

/// How to build a [`EfficientNetClassifier`] for a fine-tuning run.
#[derive(Clone, Copy, Debug)]
pub struct EfficientNetClassifierConfig {
    pub classes: usize,
    pub unfreeze: Unfreeze,
    /// Dropout of the pooled features before the head while training.
    pub dropout: f64,
}

impl EfficientNetClassifierConfig {
    /// Upper layers from the pretrained weights, fresh head (burn's default init). Build it on an
    /// autodiff device to train it.
    pub fn init(&self, weights: &EfficientNetWeights, device: &Device) -> EfficientNetClassifier {
        let (blocks, conv_head) = weights.upper(self.unfreeze, device);
        EfficientNetClassifier {
            upper: UpperBlocks { blocks, conv_head },
            dropout: SeededDropout::new(self.dropout),
            head: LinearConfig::new(FEATURES, self.classes).init(device),
        }
    }
}

impl EfficientNetClassifier {
    /// # Shapes
    /// - features: `[batch, h, w, c]` (trunk output, channels-last)
    /// - output: `[batch, classes]` logits
    pub fn forward(&self, features: Tensor<4>) -> Tensor<2> {
        linear(&self.head, self.dropout.forward(self.features(features)))
    }

    /// What the head reads: the upper blocks' pooled embedding.
    ///
    /// # Shapes
    /// - features: `[batch, h, w, c]` (trunk output, channels-last)
    /// - output: `[batch, 1280]`
    pub fn features(&self, features: Tensor<4>) -> Tensor<2> {
        self.upper.forward(features)
    }
}
