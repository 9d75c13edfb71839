// The package's API: `createFineTuner` starts the engine's worker (owned by the package), loads the
// pretrained weights from the host's URL, and returns a `FineTuner` (a classifier) or a
// `SpeechFineTuner` (speech-tuner.ts) whose methods are requests to that worker
// (worker-client.ts), answered one at a time. The examples stay on the caller's thread
// (example-set.ts; checked and converted by example-inputs.ts) and are sent when they changed.
// Nothing leaves the browser: the worker fetches only the weights (and the tokenizer) it is
// given. The public types are in types.ts.

import { evaluationFromEngine, evaluationFromEpoch, type Evaluation } from './evaluation';
import { ExampleInputs, exampleName } from './example-inputs';
import { ExampleSet } from './example-set';
import { deleteKept, keepModel, type KeptSummary, listKept, loadKept } from './kept-models';
import type {
  BackendChoice, CheckpointStatus, ClassifierTask, Defaults, Example, ExamplesSummary, ModelInfo, Prediction, Prepared, ProbeStep, SentInput, TableSummary, Task, TextDatasetSummary, ToWorker,
  TrainReport,
} from './protocol';
import { WorkerSpeechFineTuner } from './speech-tuner';
import type {
  AudioExample, ExampleOf, FineTuner, FineTunerFor, FineTunerOptions, InputOf, PrepareSettings, ProbeSettings, TrainResult, TrainSettings,
} from './types';
import { WorkerClient } from './worker-client';

/** Starts a fine-tuner: a worker with the engine and the pretrained weights loaded. */
export async function createFineTuner<T extends Task>(options: FineTunerOptions<T>): Promise<FineTunerFor<T>> {
  if (!['image', 'text', 'audio', 'speech'].includes(options.task)) {
    throw new TypeError(`task must be 'image', 'text', 'audio' or 'speech', not ${JSON.stringify(options.task)}`);
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
  const client = new WorkerClient(worker, options.onProgress);
  const tuner = options.task === 'speech' ? new WorkerSpeechFineTuner(client) : new WorkerFineTuner(options.task as ClassifierTask, client);
  const beside = (given: string | URL | undefined, name: string) => new URL(given ?? name, given ? page : modelUrl).href;
  const init: ToWorker = {
    type: 'init', task: options.task, backend: options.backend ?? 'auto', weightsUrl: modelUrl, cache: options.cache ?? true,
    crashChannel: client.crashChannel,
    ...(options.task === 'text' || options.task === 'speech' ? { tokenizerUrl: beside(options.tokenizerUrl, 'tokenizer.json') } : {}),
    ...(options.task === 'speech' ? { configUrl: beside(options.configUrl, 'config.json') } : {}),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.assetBase === undefined ? {} : { assetBase: new URL(options.assetBase, page).href }),
  };
  try {
    await tuner.start(init);
  } catch (err) {
    tuner.dispose();
    throw err;
  }
  return tuner as unknown as FineTunerFor<T>;
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

const abortError = (what = 'Training') => new DOMException(`${what} was cancelled before it finished.`, 'AbortError');
const noModel = () => new Error('There is no fine-tuned model yet: train or import one first.');

class WorkerFineTuner<T extends ClassifierTask> implements FineTuner<T> {
  backend: BackendChoice = { kind: 'cpu', reason: 'not loaded yet', threads: 1 };
  adapter = 'none';
  defaults!: Defaults;
  private readonly examples = new ExampleSet<ExampleOf<T>>();
  /** Where the examples come from: the example set (and the worker's summary of the version it
   * holds), or a table file (and the readiness of its chosen columns: checked before caching). */
  private source: { kind: 'set'; version: number; summary: ExamplesSummary | null } | { kind: 'table'; readiness: string | null } = { kind: 'set', version: -1, summary: null };
  /** Class names of the model the worker holds (trained or imported). */
  private modelClasses: string[] | null = null;
  private lastReport: TrainReport | null = null;

  /** What the examples' and inputs' values become before they go to the worker. */
  private readonly convert: ExampleInputs<T>;

  constructor(readonly task: T, private readonly client: WorkerClient) {
    this.convert = new ExampleInputs(task);
  }

  async start(init: ToWorker) {
    const ready = await this.client.ask(init, 'ready');
    this.backend = ready.backend;
    this.adapter = ready.adapter;
    this.defaults = ready.defaults;
  }

  addExamples(examples: readonly ExampleOf<T>[]): number {
    if (!Array.isArray(examples)) throw new TypeError('addExamples takes an array of examples');
    const checked = examples.map((ex, i) => this.convert.checked(ex, i));
    this.useSet();
    return this.examples.add(checked);
  }

  countExamples(): Record<string, number> {
    return this.examples.counts();
  }

  classes(): string[] {
    return this.examples.classes();
  }

  addClass(name: string): boolean {
    if (typeof name !== 'string' || name.trim() === '') throw new TypeError('a class name is a non-empty string');
    this.useSet();
    return this.examples.addClass(name);
  }

  removeClass(name: string): number {
    return this.examples.removeClass(name);
  }

  renameClass(from: string, to: string): boolean {
    if (typeof to !== 'string' || to.trim() === '') throw new TypeError('a class name is a non-empty string');
    return this.examples.renameClass(from, to);
  }

  removeExamples(remove: (example: ExampleOf<T>, index: number) => boolean): number {
    return this.examples.remove(remove);
  }

  clearExamples() {
    this.examples.clear();
  }

  readiness(): Promise<string | null> {
    return this.client.serial(async () => {
      return (await this.sync()).readiness;
    });
  }

  loadTable(file: Blob, name = file instanceof File ? file.name : 'table.csv'): Promise<TableSummary> {
    if (this.task !== 'text') return Promise.reject(new Error('Table files are for the text task.'));
    if (!(file instanceof Blob)) return Promise.reject(new TypeError('loadTable takes a File or Blob'));
    return this.client.serial(async () => {
      this.examples.clear();
      this.source = { kind: 'table', readiness: null };
      return (await this.client.ask({ type: 'load-table', file, name }, 'table')).summary;
    });
  }

  chooseColumns(columns: { text: number; label: number; limitPerClass?: number }): Promise<TextDatasetSummary> {
    return this.client.serial(async () => {
      const msg: ToWorker = { type: 'choose-columns', text: columns.text, label: columns.label, limitPerClass: columns.limitPerClass ?? 0 };
      const { summary } = await this.client.ask(msg, 'text-dataset');
      if (this.source.kind === 'table') this.source.readiness = summary.readiness;
      return summary;
    });
  }

  tokenStats(maxLength: number): Promise<{ texts: number; tokens: number; truncated: number; ms: number }> {
    return this.client.serial(async () => {
      const { type: _, ...stats } = await this.client.ask({ type: 'token-stats', maxLength }, 'token-stats');
      return stats;
    });
  }

  prepare(settings: PrepareSettings = {}): Promise<Prepared> {
    const { signal, ...preparation } = settings;
    return this.client.serial(async () => {
      if (signal?.aborted) throw abortError('Preparation');
      const summary = await this.sync();
      if (summary.readiness) throw new Error(summary.readiness);
      const prepared = await this.cancellable(signal, () => this.client.ask({ type: 'prepare', preparation }, 'prepared'));
      const { type: _, ...result } = prepared;
      if (result.cancelled) throw abortError('Preparation');
      return result;
    });
  }

  train(settings: TrainSettings = {}): Promise<TrainResult> {
    return this.client.serial(async () => {
      const { signal, onEpochEnd, unfreeze, maxLength, augment, flip, keepCheckpoints = true, resume = false, ...options } = settings;
      if (signal?.aborted) throw abortError();
      const preparation = { unfreeze, maxLength, augment, flip };
      const given = Object.entries({ ...options, ...preparation }).filter(([, v]) => v !== undefined).map(([k]) => k);
      if (resume && given.length > 0) {
        throw new Error(`A resumed run takes its checkpoint's settings: leave out ${given.join(', ')}.`);
      }
      const summary = await this.sync();
      if (summary.readiness) throw new Error(summary.readiness);
      this.client.onEpoch = onEpochEnd ? (e) => { const { type: _, ...epoch } = e as { type: 'epoch' } & Parameters<typeof onEpochEnd>[0]; onEpochEnd(epoch); } : undefined;
      let report: TrainReport | null = null;
      let classes: string[] = [];
      let wasmMemoryBytes = 0;
      let prepared: Prepared | null = null;
      try {
        const msg: ToWorker = { type: 'train', preparation, options, keep: keepCheckpoints, resume };
        await this.cancellable(signal, () => this.client.request(msg, (m) => {
          if (m.type === 'prepared') prepared = m;
          if (m.type === 'trained') { report = m.report as TrainReport; classes = m.classes; wasmMemoryBytes = m.wasmMemoryBytes; }
        }));
      } catch (err) {
        if (signal?.aborted && !report) throw abortError();
        throw err;
      } finally {
        this.client.onEpoch = undefined;
      }
      const done = report as TrainReport | null;
      if (!done) throw signal?.aborted ? abortError() : new Error('Training did not run.');
      this.lastReport = done;
      this.modelClasses = classes;
      return { ...done, skipped: (prepared as Prepared | null)?.skipped ?? [], wasmMemoryBytes };
    });
  }

  checkpoint(): Promise<CheckpointStatus | null> {
    return this.client.serial(async () => {
      await this.sync();
      return (await this.client.ask({ type: 'checkpoint-status' }, 'checkpoint-status')).status;
    });
  }

  discardCheckpoint(): Promise<void> {
    return this.client.serial(async () => {
      await this.client.request({ type: 'discard-checkpoint' });
    });
  }

  probeGradients(settings: ProbeSettings = {}): Promise<ProbeStep[]> {
    return this.client.serial(async () => {
      const { steps = 3, update = true, unfreeze, maxLength, ...options } = settings;
      const summary = await this.sync();
      if (summary.readiness) throw new Error(summary.readiness);
      return (await this.client.ask({ type: 'probe-gradients', preparation: { unfreeze, maxLength }, steps, update, options }, 'gradients')).steps;
    });
  }

  pause() {
    this.client.send({ type: 'pause' });
  }

  resume() {
    this.client.send({ type: 'resume' });
  }

  predict(input: InputOf<T>, options?: { topK?: number }): Promise<Prediction[]>;
  predict(inputs: readonly InputOf<T>[], options?: { topK?: number }): Promise<Prediction[][]>;
  predict(input: InputOf<T> | readonly InputOf<T>[], options: { topK?: number } = {}): Promise<Prediction[] | Prediction[][]> {
    const many = Array.isArray(input);
    let inputs: SentInput[];
    try {
      inputs = ((many ? input : [input]) as InputOf<T>[]).map((x, i) => this.convert.sendable(x, many ? `input ${i + 1}` : 'the input'));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.client.serial(async () => {
      if (!this.modelClasses) throw noModel();
      if (inputs.length === 0) return [];
      inputs = await this.convert.decodedAll(inputs);
      const { results } = await this.client.ask({ type: 'predict', inputs, topK: options.topK ?? 3 }, 'prediction');
      return many ? results : results[0];
    });
  }

  evaluate(given?: readonly ExampleOf<T>[]): Promise<Evaluation> {
    let examples: ExampleOf<T>[] | undefined;
    try {
      examples = given?.map((ex, i) => this.convert.checked(ex, i));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.client.serial(async () => {
      const classes = this.modelClasses;
      if (!classes) throw noModel();
      if (!examples) {
        const report = this.lastReport;
        const best = report?.epochs.find((e) => e.epoch === report.bestEpoch);
        if (!best) throw new Error('evaluate() without examples scores the last training run\'s validation split, and there was none: pass labelled examples.');
        return evaluationFromEpoch(classes, best);
      }
      const inputs = await this.convert.decodedAll(examples.map((ex) => this.convert.input(ex)));
      const { evaluation } = await this.client.ask({ type: 'evaluate', inputs, labels: examples.map((ex) => ex.label) }, 'evaluation');
      return evaluationFromEngine(evaluation);
    });
  }

  export(): Promise<Uint8Array> {
    return this.client.serial(async () => (await this.client.ask({ type: 'export' }, 'exported')).bytes);
  }

  importModel(model: Uint8Array | ArrayBuffer | Blob): Promise<ModelInfo> {
    return this.client.serial(async () => {
      const file = model instanceof Blob ? model : new Blob([model instanceof Uint8Array ? model.slice() : model]);
      const { info } = await this.client.ask({ type: 'import', file }, 'imported');
      this.modelClasses = info.classes;
      this.lastReport = null;
      return info;
    });
  }

  keep(name: string): Promise<KeptSummary> {
    if (typeof name !== 'string' || name.trim() === '') return Promise.reject(new TypeError('keep(name) needs a name (a non-empty string).'));
    return this.client.serial(async () => {
      const classes = this.modelClasses;
      if (!classes) throw noModel();
      const { bytes } = await this.client.ask({ type: 'export' }, 'exported');
      const model = { name, task: this.task, classes, keptAt: new Date().toISOString(), size: bytes.length, bytes };
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
    if (model.task !== this.task) throw new Error(`The kept model '${name}' is for the ${model.task} task: load it into a fine-tuner for that task.`);
    return this.importModel(model.bytes);
  }

  deleteKept(name: string): Promise<boolean> {
    return deleteKept(name);
  }

  dispose() {
    this.client.dispose('This fine-tuner was disposed.');
  }

  /** Test hook (not public API): makes the engine panic, to check that a crash is survived. */
  testPanic() {
    this.client.send({ type: 'test-panic' });
  }

  /** Test hook (not public API): a trap without a panic, on the engine's thread or a training
   * thread. */
  testTrap(onTrainingThread: boolean) {
    this.client.send({ type: 'test-trap', onTrainingThread });
  }

  /** Sends the examples when the worker does not hold this version of them; their summary. */
  private async sync(): Promise<{ readiness: string | null }> {
    if (this.source.kind === 'table') return { readiness: this.source.readiness };
    if (this.source.summary && this.source.version === this.examples.version) return this.source.summary;
    const examples: Example[] = [];
    for (const [i, ex] of this.examples.all().entries()) {
      examples.push({
        input: this.task === 'audio' ? await this.convert.decoded((ex as AudioExample).audio) : this.convert.input(ex),
        name: exampleName(ex, i),
        label: ex.label,
        ...('validation' in ex && ex.validation ? { holdout: true } : {}),
      });
    }
    const answer = await this.client.ask({ type: 'examples', examples, classes: this.examples.classes() }, 'examples');
    this.source = { kind: 'set', version: this.examples.version, summary: answer.summary };
    return answer.summary;
  }

  /** Runs `work` (a request), sending `cancel` when `signal` aborts meanwhile. */
  private async cancellable<R>(signal: AbortSignal | undefined, work: () => Promise<R>): Promise<R> {
    const cancel = () => this.client.send({ type: 'cancel' });
    signal?.addEventListener('abort', cancel);
    try {
      return await work();
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** The examples come from this set again (not from a table file). */
  private useSet() {
    if (this.source.kind === 'table') this.source = { kind: 'set', version: -1, summary: null };
  }
}
