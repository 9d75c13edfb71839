//! burn-finetune: fine-tune a pretrained EfficientNet-Lite0 — its head and upper blocks only — on
//! the user's own images, in the browser (WebGPU or CPU wasm) or natively.
//!
//! Layers, bottom up: [`weights`] (safetensors) → [`model`] (the network, cut into a frozen trunk
//! and a trainable classifier) → [`data`] (preprocessing, split, feature cache) → [`train`] (the
//! async loop and its guard rails) → [`finetuner`] (state between calls) → `web` (the only
//! wasm-bindgen module) / `src/bin/finetune.rs` (the CLI).

pub mod backend;
pub mod data;
pub mod error;
pub mod model;
pub mod ops;
pub mod task;
pub mod train;
pub mod weights;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;

#[cfg(target_arch = "wasm32")]
mod web;

pub use error::Error;
pub use task::{ImageFineTuner, Prediction, TextFineTuner};
