// The package's public types: what `createFineTuner` takes, the examples, training settings and
// results, the progress events, and the `FineTuner` interface.

import type { Evaluation } from './evaluation';
import type { AudioInput } from './audio';
import type {
  BackendChoice, BackendPreference, CheckpointStatus, ClassifierTask, Defaults, EpochReport, LoadingEvent, ModelInfo, Prediction, Prepared, ProbeStep, Skipped, SpeechEpochReport,
  SpeechReport, TableSummary, Task, TextDatasetSummary, TrainEvent, TrainOptions, TrainReport, Unfreeze,
} from './protocol';
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

/** A sound example: a clip (a file, its bytes, an `AudioBuffer` such as a recording, or 16 kHz mono
 * samples; the first 30 s count) and its class name. */
export interface AudioExample {
  audio: AudioInput;
  label: string;
  /** Keep this example for validation only (once any example is, these replace the random split). */
  validation?: boolean;
  /** A name for messages (default: the file's name, or "clip N"). */
  name?: string;
}

/** A speech example: a clip of at most 30 s (a file, its bytes, an `AudioBuffer`, or 16 kHz mono
 * samples) and what is said in it. */
export interface SpeechExample {
  audio: AudioInput;
  text: string;
  /** Keep this clip for validation only (once any clip is, these replace the random split). */
  validation?: boolean;
  /** A name for messages (default: the file's name, or "clip N"). */
  name?: string;
}

/** The example type of a classifier task. */
export type ExampleOf<T extends ClassifierTask> = T extends 'image' ? ImageExample : T extends 'audio' ? AudioExample : TextExample;
/** What a classifier task classifies: an image, a sound clip, or a string. */
export type InputOf<T extends ClassifierTask> = T extends 'image' ? ImageInput : T extends 'audio' ? AudioInput : string;
/** The fine-tuner `createFineTuner` returns for a task. */
export type FineTunerFor<T extends Task> = T extends 'speech' ? SpeechFineTuner : T extends ClassifierTask ? FineTuner<T> : never;

/** Progress of the fine-tuner: loading, reading a table file, preparing, training, and errors (a
 * discriminated union on `type`). */
export type FineTunerEvent =
  | LoadingEvent
  | { type: 'ready'; backend: BackendChoice; adapter: string; loadMs: number }
  /** Text: `loadTable` has read `bytes` of `total`, `rows` rows so far (every 2 MB). */
  | { type: 'reading'; bytes: number; total: number; rows: number }
  | TrainEvent
  | { type: 'error'; message: string; fatal: boolean };

export interface FineTunerOptions<T extends Task = Task> {
  /** `'image'`: EfficientNet-Lite0 (ImageNet). `'text'`: all-MiniLM-L6-v2. `'audio'`: sound
   * classes on Whisper tiny.en's encoder. `'speech'`: Whisper tiny.en (transcription). */
  task: T;
  /** URL of the pretrained weights (`efficientnet-lite0.safetensors`, or MiniLM's or Whisper's `model.safetensors`);
   * relative URLs are resolved against the page. The package does not embed weights. */
  modelUrl: string | URL;
  /** Text and speech: the model's `tokenizer.json` (default: `tokenizer.json` next to `modelUrl`). */
  tokenizerUrl?: string | URL;
  /** Speech only: Whisper's `config.json` (default: `config.json` next to `modelUrl`). */
  configUrl?: string | URL;
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

/** How the examples are prepared (the frozen layers run once per example; their outputs are
 * cached). Changing either prepares them again. Defaults: `FineTuner.defaults.preparation`. */
/** A gradient probe's settings: its steps (default 3), whether they update the weights (default
 * true; false: each batch's gradients at the model's weights), the model's preparation and the
 * training options of the steps (the task's defaults; the learning rates stay constant). */
export interface ProbeSettings extends Omit<TrainOptions, 'epochs' | 'validationSplit' | 'patience' | 'warmupShare' | 'mixPretrained' | 'linearProbe' | 'labelSmoothing' | 'averageEpochs' | 'auto'> {
  steps?: number;
  update?: boolean;
  unfreeze?: Unfreeze;
  maxLength?: number;
}

export interface PrepareSettings {
  /** What trains: `'head'` or the head plus the last N blocks / layers (default 2; audio: `'head'`). */
  unfreeze?: Unfreeze;
  /** Text only: tokens per text, longer texts are cut (default 128). */
  maxLength?: number;
  /** Images only: augmented views cached per image besides the original, 0 to 8 (default 0). Each
   * is a random crop of 60–100 % of the image, mirrored unless `flip` is false, with brightness,
   * saturation and contrast changed by up to 20 %; each epoch trains on one view per image.
   * Preparation takes 1 + N times as long and the cache holds 1 + N rows per image. */
  augment?: number;
  /** Images only: whether augmented views may be mirrored left–right (default true; turn it off
   * for text, digits, arrows). */
  flip?: boolean;
  /** Aborting stops the preparation (the call rejects with an AbortError). */
  signal?: AbortSignal;
}

/** Settings of one training run; every one has a sensible default (`FineTuner.defaults`). */
export interface TrainSettings {
  /** Most epochs to run (default 10 for images, 3 for text, 20 for audio; early stopping may end sooner). */
  epochs?: number;
  /** What trains: `'head'` or the head plus the last N blocks / layers (default 2; audio: `'head'`). */
  unfreeze?: Unfreeze;
  /** Learning rate of the new head (default 1e-3; audio: 1e-2). */
  learningRate?: number;
  /** Learning rate of the unfrozen pretrained layers (default 1e-4: lower than the head's; 0 keeps
   * them as they were). */
  backboneLearningRate?: number;
  /** Share of each class kept for validation (default 0.2). */
  validationSplit?: number;
  /** Seed of the split, the head's initialisation and the shuffling (default 0). */
  seed?: number;
  /** Examples per step (default 32; audio: 16). */
  batchSize?: number;
  /** Epochs without a better validation loss before stopping (default 3). */
  patience?: number;
  /** AdamW weight decay (default 1e-4). */
  weightDecay?: number;
  /** Dropout of the trained layers while training, 0 to 0.9 (default 0.1; images: 0, where it
   * goes before the head). */
  dropout?: number;
  /** Label smoothing of the training loss, 0 to 0.5 (default 0): part of each target's probability
   * goes to the other classes, against an over-confident head. Validation losses stay plain. */
  labelSmoothing?: number;
  /** Fit the head alone on the pretrained layers' features first (a logistic regression on frozen
   * features, cheap), then fine-tune from it (LP-FT): a random head's first gradients do not
   * distort what the model knew (default false: see docs/benchmarks.md). */
  linearProbe?: boolean;
  /** Average the weights of the epochs from the second on (SWA) and keep the average when its
   * validation loss beats the best epoch's (default false). */
  averageEpochs?: boolean;
  /** After training, mix the fine-tuned weights with the pretrained ones (the upper layers as they
   * were, the probed head): α · fine-tuned + (1 − α) · pretrained, α chosen among 1, 0.75, 0.5,
   * 0.25 on the validation split and reported as `fineTunedShare` (WiSE-FT; default false). A head-only
   * cut without `linearProbe` has nothing pretrained to mix with. */
  mixPretrained?: boolean;
  /** Try the head alone and head + upper layers at three learning rates (these, a third, three
   * times) on the cached features and keep the lowest validation loss (default false): for users
   * who do not know what to unfreeze. About four runs' time; `trial` events tell which runs;
   * the result lists them (`trials`, `chosenTrial`). No checkpoints are kept. */
  auto?: boolean;
  /** Text only: tokens per text, longer texts are cut (default 128). */
  maxLength?: number;
  /** Images only: augmented views per image (0 to 8, default 0): see `PrepareSettings.augment`. */
  augment?: number;
  /** Images only: whether augmented views may be mirrored (default true). */
  flip?: boolean;
  /** Aborting stops training after the current step and keeps the best weights so far. */
  signal?: AbortSignal;
  /** Called after each epoch with its train and validation metrics. */
  onEpochEnd?: (epoch: EpochReport) => void;
  /** Keep the run's checkpoint in this browser after each epoch (IndexedDB, one per task, deleted
   * when the run ends; a cancelled run keeps it), so that a reload, a crash or a closed tab does
   * not lose it (default true). */
  keepCheckpoints?: boolean;
  /** Go on from the kept checkpoint of this task's unfinished run (see `checkpoint()`), with its
   * settings and the same examples, added in the same order: the result is the uninterrupted
   * run's. Other settings are not allowed beside it (`signal`, `onEpochEnd` and `keepCheckpoints`
   * aside). */
  resume?: boolean;
}

/** A training run's report, with the examples that could not be used. */
export interface TrainResult extends TrainReport {
  /** Images or sound clips that could not be decoded when the examples were last prepared (name
   * and reason); they were left out. */
  skipped: Skipped[];
  /** The engine's memory after training (its peak: wasm memory only grows), in bytes. */
  wasmMemoryBytes: number;
}

/** Speech: how the clips are prepared (the frozen encoder and lower decoder layers run once per
 * clip; their outputs are cached). */
export interface SpeechPrepareSettings {
  /** Decoder layers that train, from the top (1 to 4, default 2). */
  unfreeze?: number;
  signal?: AbortSignal;
}

/** Speech: one training run's settings (defaults: `SpeechFineTuner.defaults`). */
export interface SpeechTrainSettings {
  /** Most epochs (default 5; early stopping on the validation WER may end sooner). */
  epochs?: number;
  /** Decoder layers that train, from the top (1 to 4, default 2). */
  unfreeze?: number;
  /** Learning rate of the decoder's final norm (default 1e-4). */
  learningRate?: number;
  /** Learning rate of the trained decoder layers (default 1e-4). */
  backboneLearningRate?: number;
  /** Share of the clips kept for validation when none is marked `validation` (default 0.2). */
  validationSplit?: number;
  seed?: number;
  /** Clips per step (default 16). */
  batchSize?: number;
  /** Epochs without a better validation WER before stopping (default 3). */
  patience?: number;
  weightDecay?: number;
  /** After training, mix the fine-tuned weights with the pretrained ones (WiSE-FT), the share
   * chosen on the validation clips, to keep more of what Whisper knew (default false: three more
   * validation passes, and a small validation set rarely sees the gain). */
  mixPretrained?: boolean;
  /** Aborting stops training after the current step and keeps the best weights so far. */
  signal?: AbortSignal;
  /** Called after each epoch with its losses, validation WER and sample transcripts. */
  onEpochEnd?: (epoch: SpeechEpochReport) => void;
}

/** Speech: a run's report, with the clips that could not be used. */
export interface SpeechTrainResult extends SpeechReport {
  /** Clips left out (no audio, silent, over 30 s, not decodable, no transcript, …) and why. */
  skipped: Skipped[];
  wasmMemoryBytes: number;
}

/** Whisper tiny.en adapted to your recordings, in its own worker. Calls are answered in order. */
export interface SpeechFineTuner {
  readonly task: 'speech';
  readonly backend: BackendChoice;
  readonly adapter: string;
  readonly defaults: Defaults;
  /** Adds clips with their transcripts; returns how many there are now. */
  addExamples(examples: readonly SpeechExample[]): number;
  /** Adds a long recording cut at its subtitles' cues (WebVTT or SRT) into clips of at most 30 s;
   * bad cues are listed, the rest kept. */
  addRecording(recording: AudioInput, subtitles: string | Blob, options?: { validation?: boolean; name?: string }): Promise<{ added: number; skipped: { line: number; reason: string }[] }>;
  /** The clips `addRecording` would add, without adding them (e.g. to list them first). */
  cutRecording(recording: AudioInput, subtitles: string | Blob, options?: { validation?: boolean; name?: string }): Promise<{ examples: SpeechExample[]; skipped: { line: number; reason: string }[] }>;
  countExamples(): number;
  removeExamples(remove: (example: SpeechExample, index: number) => boolean): number;
  clearExamples(): void;
  /** Why the clips cannot train yet, or null. */
  readiness(): Promise<string | null>;
  /** Prepares the clips now (`caching` events); `train` prepares by itself when needed. */
  prepare(settings?: SpeechPrepareSettings): Promise<Prepared>;
  /** Fine-tunes the top decoder layers (teacher forcing); `speechEpoch` events carry the
   * validation WER. The model kept is the best epoch's, or the pretrained one if none beat it. */
  train(settings?: SpeechTrainSettings): Promise<SpeechTrainResult>;
  pause(): void;
  resume(): void;
  /** The transcript of a recording of any length (30-s windows, `onProgress(done, total)`);
   * `fineTuned` (default: once there is a fine-tuned model) or the pretrained model. */
  transcribe(audio: AudioInput, options?: { fineTuned?: boolean; onProgress?: (done: number, total: number) => void }): Promise<string>;
  /** The fine-tuned decoder layers as one file (safetensors + JSON metadata). */
  export(): Promise<Uint8Array>;
  importModel(model: Uint8Array | ArrayBuffer | Blob): Promise<ModelInfo>;
  keep(name: string): Promise<KeptSummary>;
  listKept(): Promise<KeptSummary[]>;
  loadKept(name: string): Promise<ModelInfo>;
  deleteKept(name: string): Promise<boolean>;
  dispose(): void;
}

/** A fine-tuner for one task, running in its own worker. Calls are answered in order. */
export interface FineTuner<T extends ClassifierTask = ClassifierTask> {
  readonly task: T;
  /** The backend in use and why it was chosen. */
  readonly backend: BackendChoice;
  /** The WebGPU adapter found (`'none'` without one). */
  readonly adapter: string;
  /** What the engine uses for every setting left out: `{preparation: {unfreeze, maxLength},
   * training: {epochs, batchSize, learningRate, backboneLearningRate, validationSplit, …}}`. */
  readonly defaults: Defaults;
  /** Adds labelled examples (kept until `clearExamples`); returns how many there are now. */
  addExamples(examples: readonly ExampleOf<T>[]): number;
  /** Examples per class name (classes without examples: 0). */
  countExamples(): Record<string, number>;
  /** Class names (added by `addClass` or by a first example), sorted: the model's class order. */
  classes(): string[];
  /** Adds a class without examples yet (e.g. to record into); false when it exists. */
  addClass(name: string): boolean;
  /** Removes a class and its examples; returns how many examples went. */
  removeClass(name: string): number;
  /** Relabels a class's examples (merged into `to` when it exists); false when there is no `from`. */
  renameClass(from: string, to: string): boolean;
  /** Removes the examples `remove(example, index)` picks; returns how many went. */
  removeExamples(remove: (example: ExampleOf<T>, index: number) => boolean): number;
  clearExamples(): void;
  /** Why the examples cannot train yet (e.g. a class with one example), or null; checked by the
   * engine without preparing anything. */
  readiness(): Promise<string | null>;
  /** Text: reads a CSV, TSV or JSON Lines file in the worker (streamed; `reading` events) and
   * guesses its text and label columns; the file replaces the examples. */
  loadTable(file: Blob, name?: string): Promise<TableSummary>;
  /** Text: uses these columns of the table (indices), at most `limitPerClass` texts per class. */
  chooseColumns(columns: { text: number; label: number; limitPerClass?: number }): Promise<TextDatasetSummary>;
  /** Text: tokenizes the table's chosen texts at `maxLength` without caching anything. */
  tokenStats(maxLength: number): Promise<{ texts: number; tokens: number; truncated: number; ms: number }>;
  /** Prepares the examples now (`caching` events), so that `train` starts at once; `train`
   * prepares by itself when needed. Nothing is redone when they are already prepared so. */
  prepare(settings?: PrepareSettings): Promise<Prepared>;
  /** Prepares the examples when needed (runs the frozen layers once per example, cached) and
   * fine-tunes. */
  train(settings?: TrainSettings): Promise<TrainResult>;
  /** The checkpoint of this task's unfinished run kept in this browser (null: none), and whether
   * it can go on with the examples held now (`usable`: their classes and number match; the
   * examples themselves are compared when it resumes): then `train({ resume: true })` goes on
   * from its epoch. */
  checkpoint(): Promise<CheckpointStatus | null>;
  /** Forgets the kept checkpoint of this task's unfinished run. */
  discardCheckpoint(): Promise<void>;
  /** A backend check: `steps` training steps of the fine-tuned (or imported) model on the
   * examples (prepared as `unfreeze` / `maxLength` say: the model's), each step's loss and
   * condensed gradients; the model is left as it was. The same model and examples on another
   * backend give the same numbers within rounding (with `dropout: 0`: masks differ). */
  probeGradients(settings?: ProbeSettings): Promise<ProbeStep[]>;
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
