// burn-finetune: fine-tune a pretrained image (EfficientNet-Lite0), text (MiniLM-L6) or sound
// (Whisper tiny.en's encoder) classifier, or adapt a speech recogniser (Whisper tiny.en) to your
// recordings, in the browser, on WebGPU or the CPU, in a worker the package owns. Data never
// leaves the page.

export { createFineTuner } from './fine-tuner';
export { clearCache } from './model-cache';
export { deleteKept, listKept } from './kept-models';
export type {
  AudioExample, ExampleOf, FineTuner, FineTunerEvent, FineTunerFor, FineTunerOptions, ImageExample, InputOf, PrepareSettings, ProbeSettings, SpeechExample, SpeechFineTuner,
  SpeechPrepareSettings, SpeechTrainResult, SpeechTrainSettings, TextExample, TrainResult, TrainSettings,
} from './types';
export type { AudioInput } from './audio';
export type { ClassScores, Evaluation } from './evaluation';
export type { ImageInput } from './images';
export type { KeptSummary } from './kept-models';
export type {
  AverageReport, BackendChoice, BackendPreference, CheckpointStatus, CheckpointSummary, ClassifierTask, ConfusionMatrix, Defaults, EpochReport, LoadingEvent, MixReport, MixScore, ModelInfo, Prediction, Prepared, Preparation, ProbeReport, ProbeStep,
  Skipped, SkippedRow, SpeechEpochReport, SpeechReport, TableSummary, Task, TextDatasetSummary, TrainEvent, TrainOptions, TrainReport, TranscriptSample,
  TrialReport, Unfreeze,
} from './protocol';
