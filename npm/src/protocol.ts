// Messages between the engine's worker (worker.ts) and the npm package's wrapper (fine-tuner.ts),
// the worker's one user (the demo page uses the package). Task-neutral: every task answers the
// same messages; only a table file is text's own. The engine's report types
// (reports.ts) are public API.

import type { SentImage } from './images';
import type { ClassScores, ConfusionMatrix, SpeechReport, TrainEvent, TrainReport } from './reports';
export type {
  ConfusionMatrix, ClassScores, EpochReport, TrainReport, TrialReport, ProbeReport, AverageReport, MixScore, TranscriptSample, SpeechEpochReport, MixReport, SpeechReport, TrainEvent,
} from './reports';

export type BackendPreference = 'auto' | 'webgpu' | 'cpu';
/** The classifiers' tasks. */
export type ClassifierTask = 'image' | 'text' | 'audio';
/** `'speech'`: transcription (Whisper tiny.en), not a classifier. */
export type Task = ClassifierTask | 'speech';
export type Unfreeze = 'head' | number;

/** How examples are prepared: what the frozen layers compute once per example and cache
 * (changing any of these prepares them again). Mirrors Rust `Preparation`; each field optional. */
export interface Preparation {
  /** `'head'` or the number of top blocks / encoder layers that train with the head. */
  unfreeze?: Unfreeze;
  /** Text: tokens per text. */
  maxLength?: number;
  /** Images: augmented views cached per image. */
  augment?: number;
  /** Images: whether augmented views may be mirrored. */
  flip?: boolean;
}

/** Training options (each optional: the task's defaults apply). Mirrors Rust `TrainOptions`. */
export interface TrainOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  backboneLearningRate?: number;
  weightDecay?: number;
  validationSplit?: number;
  seed?: number;
  patience?: number;
  warmupShare?: number;
  /** Dropout of the trained layers while training (0.1; images 0). */
  dropout?: number;
  /** Classifiers: label smoothing of the training loss, 0 to 0.5 (validation losses stay plain). */
  labelSmoothing?: number;
  /** Classifiers: fit the head alone on the pretrained upper layers' features first, then
   * fine-tune from it (LP-FT). */
  linearProbe?: boolean;
  /** Classifiers: average the weights of the epochs from the second on (SWA); the average is kept
   * when its validation loss beats the best epoch's. */
  averageEpochs?: boolean;
  /** After training, mix the fine-tuned weights with the pretrained ones (WiSE-FT), the share
   * chosen on the validation split. */
  mixPretrained?: boolean;
  /** Classifiers: the automatic mode (the head alone and head + upper layers at three learning
   * rates tried, the lowest validation loss kept). */
  auto?: boolean;
}

/** One step of a gradient probe (Rust `ProbeStep`): the batch loss before the update, and each
 * trained parameter's gradient condensed to its norm and its dot products with fixed ±1 vectors
 * (the same on every backend: two backends' gradients that differ by Δ differ there by about |Δ|). */
export interface ProbeStep {
  loss: number;
  gradients: { path: string; elements: number; norm: number; projections: number[] }[];
}

/** What a run's checkpoint holds (Rust `CheckpointSummary`). */
export interface CheckpointSummary {
  task: ClassifierTask;
  /** Epochs done, of at most `epochs`. */
  epoch: number;
  epochs: number;
  preparation: Required<Preparation>;
  options: Required<TrainOptions>;
  classes: string[];
  examples: number;
}

/** The checkpoint of an unfinished run kept in this browser: where it stands and whether it can
 * go on with the examples the fine-tuner holds now (`usable`: their classes and number match;
 * `reason`: why not). */
export interface CheckpointStatus {
  epoch: number;
  epochs: number;
  /** ISO 8601 time it was written. */
  savedAt: string;
  /** Null when it cannot be read (another version's). */
  summary: CheckpointSummary | null;
  usable: boolean;
  reason: string | null;
}

/** What the engine uses for every setting left out, per task. */
export interface Defaults { preparation: Required<Preparation>; training: Required<TrainOptions> }

/** A file the engine needs is loading: the engine module (one event, once loaded), the
 * pretrained weights or the tokenizer (every 4 MB). `total`: null when the server does not say;
 * `fromCache`: the bytes come from the copy kept in this browser (unchanged on the server, or the
 * server unreachable), not from the network. */
export interface LoadingEvent { type: 'loading'; file: 'engine' | 'weights' | 'tokenizer' | 'config'; loaded: number; total: number | null; fromCache: boolean }

export interface Prediction { label: string; score: number }

/** The engine's scores of the fine-tuned model on labelled examples (Rust `Evaluation`). */
export interface EngineEvaluation {
  examples: number;
  accuracy: number;
  macroF1: number;
  classes: string[];
  confusion: ConfusionMatrix;
  perClass: ClassScores[];
}

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

/** The labelled texts of the chosen columns; `readiness`: why they cannot train yet, or null. */
export interface TextDatasetSummary {
  classes: string[];
  counts: number[];
  examples: number;
  emptyTexts: number;
  skipped: SkippedRow[];
  skippedTotal: number;
  readiness: string | null;
}

/** The examples the worker holds now: classes (as the engine numbers them), counts, and why they
 * cannot train yet (the engine's rule, checked before anything is prepared), or null. */
export interface ExamplesSummary { classes: string[]; counts: number[]; readiness: string | null }

/** A preparation's outcome. `cancelled`: stopped part way (the cache is not usable); `skipped`:
 * inputs that could not be decoded; `truncated`: texts cut to the maximum length. */
export interface Prepared {
  cancelled: boolean;
  classes: string[];
  counts: number[];
  skipped: Skipped[];
  readiness: string | null;
  cacheBytes: number;
  ms: number;
  wasmMemoryBytes: number;
  truncated: number;
}
export interface Skipped { name: string; reason: string }
/** The backend in use and why; `threads`: training threads (the CPU backend uses one per core on
 * cross-origin isolated pages, else 1; WebGPU: 1). */
export interface BackendChoice { kind: 'webgpu' | 'cpu'; reason: string; threads: number }

/** Audio as handed to the worker: 16 kHz mono samples (the package decodes and resamples);
 * `error`: why the package could not decode it (the worker lists it as skipped). */
export interface SentAudio { samples: Float32Array; error?: string }
/** An input as handed to the worker: an image, a text, or audio. */
export type SentInput = SentImage | string | SentAudio;
/** One example as handed to the worker: the input, a name for messages, its class name (speech:
 * empty) or transcript (speech), and whether it is a fixed validation example (once any is, they
 * replace the random split). */
export interface Example { input: SentInput; name: string; label: string; text?: string; holdout?: boolean }

/** A recording's subtitles cut into segments of at most 30 s (Rust `subtitles::segments`). */
export interface SubtitleSegments {
  segments: { start: number; end: number; text: string }[];
  skipped: { line: number; reason: string }[];
}

export type ToWorker =
  /** `cache`: keep the files loaded in the browser's cache (default true); `assetBase`: where the
   * engine's .wasm files are (default: beside worker.js); `tokenizerUrl`: text and speech;
   * `configUrl`: speech (Whisper's config.json: the tokens decoding never picks). */
  /** `crashChannel`: the name of a BroadcastChannel on which a training thread that traps says
   * so (the engine's worker then waits on it forever and cannot). */
  | { type: 'init'; task: Task; backend: BackendPreference; weightsUrl: string; tokenizerUrl?: string; configUrl?: string; threads?: number; cache?: boolean; assetBase?: string; crashChannel?: string }
  /** The examples, replacing those held (answered by `examples`); `classes`: class names in the
   * engine's order, empty classes included (the examples' other labels follow). */
  | { type: 'examples'; examples: Example[]; classes?: string[] }
  /** Text: stream a CSV/TSV/JSONL file in (answered by `table`); it replaces the examples. */
  | { type: 'load-table'; file: Blob; name: string }
  /** Text: use these columns (indices), at most `limitPerClass` texts per class (0: all). */
  | { type: 'choose-columns'; text: number; label: number; limitPerClass: number }
  /** Text: tokenize the chosen texts without caching (benchmark). */
  | { type: 'token-stats'; maxLength: number }
  /** Caches the frozen layers' outputs of the examples held, unless they already are for this
   * preparation (answered by `prepared`). */
  | { type: 'prepare'; preparation: Preparation }
  /** Prepares as `prepare` does when needed, then trains (answered by `trained`). `keep`: keep
   * each epoch's checkpoint in this browser; `resume`: go on from the kept one instead. */
  | { type: 'train'; preparation: Preparation; options: TrainOptions; keep?: boolean; resume?: boolean }
  /** The kept checkpoint of this task's unfinished run (answered by `checkpoint-status`). */
  | { type: 'checkpoint-status' }
  | { type: 'discard-checkpoint' }
  /** Prepares as `train` does when needed, then runs a gradient probe (answered by `gradients`). */
  | { type: 'probe-gradients'; preparation: Preparation; steps: number; update: boolean; options: TrainOptions }
  | { type: 'cancel' }
  /** Holds training (or preparation) after the current step until `resume` (or `cancel`). */
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'predict'; inputs: SentInput[]; topK: number }
  | { type: 'evaluate'; inputs: SentInput[]; labels: string[] }
  /** Speech: the transcript of 16 kHz audio of any length (answered by `transcript`, with
   * `transcribe-progress` per 30-s window); `fineTuned`: else the pretrained model. */
  | { type: 'transcribe'; audio: Float32Array; fineTuned: boolean }
  /** Speech: a recording's WebVTT/SRT subtitles cut into segments (answered by `subtitles`). */
  | { type: 'subtitles'; text: string }
  /** The fine-tuned model as one file / a file exported before. */
  | { type: 'export' }
  | { type: 'import'; file: Blob }
  /** Test hooks: make the engine panic, or trap without a panic (as out of memory does) on its
   * own thread or a training thread, to check that the page recovers. */
  | { type: 'test-panic' }
  | { type: 'test-trap'; onTrainingThread: boolean };

/** A message with an `id` is answered, once handled, by `settled` with that id. */
export type Request = ToWorker & { id?: number };

export type FromWorker =
  | LoadingEvent
  | { type: 'ready'; task: Task; backend: BackendChoice; adapter: string; loadMs: number; defaults: Defaults }
  | { type: 'examples'; summary: ExamplesSummary }
  | { type: 'table-progress'; bytes: number; total: number; rows: number }
  | { type: 'table'; summary: TableSummary; ms: number }
  | { type: 'text-dataset'; summary: TextDatasetSummary }
  | { type: 'token-stats'; texts: number; tokens: number; truncated: number; ms: number }
  | { type: 'progress'; event: TrainEvent }
  | ({ type: 'prepared' } & Prepared)
  | { type: 'paused'; paused: boolean }
  /** `classes`: the trained model's class names, in its order. */
  | { type: 'trained'; report: TrainReport | SpeechReport; classes: string[]; wasmMemoryBytes: number }
  | { type: 'transcript'; text: string }
  | { type: 'transcribe-progress'; done: number; total: number }
  | ({ type: 'subtitles' } & SubtitleSegments)
  /** Top-k per input, in input order. */
  | { type: 'prediction'; results: Prediction[][] }
  | { type: 'evaluation'; evaluation: EngineEvaluation }
  | { type: 'exported'; bytes: Uint8Array }
  | { type: 'checkpoint-status'; status: CheckpointStatus | null }
  | { type: 'gradients'; steps: ProbeStep[] }
  | { type: 'imported'; info: ModelInfo }
  | { type: 'error'; message: string; fatal: boolean }
  /** Request `id` is handled: `error` says why it failed (null: it succeeded). */
  | { type: 'settled'; id: number; error: string | null };
