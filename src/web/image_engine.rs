//! `ImageEngine`: the image task (EfficientNet-Lite0) for JavaScript.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use super::{BusyGuard, JsHooks, device_for, js_err, to_js};
use crate::backend::BackendChoice;
use crate::data::PixelLayout;
use crate::model::{EfficientNetWeights, Unfreeze};
use crate::task::ImageFineTuner;
use crate::train::TrainOptions;

/// The image fine-tuning engine as JavaScript sees it.
#[wasm_bindgen]
pub struct ImageEngine {
    tuner: Rc<RefCell<ImageFineTuner>>,
    busy: Rc<Cell<bool>>,
    backend: BackendChoice,
}

#[wasm_bindgen]
impl ImageEngine {
    /// Loads EfficientNet-Lite0's weights and picks the backend (see `device_for`).
    pub async fn create(weights: Vec<u8>, weights_name: String, preference: JsValue, adapter: JsValue) -> Result<ImageEngine, JsValue> {
        let weights = EfficientNetWeights::from_bytes(&weights_name, &weights).map_err(js_err)?;
        let (device, backend) = device_for(preference, adapter).await?;
        Ok(ImageEngine { tuner: Rc::new(RefCell::new(ImageFineTuner::new(weights, device))), busy: Rc::default(), backend })
    }

    /// `{kind: "webgpu" | "cpu", reason}`.
    pub fn backend(&self) -> Result<JsValue, JsValue> {
        to_js(&self.backend)
    }

    /// Starts a new example set: class names and the unfreeze depth (`"head"` or a block count).
    pub fn reset(&self, classes: Vec<String>, unfreeze: JsValue) -> Result<(), JsValue> {
        let _busy = BusyGuard::take(&self.busy)?;
        let unfreeze: Unfreeze = serde_wasm_bindgen::from_value(unfreeze).map_err(js_err)?;
        self.tuner.borrow_mut().reset(classes, unfreeze).map_err(js_err)
    }

    /// Adds a batch of 224×224 RGBA images (`labels[i]` indexes the classes of `reset`) and
    /// caches their frozen-trunk features. `holdout`: use them only for validation.
    #[wasm_bindgen(js_name = addImages)]
    pub fn add_images(&self, rgba: Vec<u8>, labels: Vec<u32>, holdout: bool) -> Promise {
        let (tuner, busy) = (self.tuner.clone(), self.busy.clone());
        future_to_promise(async move {
            let _busy = BusyGuard::take(&busy)?;
            let labels: Vec<usize> = labels.into_iter().map(|l| l as usize).collect();
            let mut tuner = tuner.borrow_mut();
            tuner.add_images(&rgba, PixelLayout::Rgba, &labels, holdout).await.map_err(js_err)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Examples per class.
    #[wasm_bindgen(js_name = classCounts)]
    pub fn class_counts(&self) -> Vec<u32> {
        self.tuner.borrow().class_counts().into_iter().map(|c| c as u32).collect()
    }

    /// Why training cannot start, or `undefined` when it can.
    pub fn readiness(&self) -> Option<String> {
        self.tuner.borrow().readiness().err()
    }

    /// Bytes held by the feature cache.
    #[wasm_bindgen(js_name = cacheBytes)]
    pub fn cache_bytes(&self) -> f64 {
        self.tuner.borrow().cache_bytes() as f64
    }

    /// Fine-tunes; `onEvent(event)` receives progress events, `signal` cancels within one step,
    /// `betweenSteps()` (optional) is awaited after each step: a promise that stays pending pauses.
    /// Resolves to the report; the best weights are kept for `predict`.
    pub fn train(&self, options: JsValue, on_event: Function, signal: Option<AbortSignal>, between_steps: Option<Function>) -> Promise {
        let (tuner, busy) = (self.tuner.clone(), self.busy.clone());
        future_to_promise(async move {
            let _busy = BusyGuard::take(&busy)?;
            let options: TrainOptions = serde_wasm_bindgen::from_value(options).map_err(js_err)?;
            let mut hooks = JsHooks { on_event, signal, between_steps };
            let mut tuner = tuner.borrow_mut();
            let report = tuner.train(&options, &mut hooks).await.map_err(js_err)?;
            to_js(&report)
        })
    }

    /// Top-`k` `{label, score}` lists for `count` 224×224 RGBA images.
    pub fn predict(&self, rgba: Vec<u8>, count: usize, top_k: usize) -> Promise {
        let (tuner, busy) = (self.tuner.clone(), self.busy.clone());
        future_to_promise(async move {
            let _busy = BusyGuard::take(&busy)?;
            let tuner = tuner.borrow();
            let results = tuner.predict(&rgba, PixelLayout::Rgba, count, top_k).await.map_err(js_err)?;
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
