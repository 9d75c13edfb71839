//! Models, one folder each: EfficientNet-Lite0 (images), MiniLM-L6 (text) and Whisper tiny.en
//! (speech and audio classes). Each has the same
//! shape: `weights.rs` (the pretrained tensors by their source names → host memory, and the frozen
//! trunk built from them), `classifier.rs` (the trainable top: upper layers + a new head), and in
//! `mod.rs` the name table, `check_unfreeze` (which cuts it has) and its constants. Shared:
//! [`Unfreeze`] (where the cut is), [`dropout::SeededDropout`], [`pretrained`] (host-memory
//! dense layers and norms) and [`sequence`] (padded batches of per-position features, mean pooling).

pub mod dropout;
pub mod efficientnet;
pub mod minilm;
pub mod pretrained;
pub mod sequence;
pub mod unfreeze;
pub mod whisper;

pub use efficientnet::{EfficientNetClassifier, EfficientNetClassifierConfig, EfficientNetTrunk, EfficientNetWeights, feature_shape};
pub use minilm::{MiniLmClassifier, MiniLmClassifierConfig, MiniLmTrunk, MiniLmWeights};
pub use unfreeze::Unfreeze;
