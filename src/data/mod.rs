//! Data: preprocessing, the train/validation split and the feature cache.

pub mod cache;
pub mod image;
pub mod split;

pub use cache::FeatureCache;
pub use image::{PixelLayout, preprocess};
pub use split::{Split, stratified_split};
