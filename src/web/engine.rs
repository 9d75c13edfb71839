//! `Engine`: every task's fine-tuner for JavaScript, one surface. The calls all tasks share
//! (reset, counts, readiness, train, export, import) are written once through [`with_tuner!`]
//! over [`Shared`] (`shared.rs`); only the calls that take a task's inputs (`addImages` /
//! `addFromTable` / `addAudio` / `addClips`, `predictImages` / `predictTexts` / `predictAudio` /
//! `transcribe`, …) name a task, and they refuse an engine of another task.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use js_sys::{Function, Promise};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use super::shared::Shared;
use super::text_table::TextTable;
use super::{BusyGuard, JsHooks, device_for, js_err, to_js};
use crate::backend::BackendChoice;
use crate::data::{PixelLayout, TextTokenizer, TranscriptTokenizer};
use crate::model::whisper::{Suppression, WhisperWeights};
use crate::model::{EfficientNetWeights, MiniLmWeights};
use crate::task::fine_tuner::readiness;
use crate::task::resume::read_checkpoint;
use crate::task::speech::{self, Clip};
use crate::task::{
    AudioClips, AudioFineTuner, AudioTask, FineTuner, ImageBatch, ImageFineTuner, ImageTask, Preparation, SpeechFineTuner, SpeechTask, TextFineTuner, TextTask,
};
use crate::train::TrainOptions;

/// One task's fine-tuner.
enum Tuner {
    Image(ImageFineTuner),
    Text(TextFineTuner),
    Audio(AudioFineTuner),
    Speech(SpeechFineTuner),
}

/// Runs `$body` with `$t` bound to the fine-tuner, whatever its task.
macro_rules! with_tuner {
    ($tuner:expr, $t:ident => $body:expr) => {
        match $tuner {
            Tuner::Image($t) => $body,
            Tuner::Text($t) => $body,
            Tuner::Audio($t) => $body,
            Tuner::Speech($t) => $body,
        }
    };
}

/// The defaults a task starts from, as the page shows them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Defaults {
    preparation: Preparation,
    training: TrainOptions,
}

fn widened(values: Vec<u32>) -> Vec<usize> {
    values.into_iter().map(|v| v as usize).collect()
}

fn wrong_task(wanted: &str) -> JsValue {
    js_err(format!("this call needs the {wanted} task's engine"))
}

/// The fine-tuning engine as JavaScript sees it.
#[wasm_bindgen]
pub struct Engine {
    tuner: Rc<RefCell<Tuner>>,
    busy: Rc<Cell<bool>>,
    backend: BackendChoice,
}

impl Engine {
    /// Runs `work` as one asynchronous call on the engine; refused ("busy") while another runs.
    fn call<Fut: Future<Output = Result<JsValue, JsValue>> + 'static>(&self, work: impl FnOnce(Rc<RefCell<Tuner>>) -> Fut) -> Promise {
        let busy = self.busy.clone();
        let work = work(self.tuner.clone());
        future_to_promise(async move {
            let _busy = BusyGuard::take(&busy)?;
            work.await
        })
    }
}

#[wasm_bindgen]
impl Engine {
    /// Loads `task`'s pretrained weights (`"image"`: EfficientNet-Lite0; `"text"`: MiniLM-L6 and
    /// its `tokenizer.json`; `"audio"`: Whisper tiny.en; `"speech"`: Whisper tiny.en, its
    /// `tokenizer.json` and its `config.json` text) and picks the backend (see `device_for`).
    pub async fn create(task: String, weights: Vec<u8>, weights_name: String, tokenizer: Option<Vec<u8>>, preference: JsValue, adapter: JsValue, config: Option<String>) -> Result<Engine, JsValue> {
        let (device, backend) = device_for(preference, adapter).await?;
        let tuner = match task.as_str() {
            "image" => Tuner::Image(FineTuner::new(ImageTask { weights: EfficientNetWeights::from_bytes(&weights_name, &weights).map_err(js_err)? }, device)),
            "text" => {
                let weights = MiniLmWeights::from_bytes(&weights_name, &weights).map_err(js_err)?;
                let tokenizer = TextTokenizer::from_bytes(&tokenizer.ok_or_else(|| js_err("the text task needs its tokenizer.json"))?).map_err(js_err)?;
                Tuner::Text(FineTuner::new(TextTask::new(weights, tokenizer).map_err(js_err)?, device))
            }
            "audio" => Tuner::Audio(FineTuner::new(AudioTask::new(WhisperWeights::from_bytes(&weights_name, &weights).map_err(js_err)?), device)),
            "speech" => {
                let weights = WhisperWeights::from_bytes(&weights_name, &weights).map_err(js_err)?;
                let tokenizer = TranscriptTokenizer::from_bytes(&tokenizer.ok_or_else(|| js_err("the speech task needs its tokenizer.json"))?).map_err(js_err)?;
                let suppression = Suppression::from_config(&config.ok_or_else(|| js_err("the speech task needs its config.json"))?).map_err(js_err)?;
                Tuner::Speech(SpeechFineTuner::new(SpeechTask::new(weights, tokenizer, suppression), device))
            }
            other => return Err(js_err(format!("no task '{other}': 'image', 'text', 'audio' or 'speech'"))),
        };
        Ok(Engine { tuner: Rc::new(RefCell::new(tuner)), busy: Rc::default(), backend })
    }

    /// `{kind: "webgpu" | "cpu", reason}`.
    pub fn backend(&self) -> Result<JsValue, JsValue> {
        to_js(&self.backend)
    }

    /// `{preparation: {unfreeze, maxLength}, training: {epochs, batchSize, learningRate, …}}`:
    /// what this task uses for every setting left out.
    pub fn defaults(&self) -> Result<JsValue, JsValue> {
        let (preparation, training) = with_tuner!(&*self.tuner.borrow(), t => (t.default_preparation(), t.train_defaults()));
        to_js(&Defaults { preparation, training })
    }

    /// Starts a new example set: class names and the preparation `{unfreeze, maxLength}` (each
    /// optional: the task's default), checked by the task's model.
    pub fn reset(&self, classes: Vec<String>, preparation: JsValue) -> Result<(), JsValue> {
        let _busy = BusyGuard::take(&self.busy)?;
        let given: serde_json::Value = if preparation.is_undefined() || preparation.is_null() {
            serde_json::Value::Null
        } else {
            serde_wasm_bindgen::from_value(preparation).map_err(js_err)?
        };
        with_tuner!(&mut *self.tuner.borrow_mut(), t => {
            let prep = Preparation::over(&t.default_preparation(), given).map_err(js_err)?;
            t.start(classes, prep)
        })
        .map_err(js_err)
    }

    /// The preparation of the current example set.
    pub fn preparation(&self) -> Result<JsValue, JsValue> {
        to_js(&with_tuner!(&*self.tuner.borrow(), t => Shared::preparation(t)))
    }

    /// Images: a batch of 224×224 RGBA images (`labels[i]` indexes the classes of `reset`);
    /// caches their frozen-trunk outputs. `holdout`: use them only for validation.
    #[wasm_bindgen(js_name = addImages)]
    pub fn add_images(&self, rgba: Vec<u8>, labels: Vec<u32>, holdout: bool) -> Promise {
        self.call(|tuner| async move {
            let Tuner::Image(t) = &mut *tuner.borrow_mut() else { return Err(wrong_task("image")) };
            let labels: Vec<usize> = labels.into_iter().map(|l| l as usize).collect();
            let batch = ImageBatch { pixels: &rgba, layout: PixelLayout::Rgba, count: labels.len() };
            to_js(&t.add(batch, &labels, holdout).await.map_err(js_err)?)
        })
    }

    /// Text: tokenizes texts `start..end` of `table`'s chosen columns and caches the frozen
    /// layers' outputs. Resolves to `{added, truncated, tokens}`.
    #[wasm_bindgen(js_name = addFromTable)]
    pub fn add_from_table(&self, table: &TextTable, start: usize, end: usize) -> Promise {
        let d = &table.dataset;
        let end = end.min(d.texts.len());
        let start = start.min(end);
        let (texts, labels) = (d.texts[start..end].to_vec(), d.labels[start..end].to_vec());
        self.call(|tuner| async move {
            let Tuner::Text(t) = &mut *tuner.borrow_mut() else { return Err(wrong_task("text")) };
            to_js(&t.add(&texts, &labels, false).await.map_err(js_err)?)
        })
    }

    /// Text: tokenizes every text of `table`'s chosen columns at `max_length` without caching
    /// anything: `{texts, tokens, truncated}` (for the benchmark and length advice).
    #[wasm_bindgen(js_name = tokenStats)]
    pub fn token_stats(&self, table: &TextTable, max_length: usize) -> Result<JsValue, JsValue> {
        let Tuner::Text(t) = &*self.tuner.borrow() else { return Err(wrong_task("text")) };
        let encoded = t.task().tokenize(&table.dataset.texts, max_length).map_err(js_err)?;
        to_js(&serde_json::json!({
            "texts": encoded.len(),
            "tokens": encoded.iter().map(|e| e.ids.len()).sum::<usize>(),
            "truncated": encoded.iter().filter(|e| e.truncated).count(),
        }))
    }

    /// Examples per class.
    #[wasm_bindgen(js_name = classCounts)]
    pub fn class_counts(&self) -> Vec<u32> {
        with_tuner!(&*self.tuner.borrow(), t => t.counts()).into_iter().map(|c| c as u32).collect()
    }

    /// Why training cannot start, or `undefined` when it can.
    pub fn readiness(&self) -> Option<String> {
        with_tuner!(&*self.tuner.borrow(), t => Shared::readiness(t)).err()
    }

    /// Why examples with these per-class counts could not train, or `undefined` when they could
    /// (the rule `readiness` applies, checked before anything is prepared).
    #[wasm_bindgen(js_name = readinessOf)]
    pub fn readiness_of(&self, classes: Vec<String>, counts: Vec<u32>) -> Option<String> {
        let counts: Vec<usize> = counts.into_iter().map(|c| c as usize).collect();
        match &*self.tuner.borrow() {
            Tuner::Speech(_) => speech::readiness(counts.iter().sum(), 0).err(),
            tuner => readiness(&classes, &counts, with_tuner!(tuner, t => t.no_examples())).err(),
        }
    }

    /// Bytes held by the feature cache.
    #[wasm_bindgen(js_name = cacheBytes)]
    pub fn cache_bytes(&self) -> f64 {
        with_tuner!(&*self.tuner.borrow(), t => Shared::cache_bytes(t)) as f64
    }

    /// Fine-tunes with `options` (each optional, over the task's defaults); `onEvent(event)`
    /// receives progress events, `signal` cancels within one step, `betweenSteps()` (optional) is
    /// awaited after each step: a promise that stays pending pauses; `onCheckpoint(epoch, bytes)`
    /// (optional, classifiers) receives the run's checkpoint after each epoch that more follow.
    /// Resolves to the report; the best weights are kept for prediction.
    pub fn train(&self, options: JsValue, on_event: Function, signal: Option<AbortSignal>, between_steps: Option<Function>, on_checkpoint: Option<Function>) -> Promise {
        self.call(|tuner| async move {
            let options: serde_json::Value = serde_wasm_bindgen::from_value(options).map_err(js_err)?;
            let mut hooks = JsHooks { on_event, signal, between_steps, on_checkpoint };
            with_tuner!(&mut *tuner.borrow_mut(), t => {
                let opts = TrainOptions::over(&t.train_defaults(), options).map_err(js_err)?;
                t.train_to_js(&opts, &mut hooks).await
            })
        })
    }

    /// Classifiers: `steps` training steps of the fine-tuned (or imported) model on the prepared
    /// examples, each step's loss and condensed gradients (`ProbeStep`s, `train::probe`), the
    /// model left as it was: the same model and examples give the same numbers on another
    /// backend within rounding. Without `update` the steps do not change the weights (each
    /// batch's gradients at the model's). `options` over the task's defaults (batch size,
    /// learning rates, dropout: 0 to compare backends, whose masks differ).
    #[wasm_bindgen(js_name = probeGradients)]
    pub fn probe_gradients(&self, steps: usize, update: bool, options: JsValue) -> Promise {
        self.call(|tuner| async move {
            let options: serde_json::Value = serde_wasm_bindgen::from_value(options).map_err(js_err)?;
            with_tuner!(&*tuner.borrow(), t => {
                let opts = TrainOptions::over(&t.train_defaults(), options).map_err(js_err)?;
                to_js(&t.probe_gradients(steps, update, &opts).await.map_err(js_err)?)
            })
        })
    }

    /// Classifiers: what a checkpoint (bytes from `onCheckpoint`) holds, not compared with
    /// anything: `{task, epoch, epochs, preparation, options, classes, examples}` (the examples
    /// are prepared as its `preparation` before `checkCheckpoint` / `resume`).
    #[wasm_bindgen(js_name = checkpointSummary)]
    pub fn checkpoint_summary(checkpoint: Vec<u8>) -> Result<JsValue, JsValue> {
        let (checkpoint, saved) = read_checkpoint(checkpoint).map_err(js_err)?;
        to_js(&saved.summary(&checkpoint))
    }

    /// Classifiers: whether the run of `checkpoint` can go on with the current examples: its
    /// summary, or rejects naming the first difference (other classes, preparation, examples or
    /// their order).
    #[wasm_bindgen(js_name = checkCheckpoint)]
    pub fn check_checkpoint(&self, checkpoint: Vec<u8>) -> Result<JsValue, JsValue> {
        let status = with_tuner!(&*self.tuner.borrow(), t => Shared::check_checkpoint(t, checkpoint)).map_err(js_err)?;
        to_js(&status)
    }

    /// Classifiers: goes on with the run of `checkpoint`, with its options (hooks as `train`);
    /// resolves to the report of the whole run, equal to the uninterrupted run's on the CPU.
    pub fn resume(&self, checkpoint: Vec<u8>, on_event: Function, signal: Option<AbortSignal>, between_steps: Option<Function>, on_checkpoint: Option<Function>) -> Promise {
        self.call(|tuner| async move {
            let mut hooks = JsHooks { on_event, signal, between_steps, on_checkpoint };
            with_tuner!(&mut *tuner.borrow_mut(), t => t.resume_to_js(checkpoint, &mut hooks).await)
        })
    }

    /// Images: top-`k` `{label, score}` lists for `count` 224×224 RGBA images.
    #[wasm_bindgen(js_name = predictImages)]
    pub fn predict_images(&self, rgba: Vec<u8>, count: usize, top_k: usize) -> Promise {
        self.call(|tuner| async move {
            let Tuner::Image(t) = &*tuner.borrow() else { return Err(wrong_task("image")) };
            to_js(&t.predict(ImageBatch { pixels: &rgba, layout: PixelLayout::Rgba, count }, top_k).await.map_err(js_err)?)
        })
    }

    /// Classifiers: each label's index among the fine-tuned model's classes; a label it does not
    /// know is refused by name (checked before a long evaluation starts).
    #[wasm_bindgen(js_name = labelIndices)]
    pub fn label_indices(&self, labels: Vec<String>) -> Result<Vec<u32>, JsValue> {
        let indices = match &*self.tuner.borrow() {
            Tuner::Image(t) => t.label_indices(&labels),
            Tuner::Text(t) => t.label_indices(&labels),
            Tuner::Audio(t) => t.label_indices(&labels),
            Tuner::Speech(_) => return Err(wrong_task("image, text or audio")),
        };
        Ok(indices.map_err(js_err)?.into_iter().map(|i| i as u32).collect())
    }

    /// Classifiers: `{examples, accuracy, macroF1, classes, confusion, perClass}` of predicted
    /// against actual class indices (the worker predicts in batches, then scores once).
    pub fn score(&self, actual: Vec<u32>, predicted: Vec<u32>) -> Result<JsValue, JsValue> {
        let (actual, predicted) = (widened(actual), widened(predicted));
        let evaluation = match &*self.tuner.borrow() {
            Tuner::Image(t) => t.score(&actual, &predicted),
            Tuner::Text(t) => t.score(&actual, &predicted),
            Tuner::Audio(t) => t.score(&actual, &predicted),
            Tuner::Speech(_) => return Err(wrong_task("image, text or audio")),
        };
        to_js(&evaluation.map_err(js_err)?)
    }

    /// Text: top-`k` `{label, score}` lists, one per text.
    #[wasm_bindgen(js_name = predictTexts)]
    pub fn predict_texts(&self, texts: Vec<String>, top_k: usize) -> Promise {
        self.call(|tuner| async move {
            let Tuner::Text(t) = &*tuner.borrow() else { return Err(wrong_task("text")) };
            to_js(&t.predict(&texts, top_k).await.map_err(js_err)?)
        })
    }

    /// Audio: clips (16 kHz mono, concatenated in `audio`, `lengths[i]` samples each; `labels[i]`
    /// indexes the classes of `reset`); caches the frozen encoder's output. `holdout`: use them
    /// only for validation. Resolves to `{added, truncated}` (clips over 30 s: their first 30 s).
    #[wasm_bindgen(js_name = addAudio)]
    pub fn add_audio(&self, audio: Vec<f32>, lengths: Vec<u32>, labels: Vec<u32>, holdout: bool) -> Promise {
        self.call(|tuner| async move {
            let Tuner::Audio(t) = &mut *tuner.borrow_mut() else { return Err(wrong_task("audio")) };
            let (lengths, labels) = (widened(lengths), widened(labels));
            to_js(&t.add(AudioClips { audio: &audio, lengths: &lengths }, &labels, holdout).await.map_err(js_err)?)
        })
    }

    /// Audio: top-`k` `{label, score}` lists, one per clip (as `addAudio`).
    #[wasm_bindgen(js_name = predictAudio)]
    pub fn predict_audio(&self, audio: Vec<f32>, lengths: Vec<u32>, top_k: usize) -> Promise {
        self.call(|tuner| async move {
            let Tuner::Audio(t) = &*tuner.borrow() else { return Err(wrong_task("audio")) };
            let lengths = widened(lengths);
            to_js(&t.predict(AudioClips { audio: &audio, lengths: &lengths }, top_k).await.map_err(js_err)?)
        })
    }

    /// Speech: clips (16 kHz mono, concatenated in `audio`, `lengths[i]` samples each) with their
    /// transcripts; caches the frozen encoder's and lower decoder layers' outputs. `holdout`:
    /// validation-only clips. Resolves to `{added, skipped: [{index, reason}], tokens, seconds}`.
    #[wasm_bindgen(js_name = addClips)]
    pub fn add_clips(&self, audio: Vec<f32>, lengths: Vec<u32>, texts: Vec<String>, holdout: bool) -> Promise {
        self.call(|tuner| async move {
            let Tuner::Speech(t) = &mut *tuner.borrow_mut() else { return Err(wrong_task("speech")) };
            if lengths.len() != texts.len() || lengths.iter().map(|&l| l as usize).sum::<usize>() != audio.len() {
                return Err(js_err("addClips: the lengths do not match the audio or the transcripts"));
            }
            let mut clips = Vec::with_capacity(texts.len());
            let mut at = 0;
            for (len, text) in lengths.iter().zip(&texts) {
                clips.push(Clip { audio: &audio[at..at + *len as usize], text });
                at += *len as usize;
            }
            to_js(&t.add(&clips, holdout).await.map_err(js_err)?)
        })
    }

    /// Speech: the transcript of a recording of any length (16 kHz mono), in consecutive 30-s
    /// windows; `fineTuned`: with the fine-tuned layers, else the pretrained model.
    /// `onProgress(done, total)` after each window.
    pub fn transcribe(&self, audio: Vec<f32>, fine_tuned: bool, on_progress: Option<Function>) -> Promise {
        self.call(|tuner| async move {
            let Tuner::Speech(t) = &*tuner.borrow() else { return Err(wrong_task("speech")) };
            let text = t
                .transcribe(&audio, fine_tuned, |done, total| {
                    if let Some(f) = &on_progress {
                        let _ = f.call2(&JsValue::NULL, &JsValue::from(done as u32), &JsValue::from(total as u32));
                    }
                })
                .await
                .map_err(js_err)?;
            Ok(JsValue::from(text))
        })
    }

    /// The fine-tuned model as one safetensors file (`Uint8Array`): trained layers, class
    /// names, preparation. Rejects before any training.
    #[wasm_bindgen(js_name = exportModel)]
    pub fn export_model(&self) -> Promise {
        self.call(|tuner| async move {
            let bytes = with_tuner!(&*tuner.borrow(), t => Shared::export_model(t).await).map_err(js_err)?;
            Ok(js_sys::Uint8Array::from(&bytes[..]).into())
        })
    }

    /// Loads a file made by `exportModel`; resolves to its `{baseModel, task, classes, unfreeze,
    /// maxLength, preprocessing}`. Refuses other files with the reason and keeps the current model.
    #[wasm_bindgen(js_name = importModel)]
    pub fn import_model(&self, bytes: Vec<u8>) -> Result<JsValue, JsValue> {
        let _busy = BusyGuard::take(&self.busy)?;
        let info = with_tuner!(&mut *self.tuner.borrow_mut(), t => Shared::import_model(t, &bytes)).map_err(js_err)?;
        to_js(&info)
    }
}
