//! [`Shared`]: what every task's fine-tuner answers, as the engine's shared calls use it — the
//! classifiers' generic [`FineTuner`] and the transcriber, [`SpeechFineTuner`].

use wasm_bindgen::JsValue;

use super::{js_err, to_js};
use crate::error::Error;
use crate::task::model_file::ModelInfo;
use crate::task::resume::CheckpointSummary;
use crate::task::speech;
use crate::task::{FineTuner, Preparation, SpeechFineTuner, Task};
use crate::train::probe::ProbeStep;
use crate::train::{TrainHooks, TrainOptions};

const NO_SPEECH_CHECKPOINTS: &str = "checkpoints and resuming: images, text and sounds in this version (not speech)";

/// What every task's fine-tuner answers, as the engine's shared calls use it.
#[allow(async_fn_in_trait)]
pub(super) trait Shared {
    fn train_defaults(&self) -> TrainOptions;
    /// The preparation used for every setting the caller leaves out.
    fn default_preparation(&self) -> Preparation;
    fn no_examples(&self) -> &'static str;
    /// A new example set; `classes` are the classifiers' (the transcriber has none).
    fn start(&mut self, classes: Vec<String>, prep: Preparation) -> Result<(), Error>;
    fn preparation(&self) -> Preparation;
    /// Examples per class (the transcriber: its clips, as one count).
    fn counts(&self) -> Vec<usize>;
    fn readiness(&self) -> Result<(), String>;
    fn cache_bytes(&self) -> usize;
    /// Trains and serialises the report.
    async fn train_to_js(&mut self, opts: &TrainOptions, hooks: &mut impl TrainHooks) -> Result<JsValue, JsValue>;
    /// Whether a checkpoint's run can go on here: its place.
    fn check_checkpoint(&self, bytes: Vec<u8>) -> Result<CheckpointSummary, Error>;
    /// Goes on with a checkpoint's run and serialises the report.
    async fn resume_to_js(&mut self, bytes: Vec<u8>, hooks: &mut impl TrainHooks) -> Result<JsValue, JsValue>;
    /// A few training steps of the trained model with their gradients (backend checks).
    async fn probe_gradients(&self, steps: usize, update: bool, opts: &TrainOptions) -> Result<Vec<ProbeStep>, Error>;
    async fn export_model(&self) -> Result<Vec<u8>, Error>;
    fn import_model(&mut self, bytes: &[u8]) -> Result<ModelInfo, Error>;
}

impl<T: Task> Shared for FineTuner<T> {
    fn train_defaults(&self) -> TrainOptions {
        T::train_defaults()
    }
    fn default_preparation(&self) -> Preparation {
        T::default_preparation()
    }
    fn no_examples(&self) -> &'static str {
        T::NO_EXAMPLES
    }
    fn start(&mut self, classes: Vec<String>, prep: Preparation) -> Result<(), Error> {
        self.reset(classes, prep)
    }
    fn preparation(&self) -> Preparation {
        FineTuner::preparation(self)
    }
    fn counts(&self) -> Vec<usize> {
        self.class_counts()
    }
    fn readiness(&self) -> Result<(), String> {
        FineTuner::readiness(self)
    }
    fn cache_bytes(&self) -> usize {
        FineTuner::cache_bytes(self)
    }
    async fn train_to_js(&mut self, opts: &TrainOptions, hooks: &mut impl TrainHooks) -> Result<JsValue, JsValue> {
        to_js(&self.train(opts, hooks).await.map_err(js_err)?)
    }
    fn check_checkpoint(&self, bytes: Vec<u8>) -> Result<CheckpointSummary, Error> {
        let (checkpoint, saved) = FineTuner::check_checkpoint(self, bytes)?;
        Ok(saved.summary(&checkpoint))
    }
    async fn resume_to_js(&mut self, bytes: Vec<u8>, hooks: &mut impl TrainHooks) -> Result<JsValue, JsValue> {
        to_js(&self.resume(bytes, hooks).await.map_err(js_err)?)
    }
    async fn probe_gradients(&self, steps: usize, update: bool, opts: &TrainOptions) -> Result<Vec<ProbeStep>, Error> {
        FineTuner::probe_gradients(self, steps, update, opts).await
    }
    async fn export_model(&self) -> Result<Vec<u8>, Error> {
        FineTuner::export_model(self).await
    }
    fn import_model(&mut self, bytes: &[u8]) -> Result<ModelInfo, Error> {
        FineTuner::import_model(self, bytes)
    }
}

impl Shared for SpeechFineTuner {
    fn train_defaults(&self) -> TrainOptions {
        speech::train_defaults()
    }
    fn default_preparation(&self) -> Preparation {
        Preparation::default()
    }
    fn no_examples(&self) -> &'static str {
        "Add recordings with their transcripts first."
    }
    fn start(&mut self, classes: Vec<String>, prep: Preparation) -> Result<(), Error> {
        if !classes.is_empty() {
            return Err(Error::Options("the speech task transcribes: it has no classes".into()));
        }
        self.reset(prep)
    }
    fn preparation(&self) -> Preparation {
        SpeechFineTuner::preparation(self)
    }
    fn counts(&self) -> Vec<usize> {
        vec![self.clips()]
    }
    fn readiness(&self) -> Result<(), String> {
        SpeechFineTuner::readiness(self)
    }
    fn cache_bytes(&self) -> usize {
        SpeechFineTuner::cache_bytes(self)
    }
    async fn train_to_js(&mut self, opts: &TrainOptions, hooks: &mut impl TrainHooks) -> Result<JsValue, JsValue> {
        to_js(&self.train(opts, hooks).await.map_err(js_err)?)
    }
    fn check_checkpoint(&self, _bytes: Vec<u8>) -> Result<CheckpointSummary, Error> {
        Err(Error::Options(NO_SPEECH_CHECKPOINTS.into()))
    }
    async fn resume_to_js(&mut self, _bytes: Vec<u8>, _hooks: &mut impl TrainHooks) -> Result<JsValue, JsValue> {
        Err(js_err(NO_SPEECH_CHECKPOINTS))
    }
    async fn probe_gradients(&self, _steps: usize, _update: bool, _opts: &TrainOptions) -> Result<Vec<ProbeStep>, Error> {
        Err(Error::Options("gradient probes: images, text and sounds in this version (not speech)".into()))
    }
    async fn export_model(&self) -> Result<Vec<u8>, Error> {
        SpeechFineTuner::export_model(self).await
    }
    fn import_model(&mut self, bytes: &[u8]) -> Result<ModelInfo, Error> {
        SpeechFineTuner::import_model(self, bytes)
    }
}
