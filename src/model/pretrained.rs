//! Pretrained dense layers and layer norms held in host memory (read once from a weights file by
//! their source names), built into burn modules on any device as often as needed: the frozen
//! trunk on the plain device, the trainable layers on the autodiff one.

use burn::module::Param;
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::tensor::{Device, TensorData};

use crate::weights::{WeightError, WeightFile};

/// A dense layer, weight stored as burn wants it: `[in, out]`.
pub struct LinearWeights {
    weight: Vec<f32>,
    bias: Option<Vec<f32>>,
    shape: [usize; 2],
}

impl LinearWeights {
    /// Reads `{name}.weight` (`[out, in]`, PyTorch layout) and `{name}.bias`.
    pub fn load(file: &WeightFile, name: &str, d_in: usize, d_out: usize) -> Result<Self, WeightError> {
        let mut layer = Self::load_without_bias(file, name, d_in, d_out)?;
        layer.bias = Some(file.tensor(&format!("{name}.bias"), &[d_out])?);
        Ok(layer)
    }

    /// Reads `{name}.weight` only (a projection without bias).
    pub fn load_without_bias(file: &WeightFile, name: &str, d_in: usize, d_out: usize) -> Result<Self, WeightError> {
        let w = file.tensor(&format!("{name}.weight"), &[d_out, d_in])?;
        let mut weight = vec![0.0; w.len()];
        for o in 0..d_out {
            for i in 0..d_in {
                weight[i * d_out + o] = w[o * d_in + i];
            }
        }
        Ok(Self { weight, bias: None, shape: [d_in, d_out] })
    }

    pub fn init(&self, device: &Device) -> Linear {
        Linear {
            weight: Param::from_data(TensorData::new(self.weight.clone(), self.shape), device),
            bias: self.bias.as_ref().map(|b| Param::from_data(TensorData::new(b.clone(), [self.shape[1]]), device)),
        }
    }
}

/// A layer norm's scale and shift.
pub struct NormWeights {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl NormWeights {
    /// Reads `{name}.weight` (gamma) and `{name}.bias` (beta), `[d]` each.
    pub fn load(file: &WeightFile, name: &str, d: usize) -> Result<Self, WeightError> {
        Ok(Self { gamma: file.tensor(&format!("{name}.weight"), &[d])?, beta: file.tensor(&format!("{name}.bias"), &[d])? })
    }

    pub fn init(&self, epsilon: f64, device: &Device) -> LayerNorm {
        let d = self.gamma.len();
        let mut norm = LayerNormConfig::new(d).with_epsilon(epsilon).init(device);
        norm.gamma = Param::from_data(TensorData::new(self.gamma.clone(), [d]), device);
        norm.beta = Some(Param::from_data(TensorData::new(self.beta.clone(), [d]), device));
        norm
    }
}
