// Messages between the engine's worker (worker.ts) and its users: the demo page (www/src/main.ts)
// and the npm package's wrapper (fine-tuner.ts). The engine's report types are public API.

import type { SentImage } from './images';

export type BackendPreference = 'auto' | 'webgpu' | 'cpu';
export type Task = 'image' | 'text';
/** What an export is for: a download, or keeping it in this browser. */
export type ExportPurpose = 'download' | 'keep';
export type Unfreeze = 'head' | number;

/** Training options (all optional; the engine has defaults). Mirrors Rust `TrainOptions`. */
export interface TrainOptions {
  unfreeze?: Unfreeze;
  epochs?: number;
  batchSize?: number;
  headLr?: number;
  backboneLr?: number;
  weightDecay?: number;
  valShare?: number;
  seed?: number;
  patience?: number;
  warmupShare?: number;
}

/** A file the engine needs is loading: the engine module (one event, once loaded), the
 * pretrained weights or the tokenizer (every 4 MB). `total`: null when the server does not say;
 * `fromCache`: the bytes come from the copy kept in this browser (unchanged on the server, or the
 * server unreachable), not from the network. */
export interface LoadingEvent { type: 'loading'; file: 'engine' | 'weights' | 'tokenizer'; loaded: number; total: number | null; fromCache: boolean }

export interface ConfusionMatrix { classes: number; counts: number[] }

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  trainMacroF1: number;
  valLoss: number;
  valAccuracy: number;
  valMacroF1: number;
  valConfusion: ConfusionMatrix;
  headLr: number;
  trainExamplesPerSec: number;
  seconds: number;
}

export interface TrainReport {
  stopReason: 'completed' | 'earlyStopped' | 'cancelled' | 'diverged';
  bestEpoch: number;
  bestValAccuracy: number;
  message: string;
  warnings: string[];
  epochs: EpochReport[];
  trainExamples: number;
  valExamples: number;
}

/** Progress events of the Rust engine (`TrainEvent`), plus the worker's own preparation phase. */
export type TrainEvent =
  | { type: 'caching'; done: number; total: number; examplesPerSec: number }
  | { type: 'step'; epoch: number; step: number; stepsPerEpoch: number; loss: number; examplesPerSec: number }
  | ({ type: 'epoch' } & EpochReport)
  | { type: 'warning'; message: string }
  | ({ type: 'done' } & TrainReport);

export interface Prediction { label: string; score: number }

/** What an exported model file says about itself (Rust `ModelInfo`). */
export interface ModelInfo {
  format: string;
  baseModel: string;
  task: Task;
  classes: string[];
  unfreeze: Unfreeze;
  maxLength: number | null;
  preprocessing: string;
}
export interface SkippedRow { line: number; reason: string }

/** A text file as read: its columns and the guessed text/label columns (indices). */
export interface TableSummary {
  format: 'csv' | 'tsv' | 'jsonlines';
  columns: string[];
  rows: number;
  guess: { text: number | null; label: number | null; problem: string | null };
  skipped: SkippedRow[];
  skippedTotal: number;
}

/** The labelled texts of the chosen columns. */
export interface TextDatasetSummary {
  classes: string[];
  counts: number[];
  examples: number;
  emptyTexts: number;
  skipped: SkippedRow[];
  skippedTotal: number;
}

/** How the text examples are prepared (changing any of these prepares them again). */
export interface TextPrepareOptions { unfreeze: Unfreeze; maxLength: number }
export interface Skipped { name: string; reason: string }
/** The backend in use and why; `threads`: training threads (the CPU backend uses one per core on
 * cross-origin isolated pages, else 1; WebGPU: 1). */
export interface BackendChoice { kind: 'webgpu' | 'cpu'; reason: string; threads: number }

/** One image example as handed to the worker: the image, a name for messages, its class name, and
 * whether it is a fixed validation example (once any is, they replace the random split). */
export interface Example { image: SentImage; name: string; label: string; holdout?: boolean }

export type ToWorker =
  /** `cache`: keep the files loaded in the browser's cache (default true); `assetBase`: where the
   * engine's .wasm files are (default: beside worker.js). */
  | ({ type: 'init'; backend: BackendPreference; weightsUrl: string; threads?: number; cache?: boolean; assetBase?: string }
    & ({ task: 'image' } | { task: 'text'; tokenizerUrl: string }))
  /** Text: stream a CSV/TSV/JSONL file in. */
  | { type: 'load-table'; file: Blob; name: string }
  /** Text: use these columns (indices), at most `limitPerClass` texts per class (0: all). */
  | { type: 'choose-columns'; text: number; label: number; limitPerClass: number }
  | { type: 'train-text'; options: TrainOptions; maxLength: number }
  /** Text: labelled texts given directly instead of a file (then as `load-table` + `choose-columns`). */
  | { type: 'text-examples'; texts: string[]; labels: string[] }
  | { type: 'predict-text'; texts: string[]; topK: number }
  /** Text: tokenize the chosen texts without caching (benchmark). */
  | { type: 'token-stats'; maxLength: number }
  | { type: 'prepare'; examples: Example[]; classes: string[]; unfreeze: Unfreeze }
  | { type: 'train'; options: TrainOptions }
  | { type: 'cancel' }
  /** Holds training (or preparation) after the current step until `resume` (or `cancel`). */
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'predict'; inputs: SentImage[]; topK: number }
  /** The fine-tuned model as one file / a file exported before. */
  | { type: 'export'; purpose: ExportPurpose }
  | { type: 'import'; file: Blob }
  /** Test hook: makes the engine panic, to check that the page recovers. */
  | { type: 'test-panic' };

/** A message with an `id` is answered, once handled, by `settled` with that id (the package's
 * wrapper numbers its requests; the page does not). */
export type Request = ToWorker & { id?: number };

export type FromWorker =
  /** A file the engine needs is loading (`total`: null when the server does not say; `fromCache`:
   * the copy kept in this browser, revalidated with the server or used offline). */
  | LoadingEvent
  | { type: 'ready'; task: Task; backend: BackendChoice; adapter: string; loadMs: number }
  | { type: 'table-progress'; bytes: number; total: number; rows: number }
  | { type: 'table'; summary: TableSummary; ms: number }
  | { type: 'text-dataset'; summary: TextDatasetSummary }
  | { type: 'token-stats'; texts: number; tokens: number; truncated: number; ms: number }
  | { type: 'progress'; event: TrainEvent }
  /** Examples cached; `cancelled`: stopped part way (the cache is not usable). */
  | { type: 'prepared'; cancelled: boolean; counts: number[]; skipped: Skipped[]; readiness: string | null; cacheBytes: number; ms: number; wasmMemoryBytes: number; truncated?: number }
  | { type: 'paused'; paused: boolean }
  | { type: 'trained'; report: TrainReport; wasmMemoryBytes: number }
  /** Top-k per input, in input order. */
  | { type: 'prediction'; results: Prediction[][] }
  | { type: 'exported'; bytes: Uint8Array; purpose: ExportPurpose }
  | { type: 'imported'; info: ModelInfo }
  | { type: 'error'; message: string; fatal: boolean }
  /** Request `id` is handled: `error` says why it failed (null: it succeeded). */
  | { type: 'settled'; id: number; error: string | null };
