//! Reading pretrained weights from safetensors bytes, with errors that name the file and tensor.
//!
//! ```ignore
//! let file = WeightFile::from_bytes("efficientnet-lite0.safetensors", "EfficientNet-Lite0", &bytes)?;
//! let w = file.tensor("_conv_stem.weight", &[32, 3, 3, 3])?; // Vec<f32>
//! ```

use safetensors::{Dtype, SafeTensors};
use std::fmt;

/// Why a weights file could not be used.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightError {
    /// The bytes are not a safetensors file (missing, truncated or another format).
    Unreadable { file: String, reason: String },
    /// A tensor the model needs is absent.
    Missing { file: String, model: String, tensor: String },
    /// A tensor has the wrong shape or type.
    WrongShape { file: String, tensor: String, expected: Vec<usize>, found: Vec<usize> },
    WrongType { file: String, tensor: String, found: String },
}

impl fmt::Display for WeightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable { file, reason } => {
                write!(f, "weights file '{file}' cannot be read ({reason}); is it missing or truncated?")
            }
            Self::Missing { file, model, tensor } => {
                write!(f, "weights file '{file}' has no tensor '{tensor}': it is not a {model} file")
            }
            Self::WrongShape { file, tensor, expected, found } => write!(
                f,
                "weights file '{file}': tensor '{tensor}' has shape {found:?}, expected {expected:?}"
            ),
            Self::WrongType { file, tensor, found } => {
                write!(f, "weights file '{file}': tensor '{tensor}' is {found}, expected F32, F16 or BF16")
            }
        }
    }
}

impl std::error::Error for WeightError {}

/// A parsed safetensors file borrowed from its bytes.
pub struct WeightFile<'a> {
    name: String,
    model: String,
    tensors: SafeTensors<'a>,
}

impl<'a> WeightFile<'a> {
    /// Parses the header; `name` (the file) and `model` are used in error messages only.
    pub fn from_bytes(name: &str, model: &str, bytes: &'a [u8]) -> Result<Self, WeightError> {
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| WeightError::Unreadable {
            file: name.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Self { name: name.to_string(), model: model.to_string(), tensors })
    }

    /// The tensor `tensor` as f32 values (from F32, F16 or BF16), checked against `shape`.
    pub fn tensor(&self, tensor: &str, shape: &[usize]) -> Result<Vec<f32>, WeightError> {
        let view = self.tensors.tensor(tensor).map_err(|_| WeightError::Missing {
            file: self.name.clone(),
            model: self.model.clone(),
            tensor: tensor.to_string(),
        })?;
        if view.shape() != shape {
            return Err(WeightError::WrongShape {
                file: self.name.clone(),
                tensor: tensor.to_string(),
                expected: shape.to_vec(),
                found: view.shape().to_vec(),
            });
        }
        let data = view.data();
        match view.dtype() {
            Dtype::F32 => Ok(data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
            // Half-precision files (Whisper's weights ship as float16) are widened on reading.
            Dtype::F16 => Ok(data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()),
            Dtype::BF16 => Ok(data.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect()),
            other => Err(WeightError::WrongType { file: self.name.clone(), tensor: tensor.to_string(), found: format!("{other:?}") }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(name: &str, shape: Vec<usize>) -> Vec<u8> {
        let n: usize = shape.iter().product();
        let data: Vec<u8> = (0..n).flat_map(|i| (i as f32).to_le_bytes()).collect();
        let view = safetensors::tensor::TensorView::new(Dtype::F32, shape, &data).unwrap();
        safetensors::serialize([(name, view)], None).unwrap()
    }

    #[test]
    fn reads_a_tensor_with_the_right_shape() {
        let bytes = file_with("a.weight", vec![2, 3]);
        let f = WeightFile::from_bytes("w.safetensors", "test", &bytes).unwrap();
        assert_eq!(f.tensor("a.weight", &[2, 3]).unwrap(), vec![0., 1., 2., 3., 4., 5.]);
    }

    #[test]
    fn errors_name_the_file_and_the_tensor() {
        let bytes = file_with("a.weight", vec![2, 3]);
        let f = WeightFile::from_bytes("w.safetensors", "test", &bytes).unwrap();
        let e = f.tensor("a.weight", &[3, 2]).unwrap_err().to_string();
        assert!(e.contains("w.safetensors") && e.contains("a.weight") && e.contains("[3, 2]"), "{e}");
        let e = f.tensor("b.weight", &[1]).unwrap_err().to_string();
        assert!(e.contains("b.weight") && e.contains("no tensor"), "{e}");
        let e = WeightFile::from_bytes("cut.safetensors", "test", &bytes[..bytes.len() - 5]).err().unwrap();
        assert!(e.to_string().contains("cut.safetensors") && e.to_string().contains("truncated"), "{e}");
    }
}
