// Messages between the page (main.ts) and the engine's worker (worker.ts).

export type BackendPreference = 'auto' | 'webgpu' | 'cpu';
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
export interface Skipped { name: string; reason: string }
export interface BackendChoice { kind: 'webgpu' | 'cpu'; reason: string }

/** One example as the page hands it over: the file, its class name, and whether it is a fixed
 * validation example (once any is, they replace the random split). */
export interface Example { blob: Blob; name: string; label: string; holdout?: boolean }

export type ToWorker =
  | { type: 'init'; backend: BackendPreference; weightsUrl: string }
  | { type: 'prepare'; examples: Example[]; classes: string[]; unfreeze: Unfreeze }
  | { type: 'train'; options: TrainOptions }
  | { type: 'cancel' }
  | { type: 'predict'; blob: Blob; topK: number }
  /** Test hook: makes the engine panic, to check that the page recovers. */
  | { type: 'test-panic' };

export type FromWorker =
  | { type: 'ready'; backend: BackendChoice; adapter: string; loadMs: number }
  | { type: 'progress'; event: TrainEvent }
  | { type: 'prepared'; counts: number[]; skipped: Skipped[]; readiness: string | null; cacheBytes: number; ms: number; wasmMemoryBytes: number }
  | { type: 'trained'; report: TrainReport; wasmMemoryBytes: number }
  | { type: 'prediction'; results: Prediction[] }
  | { type: 'error'; message: string; fatal: boolean };
