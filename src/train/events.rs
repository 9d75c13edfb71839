//! What training reports while it runs and when it ends. Serialised to JSON for the page and the
//! CLI (`{"type": "epoch", ...}`).

use serde::{Deserialize, Serialize};

use super::auto::TrialReport;
use super::average::AverageReport;
use super::linear_probe::ProbeReport;
use super::metrics::{ClassScores, ConfusionMatrix};
use super::mix::MixScore;

/// Metrics of one completed epoch.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f32,
    pub train_accuracy: f32,
    pub train_macro_f1: f32,
    #[serde(deserialize_with = "super::checkpoint::f32_or_nan")]
    pub val_loss: f32,
    pub val_accuracy: f32,
    pub val_macro_f1: f32,
    pub val_confusion: ConfusionMatrix,
    /// Precision, recall, F1 and support of each class on the validation split.
    pub val_per_class: Vec<ClassScores>,
    /// The head's learning rate at the end of the epoch.
    pub learning_rate: f64,
    /// The same as `learning_rate`: its former name, kept for one version.
    pub head_lr: f64,
    pub train_examples_per_sec: f32,
    pub seconds: f32,
}

/// Why training ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StopReason {
    Completed,
    EarlyStopped,
    Cancelled,
    Diverged,
}

/// The summary of a run. The model left behind has the weights of `best_epoch`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainReport {
    pub stop_reason: StopReason,
    /// Epoch whose weights were kept (0: none completed; the weights are then the last good ones).
    pub best_epoch: usize,
    pub best_val_accuracy: f32,
    pub message: String,
    pub warnings: Vec<String>,
    pub epochs: Vec<EpochReport>,
    pub train_examples: usize,
    pub val_examples: usize,
    /// The head fitted alone before fine-tuning (LP-FT), when it was.
    #[serde(default)]
    pub linear_probe: Option<ProbeReport>,
    /// The average of the epochs' weights, when one was made (`averageEpochs`).
    #[serde(default)]
    pub averaged: Option<AverageReport>,
    /// The share of the fine-tuned weights in the kept model (the rest pretrained upper layers
    /// with the probed head, WiSE-FT): 1 when unmixed.
    #[serde(default = "one")]
    pub fine_tuned_share: f32,
    /// The mixes tried on the validation split, in order.
    #[serde(default)]
    pub mixes: Vec<MixScore>,
    /// The automatic mode's trials, in order (empty without `auto`).
    #[serde(default)]
    pub trials: Vec<TrialReport>,
    /// Which of `trials` was kept, from 1 (0 without `auto`).
    #[serde(default)]
    pub chosen_trial: usize,
}

fn one() -> f32 {
    1.0
}

/// A validation clip's transcript beside the user's.
#[derive(Clone, Debug, Serialize)]
pub struct TranscriptSample {
    pub reference: String,
    pub transcript: String,
}

/// Metrics of one completed transcription epoch (speech).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpeechEpochReport {
    pub epoch: usize,
    /// Mean token cross-entropy (teacher forcing).
    pub train_loss: f32,
    pub val_loss: f32,
    /// Word error rate of greedy transcripts of the validation clips.
    pub val_wer: f32,
    pub val_word_errors: usize,
    pub val_words: usize,
    /// The first validation clips' transcripts.
    pub samples: Vec<TranscriptSample>,
    /// The final norm's learning rate at the end of the epoch.
    pub learning_rate: f64,
    /// The decoder layers' learning rate at the end of the epoch.
    pub backbone_learning_rate: f64,
    pub train_examples_per_sec: f32,
    pub seconds: f32,
}

/// The summary of a transcription run. The model left behind has the weights of `best_epoch`
/// (0: the pretrained ones, when no epoch beat their validation WER).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpeechReport {
    pub stop_reason: StopReason,
    pub best_epoch: usize,
    pub zero_shot_val_wer: f32,
    pub zero_shot_val_loss: f32,
    pub best_val_wer: f32,
    /// The share of the fine-tuned weights in the kept model (the rest pretrained, WiSE-FT): 1
    /// when unmixed.
    pub fine_tuned_share: f32,
    /// The mixes tried on the validation split, in order.
    pub mixes: Vec<MixReport>,
    pub message: String,
    pub warnings: Vec<String>,
    pub epochs: Vec<SpeechEpochReport>,
    pub train_examples: usize,
    pub val_examples: usize,
}

/// One mix of fine-tuned and pretrained weights, scored on the validation split.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MixReport {
    /// The share of the fine-tuned weights.
    pub share: f32,
    pub val_wer: f32,
    pub val_loss: f32,
}

/// Progress events, in order: `caching`* → `linearProbeEpoch`* → `resumed`? → (`step`* `epoch`)* → `mixScored`* → `done` (with `warning` anywhere);
/// with `auto`, each trial's run between `trial` and `trialDone`, then `done`;
/// speech runs send `speechEpoch` and `speechDone` instead of `epoch` and `done`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum TrainEvent {
    /// Frozen-trunk features computed for `done` of `total` examples.
    Caching { done: usize, total: usize, examples_per_sec: f32 },
    #[serde(rename_all = "camelCase")]
    Step { epoch: usize, step: usize, steps_per_epoch: usize, loss: f32, examples_per_sec: f32 },
    Epoch(EpochReport),
    Warning { message: String },
    Done(TrainReport),
    SpeechEpoch(SpeechEpochReport),
    SpeechDone(SpeechReport),
    /// The pretrained transcriber (what fine-tuning must beat) transcribed `done` of the `total`
    /// validation clips it had not heard yet.
    Baseline { done: usize, total: usize },
    /// After training (speech): a mix of the fine-tuned and pretrained weights scored; `done` of
    /// `total` mixes.
    Mix { mix: MixReport, done: usize, total: usize },
    /// Before fine-tuning (`linearProbe`): an epoch of the head alone on the pretrained upper
    /// layers' features; it stops before `max_epochs` when the validation loss stops improving.
    #[serde(rename_all = "camelCase")]
    LinearProbeEpoch { epoch: usize, max_epochs: usize, val_loss: f32, val_accuracy: f32 },
    /// After training (classifiers, `mixPretrained`): a mix of the fine-tuned and pretrained
    /// weights scored; `done` of `total` mixes.
    MixScored { mix: MixScore, done: usize, total: usize },
    /// The automatic mode starts its trial `trial` of `trials` (a whole run: its events follow).
    Trial { trial: usize, trials: usize, name: String },
    /// The automatic mode's trial `trial` ended and was scored on the validation split.
    TrialDone { trial: usize, trials: usize, report: TrialReport },
    /// The run goes on from its checkpoint after `epoch`; `epochs`: the reports of the epochs
    /// done before it (for the curves).
    Resumed { epoch: usize, epochs: Vec<EpochReport> },
}
