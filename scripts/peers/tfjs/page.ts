// The TF.js peer's page: picks the task and backend from the URL (?task=image|text,
// ?backend=wasm|webgpu), runs it and leaves its result in `window.result` for
// scripts/peers/tfjs_peer.mjs. `?limit=N` keeps about N training and N validation examples, evenly spread (smoke tests).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { imageBenchmark } from './image';
import { textBenchmark, type TextData } from './text';

declare global { interface Window { result?: unknown } }

async function main() {
  const params = new URLSearchParams(location.search);
  const backend = params.get('backend') ?? 'wasm';
  const epochs = Number(params.get('epochs') ?? 3);
  if (backend === 'wasm') {
    setWasmPaths('/tfjs/');
    if (crossOriginIsolated) setThreadsCount(navigator.hardwareConcurrency);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} is not available here`);
  await tf.ready();
  const task = params.get('task') ?? 'image';
  const limit = Number(params.get('limit') ?? 0) || undefined;
  const data = await (await fetch(`/${task}.json`)).json();
  const every = <T>(xs: T[]) => (limit ? xs.filter((_, i) => i % Math.ceil(xs.length / limit) === 0) : xs);
  data.train = every(data.train);
  data.val = every(data.val);
  const result = task === 'image' ? await imageBenchmark(data, epochs) : await textBenchmark(data as TextData, epochs);
  const flags = backend === 'wasm' ? { simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), threads: crossOriginIsolated ? navigator.hardwareConcurrency : 1 } : {};
  // The wasm heap only grows: its size is the peak. On WebGPU: the tensors' bytes at the end.
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.byteLength;
  return { path: `tfjs ${backend}`, task, tfjs: tf.version_core, ...flags, peak_memory_mb: (heap ?? tf.memory().numBytes) / 1e6, ...result };
}

main().then((r) => { window.result = r; }, (e: Error) => { window.result = { error: e.message, stack: e.stack }; });
