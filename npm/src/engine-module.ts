// Which engine module the worker runs. Three builds of the same Rust crate export the same API:
// - CPU, one thread (no WebGPU code: ~1.7 MB gzipped): the default off WebGPU;
// - CPU, threaded (atomics + shared memory): on pages that are cross-origin isolated (COOP/COEP),
//   so SharedArrayBuffer exists; its training kernels run on a pool of workers (thread-pool.ts);
// - with WebGPU (~5.4 MB gzipped): fetched only when WebGPU will be used, asked for or `auto`
//   with a hardware adapter (software adapters count as none, as in src/backend.rs).

import initFull, * as full from '../pkg/burn_finetune.js';
import initCpu, * as cpu from '../pkg-cpu/burn_finetune_cpu.js';
import initThreaded, * as threaded from '../pkg-cpu-mt/burn_finetune_cpu_mt.js';
import { type Loaded, loadFile } from './model-cache';
import type { BackendPreference } from './protocol';
import { type PoolInit, type PoolReply, startThreadPool, stopThreadPool } from './thread-pool';

export type EngineModule = typeof full;

let chosen: EngineModule | null = null;

/** Whether this preference, with this adapter, ends on WebGPU. */
export function wantsWebgpu(preference: BackendPreference, adapter: { available: boolean; isFallback: boolean }): boolean {
  return preference === 'webgpu' || (preference === 'auto' && adapter.available && !adapter.isFallback);
}

/** Training threads for the CPU engine: `requested` (0 or absent: one per core), 1 where the page
 * is not cross-origin isolated (no shared memory there). */
export function cpuThreads(requested: number | undefined, isolated: boolean, cores: number): number {
  if (!isolated) return 1;
  return Math.max(1, Math.min(requested || cores, 64));
}

/** Where the engine's .wasm files come from: beside worker.js (where bundlers put them, found
 * through the literal `new URL('./x.wasm', import.meta.url)` they look for), or under `assetBase`. */
export interface EngineFiles {
  assetBase?: string;
  /** Keep them across visits (model-cache.ts). */
  cache: boolean;
  /** Called with the module's file once loaded. */
  onLoaded: (file: Loaded) => void;
  /** The BroadcastChannel on which a training thread that traps says so. */
  crashChannel?: string;
}

async function engineFile(name: string, beside: URL, files: EngineFiles): Promise<Response> {
  const url = files.assetBase ? new URL(name, files.assetBase) : beside;
  const loaded = await loadFile(url.href, `engine module ${name}`, files.cache);
  files.onLoaded(loaded);
  return loaded.response;
}

/** Instantiates the module for `webgpu` (or the CPU one with `threads`; the WebGPU module runs
 * one) and returns it with its linear memory and the number of training threads it runs. */
export async function loadEngine(webgpu: boolean, threads: number, files: EngineFiles): Promise<{ module: EngineModule; memory: WebAssembly.Memory; threads: number }> {
  if (webgpu) {
    const file = await engineFile('burn_finetune_bg.wasm', new URL('./burn_finetune_bg.wasm', import.meta.url), files);
    const wasm = await initFull({ module_or_path: file });
    chosen = full;
    return { module: full, memory: wasm.memory, threads: 1 };
  }
  if (threads > 1) {
    try {
      const file = await engineFile('burn_finetune_cpu_mt_bg.wasm', new URL('./burn_finetune_cpu_mt_bg.wasm', import.meta.url), files);
      const module = await WebAssembly.compile(await file.arrayBuffer());
      const wasm = await initThreaded({ module_or_path: module });
      await startThreadPool(module, wasm.memory, threads, (n) => threaded.buildThreadPool(n), files.crashChannel);
      chosen = threaded as unknown as EngineModule;
      return { module: chosen, memory: wasm.memory, threads };
    } catch (err) {
      // E.g. a browser that refuses a shared memory this large, or cannot start more workers:
      // training still works, on one thread (the page shows the thread count).
      stopThreadPool();
      console.warn(`burn-finetune: training on one thread; the threaded engine did not start: ${(err as Error).message}`);
    }
  }
  const file = await engineFile('burn_finetune_cpu_bg.wasm', new URL('./burn_finetune_cpu_bg.wasm', import.meta.url), files);
  const wasm = await initCpu({ module_or_path: file });
  chosen = cpu as unknown as EngineModule;
  return { module: chosen, memory: wasm.memory, threads: 1 };
}

/** In a training thread (a worker started by startThreadPool): instantiates the threaded module
 * on the engine's memory, answers `pool-ready` and runs a rayon thread (does not return while the
 * pool lives). */
export function joinThreadPool(init: PoolInit, reply: (message: PoolReply) => void): void {
  try {
    threaded.initSync({ module: init.module, memory: init.memory });
  } catch (err) {
    reply({ type: 'pool-error', message: (err as Error).message });
    return;
  }
  reply({ type: 'pool-ready' });
  try {
    threaded.threadPoolWorker();
  } catch (err) {
    // A trap (out of memory, stack overflow, unreachable) on this thread: the engine waits for its
    // work forever. Say so where the package hears it; it then stops the engine.
    if (init.crashChannel) new BroadcastChannel(init.crashChannel).postMessage({ message: (err as Error).message || String(err) });
    throw err;
  }
}

/** The loaded module's API. */
export function engineModule(): EngineModule {
  if (!chosen) throw new Error('The engine is still loading.');
  return chosen;
}
