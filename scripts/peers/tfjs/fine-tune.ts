// The TF.js peers' shared training loop, the same recipe as ours and PyTorch's: Adam for the new
// head (1e-3) and the pretrained layers (1e-4) (TF.js has no AdamW), 10 % linear warm-up then
// cosine decay, batch 32, a seeded shuffle each epoch, one loss read per step (as ours), then the
// validation loss and accuracy; the best epoch is the one with the lowest validation loss.

import * as tf from '@tensorflow/tfjs-core';

export const BATCH = 32;

export interface FineTuneSpec {
  /** Training example ids, in the order of the first shuffle. */
  train: number[];
  /** Validation examples. */
  valCount: number;
  epochs: number;
  headVars: tf.Variable[];
  upperVars: tf.Variable[];
  /** Softmax cross-entropy of a batch of training ids (training mode). */
  loss: (ids: number[]) => tf.Scalar;
  /** Summed loss and correct count of validation examples `[start, start + size)`. */
  validate: (start: number, size: number) => [tf.Tensor, tf.Tensor];
}

export async function fineTune(spec: FineTuneSpec) {
  const { train, epochs, headVars, upperVars } = spec;
  const optHead = tf.train.adam(1e-3);
  const optUpper = tf.train.adam(1e-4);
  const n = train.length;
  const steps = Math.ceil(n / BATCH) * epochs;
  const warmup = Math.max(1, Math.round(steps * 0.1));
  const factor = (s: number) => (s < warmup ? (s + 1) / warmup : 0.5 * (1 + Math.cos(Math.PI * Math.min(1, (s - warmup) / Math.max(1, steps - warmup)))));
  const trainStart = performance.now();
  let firstStep: number | null = null;
  let step = 0;
  const epochsOut: { examplesPerS: number; valLoss: number; valAccuracy: number }[] = [];
  const order = [...train];
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let e = 0; e < epochs; e++) {
    for (let k = n - 1; k > 0; k--) { const j = Math.floor(random() * (k + 1)); [order[k], order[j]] = [order[j], order[k]]; }
    const t0 = performance.now();
    for (let s = 0; s < n; s += BATCH) {
      const f = factor(step);
      (optHead as unknown as { learningRate: number }).learningRate = 1e-3 * f;
      (optUpper as unknown as { learningRate: number }).learningRate = 1e-4 * f;
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => spec.loss(order.slice(s, s + BATCH)), [...headVars, ...upperVars]);
        optHead.applyGradients(headVars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        optUpper.applyGradients(upperVars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        return value;
      });
      await loss.data();
      loss.dispose();
      step++;
      firstStep ??= (performance.now() - trainStart) / 1000;
    }
    const seconds = (performance.now() - t0) / 1000;
    let lossSum = 0;
    let correct = 0;
    for (let s = 0; s < spec.valCount; s += BATCH) {
      const [l, c] = tf.tidy(() => spec.validate(s, Math.min(BATCH, spec.valCount - s)));
      lossSum += (await l.data())[0];
      correct += (await c.data())[0];
      l.dispose();
      c.dispose();
    }
    epochsOut.push({ examplesPerS: n / seconds, valLoss: lossSum / spec.valCount, valAccuracy: correct / spec.valCount });
  }
  const best = epochsOut.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
  return { time_to_first_step_s: firstStep, epoch_examples_per_s: epochsOut.map((e) => e.examplesPerS), best_val_accuracy: best.valAccuracy };
}

/** Summed cross-entropy and correct count of `logits` against integer labels `y`. */
export function scoreBatch(logits: tf.Tensor2D, y: tf.Tensor, classes: number): [tf.Tensor, tf.Tensor] {
  return [tf.sum(tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, classes), logits, undefined, undefined, tf.Reduction.NONE)),
    tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32'))];
}
