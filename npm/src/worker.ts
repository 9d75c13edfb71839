// The engine's Web Worker, used by the demo page and by the npm package's `createFineTuner`: owns
// the wasm module and one task's engine (images or text), decodes images, runs preparation
// (feature caching) and training, and reports progress. The page never blocks on any of it. The
// text task's jobs live in text-jobs.ts.

import type { ImageEngine } from '../pkg/burn_finetune.js';
import { cpuThreads, engineModule, joinThreadPool, loadEngine, wantsWebgpu } from './engine-module';
import { decodeImage, SIZE, type SentImage } from './images';
import { type Loaded, loadFile } from './model-cache';
import type { Example, FromWorker, ModelInfo, Request, Skipped, ToWorker, TrainOptions, Unfreeze } from './protocol';
import { PauseGate } from './pause-gate';
import { TextJobs } from './text-jobs';
import type { PoolInit } from './thread-pool';

const BATCH = 32;
const post = (message: FromWorker) => self.postMessage(message);

let engine: ImageEngine | null = null;
let text: TextJobs | null = null;
/** What the cache holds now, so a training run can tell whether to prepare again. */
let prepared: { examples: Example[]; classes: string[]; unfreeze: Unfreeze } | null = null;
let abort: AbortController | null = null;
const gate = new PauseGate();
/** The wasm linear memory: it only grows, so its size is the engine's peak memory. */
let memory: WebAssembly.Memory | null = null;

interface AdapterSummary { available: boolean; isFallback: boolean; description: string }

/** The parts of WebGPU's adapter this page reads (typed here to avoid a types dependency). */
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike { requestAdapter(): Promise<GpuAdapterLike | null> }

async function describeAdapter(): Promise<AdapterSummary> {
  const none = { available: false, isFallback: false, description: '' };
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) return none;
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return none;
  const info = adapter.info;
  const description = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'WebGPU adapter';
  return { available: true, isFallback: Boolean(info?.isFallbackAdapter ?? adapter.isFallbackAdapter), description };
}

/** The size a response announces, or null. */
function contentLength(response: Response): number | null {
  const length = Number(response.headers.get('content-length'));
  return Number.isFinite(length) && length > 0 ? length : null;
}

/** Posts what could not be kept in the browser's cache (e.g. a full quota), once it is known. */
function reportKeeping(file: Loaded) {
  void file.kept.then((problem) => { if (problem) post({ type: 'progress', event: { type: 'warning', message: problem } }); });
}

/** Loads a file the engine needs (through the browser's cache unless `cache` is off), reporting
 * `loading` progress every 4 MB. */
async function fetchBytes(url: string, file: 'weights' | 'tokenizer', cache: boolean): Promise<Uint8Array> {
  const loaded = await loadFile(url, `${file} file`, cache);
  reportKeeping(loaded);
  const { response, fromCache } = loaded;
  const total = contentLength(response);
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  let reported = 0;
  post({ type: 'loading', file, loaded: received, total, fromCache });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    if (received - reported >= 4 << 20) {
      reported = received;
      post({ type: 'loading', file, loaded: received, total, fromCache });
    }
  }
  post({ type: 'loading', file, loaded: received, total, fromCache });
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const chunk of chunks) { bytes.set(chunk, at); at += chunk.length; }
  return bytes;
}

async function initEngine(msg: Extract<ToWorker, { type: 'init' }>) {
  const started = performance.now();
  const adapter = await describeAdapter();
  const wanted = cpuThreads(msg.threads, self.crossOriginIsolated, navigator.hardwareConcurrency);
  const cache = msg.cache !== false;
  const { module, memory: wasmMemory, threads } = await loadEngine(wantsWebgpu(msg.backend, adapter), wanted, {
    assetBase: msg.assetBase,
    cache,
    onLoaded: (file) => {
      reportKeeping(file);
      const size = contentLength(file.response);
      post({ type: 'loading', file: 'engine', loaded: size ?? 0, total: size, fromCache: file.fromCache });
    },
  });
  memory = wasmMemory;
  module.setPanicHandler((message: string) => post({ type: 'error', message, fatal: true }));
  const name = msg.weightsUrl.split('/').pop() ?? msg.weightsUrl;
  const weights = await fetchBytes(msg.weightsUrl, 'weights', cache);
  let backend;
  if (msg.task === 'text') {
    const tokenizer = await fetchBytes(msg.tokenizerUrl, 'tokenizer', cache);
    text = await TextJobs.create(weights, name, tokenizer, msg.backend, adapter, post, () => memory?.buffer.byteLength ?? 0, gate);
    backend = text.engine.backend();
  } else {
    engine = await module.ImageEngine.create(weights, name, msg.backend, adapter);
    backend = engine.backend();
  }
  backend = { ...backend, threads };
  post({ type: 'ready', task: msg.task, backend, adapter: adapter.available ? adapter.description : 'none', loadMs: performance.now() - started });
}

/** Decodes the examples in batches and caches their frozen-trunk features. */
async function prepare(examples: Example[], classes: string[], unfreeze: Unfreeze, signal: AbortSignal) {
  const e = requireEngine();
  const started = performance.now();
  e.reset(classes, unfreeze);
  prepared = null;
  const skipped: Skipped[] = [];
  let done = 0;
  // Training examples first, then fixed validation ones: each batch shares one `holdout` flag.
  const batches: Example[][] = [];
  for (const group of [examples.filter((ex) => !ex.holdout), examples.filter((ex) => ex.holdout)]) {
    for (let i = 0; i < group.length; i += BATCH) batches.push(group.slice(i, i + BATCH));
  }
  for (const batch of batches) {
    await gate.between();
    if (signal.aborted) break;
    const pixels: Uint8ClampedArray[] = [];
    const labels: number[] = [];
    for (const ex of batch) {
      try {
        pixels.push(await decodeImage(ex.image));
        labels.push(classes.indexOf(ex.label));
      } catch (err) {
        skipped.push({ name: ex.name, reason: (err as Error).message });
      }
    }
    if (labels.length > 0) {
      const joined = new Uint8Array(labels.length * SIZE * SIZE * 4);
      pixels.forEach((p, k) => joined.set(p, k * SIZE * SIZE * 4));
      await e.addImages(joined, new Uint32Array(labels), Boolean(batch[0].holdout));
    }
    done += batch.length;
    const seconds = (performance.now() - started) / 1000;
    post({ type: 'progress', event: { type: 'caching', done, total: examples.length, examplesPerSec: done / Math.max(seconds, 1e-3) } });
  }
  if (!signal.aborted) prepared = { examples, classes, unfreeze };
  post({
    type: 'prepared',
    cancelled: signal.aborted,
    counts: Array.from(e.classCounts()),
    skipped,
    readiness: signal.aborted ? 'Preparation was cancelled: prepare the examples again.' : (e.readiness() ?? null),
    cacheBytes: e.cacheBytes(),
    ms: performance.now() - started,
    wasmMemoryBytes: memory?.buffer.byteLength ?? 0,
  });
}

async function train(options: TrainOptions, signal: AbortSignal) {
  const e = requireEngine();
  if (!prepared) throw new Error('No examples prepared: add data first.');
  const unfreeze = options.unfreeze ?? 2;
  if (prepared.unfreeze !== unfreeze) {
    // The cache holds features for another cut: compute them again for this one.
    await prepare(prepared.examples, prepared.classes, unfreeze, signal);
    if (signal.aborted) throw new Error('Cancelled while the examples were prepared for the new layer choice; nothing was trained.');
    if (!prepared) return;
  }
  const report = await e.train({ ...options, unfreeze }, (event: unknown) => post({ type: 'progress', event: event as never }), signal, gate.between);
  post({ type: 'trained', report, wasmMemoryBytes: memory?.buffer.byteLength ?? 0 });
}

/** Top-k predictions for each image, in one engine call. */
async function predict(inputs: SentImage[], topK: number) {
  const e = requireEngine();
  const joined = new Uint8Array(inputs.length * SIZE * SIZE * 4);
  for (const [k, input] of inputs.entries()) {
    try {
      joined.set(await decodeImage(input), k * SIZE * SIZE * 4);
    } catch (err) {
      throw new Error(inputs.length > 1 ? `Image ${k + 1}: ${(err as Error).message}` : `This image is ${(err as Error).message}.`);
    }
  }
  post({ type: 'prediction', results: await e.predict(joined, inputs.length, topK) });
}

function requireEngine(): ImageEngine {
  if (!engine) throw new Error('The engine is still loading.');
  return engine;
}

function requireText(): TextJobs {
  if (!text) throw new Error('The text engine is still loading.');
  return text;
}

self.onmessage = async (event: MessageEvent<Request | PoolInit>) => {
  // This script also runs the threaded engine's training threads (thread-pool.ts).
  if (event.data.type === 'pool-init') { joinThreadPool(event.data, (reply) => self.postMessage(reply)); return; }
  const msg = event.data;
  let error: string | null = null;
  try {
    switch (msg.type) {
      case 'init':
        await initEngine(msg);
        break;
      case 'load-table':
        await requireText().loadTable(msg.file, msg.name);
        break;
      case 'choose-columns':
        requireText().chooseColumns(msg.text, msg.label, msg.limitPerClass);
        break;
      case 'train-text':
        abort = new AbortController();
        await requireText().train(msg.options, msg.maxLength, abort.signal);
        break;
      case 'text-examples':
        requireText().useExamples(msg.texts, msg.labels);
        break;
      case 'predict-text':
        await requireText().predict(msg.texts, msg.topK);
        break;
      case 'token-stats':
        requireText().tokenStats(msg.maxLength);
        break;
      case 'prepare':
        abort = new AbortController();
        await prepare(msg.examples, msg.classes, msg.unfreeze, abort.signal);
        break;
      case 'train':
        abort = new AbortController();
        await train(msg.options, abort.signal);
        break;
      case 'cancel':
        abort?.abort();
        gate.resume();
        break;
      case 'pause':
        gate.pause();
        post({ type: 'paused', paused: true });
        break;
      case 'resume':
        gate.resume();
        post({ type: 'paused', paused: false });
        break;
      case 'predict':
        await predict(msg.inputs, msg.topK);
        break;
      case 'export': {
        const bytes = (text ? await text.engine.exportModel() : await requireEngine().exportModel()) as Uint8Array;
        self.postMessage({ type: 'exported', bytes, purpose: msg.purpose } satisfies FromWorker, [bytes.buffer]);
        break;
      }
      case 'import': {
        const bytes = new Uint8Array(await msg.file.arrayBuffer());
        post({ type: 'imported', info: (text ? text.engine.importModel(bytes) : requireEngine().importModel(bytes)) as ModelInfo });
        break;
      }
      case 'test-panic':
        engineModule().testPanic();
        break;
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    // A numbered request hears of its failure in `settled`; the page hears of it here.
    if (msg.id === undefined) post({ type: 'error', message: error, fatal: false });
  } finally {
    if (msg.id !== undefined) post({ type: 'settled', id: msg.id, error });
  }
};
