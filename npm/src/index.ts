// burn-finetune: fine-tune a pretrained image (EfficientNet-Lite0) or text (MiniLM-L6) classifier
// in the browser, on WebGPU or the CPU, in a worker the package owns. Data never leaves the page.

export { createFineTuner } from './fine-tuner';
export { clearCache } from './model-cache';
export { deleteKept, listKept } from './kept-models';
export type {
  ExampleOf, FineTuner, FineTunerEvent, FineTunerOptions, ImageExample, InputOf, PrepareSettings, TextExample, TrainResult, TrainSettings,
} from './types';
export type { ClassScores, Evaluation } from './evaluation';
export type { ImageInput } from './images';
export type { KeptSummary } from './kept-models';
export type {
  BackendChoice, BackendPreference, ConfusionMatrix, Defaults, EpochReport, LoadingEvent, ModelInfo, Prediction, Prepared, Preparation, Skipped,
  SkippedRow, TableSummary, Task, TextDatasetSummary, TrainEvent, TrainOptions, TrainReport, Unfreeze,
} from './protocol';
