// What the engine reports: the classifiers' epochs and runs (with the confusion matrix and the
// per-class scores), speech's epochs and runs, and the progress events. Public API, re-exported
// by protocol.ts and index.ts.

/** Counts of (actual, predicted) pairs. `cells`: the non-zero ones as `[actual, predicted, count]`;
 * `counts`: the row-major `classes × classes` matrix, only up to 64 classes (empty beyond). */
export interface ConfusionMatrix { classes: number; cells: [number, number, number][]; counts: number[] }

/** One class's scores; `support`: how many examples of the class there were. */
export interface ClassScores { precision: number; recall: number; f1: number; support: number }

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  trainMacroF1: number;
  valLoss: number;
  valAccuracy: number;
  valMacroF1: number;
  valConfusion: ConfusionMatrix;
  /** Per class, on the validation split. */
  valPerClass: ClassScores[];
  /** The head's learning rate at the end of the epoch. */
  learningRate: number;
  /** @deprecated The same as `learningRate` (its former name); removed in the next version. */
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
  /** The head fitted alone before fine-tuning (`linearProbe`), else null. */
  linearProbe: ProbeReport | null;
  /** The average of the epochs' weights (`averageEpochs`), else null. */
  averaged: AverageReport | null;
  /** The share of the fine-tuned weights in the kept model (the rest: the pretrained upper layers
   * with the probed head; WiSE-FT): 1 when unmixed. */
  fineTunedShare: number;
  /** The mixes tried on the validation split (`mixPretrained`). */
  mixes: MixScore[];
  /** The automatic mode's trials, in order (`auto`; else empty). */
  trials: TrialReport[];
  /** Which of `trials` was kept, from 1 (0 without `auto`). */
  chosenTrial: number;
}

/** One configuration the automatic mode tried (Rust `TrialReport`), scored on the validation
 * split; `backboneLearningRate` 0: the upper layers kept their pretrained weights. */
export interface TrialReport {
  name: string;
  upperLayersTrain: boolean;
  learningRate: number;
  backboneLearningRate: number;
  stopReason: TrainReport['stopReason'];
  bestEpoch: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
}

/** What the linear probe did (Rust `ProbeReport`): the head of `bestEpoch` (by validation loss)
 * was kept; `seconds` includes computing the features once. */
export interface ProbeReport { epochs: number; bestEpoch: number; valLoss: number; valAccuracy: number; seconds: number }

/** The epochs' average (Rust `AverageReport`): `epochs` averaged from the second on; `kept` when
 * its validation loss beat the best epoch's. */
export interface AverageReport { epochs: number; valLoss: number; valAccuracy: number; kept: boolean }

/** A classifier's mix of fine-tuned and pretrained weights, scored on the validation split (Rust
 * `MixScore`); `share`: of the fine-tuned weights. */
export interface MixScore { share: number; valLoss: number; valAccuracy: number }

/** A validation clip's transcript beside the user's. */
export interface TranscriptSample { reference: string; transcript: string }

/** Speech: one epoch's metrics (Rust `SpeechEpochReport`). */
export interface SpeechEpochReport {
  epoch: number;
  /** Mean token cross-entropy (teacher forcing). */
  trainLoss: number;
  valLoss: number;
  /** Word error rate of greedy transcripts of the validation clips (0–1). */
  valWer: number;
  valWordErrors: number;
  valWords: number;
  /** The first validation clips' transcripts. */
  samples: TranscriptSample[];
  /** The final norm's learning rate at the end of the epoch. */
  learningRate: number;
  /** The decoder layers' learning rate at the end of the epoch. */
  backboneLearningRate: number;
  trainExamplesPerSec: number;
  seconds: number;
}

/** Speech: one mix of the fine-tuned and pretrained weights, scored on the validation split
 * (Rust `MixReport`). */
export interface MixReport { share: number; valWer: number; valLoss: number }

/** Speech: a run's summary (Rust `SpeechReport`). `bestEpoch` 0: no epoch beat the pretrained
 * model's validation WER, so its weights were kept. */
export interface SpeechReport {
  stopReason: 'completed' | 'earlyStopped' | 'cancelled' | 'diverged';
  bestEpoch: number;
  zeroShotValWer: number;
  zeroShotValLoss: number;
  bestValWer: number;
  /** The share of the fine-tuned weights in the kept model (the rest pretrained): 1 unmixed. */
  fineTunedShare: number;
  /** The mixes tried on the validation split. */
  mixes: MixReport[];
  message: string;
  warnings: string[];
  epochs: SpeechEpochReport[];
  trainExamples: number;
  valExamples: number;
}

/** Progress events of the Rust engine (`TrainEvent`), plus the worker's own preparation phase. */
export type TrainEvent =
  | { type: 'caching'; done: number; total: number; examplesPerSec: number }
  /** `predict` / `evaluate`: `done` of the `total` inputs classified (one event per batch of 32). */
  | { type: 'predicting'; done: number; total: number; examplesPerSec: number }
  | { type: 'step'; epoch: number; step: number; stepsPerEpoch: number; loss: number; examplesPerSec: number }
  | ({ type: 'epoch' } & EpochReport)
  | { type: 'warning'; message: string }
  | ({ type: 'done' } & TrainReport)
  | ({ type: 'speechEpoch' } & SpeechEpochReport)
  | ({ type: 'speechDone' } & SpeechReport)
  /** Speech: the pretrained model transcribed `done` of the `total` validation clips it had not
   * heard yet (on 30-s windows, as it was trained): the score fine-tuning must beat. */
  | { type: 'baseline'; done: number; total: number }
  /** Speech, after the last epoch: a mix of the fine-tuned and pretrained weights scored (`done`
   * of `total`). */
  | { type: 'mix'; mix: MixReport; done: number; total: number }
  /** Classifiers, before fine-tuning (`linearProbe`): an epoch of the head alone on the pretrained
   * features; it stops before `maxEpochs` when the validation loss stops improving. */
  | { type: 'linearProbeEpoch'; epoch: number; maxEpochs: number; valLoss: number; valAccuracy: number }
  /** Classifiers, after the last epoch (`mixPretrained`): a mix scored (`done` of `total`). */
  | { type: 'mixScored'; mix: MixScore; done: number; total: number }
  | { type: 'trial'; trial: number; trials: number; name: string }
  | { type: 'trialDone'; trial: number; trials: number; report: TrialReport }
  /** The run goes on from its checkpoint after `epoch`; `epochs`: the reports of the epochs done
   * before it (for the curves). */
  | { type: 'resumed'; epoch: number; epochs: EpochReport[] }
  /** The run's checkpoint after `epoch` (`bytes` long) is kept in this browser. */
  | { type: 'checkpoint'; epoch: number; bytes: number };
