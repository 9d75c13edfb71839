// What the worker does for a task, written once: keeps track of what the engine's feature cache
// holds (which version of the examples, for which preparation), prepares only when that changed,
// trains, predicts in batches. A task's jobs class (image-jobs.ts, text-jobs.ts) supplies how its
// examples reach the engine and how its inputs are sent.

import type { Engine } from '../pkg/burn_finetune.js';
import { deleteCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoints';
import type { PauseGate } from './pause-gate';
import type {
  CheckpointStatus, CheckpointSummary, EngineEvaluation, Example, ExamplesSummary, FromWorker, Prediction, Preparation, Prepared, ProbeStep, SentInput, Skipped, Task,
  TrainOptions, TrainReport,
} from './protocol';

/** Inputs per engine call when predicting or evaluating. */
export const BATCH = 32;

/** What a task's jobs get from the worker. */
export interface JobContext {
  task: Task;
  engine: Engine;
  /** What a checkpoint holds (the engine module's `Engine.checkpointSummary`). */
  checkpointSummary(bytes: Uint8Array): CheckpointSummary;
  post(message: FromWorker): void;
  /** The wasm memory's size: its peak, since it only grows. */
  memoryBytes(): number;
  gate: PauseGate;
}

/** The outcome of adding the examples to the engine. */
export interface Filled { skipped: Skipped[]; truncated: number }

export abstract class Jobs {
  /** Bumped on every change of the examples. */
  private version = 0;
  /** The engine's cache holds example version `version` prepared as `key`, with that preparation's
   * outcome (null: nothing usable). */
  private prepared: { version: number; key: string; outcome: Prepared } | null = null;

  /** The engine's preparation defaults: a preparation is compared with its gaps filled. */
  private readonly defaultPreparation: Preparation;

  constructor(protected readonly ctx: JobContext) {
    this.defaultPreparation = (ctx.engine.defaults() as { preparation: Preparation }).preparation;
  }

  get engine(): Engine {
    return this.ctx.engine;
  }

  /** Class names of the examples held, in the engine's numbering. */
  protected abstract classNames(): string[];
  /** Examples per class, in the order of `classNames`. */
  protected abstract counts(): number[];
  /** Adds every example held to the engine (just reset), posting `caching` progress. */
  protected abstract fill(signal: AbortSignal, progress: (done: number, total: number) => void): Promise<Filled>;
  /** Replaces the examples. */
  abstract setExamples(examples: Example[], classes?: string[]): void;
  /** Top-k of each input of one batch. */
  protected abstract predictBatch(inputs: SentInput[], topK: number): Promise<Prediction[][]>;

  /** The examples changed: the cache no longer matches them. */
  protected changed() {
    this.version += 1;
    this.prepared = null;
  }

  summary(): ExamplesSummary {
    const classes = this.classNames();
    const counts = this.counts();
    return { classes, counts, readiness: this.engine.readinessOf(classes, new Uint32Array(counts)) ?? null };
  }

  /** Caches the examples for `preparation` unless the cache already holds them so; false when
   * cancelled. Posts `prepared` (the outcome of the preparation that filled the cache). */
  async prepare(given: Preparation, signal: AbortSignal): Promise<boolean> {
    const preparation = defined(given);
    const key = JSON.stringify({ ...this.defaultPreparation, ...preparation });
    if (this.prepared && this.prepared.version === this.version && this.prepared.key === key) {
      this.ctx.post({ type: 'prepared', ...this.prepared.outcome });
      return true;
    }
    const started = performance.now();
    const classes = this.classNames();
    this.prepared = null;
    this.engine.reset(classes, preparation);
    const { skipped, truncated } = await this.fill(signal, (done, total) => {
      const seconds = (performance.now() - started) / 1000;
      this.ctx.post({ type: 'progress', event: { type: 'caching', done, total, examplesPerSec: done / Math.max(seconds, 1e-3) } });
    });
    const prepared: Prepared = {
      cancelled: signal.aborted,
      classes,
      counts: Array.from(this.engine.classCounts()),
      skipped,
      readiness: signal.aborted ? 'Preparation was cancelled: prepare the examples again.' : (this.engine.readiness() ?? null),
      cacheBytes: this.engine.cacheBytes(),
      ms: performance.now() - started,
      wasmMemoryBytes: this.ctx.memoryBytes(),
      truncated,
    };
    if (!signal.aborted) this.prepared = { version: this.version, key, outcome: prepared };
    this.ctx.post({ type: 'prepared', ...prepared });
    return !signal.aborted;
  }

  /** Prepares when needed, then fine-tunes and posts `trained`. `keep`: the run's checkpoint
   * after each epoch is kept in this browser until the run ends (classifiers); `resume`: go on
   * from the kept checkpoint instead, with its preparation and options. */
  async train(preparation: Preparation, options: TrainOptions, signal: AbortSignal, keep = false, resume = false) {
    const task = this.ctx.task;
    const kept = resume ? await this.keptCheckpoint() : null;
    const summary = kept ? this.ctx.checkpointSummary(kept.bytes) : null;
    if (!(await this.prepare(summary?.preparation ?? preparation, signal))) throw new Error('Cancelled while the examples were prepared; nothing was trained.');
    const readiness = this.engine.readiness();
    if (readiness) throw new Error(readiness);
    const post = this.ctx.post;
    const onEvent = (event: unknown) => post({ type: 'progress', event: event as never });
    const epochs = summary?.epochs ?? options.epochs ?? (this.engine.defaults() as { training: { epochs: number } }).training.epochs;
    let saving = Promise.resolve();
    const onCheckpoint = keep && task !== 'speech' ? (epoch: number, bytes: Uint8Array) => {
      saving = saving
        .then(() => saveCheckpoint({ task, epoch, epochs, savedAt: new Date().toISOString(), bytes }))
        .then(() => post({ type: 'progress', event: { type: 'checkpoint', epoch, bytes: bytes.length } }))
        .catch((err: Error) => post({ type: 'progress', event: { type: 'warning', message: err.message } }));
    } : undefined;
    const report = kept
      ? await this.engine.resume(kept.bytes, onEvent, signal, this.ctx.gate.between, onCheckpoint) as TrainReport
      : await this.engine.train(defined(options), onEvent, signal, this.ctx.gate.between, onCheckpoint) as TrainReport;
    await saving;
    // A cancelled run can go on later; one that ended has nothing left to resume.
    if ((keep || kept) && task !== 'speech' && report.stopReason !== 'cancelled') await deleteCheckpoint(task).catch(() => undefined);
    post({ type: 'trained', report, classes: this.classNames(), wasmMemoryBytes: this.ctx.memoryBytes() });
  }

  /** The kept checkpoint of this task's unfinished run, or null; `usable` when the examples held
   * have its classes and number (a cheap look: the examples themselves — content, labels, order —
   * are compared when it resumes, which refuses other ones by name). */
  async checkpointStatus(): Promise<CheckpointStatus | null> {
    const task = this.ctx.task;
    if (task === 'speech') return null;
    const kept = await loadCheckpoint(task);
    if (!kept) return null;
    let summary: CheckpointSummary;
    try {
      summary = this.ctx.checkpointSummary(kept.bytes);
    } catch (err) {
      return { epoch: kept.epoch, epochs: kept.epochs, savedAt: kept.savedAt, summary: null, usable: false, reason: (err as Error).message ?? String(err) };
    }
    const status = { epoch: summary.epoch, epochs: summary.epochs, savedAt: kept.savedAt, summary };
    const classes = this.classNames();
    const examples = this.counts().reduce((a, b) => a + b, 0);
    const reason = JSON.stringify(classes) !== JSON.stringify(summary.classes)
      ? `its run had the classes ${summary.classes.slice(0, 10).join(', ')}${summary.classes.length > 10 ? ` and ${summary.classes.length - 10} more` : ''}; these examples have ${classes.slice(0, 10).join(', ') || 'none'}.`
      : examples !== summary.examples ? `its run had ${summary.examples} examples; there are ${examples} now.` : null;
    return { ...status, usable: reason === null, reason };
  }

  /** A few training steps of the trained (or imported) model on the examples prepared as
   * `preparation` (its own), each step's loss and condensed gradients, the model left as it was
   * (without `update`, the steps do not change it either): to compare two backends on the same
   * model and examples. */
  async probeGradients(preparation: Preparation, steps: number, update: boolean, options: TrainOptions, signal: AbortSignal): Promise<ProbeStep[]> {
    if (!(await this.prepare(preparation, signal))) throw new Error('Cancelled while the examples were prepared.');
    return await this.engine.probeGradients(steps, update, defined(options)) as ProbeStep[];
  }

  /** Forgets this task's kept checkpoint. */
  async discardCheckpoint() {
    if (this.ctx.task !== 'speech') await deleteCheckpoint(this.ctx.task);
  }

  private async keptCheckpoint() {
    const task = this.ctx.task;
    if (task === 'speech') throw new Error('Resuming a run: images, text and sounds in this version (not speech).');
    const kept = await loadCheckpoint(task);
    if (!kept) throw new Error(`No unfinished ${task} run is kept in this browser: there is nothing to resume.`);
    return kept;
  }

  /** Top-k of each input, `BATCH` inputs per engine call (memory stays one batch's however many
   * inputs come), posting `predicting` progress. */
  async predict(inputs: SentInput[], topK: number): Promise<Prediction[][]> {
    const results: Prediction[][] = [];
    const started = performance.now();
    for (let i = 0; i < inputs.length; i += BATCH) {
      results.push(...await this.predictBatch(inputs.slice(i, i + BATCH), topK));
      this.predicting(results.length, inputs.length, started);
    }
    return results;
  }

  /** Accuracy, macro F1, confusion matrix and per-class scores on labelled inputs: a label the
   * model does not know is refused before any work; then the inputs are predicted in batches
   * (as `predict`) and scored once. */
  async evaluate(inputs: SentInput[], labels: string[]): Promise<EngineEvaluation> {
    if (inputs.length !== labels.length) throw new Error(`${inputs.length} examples but ${labels.length} labels`);
    const actual = this.engine.labelIndices(labels);
    const predicted = new Uint32Array(inputs.length);
    const started = performance.now();
    for (let i = 0; i < inputs.length; i += BATCH) {
      const top = await this.predictBatch(inputs.slice(i, i + BATCH), 1);
      predicted.set(this.engine.labelIndices(top.map((p) => p[0].label)), i);
      this.predicting(i + top.length, inputs.length, started);
    }
    return this.engine.score(actual, predicted) as EngineEvaluation;
  }

  private predicting(done: number, total: number, started: number) {
    const seconds = (performance.now() - started) / 1000;
    this.ctx.post({ type: 'progress', event: { type: 'predicting', done, total, examplesPerSec: done / Math.max(seconds, 1e-3) } });
  }
}

/** `value` without its undefined fields (the engine reads a missing field as its default). */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as T;
}

/** A classifier task's jobs whose examples arrive as a list with class names (images, sounds; text
 * streams a table instead). */
export abstract class LabelledJobs extends Jobs {
  protected examples: Example[] = [];
  protected classes: string[] = [];

  setExamples(examples: Example[], classes: string[] = []) {
    this.examples = examples;
    this.classes = [...new Set([...classes, ...examples.map((ex) => ex.label)])];
    this.changed();
  }

  protected classNames(): string[] {
    return this.classes;
  }

  protected counts(): number[] {
    const counts = this.classes.map(() => 0);
    for (const ex of this.examples) if (this.usable(ex)) counts[this.classes.indexOf(ex.label)] += 1;
    return counts;
  }

  /** Whether `ex` can reach the engine (sounds: the package could decode it). */
  protected usable(_ex: Example): boolean {
    return true;
  }
}

