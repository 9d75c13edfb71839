//! Tasks: the engine's state between calls for one kind of data. Each task owns its pretrained
//! weights, frozen trunk, feature cache and last fine-tuned model, and plugs its trainable top and
//! cache into the shared training loop ([`crate::train`]). Used as they are by the CLI
//! (`src/bin/finetune.rs`) and wrapped for JavaScript by `src/web/` (`image_engine.rs`,
//! `text_engine.rs`).

pub mod image;
pub mod model_file;
pub mod text;

use burn::tensor::Tensor;
use serde::Serialize;

use crate::error::Error;

pub use image::ImageFineTuner;
pub use model_file::ModelInfo;
pub use text::{AddTextsReport, DEFAULT_MAX_LENGTH, TextFineTuner, describe_cut};

/// One class score.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Prediction {
    pub label: String,
    pub score: f32,
}

/// The `k` best classes of each row of `probs` (`[rows, classes.len()]`, row-major).
pub(crate) fn top_k(probs: &[f32], classes: &[String], k: usize) -> Vec<Vec<Prediction>> {
    probs
        .chunks_exact(classes.len())
        .map(|row| {
            let mut scored: Vec<Prediction> =
                row.iter().zip(classes).map(|(&score, label)| Prediction { label: label.clone(), score }).collect();
            scored.sort_by(|a, b| b.score.total_cmp(&a.score));
            scored.truncate(k.max(1));
            scored
        })
        .collect()
}

/// Reads a tensor's values asynchronously (a synchronous read panics in wasm on WebGPU).
pub(crate) async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, Error> {
    let data = tensor.into_data_async().await.map_err(|e| Error::Backend(format!("{e:?}")))?;
    data.try_to_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}")))
}

/// Why training cannot start yet with these per-class counts, if it cannot.
pub(crate) fn readiness(counts: &[usize], classes: &[String], empty_hint: &str) -> Result<(), String> {
    if counts.iter().all(|&c| c == 0) {
        return Err(empty_hint.to_string());
    }
    let populated = counts.iter().filter(|&&c| c > 0).count();
    if populated < 2 {
        return Err(format!("Need at least 2 classes with examples; found {populated}."));
    }
    if let Some((i, c)) = counts.iter().enumerate().find(|&(_, &c)| c < 2) {
        return Err(format!("Class '{}' has {c} example(s): each class needs at least 2.", classes[i]));
    }
    Ok(())
}
