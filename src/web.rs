//! The JavaScript API (the only module that touches wasm-bindgen). It runs inside the page's Web
//! Worker; `www/src/worker.ts` is its one caller.
//!
//! Every method that reads GPU data is async (a synchronous read panics in wasm). Long calls hold
//! the engine through an `Rc<RefCell<..>>` and refuse overlapping calls with a "busy" error.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Function, Promise};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};
use web_sys::AbortSignal;

use crate::backend::{AdapterInfo, BackendChoice, BackendKind, BackendPreference, choose_backend};
use crate::data::PixelLayout;
use crate::task::ImageFineTuner;
use crate::model::{EfficientNetWeights, Unfreeze};
use crate::train::{TrainEvent, TrainHooks, TrainOptions};

unsafe extern "C" {
    /// The linker's constructor runner (see `start`).
    fn __wasm_call_ctors();
}

thread_local! {
    static WGPU_DEVICE: RefCell<Option<Device>> = const { RefCell::new(None) };
    static PANIC_HANDLER: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Runs once when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    // cubecl registers kernels with `inventory`, whose constructors make wasm-ld wrap every export
    // so that each call re-runs them (10× slower steps). Running them once here removes the wraps.
    unsafe { __wasm_call_ctors() };
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let message = format!("internal error (Rust panic): {info}");
        PANIC_HANDLER.with(|h| {
            if let Some(f) = h.borrow().as_ref() {
                let _ = f.call1(&JsValue::NULL, &JsValue::from_str(&message));
            }
        });
    }));
}

/// Registers `handler(message)`, called when Rust panics (the engine is unusable afterwards: the
/// worker reports it and the page starts a fresh worker).
#[wasm_bindgen(js_name = setPanicHandler)]
pub fn set_panic_handler(handler: Function) {
    PANIC_HANDLER.with(|h| *h.borrow_mut() = Some(handler));
}

/// Panics on purpose: lets the browser tests check that a panic is reported and survived.
#[wasm_bindgen(js_name = testPanic)]
pub fn test_panic() {
    panic!("test panic requested by the page");
}

fn js_err(e: impl std::fmt::Display) -> JsValue {
    JsError::new(&e.to_string()).into()
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(js_err)
}

/// Resolves on the next macrotask: lets the worker handle messages (cancel) between steps.
async fn next_tick() {
    let promise = Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        if let Ok(set_timeout) = js_sys::Reflect::get(&global, &"setTimeout".into()) {
            let _ = set_timeout.unchecked_into::<Function>().call2(&global, &resolve, &0.into());
        }
    });
    let _ = JsFuture::from(promise).await;
}

struct JsHooks {
    on_event: Function,
    signal: Option<AbortSignal>,
}

impl TrainHooks for JsHooks {
    fn on_event(&mut self, event: &TrainEvent) {
        if let Ok(value) = to_js(event) {
            let _ = self.on_event.call1(&JsValue::NULL, &value);
        }
    }
    fn cancelled(&self) -> bool {
        self.signal.as_ref().is_some_and(|s| s.aborted())
    }
    async fn yield_now(&mut self) {
        next_tick().await
    }
}

/// The fine-tuning engine as JavaScript sees it.
#[wasm_bindgen]
pub struct Engine {
    tuner: Rc<RefCell<ImageFineTuner>>,
    busy: Rc<Cell<bool>>,
    backend: BackendChoice,
}

/// Marks the engine busy for the lifetime of the guard.
struct BusyGuard(Rc<Cell<bool>>);

impl BusyGuard {
    fn take(flag: &Rc<Cell<bool>>) -> Result<Self, JsValue> {
        if flag.replace(true) {
            return Err(js_err("the engine is busy (training or preparing examples): wait or cancel first"));
        }
        Ok(Self(flag.clone()))
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

#[wasm_bindgen]
impl Engine {
    /// Loads the pretrained weights and picks the backend.
    ///
    /// `preference`: `"auto" | "webgpu" | "cpu"`; `adapter`: `{available, isFallback, description}`
    /// as the worker read it from `navigator.gpu.requestAdapter()`.
    pub async fn create(weights: Vec<u8>, weights_name: String, preference: JsValue, adapter: JsValue) -> Result<Engine, JsValue> {
        let preference: BackendPreference = serde_wasm_bindgen::from_value(preference).map_err(js_err)?;
        let adapter: AdapterInfo = serde_wasm_bindgen::from_value(adapter).map_err(js_err)?;
        let backend = choose_backend(preference, &adapter).map_err(js_err)?;
        let weights = EfficientNetWeights::from_bytes(&weights_name, &weights).map_err(js_err)?;
        let device = match backend.kind {
            BackendKind::Cpu => Device::flex(),
            BackendKind::Webgpu => wgpu_device().await?,
        };
        Ok(Engine { tuner: Rc::new(RefCell::new(ImageFineTuner::new(weights, device))), busy: Rc::default(), backend })
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

    /// Fine-tunes; `onEvent(event)` receives progress events, `signal` cancels within one step.
    /// Resolves to the report; the best weights are kept for `predict`.
    pub fn train(&self, options: JsValue, on_event: Function, signal: Option<AbortSignal>) -> Promise {
        let (tuner, busy) = (self.tuner.clone(), self.busy.clone());
        future_to_promise(async move {
            let _busy = BusyGuard::take(&busy)?;
            let options: TrainOptions = serde_wasm_bindgen::from_value(options).map_err(js_err)?;
            let mut hooks = JsHooks { on_event, signal };
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
}

/// The WebGPU device, initialised once per worker (a second `init_async` errors).
async fn wgpu_device() -> Result<Device, JsValue> {
    if let Some(device) = WGPU_DEVICE.with(|d| d.borrow().clone()) {
        return Ok(device);
    }
    let device = Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| js_err(format!("WebGPU initialisation failed: {e:?}")))?;
    WGPU_DEVICE.with(|d| *d.borrow_mut() = Some(device.clone()));
    Ok(device)
}
