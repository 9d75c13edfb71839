// A 2-D matrix product whose gradients transpose explicitly. Measured in TF.js 4.22's wasm backend
// (one thread, [960×384]·[384×1536]): a plain matMul 45 ms, with transposeA 724 ms, with
// transposeB 494 ms, an explicit transpose + plain matMul 46 ms. Autodiff's MatMul gradient uses
// the transposed forms, so both peers use this product on the wasm backend to give TF.js its best.

import * as tf from '@tensorflow/tfjs-core';

// customGrad's typing takes a rest parameter of tensors and the save function.
const explicit = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, [xs, ws]: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/** `x · w` (2-D); on the wasm backend with explicitly transposed gradients. */
export function matMul2d(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return (tf.getBackend() === 'wasm' ? explicit(x, w) : tf.matMul(x, w)) as tf.Tensor2D;
}
