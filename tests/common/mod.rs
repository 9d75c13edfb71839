//! Shared helpers of the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use burn_finetune::model::EfficientNetWeights;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The converted pretrained weights (scripts/setup.sh makes them; the test command runs it).
pub fn weights() -> EfficientNetWeights {
    let path = repo().join("assets/efficientnet-lite0.safetensors");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{} is missing ({e}): run scripts/setup.sh", path.display()));
    EfficientNetWeights::from_bytes("efficientnet-lite0.safetensors", &bytes).expect("weights load")
}
