//! Fine-tuning: options, the async loop, guard rails, metrics and the LR schedule.

pub mod adamw;
pub mod auto;
pub mod average;
pub mod checkpoint;
pub mod events;
pub mod guards;
pub mod hooks;
pub mod linear_probe;
pub mod metrics;
pub mod mix;
pub mod optimizer;
pub mod options;
pub mod probe;
pub mod schedule;
pub mod top;
pub mod trainer;
pub mod transcription;
pub mod wer;

pub use events::{EpochReport, MixReport, SpeechEpochReport, SpeechReport, StopReason, TrainEvent, TrainReport, TranscriptSample};
pub use auto::{TrialReport, fine_tune_auto};
pub use average::AverageReport;
pub use hooks::{CollectEvents, TrainHooks};
pub use linear_probe::ProbeReport;
pub use mix::MixScore;
pub use metrics::{ClassScores, ConfusionMatrix};
pub use options::TrainOptions;
pub use top::{ClassifierTop, FeatureSource, TrainableTop, TwoRateOptimizer};
pub use checkpoint::Checkpoint;
pub use trainer::{Checkpoints, TrainData, Trained, evaluate, fine_tune, fine_tune_with};
pub use transcription::{Baseline, TrainedTranscriber, TranscriptionData, fine_tune_transcriber};
pub use wer::WordErrors;
