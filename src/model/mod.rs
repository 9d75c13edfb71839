//! Models: EfficientNet-Lite0 (images) and MiniLM-L6 (text), each split into a frozen trunk and a
//! trainable classifier.

pub mod classifier;
pub mod conv_unit;
pub mod dropout;
pub mod efficientnet;
pub mod mbconv;
pub mod minilm;
pub mod unfreeze;

pub use classifier::{Classifier, ClassifierConfig, UpperLayers};
pub use efficientnet::{EfficientNetWeights, Trunk, feature_shape};
pub use unfreeze::Unfreeze;
