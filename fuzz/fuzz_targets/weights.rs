//! The pretrained weights loader: a file given in place of each model's weights is refused with a
//! reason (not a safetensors file, a tensor missing, another shape or type) — never a panic.
#![no_main]

use burn_finetune::model::whisper::WhisperWeights;
use burn_finetune::model::{EfficientNetWeights, MiniLmWeights};
use burn_finetune::weights::WeightFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = WeightFile::from_bytes("fuzz.safetensors", "fuzz", data) {
        let _ = file.tensor("head.weight", &[2, 3]);
    }
    let _ = EfficientNetWeights::from_bytes("fuzz.safetensors", data);
    let _ = MiniLmWeights::from_bytes("fuzz.safetensors", data);
    let _ = WhisperWeights::from_bytes("fuzz.safetensors", data);
});
