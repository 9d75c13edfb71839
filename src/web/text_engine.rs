//! `TextEngine`: the text task (MiniLM-L6) for JavaScript.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use super::text_table::TextTable;
use super::{BusyGuard, JsHooks, device_for, js_err, to_js};
use crate::backend::BackendChoice;
use crate::data::TextTokenizer;
use crate::model::Unfreeze;
use crate::model::minilm::MiniLmWeights;
use crate::task::TextFineTuner;
use crate::train::TrainOptions;

#[wasm_bindgen]
pub struct TextEngine {
    tuner: Rc<RefCell<TextFineTuner>>,
    busy: Rc<Cell<bool>>,
    backend: BackendChoice,
}

#[wasm_bindgen]
impl TextEngine {
    /// Loads MiniLM-L6's weights and `tokenizer.json` and picks the backend (see `device_for`).
    pub async fn create(weights: Vec<u8>, weights_name: String, tokenizer: Vec<u8>, preference: JsValue, adapter: JsValue) -> Result<TextEngine, JsValue> {
        let weights = MiniLmWeights::from_bytes(&weights_name, &weights).map_err(js_err)?;
        let tokenizer = TextTokenizer::from_bytes(&tokenizer).map_err(js_err)?;
        let (device, backend) = device_for(preference, adapter).await?;
        Ok(TextEngine { tuner: Rc::new(RefCell::new(TextFineTuner::new(weights, tokenizer, device))), busy: Rc::default(), backend })
    }

    /// `{kind: "webgpu" | "cpu", reason}`.
    pub fn backend(&self) -> Result<JsValue, JsValue> {
        to_js(&self.backend)
    }

    /// Starts a new example set: class names, unfreeze depth (`"head"` or a layer count) and the
    /// maximum length in tokens.
    pub fn reset(&self, classes: Vec<String>, unfreeze: JsValue, max_length: usize) -> Result<(), JsValue> {
        let _busy = BusyGuard::take(&self.busy)?;
        let unfreeze: Unfreeze = serde_wasm_bindgen::from_value(unfreeze).map_err(js_err)?;
        self.tuner.borrow_mut().reset(classes, unfreeze, max_length).map_err(js_err)
    }

    /// Tokenizes texts `start..end` of `table`'s chosen columns and caches the frozen layers'
    /// outputs. Resolves to `{added, truncated, tokens}`.
    #[wasm_bindgen(js_name = addFromTable)]
    pub fn add_from_table(&self, table: &TextTable, start: usize, end: usize) -> Promise {
        let d = &table.dataset;
        let end = end.min(d.texts.len());
        let start = start.min(end);
        let (texts, labels) = (d.texts[start..end].to_vec(), d.labels[start..end].to_vec());
        let (tuner, busy) = (self.tuner.clone(), self.busy.clone());
        future_to_promise(async move {
            let _busy = BusyGuard::take(&busy)?;
            let report = tuner.borrow_mut().add_texts(&texts, &labels).await.map_err(js_err)?;
            to_js(&report)
        })
    }

    /// Tokenizes every text of `table`'s chosen columns at `max_length` without caching anything:
    /// `{texts, tokens, truncated}` (for the benchmark and the page's length advice).
    #[wasm_bindgen(js_name = tokenStats)]
    pub fn token_stats(&self, table: &TextTable, max_length: usize) -> Result<JsValue, JsValue> {
        let encoded = self.tuner.borrow().encode(&table.dataset.texts, max_length).map_err(js_err)?;
        to_js(&serde_json::json!({
            "texts": encoded.len(),
            "tokens": encoded.iter().map(|e| e.ids.len()).sum::<usize>(),
            "truncated": encoded.iter().filter(|e| e.truncated).count(),
        }))
    }

    #[wasm_bindgen(js_name = classCounts)]
    pub fn class_counts(&self) -> Vec<u32> {
        self.tuner.borrow().class_counts().into_iter().map(|c| c as u32).collect()
    }

    /// Why training cannot start, or `undefined` when it can.
    pub fn readiness(&self) -> Option<String> {
        self.tuner.borrow().readiness().err()
    }

    #[wasm_bindgen(js_name = cacheBytes)]
    pub fn cache_bytes(&self) -> f64 {
        self.tuner.borrow().cache_bytes() as f64
    }

    /// Fine-tunes; `onEvent(event)` receives progress events, `signal` cancels within one step,
    /// `betweenSteps()` (optional) is awaited after each step: a promise that stays pending pauses.
    pub fn train(&self, options: JsValue, on_event: Function, signal: Option<AbortSignal>, between_steps: Option<Function>) -> Promise {
        let (tuner, busy) = (self.tuner.clone(), self.busy.clone());
        future_to_promise(async move {
            let _busy = BusyGuard::take(&busy)?;
            let options: TrainOptions = serde_wasm_bindgen::from_value(options).map_err(js_err)?;
            let mut hooks = JsHooks { on_event, signal, between_steps };
            let report = tuner.borrow_mut().train(&options, &mut hooks).await.map_err(js_err)?;
            to_js(&report)
        })
    }

    /// Top-`k` `{label, score}` lists, one per text.
    pub fn predict(&self, texts: Vec<String>, top_k: usize) -> Promise {
        let (tuner, busy) = (self.tuner.clone(), self.busy.clone());
        future_to_promise(async move {
            let _busy = BusyGuard::take(&busy)?;
            let results = tuner.borrow().predict(&texts, top_k).await.map_err(js_err)?;
            to_js(&results)
        })
    }

    /// The fine-tuned model as one safetensors file (`Uint8Array`): trained layers, class
    /// names, cut and preprocessing. Rejects before any training.
    #[wasm_bindgen(js_name = exportModel)]
    pub fn export_model(&self) -> Promise {
        let (tuner, busy) = (self.tuner.clone(), self.busy.clone());
        future_to_promise(async move {
            let _busy = BusyGuard::take(&busy)?;
            let bytes = tuner.borrow().export_model().await.map_err(js_err)?;
            Ok(js_sys::Uint8Array::from(&bytes[..]).into())
        })
    }

    /// Loads a file made by `exportModel`; resolves to its `{baseModel, task, classes, unfreeze,
    /// maxLength, preprocessing}`. Refuses other files with the reason and keeps the current model.
    #[wasm_bindgen(js_name = importModel)]
    pub fn import_model(&self, bytes: Vec<u8>) -> Result<JsValue, JsValue> {
        let _busy = BusyGuard::take(&self.busy)?;
        let info = self.tuner.borrow_mut().import_model(&bytes).map_err(js_err)?;
        to_js(&info)
    }
}
