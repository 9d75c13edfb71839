// Which engine module the worker runs. Two builds of the same Rust crate export the same API: the
// small CPU-only one (no WebGPU code: ~1.7 MB gzipped) and the full one with WebGPU (~5.3 MB
// gzipped). The full one is fetched only when WebGPU will be used: asked for, or `auto` with a
// hardware adapter (software adapters count as none, as in src/backend.rs).

import initFull, * as full from '../pkg/burn_finetune.js';
import initCpu, * as cpu from '../pkg-cpu/burn_finetune_cpu.js';
import type { BackendPreference } from './protocol';

export type Engine = typeof full;

let chosen: Engine | null = null;

/** Whether this preference, with this adapter, ends on WebGPU. */
export function wantsWebgpu(preference: BackendPreference, adapter: { available: boolean; isFallback: boolean }): boolean {
  return preference === 'webgpu' || (preference === 'auto' && adapter.available && !adapter.isFallback);
}

/** Instantiates the module for `webgpu` and returns it with its linear memory. */
export async function loadEngine(webgpu: boolean): Promise<{ module: Engine; memory: WebAssembly.Memory }> {
  const wasm = webgpu
    ? await initFull({ module_or_path: new URL('./burn_finetune_bg.wasm', import.meta.url) })
    : await initCpu({ module_or_path: new URL('./burn_finetune_cpu_bg.wasm', import.meta.url) });
  chosen = webgpu ? full : (cpu as unknown as Engine);
  return { module: chosen, memory: wasm.memory };
}

/** The loaded module's API. */
export function engineModule(): Engine {
  if (!chosen) throw new Error('The engine is still loading.');
  return chosen;
}
