// The engine's Web Worker, started by the npm package's `createFineTuner` (the demo page uses the
// package): owns the wasm module and one task's engine, and routes each message to that task's
// jobs (jobs.ts: what every task does; image-jobs.ts, text-jobs.ts, audio-jobs.ts, speech-jobs.ts: how each
// task's examples and inputs reach the engine). Preparation (feature caching) and training run here; the page never
// blocks on any of it.

import { cpuThreads, engineModule, joinThreadPool, loadEngine, wantsWebgpu } from './engine-module';
import { AudioJobs } from './audio-jobs';
import { ImageJobs } from './image-jobs';
import type { Jobs } from './jobs';
import { type Loaded, loadFile } from './model-cache';
import type { CheckpointSummary, Defaults, FromWorker, ModelInfo, Request, SubtitleSegments, ToWorker } from './protocol';
import { PauseGate } from './pause-gate';
import { SpeechJobs } from './speech-jobs';
import { TextJobs } from './text-jobs';
import type { PoolInit } from './thread-pool';

const post = (message: FromWorker) => self.postMessage(message);

let jobs: Jobs | null = null;
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
async function fetchBytes(url: string, file: 'weights' | 'tokenizer' | 'config', cache: boolean): Promise<Uint8Array> {
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
    crashChannel: msg.crashChannel,
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
  const tokenizer = msg.task === 'text' || msg.task === 'speech' ? await fetchBytes(msg.tokenizerUrl ?? '', 'tokenizer', cache) : undefined;
  const config = msg.task === 'speech' ? new TextDecoder().decode(await fetchBytes(msg.configUrl ?? '', 'config', cache)) : undefined;
  const engine = await module.Engine.create(msg.task, weights, name, tokenizer, msg.backend, adapter, config);
  const ctx = {
    task: msg.task, engine, post, memoryBytes: () => memory?.buffer.byteLength ?? 0, gate,
    checkpointSummary: (bytes: Uint8Array) => module.Engine.checkpointSummary(bytes) as CheckpointSummary,
  };
  jobs = msg.task === 'text' ? new TextJobs(ctx) : msg.task === 'speech' ? new SpeechJobs(ctx) : msg.task === 'audio' ? new AudioJobs(ctx) : new ImageJobs(ctx);
  const backend = { ...engine.backend(), threads };
  post({
    type: 'ready', task: msg.task, backend, adapter: adapter.available ? adapter.description : 'none', loadMs: performance.now() - started,
    defaults: engine.defaults() as Defaults,
  });
}

function requireJobs(): Jobs {
  if (!jobs) throw new Error('The engine is still loading.');
  return jobs;
}

function requireSpeech(): SpeechJobs {
  const j = requireJobs();
  if (!(j instanceof SpeechJobs)) throw new Error('Transcription is the speech task\'s.');
  return j;
}

function requireText(): TextJobs {
  const j = requireJobs();
  if (!(j instanceof TextJobs)) throw new Error('Table files are for the text task.');
  return j;
}

/** Why the engine can no longer be used, once it trapped. */
let crashed: string | null = null;

/** Whether `err` is wasm stopping mid-call (a trap: out of memory, a stack overflow, unreachable
 * code — which is where a Rust panic ends) rather than an error the engine returned. */
function trapped(err: unknown): boolean {
  return err instanceof WebAssembly.RuntimeError || (err instanceof RangeError && /call stack/i.test(err.message));
}

self.onmessage = async (event: MessageEvent<Request | PoolInit>) => {
  // This script also runs the threaded engine's training threads (thread-pool.ts).
  if (event.data.type === 'pool-init') { joinThreadPool(event.data, (reply) => self.postMessage(reply)); return; }
  const msg = event.data;
  let error: string | null = null;
  try {
    if (crashed) throw new Error(crashed);
    switch (msg.type) {
      case 'init':
        await initEngine(msg);
        break;
      case 'examples':
        requireJobs().setExamples(msg.examples, msg.classes);
        post({ type: 'examples', summary: requireJobs().summary() });
        break;
      case 'load-table':
        await requireText().loadTable(msg.file, msg.name);
        break;
      case 'choose-columns':
        requireText().chooseColumns(msg.text, msg.label, msg.limitPerClass);
        break;
      case 'token-stats':
        requireText().tokenStats(msg.maxLength);
        break;
      case 'prepare':
        abort = new AbortController();
        await requireJobs().prepare(msg.preparation, abort.signal);
        break;
      case 'train':
        abort = new AbortController();
        await requireJobs().train(msg.preparation, msg.options, abort.signal, msg.keep, msg.resume);
        break;
      case 'checkpoint-status':
        post({ type: 'checkpoint-status', status: await requireJobs().checkpointStatus() });
        break;
      case 'probe-gradients':
        abort = new AbortController();
        post({ type: 'gradients', steps: await requireJobs().probeGradients(msg.preparation, msg.steps, msg.update, msg.options, abort.signal) });
        break;
      case 'discard-checkpoint':
        await requireJobs().discardCheckpoint();
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
        post({ type: 'prediction', results: await requireJobs().predict(msg.inputs, msg.topK) });
        break;
      case 'evaluate':
        post({ type: 'evaluation', evaluation: await requireJobs().evaluate(msg.inputs, msg.labels) });
        break;
      case 'transcribe':
        post({ type: 'transcript', text: await requireSpeech().transcribe(msg.audio, msg.fineTuned) });
        break;
      case 'subtitles':
        post({ type: 'subtitles', ...engineModule().subtitleSegments(msg.text) as SubtitleSegments });
        break;
      case 'export': {
        const bytes = await requireJobs().engine.exportModel() as Uint8Array;
        self.postMessage({ type: 'exported', bytes } satisfies FromWorker, [bytes.buffer]);
        break;
      }
      case 'import': {
        const bytes = new Uint8Array(await msg.file.arrayBuffer());
        post({ type: 'imported', info: requireJobs().engine.importModel(bytes) as ModelInfo });
        break;
      }
      case 'test-panic':
        engineModule().testPanic();
        break;
      case 'test-trap':
        engineModule().testTrap(msg.onTrainingThread);
        break;
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    if (trapped(err)) {
      // Not an error the engine returned: wasm stopped mid-call (a panic ends so too). Its state
      // is undefined (a call it was in never finished): nothing more can run on it.
      crashed = `The engine crashed (${error})`;
      post({ type: 'error', message: crashed, fatal: true });
    }
    // A numbered request hears of its failure in `settled`; others hear of it here.
    if (msg.id === undefined) post({ type: 'error', message: error, fatal: false });
  } finally {
    if (msg.id !== undefined) post({ type: 'settled', id: msg.id, error });
  }
};
