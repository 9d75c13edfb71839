//! Tasks: one generic [`FineTuner`] (classes, labels, the feature cache, readiness, training, the
//! trained model with its class names and preparation, export/import) over a [`Task`], which
//! supplies only its model, its input encoding and its cache: [`ImageTask`] (EfficientNet-Lite0),
//! [`TextTask`] (MiniLM-L6) and [`AudioTask`] (sound classes on Whisper tiny.en's encoder). Transcription is not a classifier: [`SpeechFineTuner`] (Whisper
//! tiny.en) is the second shape, with the same trunk/cache/top split. Used as they are by the CLI (`src/bin/finetune/`) and wrapped
//! for JavaScript by `src/web/engine.rs`.

pub mod audio;
pub mod fine_tuner;
pub mod image;
pub mod model_file;
pub mod preparation;
pub mod resume;
pub mod speech;
pub mod text;

use burn::tensor::{Device, Tensor};
use serde::Serialize;

use crate::error::Error;
use crate::model::Unfreeze;
use crate::train::{ClassifierTop, FeatureSource, TrainOptions, TrainableTop};

pub use audio::{AudioClips, AudioTask};
pub use fine_tuner::FineTuner;
pub use image::{ImageBatch, ImageTask};
pub use model_file::ModelInfo;
pub use preparation::{DEFAULT_MAX_LENGTH, Preparation};
pub use speech::{Clip, SpeechAddReport, SpeechFineTuner, SpeechTask};
pub use text::TextTask;

/// The image fine-tuner (EfficientNet-Lite0).
pub type ImageFineTuner = FineTuner<ImageTask>;
/// The text fine-tuner (MiniLM-L6).
pub type TextFineTuner = FineTuner<TextTask>;
/// The audio-classes fine-tuner (Whisper tiny.en's encoder).
pub type AudioFineTuner = FineTuner<AudioTask>;

/// What a kind of data brings to the shared [`FineTuner`]: its pretrained model (frozen trunk +
/// trainable top), how its inputs become trunk outputs, and the cache that keeps them.
#[allow(async_fn_in_trait)] // single-threaded hosts (wasm, the CLI's block_on): no Send bound needed
pub trait Task {
    /// The task's name in model files and messages (`"image"`, `"text"`, `"audio"`).
    const NAME: &'static str;
    /// The base model's name in model files.
    const BASE_MODEL: &'static str;
    /// The model's word for the blocks `unfreeze` counts.
    const LAYERS: &'static str;
    /// What readiness says before any example was added.
    const NO_EXAMPLES: &'static str;
    /// The inputs of one call (a batch of images, some texts).
    type Inputs<'a>: Copy;
    /// Inputs given to one `encode` (a call with more runs in passes of this many): bounds the
    /// memory of a pass whatever a call brings. Tasks that sort a pass's inputs by length into
    /// batches of their own take larger passes (less padding).
    const PASS: usize = 32;
    /// Whether its inputs can be augmented (`Preparation::augment`): images.
    const AUGMENTS: bool = false;
    /// The frozen part below the cut (no autodiff).
    type Trunk;
    /// The part that trains: pretrained upper layers + a new head.
    type Top: ClassifierTop;
    /// Trunk outputs, one row per example, as the top takes them.
    type Cache: FeatureSource<Input = <Self::Top as TrainableTop>::Input>;

    /// `Err` naming the setting the model cannot prepare with (a cut it does not have, …).
    fn check(prep: &Preparation) -> Result<(), String>;
    /// Number of examples in `inputs`.
    fn count(inputs: Self::Inputs<'_>) -> usize;
    /// Examples `range` of `inputs` (all of them when `inputs` do not add up: `encode` then says
    /// why).
    fn slice<'a>(inputs: Self::Inputs<'a>, range: std::ops::Range<usize>) -> Self::Inputs<'a>;
    /// Why `inputs` cannot be used, naming the input by its place among all of them (`encode`
    /// sees one pass of them at a time).
    fn validate(inputs: Self::Inputs<'_>) -> Result<(), Error> {
        let _ = inputs;
        Ok(())
    }
    /// Each input's content hash ([`resume::content_hash`]): the manifest of a checkpoint.
    fn hashes(inputs: Self::Inputs<'_>) -> Vec<u64>;
    fn trunk(&self, prep: &Preparation, device: &Device) -> Self::Trunk;
    fn empty_cache(&self, prep: &Preparation) -> Self::Cache;
    /// Runs `trunk` on `inputs` and appends its outputs to `cache`, in input order.
    async fn encode(&self, trunk: &Self::Trunk, prep: &Preparation, inputs: Self::Inputs<'_>, cache: &mut Self::Cache, device: &Device) -> Result<AddReport, Error>;
    /// Upper layers from the pretrained weights and a fresh `classes`-way head, on `device`, with
    /// `dropout` while training.
    fn top(&self, classes: usize, prep: &Preparation, dropout: f64, device: &Device) -> Self::Top;
    /// How inputs are prepared, in words (model files).
    fn preprocessing(prep: &Preparation) -> String;
    /// Whether the model file records `prep.max_length`.
    fn uses_max_length() -> bool {
        false
    }
    /// The cut used when the caller names none.
    fn default_unfreeze() -> Unfreeze {
        Unfreeze::default()
    }
    /// The preparation used when the caller names none.
    fn default_preparation() -> Preparation {
        Preparation { unfreeze: Self::default_unfreeze(), ..Preparation::default() }
    }
    /// This task's training defaults.
    fn train_defaults() -> TrainOptions {
        TrainOptions::default()
    }
}

/// What adding examples did.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AddReport {
    pub added: usize,
    /// Text: texts longer than the maximum length (cut to it). Audio: clips over 30 s (their
    /// first 30 s are used).
    pub truncated: usize,
    /// Text: tokens (with `[CLS]`/`[SEP]`) of the added texts.
    pub tokens: usize,
}

impl AddReport {
    /// This report and `more`'s counts together.
    pub fn and(self, more: AddReport) -> AddReport {
        AddReport { added: self.added + more.added, truncated: self.truncated + more.truncated, tokens: self.tokens + more.tokens }
    }
}

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
