// The package's API: `createFineTuner` starts the engine's worker (owned by the package), loads the
// pretrained weights from the host's URL, and returns a `FineTuner` whose methods are requests to
// that worker, answered one at a time. Nothing leaves the browser: the worker fetches only the
// weights (and the tokenizer) it is given. The public types are in types.ts.

import { type Evaluation, evaluationFromConfusion } from './evaluation';
import type { Example, FromWorker, ModelInfo, Prediction, Request, Skipped, Task, ToWorker, TrainOptions, TrainReport, Unfreeze, BackendChoice, EpochReport } from './protocol';
import { type SentImage, sendableImage } from './images';
import { deleteKept, keepModel, type KeptSummary, listKept, loadKept } from './kept-models';
import type { ExampleOf, FineTuner, FineTunerEvent, FineTunerOptions, ImageExample, InputOf, TextExample, TrainResult, TrainSettings } from './types';

/** Starts a fine-tuner: a worker with the engine and the pretrained weights loaded. */
export async function createFineTuner<T extends Task>(options: FineTunerOptions<T>): Promise<FineTuner<T>> {
  if (options.task !== 'image' && options.task !== 'text') {
    throw new TypeError(`task must be 'image' or 'text', not ${JSON.stringify(options.task)}`);
  }
  if (!options.modelUrl) throw new TypeError('modelUrl is required: the URL of the pretrained weights');
  const page = globalThis.location?.href;
  const modelUrl = new URL(options.modelUrl, page).href;
  const moved = movedWorkerUrl();
  // The literal `new Worker(new URL('./worker.js', import.meta.url))` is what bundlers (Vite,
  // webpack) look for to emit worker.js and the engine modules it loads.
  const worker = options.workerUrl || moved
    ? new Worker(new URL(options.workerUrl ?? moved!, page), { type: 'module' })
    : new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const tuner = new WorkerFineTuner<T>(options.task, worker, options.onProgress);
  const common = {
    type: 'init', backend: options.backend ?? 'auto', weightsUrl: modelUrl, cache: options.cache ?? true,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.assetBase === undefined ? {} : { assetBase: new URL(options.assetBase, page).href }),
  } as const;
  const init: ToWorker = options.task === 'image'
    ? { ...common, task: 'image' }
    : { ...common, task: 'text', tokenizerUrl: new URL(options.tokenizerUrl ?? 'tokenizer.json', options.tokenizerUrl ? page : modelUrl).href };
  try {
    await tuner.start(init);
  } catch (err) {
    tuner.dispose();
    throw err;
  }
  return tuner;
}

/** Where worker.js is when a dev server moved this module away from it, else null. Vite's dev
 * server serves dependencies pre-bundled from `node_modules/.vite/deps/`, where worker.js is not;
 * the package's own files stay under `node_modules/burn-finetune/dist/`. */
function movedWorkerUrl(): string | null {
  const here = new URL(import.meta.url);
  const deps = /\/node_modules\/\.vite\/deps[^/]*\/[^/]*$/.exec(here.pathname);
  if (!deps) return null;
  return `${here.origin}${here.pathname.slice(0, deps.index)}/node_modules/${PACKAGE}/dist/worker.js`;
}
const PACKAGE = 'burn-finetune';

const abortError = () => new DOMException('Training was cancelled before any epoch ran.', 'AbortError');

class WorkerFineTuner<T extends Task> implements FineTuner<T> {
  backend: BackendChoice = { kind: 'cpu', reason: 'not loaded yet', threads: 1 };
  adapter = 'none';
  private examples: ExampleOf<T>[] = [];
  /** The worker holds (or caches) exactly `examples`, whose class names (as the engine numbers
   * them) are `syncedClasses`. */
  private synced = false;
  private syncedClasses: string[] = [];
  /** Class names of the model the worker holds (trained or imported). */
  private modelClasses: string[] | null = null;
  private lastReport: TrainReport | null = null;
  /** Images the last preparation could not decode. */
  private skipped: Skipped[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private pending: { id: number; resolve: () => void; reject: (e: Error) => void; reply: (m: FromWorker) => void } | null = null;
  private dead: string | null = null;
  private onEpochEnd: ((epoch: EpochReport) => void) | undefined;

  constructor(readonly task: T, private readonly worker: Worker, private readonly onProgress?: (e: FineTunerEvent) => void) {
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.onMessage(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      this.fail(`The fine-tuner's worker failed: ${e.message || 'its script or the engine could not be loaded'}`);
    };
  }

  async start(init: ToWorker) {
    await this.request(init, (m) => {
      if (m.type === 'ready') { this.backend = m.backend; this.adapter = m.adapter; }
    });
  }

  addExamples(examples: readonly ExampleOf<T>[]): number {
    if (!Array.isArray(examples)) throw new TypeError('addExamples takes an array of examples');
    const checked = examples.map((ex, i) => this.checked(ex, i));
    this.examples.push(...checked);
    this.synced = false;
    return this.examples.length;
  }

  countExamples(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const ex of this.examples) counts[ex.label] = (counts[ex.label] ?? 0) + 1;
    return counts;
  }

  clearExamples() {
    this.examples = [];
    this.synced = false;
  }

  train(settings: TrainSettings = {}): Promise<TrainResult> {
    return this.serial(async () => {
      const { signal, onEpochEnd, maxLength = 128, ...rest } = settings;
      if (signal?.aborted) throw abortError();
      // Unset settings are left out (the engine's defaults apply), never sent as `undefined`.
      const options = Object.fromEntries(Object.entries({
        unfreeze: rest.unfreeze ?? 2, epochs: rest.epochs, batchSize: rest.batchSize, headLr: rest.learningRate,
        backboneLr: rest.backboneLearningRate, weightDecay: rest.weightDecay, valShare: rest.validationSplit,
        seed: rest.seed, patience: rest.patience,
      }).filter(([, v]) => v !== undefined)) as unknown as TrainOptions & { unfreeze: Unfreeze };
      const cancel = () => this.worker.postMessage({ type: 'cancel' } satisfies ToWorker);
      signal?.addEventListener('abort', cancel);
      this.onEpochEnd = onEpochEnd;
      let report: TrainReport | null = null;
      let readiness: string | null = null;
      const collect = (m: FromWorker) => {
        if (m.type === 'prepared') { readiness = m.readiness; this.skipped = m.skipped; }
        if (m.type === 'trained') report = m.report;
      };
      try {
        if (this.task === 'image') {
          if (!this.synced) {
            const examples = (this.examples as ImageExample[]).map((ex, i): Example => (
              { image: ex.image as SentImage, name: ex.image instanceof File ? ex.image.name : `example ${i + 1}`, label: ex.label, holdout: ex.validation }));
            const classes = [...new Set(examples.map((ex) => ex.label))].sort();
            await this.request({ type: 'prepare', examples, classes, unfreeze: options.unfreeze }, collect);
            if (signal?.aborted) throw abortError();
            if (readiness) throw new Error(readiness);
            this.synced = true;
            this.syncedClasses = classes;
          }
          await this.request({ type: 'train', options }, collect);
        } else {
          if (!this.synced) {
            const texts = this.examples as TextExample[];
            await this.request({ type: 'text-examples', texts: texts.map((t) => t.text), labels: texts.map((t) => t.label) },
              (m) => { if (m.type === 'text-dataset') this.syncedClasses = m.summary.classes; });
            this.synced = true;
          }
          await this.request({ type: 'train-text', options, maxLength }, collect);
        }
      } catch (err) {
        if (signal?.aborted && !report) throw abortError();
        throw err;
      } finally {
        signal?.removeEventListener('abort', cancel);
        this.onEpochEnd = undefined;
      }
      const done = report as TrainReport | null;
      if (!done) throw signal?.aborted ? abortError() : new Error(readiness ?? 'Training did not run.');
      this.lastReport = done;
      this.modelClasses = this.syncedClasses;
      return { ...done, skipped: this.skipped };
    });
  }

  pause() {
    if (!this.dead) this.worker.postMessage({ type: 'pause' } satisfies ToWorker);
  }

  resume() {
    if (!this.dead) this.worker.postMessage({ type: 'resume' } satisfies ToWorker);
  }

  predict(input: InputOf<T>, options?: { topK?: number }): Promise<Prediction[]>;
  predict(inputs: readonly InputOf<T>[], options?: { topK?: number }): Promise<Prediction[][]>;
  predict(input: InputOf<T> | readonly InputOf<T>[], options: { topK?: number } = {}): Promise<Prediction[] | Prediction[][]> {
    const many = Array.isArray(input);
    let inputs: InputOf<T>[];
    try {
      inputs = ((many ? input : [input]) as InputOf<T>[]).map((x, i) => this.sendable(x, many ? `input ${i + 1}` : 'the input'));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.serial(async () => {
      const results = await this.predictAll(inputs, options.topK ?? 3);
      return many ? results : results[0];
    });
  }

  evaluate(given?: readonly ExampleOf<T>[]): Promise<Evaluation> {
    let examples: ExampleOf<T>[] | undefined;
    try {
      examples = given?.map((ex, i) => this.checked(ex, i));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.serial(async () => {
      const classes = this.modelClasses;
      if (!classes) throw new Error('There is no fine-tuned model yet: train or import one first.');
      if (!examples) {
        const report = this.lastReport;
        const best = report?.epochs.find((e) => e.epoch === report.bestEpoch);
        if (!best) throw new Error('evaluate() without examples scores the last training run\'s validation split, and there was none: pass labelled examples.');
        return evaluationFromConfusion('validation', classes, best.valConfusion.counts);
      }
      const unknown = examples.find((ex) => !classes.includes(ex.label));
      if (unknown) throw new Error(`The label '${unknown.label}' is not one of the model's classes (${classes.join(', ')}).`);
      const inputs = examples.map((ex) => ('image' in ex ? ex.image : ex.text) as InputOf<T>);
      const results = await this.predictAll(inputs, 1);
      const n = classes.length;
      const counts = new Array<number>(n * n).fill(0);
      results.forEach((top, i) => { counts[classes.indexOf(examples[i].label) * n + classes.indexOf(top[0].label)] += 1; });
      return evaluationFromConfusion('examples', classes, counts);
    });
  }

  export(): Promise<Uint8Array> {
    return this.serial(async () => {
      let bytes: Uint8Array | null = null;
      await this.request({ type: 'export', purpose: 'download' }, (m) => { if (m.type === 'exported') bytes = m.bytes; });
      return bytes as unknown as Uint8Array;
    });
  }

  importModel(model: Uint8Array | ArrayBuffer | Blob): Promise<ModelInfo> {
    return this.serial(async () => {
      const file = model instanceof Blob ? model : new Blob([model instanceof Uint8Array ? model.slice() : model]);
      let info: ModelInfo | null = null;
      await this.request({ type: 'import', file }, (m) => { if (m.type === 'imported') info = m.info; });
      const imported = info as unknown as ModelInfo;
      this.modelClasses = imported.classes;
      this.lastReport = null;
      return imported;
    });
  }

  keep(name: string): Promise<KeptSummary> {
    if (typeof name !== 'string' || name.trim() === '') return Promise.reject(new TypeError('keep(name) needs a name (a non-empty string).'));
    return this.serial(async () => {
      const classes = this.modelClasses;
      if (!classes) throw new Error('There is no fine-tuned model yet: train or import one first.');
      let bytes: Uint8Array | null = null;
      await this.request({ type: 'export', purpose: 'keep' }, (m) => { if (m.type === 'exported') bytes = m.bytes; });
      const model = { name, task: this.task, classes, keptAt: new Date().toISOString(), size: bytes!.length, bytes: bytes! };
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
    if (model.task !== this.task) throw new Error(`The kept model '${name}' classifies ${model.task === 'text' ? 'texts' : 'images'}: load it into a fine-tuner for that task.`);
    return this.importModel(model.bytes);
  }

  deleteKept(name: string): Promise<boolean> {
    return deleteKept(name);
  }

  dispose() {
    this.worker.terminate();
    this.fail('This fine-tuner was disposed.', false);
  }

  private async predictAll(inputs: InputOf<T>[], topK: number): Promise<Prediction[][]> {
    if (!this.modelClasses) throw new Error('There is no fine-tuned model yet: train or import one first.');
    if (inputs.length === 0) return [];
    let results: Prediction[][] = [];
    const msg: ToWorker = this.task === 'image'
      ? { type: 'predict', inputs: inputs as SentImage[], topK }
      : { type: 'predict-text', texts: inputs.map((t, i) => { if (typeof t !== 'string') throw new TypeError(`input ${i + 1} is not a string`); return t; }), topK };
    await this.request(msg, (m) => { if (m.type === 'prediction') results = m.results; });
    return results;
  }

  /** `ex` checked, with a page element as image drawn now into pixels the worker can take. */
  private checked(ex: ExampleOf<T>, i: number): ExampleOf<T> {
    const where = `example ${i + 1}`;
    if (typeof ex !== 'object' || ex === null) throw new TypeError(`${where} is not an object`);
    if (typeof ex.label !== 'string' || ex.label.trim() === '') throw new TypeError(`${where} has no label (a non-empty string)`);
    if (this.task === 'text') {
      if (typeof (ex as TextExample).text !== 'string') throw new TypeError(`${where} has no text (a string)`);
      return ex;
    }
    return { ...ex, image: this.sendable((ex as ImageExample).image as InputOf<T>, where) } as ExampleOf<T>;
  }

  /** An input the worker can take (images: see `sendableImage`), or a TypeError naming `where`. */
  private sendable(input: InputOf<T>, where: string): InputOf<T> {
    if (this.task === 'text') return input;
    try {
      return sendableImage(input) as InputOf<T>;
    } catch (err) {
      throw new TypeError(`${where}: ${(err as Error).message}`);
    }
  }

  /** Runs `job` after every earlier call has finished (the worker does one thing at a time). */
  private serial<R>(job: () => Promise<R>): Promise<R> {
    const run = this.queue.then(() => {
      if (this.dead) throw new Error(this.dead);
      return job();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private request(msg: ToWorker, reply: (m: FromWorker) => void): Promise<void> {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending = { id, resolve, reject, reply };
      this.worker.postMessage({ ...msg, id } satisfies Request);
    });
  }

  private onMessage(m: FromWorker) {
    switch (m.type) {
      case 'settled': {
        const p = this.pending;
        if (!p || p.id !== m.id) return;
        this.pending = null;
        if (m.error === null) p.resolve();
        else {
          this.onProgress?.({ type: 'error', message: m.error, fatal: false });
          p.reject(new Error(m.error));
        }
        return;
      }
      case 'error':
        if (m.fatal) this.fail(`The fine-tuner's engine stopped: ${m.message}. Create a new fine-tuner to go on.`);
        return;
      case 'loading':
        this.onProgress?.(m);
        return;
      case 'ready':
        this.onProgress?.({ type: 'ready', backend: m.backend, adapter: m.adapter, loadMs: m.loadMs });
        break;
      case 'progress':
        this.onProgress?.(m.event);
        if (m.event.type === 'epoch') {
          const { type: _, ...epoch } = m.event;
          this.onEpochEnd?.(epoch);
        }
        return;
      default:
        break;
    }
    this.pending?.reply(m);
  }

  /** The worker is gone: every waiting and later call fails with `message`. */
  private fail(message: string, report = true) {
    if (this.dead) return;
    this.dead = message;
    if (report) this.onProgress?.({ type: 'error', message, fatal: true });
    const p = this.pending;
    this.pending = null;
    p?.reject(new Error(message));
  }
}
