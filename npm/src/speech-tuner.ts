// The speech task's fine-tuner (`createFineTuner({task: 'speech'})`): Whisper tiny.en adapted to
// the caller's recordings. Like the classifiers' (fine-tuner.ts) its methods are requests to the
// engine's worker, answered one at a time; the examples stay on the caller's thread and are
// decoded (audio.ts) and sent when they changed. Nothing leaves the browser.

import { type AudioInput, decodeAudio } from './audio';
import { deleteKept, keepModel, type KeptSummary, listKept, loadKept } from './kept-models';
import type { BackendChoice, Defaults, Example, ModelInfo, Prepared, Skipped, SpeechReport, SubtitleSegments, ToWorker } from './protocol';
import type { SpeechExample, SpeechFineTuner, SpeechPrepareSettings, SpeechTrainResult, SpeechTrainSettings } from './types';
import type { WorkerClient } from './worker-client';

const abortError = (what = 'Training') => new DOMException(`${what} was cancelled before it finished.`, 'AbortError');
const noModel = () => new Error('There is no fine-tuned model yet: train or import one first.');

export class WorkerSpeechFineTuner implements SpeechFineTuner {
  readonly task = 'speech' as const;
  backend: BackendChoice = { kind: 'cpu', reason: 'not loaded yet', threads: 1 };
  adapter = 'none';
  defaults!: Defaults;
  private examples: SpeechExample[] = [];
  /** Bumped on every change of the examples; the worker holds version `sent`. */
  private version = 0;
  private sent = -1;
  private summary: { readiness: string | null } | null = null;
  /** Decoded audio of each example (decoding is the slow part of sending). */
  private readonly decoded = new WeakMap<SpeechExample, Float32Array>();
  private trained = false;
  /** Why a clip (by name) could not be decoded; the engine sees it as empty. */
  private readonly failures = new Map<string, string>();

  constructor(private readonly client: WorkerClient) {}

  async start(init: ToWorker) {
    const ready = await this.client.ask(init, 'ready');
    this.backend = ready.backend;
    this.adapter = ready.adapter;
    this.defaults = ready.defaults;
  }

  addExamples(examples: readonly SpeechExample[]): number {
    if (!Array.isArray(examples)) throw new TypeError('addExamples takes an array of examples');
    examples.forEach((ex, i) => {
      const where = `example ${i + 1}`;
      if (typeof ex !== 'object' || ex === null) throw new TypeError(`${where} is not an object`);
      if (typeof ex.text !== 'string') throw new TypeError(`${where} has no text (its transcript, a string)`);
      if (ex.audio === undefined || ex.audio === null) throw new TypeError(`${where} has no audio`);
    });
    this.examples.push(...examples);
    this.version += 1;
    return this.examples.length;
  }

  async addRecording(recording: AudioInput, subtitles: string | Blob, options: { validation?: boolean; name?: string } = {}) {
    const { examples, skipped } = await this.cutRecording(recording, subtitles, options);
    this.addExamples(examples);
    return { added: examples.length, skipped };
  }

  async cutRecording(recording: AudioInput, subtitles: string | Blob, options: { validation?: boolean; name?: string } = {}) {
    const text = typeof subtitles === 'string' ? subtitles : await subtitles.text();
    const name = options.name ?? (recording instanceof File ? recording.name : 'recording');
    const samples = await decodeAudio(recording).catch((err: Error) => { throw new Error(`${name}: ${err.message}`); });
    const cut = await this.client.serial(async () => {
      const { type: _, ...segments } = await this.client.ask({ type: 'subtitles', text }, 'subtitles');
      return segments as SubtitleSegments;
    });
    const duration = samples.length / 16_000;
    const skipped = [...cut.skipped];
    const added: SpeechExample[] = [];
    for (const seg of cut.segments) {
      if (seg.start >= duration) { skipped.push({ line: 0, reason: `the cue at ${seg.start.toFixed(2)} s starts after the recording ends (${duration.toFixed(1)} s)` }); continue; }
      const audio = samples.slice(Math.floor(seg.start * 16_000), Math.min(samples.length, Math.floor(seg.end * 16_000)));
      added.push({ audio, text: seg.text, name: `${name} ${seg.start.toFixed(2)}–${seg.end.toFixed(2)} s`, ...(options.validation ? { validation: true } : {}) });
    }
    return { examples: added, skipped };
  }

  countExamples(): number {
    return this.examples.length;
  }

  removeExamples(remove: (example: SpeechExample, index: number) => boolean): number {
    const before = this.examples.length;
    this.examples = this.examples.filter((ex, i) => !remove(ex, i));
    if (this.examples.length !== before) this.version += 1;
    return before - this.examples.length;
  }

  clearExamples() {
    this.examples = [];
    this.version += 1;
  }

  readiness(): Promise<string | null> {
    return this.client.serial(async () => (await this.sync()).readiness);
  }

  prepare(settings: SpeechPrepareSettings = {}): Promise<Prepared> {
    const { signal, unfreeze } = settings;
    return this.client.serial(async () => {
      if (signal?.aborted) throw abortError('Preparation');
      const summary = await this.sync();
      if (summary.readiness) throw new Error(summary.readiness);
      const { type: _, ...result } = await this.cancellable(signal, () => this.client.ask({ type: 'prepare', preparation: { unfreeze } }, 'prepared'));
      if (result.cancelled) throw abortError('Preparation');
      return { ...result, skipped: this.explained(result.skipped) };
    });
  }

  train(settings: SpeechTrainSettings = {}): Promise<SpeechTrainResult> {
    return this.client.serial(async () => {
      const { signal, onEpochEnd, unfreeze, ...options } = settings;
      if (signal?.aborted) throw abortError();
      const summary = await this.sync();
      if (summary.readiness) throw new Error(summary.readiness);
      this.client.onEpoch = onEpochEnd ? (e) => { if (e.type === 'speechEpoch') { const { type: _, ...epoch } = e; onEpochEnd(epoch); } } : undefined;
      let report: SpeechReport | null = null;
      let wasmMemoryBytes = 0;
      let prepared: Prepared | null = null;
      try {
        await this.cancellable(signal, () => this.client.request({ type: 'train', preparation: { unfreeze }, options }, (m) => {
          if (m.type === 'prepared') prepared = m;
          if (m.type === 'trained') { report = m.report as SpeechReport; wasmMemoryBytes = m.wasmMemoryBytes; }
        }));
      } catch (err) {
        if (signal?.aborted && !report) throw abortError();
        throw err;
      } finally {
        this.client.onEpoch = undefined;
      }
      const done = report as SpeechReport | null;
      if (!done) throw signal?.aborted ? abortError() : new Error('Training did not run.');
      this.trained = true;
      return { ...done, skipped: this.explained((prepared as Prepared | null)?.skipped ?? []), wasmMemoryBytes };
    });
  }

  pause() {
    this.client.send({ type: 'pause' });
  }

  resume() {
    this.client.send({ type: 'resume' });
  }

  async transcribe(audio: AudioInput, options: { fineTuned?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<string> {
    const samples = await decodeAudio(audio).catch((err: Error) => { throw new Error(`This recording cannot be transcribed: ${err.message}.`); });
    const fineTuned = options.fineTuned ?? this.trained;
    return this.client.serial(async () => {
      if (fineTuned && !this.trained) throw noModel();
      let text: string | null = null;
      await this.client.request({ type: 'transcribe', audio: samples, fineTuned }, (m) => {
        if (m.type === 'transcribe-progress') options.onProgress?.(m.done, m.total);
        if (m.type === 'transcript') text = m.text;
      });
      if (text === null) throw new Error('The engine did not answer with a transcript.');
      return text;
    });
  }

  export(): Promise<Uint8Array> {
    return this.client.serial(async () => (await this.client.ask({ type: 'export' }, 'exported')).bytes);
  }

  importModel(model: Uint8Array | ArrayBuffer | Blob): Promise<ModelInfo> {
    return this.client.serial(async () => {
      const file = model instanceof Blob ? model : new Blob([model instanceof Uint8Array ? model.slice() : model]);
      const { info } = await this.client.ask({ type: 'import', file }, 'imported');
      this.trained = true;
      return info;
    });
  }

  keep(name: string): Promise<KeptSummary> {
    if (typeof name !== 'string' || name.trim() === '') return Promise.reject(new TypeError('keep(name) needs a name (a non-empty string).'));
    return this.client.serial(async () => {
      if (!this.trained) throw noModel();
      const { bytes } = await this.client.ask({ type: 'export' }, 'exported');
      const model = { name, task: this.task, classes: [], keptAt: new Date().toISOString(), size: bytes.length, bytes };
      await keepModel(model);
      const { bytes: _bytes, ...summary } = model;
      return summary;
    });
  }

  listKept(): Promise<KeptSummary[]> {
    return listKept(this.task);
  }

  async loadKept(name: string): Promise<ModelInfo> {
    const model = await loadKept(name);
    if (model.task !== this.task) throw new Error(`The kept model '${name}' is a ${model.task} model: load it into a fine-tuner for that task.`);
    return this.importModel(model.bytes);
  }

  deleteKept(name: string): Promise<boolean> {
    return deleteKept(name);
  }

  dispose() {
    this.client.dispose('This fine-tuner was disposed.');
  }

  /** Decodes and sends the examples when the worker does not hold this version of them. Clips
   * that cannot be decoded are sent empty: the engine lists them with the reason. */
  private async sync(): Promise<{ readiness: string | null }> {
    if (this.summary && this.sent === this.version) return this.summary;
    const version = this.version;
    const examples: Example[] = [];
    for (const [i, ex] of this.examples.entries()) {
      const name = ex.name ?? (ex.audio instanceof File ? ex.audio.name : `clip ${i + 1}`);
      let samples = this.decoded.get(ex);
      if (!samples) {
        samples = await decodeAudio(ex.audio).catch((err: Error) => { this.failures.set(name, err.message); return new Float32Array(0); });
        this.decoded.set(ex, samples);
      }
      examples.push({ input: { samples }, name, label: '', text: ex.text, ...(ex.validation ? { holdout: true } : {}) });
    }
    const answer = await this.client.ask({ type: 'examples', examples }, 'examples');
    this.sent = version;
    this.summary = answer.summary;
    return answer.summary;
  }

  /** Skipped clips with the decoder's reason where decoding failed. */
  private explained(skipped: Skipped[]): Skipped[] {
    return skipped.map((s) => (this.failures.has(s.name) ? { ...s, reason: this.failures.get(s.name)! } : s));
  }

  private async cancellable<R>(signal: AbortSignal | undefined, work: () => Promise<R>): Promise<R> {
    const cancel = () => this.client.send({ type: 'cancel' });
    signal?.addEventListener('abort', cancel);
    try {
      return await work();
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }
}
