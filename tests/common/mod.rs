//! Shared helpers of the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use burn_finetune::model::EfficientNetWeights;

/// The checkout the tests run in. `cargo test` says so at run time; the compile-time path can
/// name another clone, since cargo reuses a test binary built there from a shared target dir.
pub fn repo() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()))
}

/// The converted pretrained weights (scripts/setup.sh makes them; the test command runs it).
pub fn weights() -> EfficientNetWeights {
    let path = repo().join("assets/efficientnet-lite0.safetensors");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{} is missing ({e}): run scripts/setup.sh", path.display()));
    EfficientNetWeights::from_bytes("efficientnet-lite0.safetensors", &bytes).expect("weights load")
}

/// MiniLM-L6 weights and its tokenizer (scripts/setup.sh extracts them).
pub fn minilm() -> (burn_finetune::model::minilm::MiniLmWeights, burn_finetune::data::TextTokenizer) {
    let dir = repo().join("assets/minilm-l6");
    let read = |name: &str| {
        std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}/{name} is missing ({e}): run scripts/setup.sh", dir.display()))
    };
    let weights = burn_finetune::model::minilm::MiniLmWeights::from_bytes("model.safetensors", &read("model.safetensors"))
        .expect("MiniLM weights load");
    let tokenizer = burn_finetune::data::TextTokenizer::from_bytes(&read("tokenizer.json")).expect("tokenizer loads");
    (weights, tokenizer)
}

/// The image task on the pretrained weights.
pub fn image_task() -> burn_finetune::task::ImageTask {
    burn_finetune::task::ImageTask { weights: weights() }
}

/// The text task on the pretrained weights and tokenizer.
pub fn text_task() -> burn_finetune::task::TextTask {
    let (weights, tokenizer) = minilm();
    burn_finetune::task::TextTask { weights, tokenizer }
}

/// A preparation for the cut `unfreeze` (and `max_length` tokens per text).
pub fn prep(unfreeze: burn_finetune::model::Unfreeze, max_length: usize) -> burn_finetune::task::Preparation {
    burn_finetune::task::Preparation { unfreeze, max_length, ..Default::default() }
}

/// Every float parameter of a module, flattened, in visiting order.
#[derive(Default)]
struct Flatten(Vec<Vec<f32>>);

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().into_data().try_to_vec().unwrap());
    }
}

/// The values of every float parameter of `m`, in visiting order (to compare weights bit for bit).
pub fn params(m: &impl Module) -> Vec<Vec<f32>> {
    let mut v = Flatten::default();
    m.visit(&mut v);
    v.0
}

/// Whisper tiny.en, its tokenizer and its suppressed tokens (scripts/setup.sh extracts them).
pub fn whisper() -> (
    burn_finetune::model::whisper::WhisperWeights,
    burn_finetune::data::TranscriptTokenizer,
    burn_finetune::model::whisper::Suppression,
) {
    let dir = repo().join("assets/whisper-tiny-en");
    let read = |name: &str| {
        std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}/{name} is missing ({e}): run scripts/setup.sh", dir.display()))
    };
    let weights = burn_finetune::model::whisper::WhisperWeights::from_bytes("model.safetensors", &read("model.safetensors"))
        .expect("Whisper weights load");
    let tokenizer = burn_finetune::data::TranscriptTokenizer::from_bytes(&read("tokenizer.json")).expect("tokenizer loads");
    let config = String::from_utf8(read("config.json")).unwrap();
    let suppression = burn_finetune::model::whisper::Suppression::from_config(&config).expect("config loads");
    (weights, tokenizer, suppression)
}
