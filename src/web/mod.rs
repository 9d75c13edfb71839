//! The JavaScript API (the only module that touches wasm-bindgen). It runs inside the engine's Web
//! Worker, `npm/src/worker.ts` (shared by the page and the npm package; `text-jobs.ts` and
//! `engine-module.ts` beside it), its one caller. `Engine` (`engine.rs`) is every task's
//! fine-tuner behind one surface; `TextTable` (`text_table.rs`) streams a CSV/TSV/JSONL file in;
//! with the `threads` feature, `thread_pool.rs` runs rayon's pool on the worker's training threads.
//!
//! Every method that reads GPU data is async (a synchronous read panics in wasm). Long calls hold
//! the engine through an `Rc<RefCell<..>>` and refuse overlapping calls with a "busy" error.

mod engine;
mod shared;
mod text_table;
#[cfg(feature = "threads")]
mod thread_pool;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Function, Promise};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use crate::backend::{AdapterInfo, BackendChoice, BackendKind, BackendPreference, choose_backend};
use crate::train::{TrainEvent, TrainHooks};

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

/// The segments (at most 30 s, cut at cue boundaries) of a recording's WebVTT or SRT subtitles:
/// `{segments: [{start, end, text}], skipped: [{line, reason}]}`; rejects a file with no cues.
#[wasm_bindgen(js_name = subtitleSegments)]
pub fn subtitle_segments(text: &str) -> Result<JsValue, JsValue> {
    let subs = crate::data::subtitles::parse(text).map_err(js_err)?;
    to_js(&serde_json::json!({ "segments": crate::data::subtitles::segments(&subs.cues), "skipped": subs.skipped }))
}

/// Panics on purpose: lets the browser tests check that a panic is reported and survived.
#[wasm_bindgen(js_name = testPanic)]
pub fn test_panic() {
    panic!("test panic requested by the page");
}

/// Traps on purpose without a panic, as running out of memory or a stack overflow do: on the
/// calling thread, or (`on_training_thread`, threaded build) on one of the training threads.
#[wasm_bindgen(js_name = testTrap)]
pub fn test_trap(on_training_thread: bool) {
    #[cfg(feature = "threads")]
    if on_training_thread {
        rayon::spawn(|| core::arch::wasm32::unreachable());
        return;
    }
    let _ = on_training_thread;
    core::arch::wasm32::unreachable()
}

pub(crate) fn js_err(e: impl std::fmt::Display) -> JsValue {
    JsError::new(&e.to_string()).into()
}

pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
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

pub(crate) struct JsHooks {
    pub on_event: Function,
    pub signal: Option<AbortSignal>,
    /// Awaited between steps instead of a plain tick when given; the worker uses it to pause.
    pub between_steps: Option<Function>,
    /// Given: the run keeps a checkpoint after each epoch, `onCheckpoint(epoch, bytes)`.
    pub on_checkpoint: Option<Function>,
}

impl TrainHooks for JsHooks {
    fn on_event(&mut self, event: &TrainEvent) {
        if let Ok(value) = to_js(event) {
            let _ = self.on_event.call1(&JsValue::NULL, &value);
        }
    }
    fn keeps_checkpoints(&self) -> bool {
        self.on_checkpoint.is_some()
    }
    fn on_checkpoint(&mut self, epoch: usize, bytes: Vec<u8>) {
        if let Some(f) = &self.on_checkpoint {
            let _ = f.call2(&JsValue::NULL, &(epoch as u32).into(), &js_sys::Uint8Array::from(bytes.as_slice()));
        }
    }
    fn cancelled(&self) -> bool {
        self.signal.as_ref().is_some_and(|s| s.aborted())
    }
    async fn yield_now(&mut self) {
        let waited = self.between_steps.as_ref().and_then(|f| f.call0(&JsValue::NULL).ok());
        match waited.and_then(|v| v.dyn_into::<Promise>().ok()) {
            Some(promise) => {
                let _ = JsFuture::from(promise).await;
            }
            None => next_tick().await,
        }
    }
}

/// Marks the engine busy for the lifetime of the guard.
pub(crate) struct BusyGuard(Rc<Cell<bool>>);

impl BusyGuard {
    pub(crate) fn take(flag: &Rc<Cell<bool>>) -> Result<Self, JsValue> {
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

/// Picks the backend from the page's preference and the adapter the worker saw, and makes its
/// device. `preference`: `"auto" | "webgpu" | "cpu"`; `adapter`: `{available, isFallback,
/// description}` from `navigator.gpu.requestAdapter()`.
pub(crate) async fn device_for(preference: JsValue, adapter: JsValue) -> Result<(Device, BackendChoice), JsValue> {
    let preference: BackendPreference = serde_wasm_bindgen::from_value(preference).map_err(js_err)?;
    let adapter: AdapterInfo = serde_wasm_bindgen::from_value(adapter).map_err(js_err)?;
    let backend = choose_backend(preference, &adapter).map_err(js_err)?;
    let device = match backend.kind {
        BackendKind::Cpu => Device::flex(),
        BackendKind::Webgpu => wgpu_device().await?,
    };
    Ok((device, backend))
}

/// The WebGPU device, initialised once per worker (a second `init_async` errors).
#[cfg(feature = "wgpu")]
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

/// This module was built without WebGPU (the small CPU-only engine): the worker loads the WebGPU
/// module when it wants WebGPU, so reaching this is a bug.
#[cfg(not(feature = "wgpu"))]
async fn wgpu_device() -> Result<Device, JsValue> {
    Err(js_err("this engine module was built without WebGPU: load the WebGPU module for that backend"))
}
