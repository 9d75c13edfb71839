// Scores of a classifier as the package returns them: accuracy, macro F1, the confusion matrix
// and per-class precision, recall and F1. The engine computes them (src/train/metrics.rs); this
// file only shapes them: a training epoch's validation scores, or the engine's `evaluate`.

import type { ClassScores as EngineClassScores, ConfusionMatrix, EngineEvaluation, EpochReport } from './protocol';

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

/** The matrix's rows, from its non-zero cells (the dense `counts` stop at 64 classes). */
function rows(m: ConfusionMatrix): number[][] {
  const out = Array.from({ length: m.classes }, () => new Array<number>(m.classes).fill(0));
  for (const [a, p, n] of m.cells) out[a][p] = n;
  return out;
}

/** The engine's scores on given examples. */
export function evaluationFromEngine(e: EngineEvaluation): Evaluation {
  return {
    source: 'examples', examples: e.examples, accuracy: e.accuracy, macroF1: e.macroF1, classes: e.classes,
    confusion: rows(e.confusion), perClass: e.perClass.map((s, c) => ({ label: e.classes[c], ...s })),
  };
}

/** An epoch's validation scores over `classes`. */
export function evaluationFromEpoch(classes: string[], epoch: EpochReport): Evaluation {
  return {
    source: 'validation', examples: epoch.valConfusion.cells.reduce((sum, [, , n]) => sum + n, 0), accuracy: epoch.valAccuracy,
    macroF1: epoch.valMacroF1, classes, confusion: rows(epoch.valConfusion),
    perClass: epoch.valPerClass.map((s, c) => ({ label: classes[c], ...s })),
  };
}
