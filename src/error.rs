//! The crate's error type: every message is meant to be shown to the user as it is.

use std::fmt;

use crate::weights::WeightError;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The pretrained weights file is missing, truncated or of another model.
    Weights(WeightError),
    /// An option is out of range.
    Options(String),
    /// The examples cannot be used as given.
    Data(String),
    /// The compute backend failed (device lost, read failed).
    Backend(String),
    /// Prediction or export before any training.
    NotTrained,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Weights(e) => write!(f, "{e}"),
            Error::Options(m) => write!(f, "invalid option: {m}"),
            Error::Data(m) => write!(f, "{m}"),
            Error::Backend(m) => write!(f, "compute backend error: {m}"),
            Error::NotTrained => write!(f, "no fine-tuned model yet: train first"),
        }
    }
}

impl std::error::Error for Error {}

impl From<WeightError> for Error {
    fn from(e: WeightError) -> Self {
        Error::Weights(e)
    }
}
