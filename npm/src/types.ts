// The package's public types: what `createFineTuner` takes, the examples, training settings and
// results, the progress events, and the `FineTuner` interface.

import type { Evaluation } from './evaluation';
import type { BackendChoice, BackendPreference, EpochReport, LoadingEvent, ModelInfo, Prediction, Skipped, Task, TrainEvent, TrainReport, Unfreeze } from './protocol';
import type { ImageInput } from './images';
import type { KeptSummary } from './kept-models';

/** An image example: the image (a file, a bitmap, pixels or a page element: see `ImageInput`) and
 * its class name. */
export interface ImageExample {
  image: ImageInput;
  label: string;
  /** Keep this example for validation only (once any example is, these replace the random split). */
  validation?: boolean;
}
/** A text example: the text and its class name. */
export interface TextExample { text: string; label: string }

/** The example type of a task. */
export type ExampleOf<T extends Task> = T extends 'image' ? ImageExample : TextExample;
/** What a task classifies: an image, or a string. */
export type InputOf<T extends Task> = T extends 'image' ? ImageInput : string;

/** Progress of the fine-tuner: loading, training, and errors (a discriminated union on `type`). */
export type FineTunerEvent =
  | LoadingEvent
  | { type: 'ready'; backend: BackendChoice; adapter: string; loadMs: number }
  | TrainEvent
  | { type: 'error'; message: string; fatal: boolean };

export interface FineTunerOptions<T extends Task = Task> {
  /** `'image'`: EfficientNet-Lite0 (ImageNet). `'text'`: all-MiniLM-L6-v2. */
  task: T;
  /** URL of the pretrained weights (`efficientnet-lite0.safetensors`, or MiniLM's `model.safetensors`);
   * relative URLs are resolved against the page. The package does not embed weights. */
  modelUrl: string | URL;
  /** Text only: the model's `tokenizer.json` (default: `tokenizer.json` next to `modelUrl`). */
  tokenizerUrl?: string | URL;
  /** `'auto'` (default: WebGPU on a hardware adapter, else the CPU), `'webgpu'` or `'cpu'`. */
  backend?: BackendPreference;
  /** Training threads on the CPU backend (default: one per core). More than one needs a cross-origin
   * isolated page (served with `Cross-Origin-Opener-Policy: same-origin` and
   * `Cross-Origin-Embedder-Policy: require-corp`); elsewhere the engine runs on one thread. */
  threads?: number;
  /** Called with every progress event, from loading to the end of each training run. */
  onProgress?: (event: FineTunerEvent) => void;
  /** Where the package's `worker.js` is served, if your bundler did not keep it next to this
   * module. It must be on the page's origin (browsers start workers from the same origin only). */
  workerUrl?: string | URL;
  /** The folder (URL ending in `/`) that holds the engine's `.wasm` files, e.g. a CDN's copy of the
   * package's `dist/` (default: next to `worker.js`). Cross-origin hosts must allow CORS. */
  assetBase?: string | URL;
  /** Keep the engine's files, the weights and the tokenizer in this browser's Cache API across
   * visits, revalidated with the server (ETag / Last-Modified) on each load and used as they are
   * offline (default true). `clearCache()` empties it. */
  cache?: boolean;
}

/** Settings of one training run; every one has a sensible default. */
export interface TrainSettings {
  /** Most epochs to run (default 10; early stopping may end sooner). */
  epochs?: number;
  /** What trains: `'head'` or the head plus the last N blocks / layers (default 2). */
  unfreeze?: Unfreeze;
  /** Learning rate of the new head (default 1e-3). */
  learningRate?: number;
  /** Learning rate of the unfrozen pretrained layers (default 1e-4: lower than the head's). */
  backboneLearningRate?: number;
  /** Share of each class kept for validation (default 0.2). */
  validationSplit?: number;
  /** Seed of the split, the head's initialisation and the shuffling (default 0). */
  seed?: number;
  /** Examples per step (default 32). */
  batchSize?: number;
  /** Epochs without a better validation loss before stopping (default 3). */
  patience?: number;
  /** AdamW weight decay (default 1e-4). */
  weightDecay?: number;
  /** Text only: tokens per text, longer texts are cut (default 128). */
  maxLength?: number;
  /** Aborting stops training after the current step and keeps the best weights so far. */
  signal?: AbortSignal;
  /** Called after each epoch with its train and validation metrics. */
  onEpochEnd?: (epoch: EpochReport) => void;
}

/** A training run's report, with the examples that could not be used. */
export interface TrainResult extends TrainReport {
  /** Images that could not be decoded when the examples were last prepared (name and reason); they
   * were left out. */
  skipped: Skipped[];
}

/** A fine-tuner for one task, running in its own worker. Calls are answered in order. */
export interface FineTuner<T extends Task = Task> {
  readonly task: T;
  /** The backend in use and why it was chosen. */
  readonly backend: BackendChoice;
  /** The WebGPU adapter found (`'none'` without one). */
  readonly adapter: string;
  /** Adds labelled examples (kept until `clearExamples`); returns how many there are now. */
  addExamples(examples: readonly ExampleOf<T>[]): number;
  /** Examples per class name. */
  countExamples(): Record<string, number>;
  clearExamples(): void;
  /** Prepares the examples (runs the frozen layers once per example, cached) and fine-tunes. */
  train(settings?: TrainSettings): Promise<TrainResult>;
  /** Holds a running `train` after its current step until `resume` (aborting also resumes). */
  pause(): void;
  resume(): void;
  /** Top-k classes of one input (default k: 3), best first. */
  predict(input: InputOf<T>, options?: { topK?: number }): Promise<Prediction[]>;
  /** Top-k classes of each input. */
  predict(inputs: readonly InputOf<T>[], options?: { topK?: number }): Promise<Prediction[][]>;
  /** Scores on these labelled examples, or without any on the last run's validation split. */
  evaluate(examples?: readonly ExampleOf<T>[]): Promise<Evaluation>;
  /** The fine-tuned model as one file (safetensors of the trained layers + JSON metadata). */
  export(): Promise<Uint8Array>;
  /** Loads a model exported before (refused, with the reason, if it is not for this task). */
  importModel(model: Uint8Array | ArrayBuffer | Blob): Promise<ModelInfo>;
  /** Keeps the fine-tuned model in this browser (IndexedDB) as `name`, replacing one of that name. */
  keep(name: string): Promise<KeptSummary>;
  /** The models of this task kept in this browser (without their bytes), oldest first. */
  listKept(): Promise<KeptSummary[]>;
  /** Loads the kept model `name` (as `importModel` does). */
  loadKept(name: string): Promise<ModelInfo>;
  /** Deletes the kept model `name`; false when there was none. */
  deleteKept(name: string): Promise<boolean>;
  /** Stops the worker and frees its memory; the fine-tuner cannot be used afterwards. */
  dispose(): void;
}
