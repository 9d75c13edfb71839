// Scores of a classifier as the package returns them: accuracy, macro F1, the confusion matrix
// and per-class precision, recall and F1. The engine computes them (src/train/metrics.rs); this
// file only shapes them: a training epoch's validation scores, or the engine's `evaluate`.

import type { ClassScores as EngineClassScores, EngineEvaluation, EpochReport } from './protocol';

/** One class's scores. `support`: how many examples of the class there were. */
export interface ClassScores extends EngineClassScores { label: string }

/** How well the model classifies a set of labelled examples. */
export interface Evaluation {
  /** Where the examples came from: the given ones, or the validation split of the last training. */
  source: 'examples' | 'validation';
  examples: number;
  accuracy: number;
  /** Mean of the per-class F1 scores (classes that occur). */
  macroF1: number;
  classes: string[];
  /** `confusion[actual][predicted]`: counts. */
  confusion: number[][];
  perClass: ClassScores[];
}

/** Rows of a flat n×n matrix. */
function rows(counts: readonly number[], n: number): number[][] {
  return Array.from({ length: n }, (_, a) => counts.slice(a * n, a * n + n));
}

/** The engine's scores on given examples. */
export function evaluationFromEngine(e: EngineEvaluation): Evaluation {
  return {
    source: 'examples', examples: e.examples, accuracy: e.accuracy, macroF1: e.macroF1, classes: e.classes,
    confusion: rows(e.confusion.counts, e.classes.length), perClass: e.perClass.map((s, c) => ({ label: e.classes[c], ...s })),
  };
}

/** An epoch's validation scores over `classes`. */
export function evaluationFromEpoch(classes: string[], epoch: EpochReport): Evaluation {
  return {
    source: 'validation', examples: epoch.valConfusion.counts.reduce((a, b) => a + b, 0), accuracy: epoch.valAccuracy,
    macroF1: epoch.valMacroF1, classes, confusion: rows(epoch.valConfusion.counts, classes.length),
    perClass: epoch.valPerClass.map((s, c) => ({ label: classes[c], ...s })),
  };
}
