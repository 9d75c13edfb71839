//! Models, one folder each: EfficientNet-Lite0 (images) and MiniLM-L6 (text). Each has the same
//! shape: `weights.rs` (the pretrained tensors by their source names → host memory, and the frozen
//! trunk built from them), `classifier.rs` (the trainable top: upper layers + a new head), and in
//! `mod.rs` the name table, `check_unfreeze` (which cuts it has) and its constants. Shared:
//! [`Unfreeze`] (where the cut is) and [`dropout::SeededDropout`].

pub mod dropout;
pub mod efficientnet;
pub mod minilm;
pub mod unfreeze;

pub use efficientnet::{EfficientNetClassifier, EfficientNetClassifierConfig, EfficientNetTrunk, EfficientNetWeights, feature_shape};
pub use minilm::{MiniLmClassifier, MiniLmClassifierConfig, MiniLmTrunk, MiniLmWeights};
pub use unfreeze::Unfreeze;
