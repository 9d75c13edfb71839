// Scores of a classifier from its confusion matrix: accuracy, macro F1 and per-class precision,
// recall and F1. Used by `FineTuner.evaluate` and by the demo page's per-class table.

/** One class's scores. `support`: how many examples of the class there were. */
export interface ClassScores { label: string; precision: number; recall: number; f1: number; support: number }

/** How well the model classifies a set of labelled examples. */
export interface Evaluation {
  /** Where the examples came from: the given ones, or the validation split of the last training. */
  source: 'examples' | 'validation';
  examples: number;
  accuracy: number;
  /** Mean of the per-class F1 scores. */
  macroF1: number;
  classes: string[];
  /** `confusion[actual][predicted]`: counts. */
  confusion: number[][];
  perClass: ClassScores[];
}

/** Precision, recall and F1 of each class from a flat n×n confusion matrix (rows: actual). */
export function perClassScores(counts: readonly number[], n: number): Omit<ClassScores, 'label'>[] {
  return Array.from({ length: n }, (_, c) => {
    const tp = counts[c * n + c];
    const predicted = Array.from({ length: n }, (_, a) => counts[a * n + c]).reduce((x, y) => x + y, 0);
    const support = counts.slice(c * n, c * n + n).reduce((x, y) => x + y, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}

/** The evaluation of a flat n×n confusion matrix over `classes`. */
export function evaluationFromConfusion(source: Evaluation['source'], classes: string[], counts: readonly number[]): Evaluation {
  const n = classes.length;
  const examples = counts.reduce((a, b) => a + b, 0);
  const correct = classes.reduce((sum, _, c) => sum + counts[c * n + c], 0);
  const perClass = perClassScores(counts, n).map((s, c) => ({ label: classes[c], ...s }));
  return {
    source,
    examples,
    accuracy: examples ? correct / examples : 0,
    macroF1: n ? perClass.reduce((sum, s) => sum + s.f1, 0) / n : 0,
    classes,
    confusion: classes.map((_, a) => counts.slice(a * n, a * n + n)),
    perClass,
  };
}
