//! Rayon's global thread pool on Web Workers (the `threads` build only).
//!
//! The engine's worker starts `n` more workers from its own script (`npm/src/thread-pool.ts`);
//! each instantiates this module on the same shared memory, calls [`thread_pool_worker`] and
//! waits there for a rayon thread to run. When all are ready the engine calls
//! [`build_thread_pool`], whose spawn handler hands one rayon thread to each waiting worker.
//! From then on burn-flex's parallel kernels (rayon, gemm) use every worker.
//!
//! The same hand-over as the `wasm-bindgen-rayon` crate, whose JavaScript helper assumes the glue
//! is not bundled (it imports the package's root from a `snippets/` path); ours is bundled into
//! one worker script, so the worker starts copies of itself instead.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{LazyLock, Mutex};

use rayon::{ThreadBuilder, ThreadPoolBuilder};
use wasm_bindgen::prelude::*;

/// Rayon threads waiting for a worker to run them.
static THREADS: LazyLock<(Mutex<Sender<ThreadBuilder>>, Mutex<Receiver<ThreadBuilder>>)> = LazyLock::new(|| {
    let (sender, receiver) = channel();
    (Mutex::new(sender), Mutex::new(receiver))
});

/// Builds rayon's global pool of `threads` threads, run by the workers waiting in
/// [`thread_pool_worker`] (start them first). Call it before anything uses rayon.
#[wasm_bindgen(js_name = buildThreadPool)]
pub fn build_thread_pool(threads: usize) -> Result<(), JsError> {
    let sender = THREADS.0.lock().map_err(|_| JsError::new("thread pool: poisoned lock"))?.clone();
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("burn-finetune pool {i}"))
        .spawn_handler(move |thread| sender.send(thread).map_err(|e| std::io::Error::other(e.to_string())))
        .build_global()
        .map_err(|e| JsError::new(&format!("could not start {threads} training threads: {e}")))
}

/// Runs in a pool worker: waits for a rayon thread and runs it (returns when the pool ends).
#[wasm_bindgen(js_name = threadPoolWorker)]
pub fn thread_pool_worker() -> Result<(), JsError> {
    let thread = THREADS.1.lock().map_err(|_| JsError::new("thread pool: poisoned lock"))?.recv();
    thread.map_err(|e| JsError::new(&format!("thread pool: {e}")))?.run();
    Ok(())
}
