//! EfficientNet-Lite0's pretrained weights in host memory (read from the names in the table of
//! [`super`]) and the frozen [`EfficientNetTrunk`] built from them.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData};

use super::conv_unit::{ConvUnit, FoldedConv};
use super::mbconv::{MbConv, MbConvSpec, MbConvWeights};
use super::{FEATURES, IMAGENET_CLASSES, NUM_BLOCKS};
use crate::model::Unfreeze;
use crate::weights::{WeightError, WeightFile};

/// `(repeats, kernel, stride, expand, in, out)` per stage (EfficientNet-B0's, kept by Lite0).
const STAGES: [(usize, usize, usize, usize, usize, usize); 7] = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
];

/// The 16 block specs in order.
pub fn block_specs() -> Vec<MbConvSpec> {
    STAGES
        .iter()
        .flat_map(|&(repeats, kernel, stride, expand, input, output)| {
            (0..repeats).map(move |r| MbConvSpec {
                input: if r == 0 { input } else { output },
                output,
                kernel,
                stride: if r == 0 { stride } else { 1 },
                expand,
            })
        })
        .collect()
}

/// Pretrained weights, host side, batch-norm folded. Built once from the file's bytes; modules
/// are instantiated from it on any device.
#[derive(Clone, Debug)]
pub struct EfficientNetWeights {
    pub stem: FoldedConv,
    pub blocks: Vec<MbConvWeights>,
    pub conv_head: FoldedConv,
    /// ImageNet classifier, weight already `[1280, 1000]`.
    pub imagenet_fc: (Vec<f32>, Vec<f32>),
}

impl EfficientNetWeights {
    /// Parses a safetensors file; `name` appears in error messages.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, WeightError> {
        let file = WeightFile::from_bytes(name, "EfficientNet-Lite0", bytes)?;
        let stem = FoldedConv::load(&file, "_conv_stem", "_bn0", [32, 3, 3, 3], 2, 1, true)?;
        let blocks = block_specs()
            .into_iter()
            .enumerate()
            .map(|(i, spec)| MbConvWeights::load(&file, i, spec))
            .collect::<Result<Vec<_>, _>>()?;
        let conv_head = FoldedConv::load(&file, "_conv_head", "_bn1", [FEATURES, 320, 1, 1], 1, 1, true)?;
        let w = file.tensor("_fc.weight", &[IMAGENET_CLASSES, FEATURES])?;
        let b = file.tensor("_fc.bias", &[IMAGENET_CLASSES])?;
        let mut wt = vec![0.0; w.len()];
        for o in 0..IMAGENET_CLASSES {
            for i in 0..FEATURES {
                wt[i * IMAGENET_CLASSES + o] = w[o * FEATURES + i];
            }
        }
        Ok(Self { stem, blocks, conv_head, imagenet_fc: (wt, b) })
    }

    /// The frozen part below the cut, on `device` (use a plain, non-autodiff device).
    pub fn trunk(&self, unfreeze: Unfreeze, device: &Device) -> EfficientNetTrunk {
        let frozen_blocks = NUM_BLOCKS - unfreeze.blocks();
        EfficientNetTrunk {
            stem: self.stem.init(device),
            blocks: self.blocks[..frozen_blocks].iter().map(|b| b.init(device)).collect(),
            conv_head: (unfreeze == Unfreeze::Head).then(|| self.conv_head.init(device)),
        }
        .no_grad()
    }

    /// The pretrained layers above the cut (blocks and `_conv_head`), on `device`.
    pub fn upper(&self, unfreeze: Unfreeze, device: &Device) -> (Vec<MbConv>, Option<ConvUnit>) {
        match unfreeze {
            Unfreeze::Head => (Vec::new(), None),
            Unfreeze::Blocks(k) => (
                self.blocks[NUM_BLOCKS - k..].iter().map(|b| b.init(device)).collect(),
                Some(self.conv_head.init(device)),
            ),
        }
    }

    /// The pretrained 1000-class ImageNet classifier.
    pub fn imagenet_fc(&self, device: &Device) -> Linear {
        let (w, b) = &self.imagenet_fc;
        Linear {
            weight: Param::from_data(TensorData::new(w.clone(), [FEATURES, IMAGENET_CLASSES]), device),
            bias: Some(Param::from_data(TensorData::new(b.clone(), [IMAGENET_CLASSES]), device)),
        }
    }
}

/// The frozen lower part of the network. Runs without autodiff; its outputs are cached.
#[derive(Module, Debug)]
pub struct EfficientNetTrunk {
    pub stem: ConvUnit,
    pub blocks: Vec<MbConv>,
    /// Present only for [`Unfreeze::Head`]: then the output is the pooled feature vector.
    pub conv_head: Option<ConvUnit>,
}

impl EfficientNetTrunk {
    /// # Shapes
    /// - images: `[batch, 3, 224, 224]`, preprocessed
    /// - output: `[batch, h, w, c]` (channels-last) as given by [`super::feature_shape`]
    pub fn forward(&self, images: Tensor<4>) -> Tensor<4> {
        let mut x = self.stem.forward_nchw(images).permute([0, 2, 3, 1]); // [batch, 112, 112, 32]
        for block in &self.blocks {
            x = block.forward(x);
        }
        match &self.conv_head {
            Some(head) => head.forward(x).mean_dim(2).mean_dim(1), // [batch, 1, 1, 1280]
            None => x,
        }
    }
}
