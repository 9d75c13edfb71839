// The threaded CPU engine's training threads: Web Workers started from this same worker script
// (the bundled worker.js), each sent the compiled module and the engine's shared memory. Each
// instantiates the module on that memory, says it is ready and waits in Rust for a rayon thread
// (src/web/thread_pool.rs); when all are ready the engine builds rayon's pool, which hands one
// thread to each. Needs a cross-origin isolated page (SharedArrayBuffer).

/** What the engine's worker sends a new training thread. `crashChannel`: where the thread says
 * that it trapped (a BroadcastChannel the package listens on: the engine's worker, waiting for
 * the thread's work, would never hear it). */
export interface PoolInit { type: 'pool-init'; module: WebAssembly.Module; memory: WebAssembly.Memory; crashChannel?: string }
/** What a training thread answers once its module is instantiated. */
export type PoolReply = { type: 'pool-ready' } | { type: 'pool-error'; message: string };

/** Kept so the threads are not collected (Firefox collects unreferenced workers on shared memory). */
const threads: Worker[] = [];

/** Stops the training threads started so far (after a failed start). */
export function stopThreadPool(): void {
  threads.splice(0).forEach((worker) => worker.terminate());
}

/** Starts `n` training threads on `module` + `memory`, then `build(n)` (rayon's pool). */
export async function startThreadPool(module: WebAssembly.Module, memory: WebAssembly.Memory, n: number, build: (n: number) => void, crashChannel?: string): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => new Promise<void>((resolve, reject) => {
    const worker = new Worker(self.location.href, { type: 'module', name: `burn-finetune training thread ${i + 1}` });
    threads.push(worker);
    worker.onmessage = ({ data }: MessageEvent<PoolReply>) => {
      if (data.type === 'pool-ready') resolve();
      else reject(new Error(`Training thread ${i + 1} could not start: ${data.message}`));
    };
    worker.onerror = (e) => reject(new Error(`Training thread ${i + 1} could not start: ${e.message || 'the worker script failed'}.`));
    worker.postMessage({ type: 'pool-init', module, memory, ...(crashChannel ? { crashChannel } : {}) } satisfies PoolInit);
  })));
  build(n);
}
