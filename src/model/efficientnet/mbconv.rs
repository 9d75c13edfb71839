//! The MBConv block of EfficientNet-Lite (no squeeze-excitation): 1×1 expand → k×k depthwise →
//! 1×1 project, with a residual connection when stride is 1 and channels are unchanged.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::conv_unit::{ConvUnit, FoldedConv};
use crate::weights::{WeightError, WeightFile};

/// Shape of one MBConv block, as read from the pretrained tensor shapes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MbConvSpec {
    pub input: usize,
    pub output: usize,
    pub kernel: usize,
    pub stride: usize,
    pub expand: usize,
}

impl MbConvSpec {
    fn hidden(&self) -> usize {
        self.input * self.expand
    }
    fn residual(&self) -> bool {
        self.stride == 1 && self.input == self.output
    }
}

/// Host-side weights of one block.
#[derive(Clone, Debug)]
pub struct MbConvWeights {
    pub spec: MbConvSpec,
    pub expand: Option<FoldedConv>,
    pub depthwise: FoldedConv,
    pub project: FoldedConv,
}

impl MbConvWeights {
    /// Reads `_blocks.{index}.*`.
    pub fn load(file: &WeightFile, index: usize, spec: MbConvSpec) -> Result<Self, WeightError> {
        let p = format!("_blocks.{index}");
        let (i, h, o, k) = (spec.input, spec.hidden(), spec.output, spec.kernel);
        let expand = if spec.expand != 1 {
            let name = format!("{p}._expand_conv");
            Some(FoldedConv::load(file, &name, &format!("{p}._bn0"), [h, i, 1, 1], 1, 1, true)?)
        } else {
            None
        };
        let depthwise = FoldedConv::load(
            file,
            &format!("{p}._depthwise_conv"),
            &format!("{p}._bn1"),
            [h, 1, k, k],
            spec.stride,
            h,
            true,
        )?;
        let project =
            FoldedConv::load(file, &format!("{p}._project_conv"), &format!("{p}._bn2"), [o, h, 1, 1], 1, 1, false)?;
        Ok(Self { spec, expand, depthwise, project })
    }

    pub fn init(&self, device: &Device) -> MbConv {
        MbConv {
            expand: self.expand.as_ref().map(|c| c.init(device)),
            depthwise: self.depthwise.init(device),
            project: self.project.init(device),
            residual: self.spec.residual(),
        }
    }
}

#[derive(Module, Debug)]
pub struct MbConv {
    pub expand: Option<ConvUnit>,
    pub depthwise: ConvUnit,
    pub project: ConvUnit,
    pub residual: bool,
}

impl MbConv {
    /// # Shapes (channels-last)
    /// - input: `[batch, h, w, in]`
    /// - output: `[batch, h / stride, w / stride, out]`
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let x = match &self.expand {
            Some(expand) => expand.forward(input.clone()), // [batch, h, w, in*expand]
            None => input.clone(),
        };
        let x = self.depthwise.forward(x); // [batch, h/s, w/s, hidden]
        let x = self.project.forward(x); // [batch, h/s, w/s, out]
        if self.residual { x + input } else { x }
    }
}
