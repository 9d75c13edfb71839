//! burn-finetune: fine-tune a pretrained classifier — EfficientNet-Lite0 on images, MiniLM-L6 on
//! text — training only a new head and its upper layers, in the browser (WebGPU or CPU wasm) or
//! natively.
//!
//! Layers, bottom up: [`weights`] (safetensors) → [`ops`] (tensor ops with their own backward and
//! CPU kernels) → [`model`] (the networks, each cut into a frozen trunk and a trainable top) →
//! [`data`] (preprocessing, tokenizer, split, feature caches) → [`train`] (the async loop and its
//! guard rails) → [`task`] (one generic [`task::FineTuner`] over each [`task::Task`]:
//! [`ImageFineTuner`], [`TextFineTuner`]; model files) → `web` (`src/web/`, the only wasm-bindgen module) /
//! `native` and `src/bin/finetune/` (the CLI). [`backend`] chooses WebGPU or the CPU.

pub mod backend;
pub mod data;
pub mod error;
pub mod model;
pub mod ops;
pub mod params;
pub mod task;
pub mod train;
pub mod weights;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;

#[cfg(target_arch = "wasm32")]
mod web;

pub use error::Error;
pub use task::{ImageFineTuner, Prediction, TextFineTuner};
