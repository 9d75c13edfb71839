// The TF.js peer, text task, in the page: all-MiniLM-L6-v2 built from tf ops on the same weights
// (post-LN BERT layers, 12 heads, erf GELU). Embeddings + layers 0-3 run once per review (cached,
// unpadded, one row per token); layers 4-5 + masked mean pooling + dropout 0.1 + a new head train
// with Adam (head 1e-3, pretrained layers 1e-4; TF.js has no AdamW), 10 % warm-up then cosine,
// batch 32, each batch padded to its longest review. The token ids and the stratified 80/20 split
// come from the PyTorch peer's tokenizer (`torch_peer.py text-data`), so both see the same data;
// tokenising (milliseconds) is not in this peer's caching time.

import * as tf from '@tensorflow/tfjs-core';
import { BATCH, fineTune, scoreBatch } from './fine-tune';
import { matMul2d } from './matmul';
import { readSafetensors, type Weights } from './safetensors';

const CACHE_BATCH = 64;
const HIDDEN = 384;
const HEADS = 12;
const FROZEN = 4;
const LAYERS = 6;

export interface TextData { classes: string[]; labels: number[]; train: number[]; val: number[]; ids: number[][] }
interface Dense { w: tf.Tensor2D; b: tf.Tensor1D }
interface Norm { g: tf.Tensor1D; b: tf.Tensor1D }
interface Layer { q: Dense; k: Dense; v: Dense; o: Dense; ln1: Norm; up: Dense; down: Dense; ln2: Norm }

function dense(p: Weights, name: string, trainable: boolean): Dense {
  const { data: w, shape: [out, inp] } = p.get(`${name}.weight`)!; // [out, in]
  const t = new Float32Array(inp * out);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w[o * inp + i];
  const d = { w: tf.tensor2d(t, [inp, out]), b: tf.tensor1d(p.get(`${name}.bias`)!.data) };
  return trainable ? { w: tf.variable(d.w), b: tf.variable(d.b) } : d;
}

function norm(p: Weights, name: string, trainable: boolean): Norm {
  const n = { g: tf.tensor1d(p.get(`${name}.weight`)!.data), b: tf.tensor1d(p.get(`${name}.bias`)!.data) };
  return trainable ? { g: tf.variable(n.g), b: tf.variable(n.b) } : n;
}

function layerOf(p: Weights, i: number, trainable: boolean): Layer {
  const pre = `encoder.layer.${i}.`;
  const d = (n: string) => dense(p, pre + n, trainable);
  return {
    q: d('attention.self.query'), k: d('attention.self.key'), v: d('attention.self.value'),
    o: d('attention.output.dense'), ln1: norm(p, pre + 'attention.output.LayerNorm', trainable),
    up: d('intermediate.dense'), down: d('output.dense'), ln2: norm(p, pre + 'output.LayerNorm', trainable),
  };
}

const linear = (x: tf.Tensor2D, d: Dense) => tf.add(matMul2d(x, d.w), d.b) as tf.Tensor2D;

function layerNorm(x: tf.Tensor2D, n: Norm): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-12))), n.g), n.b) as tf.Tensor2D;
}

const gelu = (x: tf.Tensor2D) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as tf.Tensor2D;
const drop = (x: tf.Tensor, training: boolean) => (training ? tf.dropout(x, 0.1) : x);

/**
 * One encoder layer.
 * # Shapes
 * - x: [B·T, 384], maskAdd: [B, 1, 1, T] (0 on tokens, -1e9 on padding) → [B·T, 384]
 */
function encoderLayer(l: Layer, x: tf.Tensor2D, maskAdd: tf.Tensor, b: number, t: number, training: boolean): tf.Tensor2D {
  const heads = (y: tf.Tensor2D) => tf.transpose(tf.reshape(y, [b, t, HEADS, HIDDEN / HEADS]), [0, 2, 1, 3]);
  const scores = tf.add(tf.div(tf.matMul(heads(linear(x, l.q)), heads(linear(x, l.k)), false, true), Math.sqrt(HIDDEN / HEADS)), maskAdd);
  const context = tf.matMul(drop(tf.softmax(scores), training), heads(linear(x, l.v)));
  const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [b * t, HIDDEN]) as tf.Tensor2D;
  const h = layerNorm(tf.add(x, drop(linear(merged, l.o), training)) as tf.Tensor2D, l.ln1);
  return layerNorm(tf.add(h, drop(linear(gelu(linear(h, l.up)), l.down), training)) as tf.Tensor2D, l.ln2);
}

/** Additive attention mask and pooling weights for a batch of lengths padded to `t`. */
function masks(lengths: number[], t: number) {
  const keep = new Float32Array(lengths.length * t);
  lengths.forEach((n, k) => keep.fill(1, k * t, k * t + n));
  const keepT = tf.tensor2d(keep, [lengths.length, t]);
  return { keep: keepT, maskAdd: tf.reshape(tf.mul(tf.sub(1, keepT), -1e9), [lengths.length, 1, 1, t]) };
}

export async function textBenchmark(data: TextData, epochs: number) {
  const p = readSafetensors(await (await fetch('/assets/minilm-l6/model.safetensors')).arrayBuffer());
  const word = tf.tensor2d(p.get('embeddings.word_embeddings.weight')!.data, [p.get('embeddings.word_embeddings.weight')!.shape[0], HIDDEN]);
  const position = tf.tensor2d(p.get('embeddings.position_embeddings.weight')!.data, [p.get('embeddings.position_embeddings.weight')!.shape[0], HIDDEN]);
  const type0 = tf.tensor1d(p.get('embeddings.token_type_embeddings.weight')!.data.slice(0, HIDDEN));
  const embNorm = norm(p, 'embeddings.LayerNorm', false);
  const frozen = Array.from({ length: FROZEN }, (_, i) => layerOf(p, i, false));
  const upper = Array.from({ length: LAYERS - FROZEN }, (_, i) => layerOf(p, FROZEN + i, true));
  const classes = data.classes.length;
  const limit = Math.sqrt(6 / (HIDDEN + classes));
  const fc = { w: tf.variable(tf.randomUniform([HIDDEN, classes], -limit, limit, 'float32', 0)), b: tf.variable(tf.zeros([classes])) } as Dense;

  // The frozen part, once per review, shortest first in batches of 64; one row per real token.
  const started = performance.now();
  const n = data.ids.length;
  const used = [...data.train, ...data.val]; // all reviews, or the subset of a smoke test
  const order = used.sort((a, b) => data.ids[a].length - data.ids[b].length);
  const offset = new Int32Array(n);
  const parts: tf.Tensor2D[] = [];
  let rows = 0;
  for (let s = 0; s < order.length; s += CACHE_BATCH) {
    const chunk = order.slice(s, s + CACHE_BATCH);
    const lengths = chunk.map((i) => data.ids[i].length);
    const t = Math.max(...lengths);
    const ids = new Int32Array(chunk.length * t);
    chunk.forEach((i, k) => ids.set(data.ids[i], k * t));
    const real = new Int32Array(lengths.reduce((a, b) => a + b, 0));
    let r = 0;
    lengths.forEach((len, k) => { for (let j = 0; j < len; j++) real[r++] = k * t + j; });
    const out = tf.tidy(() => {
      const e = tf.add(tf.add(tf.reshape(tf.gather(word, tf.tensor1d(ids, 'int32')), [chunk.length, t, HIDDEN]), tf.slice(position, [0, 0], [t, -1])), type0);
      let x = layerNorm(tf.reshape(e, [chunk.length * t, HIDDEN]) as tf.Tensor2D, embNorm);
      const { maskAdd } = masks(lengths, t);
      for (const l of frozen) x = encoderLayer(l, x, maskAdd, chunk.length, t, false);
      return tf.gather(x, tf.tensor1d(real, 'int32')) as tf.Tensor2D;
    });
    await out.data(); // finish the work before timing the next batch
    chunk.forEach((i, k) => { offset[i] = rows; rows += lengths[k]; });
    parts.push(out);
  }
  const cache = tf.concat([...parts, tf.zeros([1, HIDDEN])]) as tf.Tensor2D; // the last row pads
  parts.forEach((t) => t.dispose());
  const cachingPerS = order.length / ((performance.now() - started) / 1000);
  const labels = tf.tensor1d(data.labels, 'int32');

  /** Gathers a batch from the cache, padded to its longest review. */
  const batchOf = (examples: number[]) => {
    const lengths = examples.map((i) => data.ids[i].length);
    const t = Math.max(...lengths);
    const idx = new Int32Array(examples.length * t).fill(rows);
    examples.forEach((i, k) => { for (let j = 0; j < lengths[k]; j++) idx[k * t + j] = offset[i] + j; });
    return { x: tf.gather(cache, tf.tensor1d(idx, 'int32')) as tf.Tensor2D, t, lengths, y: tf.gather(labels, tf.tensor1d(examples, 'int32')) };
  };
  const forward = (batch: ReturnType<typeof batchOf>, training: boolean) => {
    const b = batch.lengths.length;
    const { keep, maskAdd } = masks(batch.lengths, batch.t);
    let x = batch.x;
    for (const l of upper) x = encoderLayer(l, x, maskAdd, b, batch.t, training);
    const k3 = tf.reshape(keep, [b, batch.t, 1]);
    const pooled = tf.div(tf.sum(tf.mul(tf.reshape(x, [b, batch.t, HIDDEN]), k3), 1), tf.sum(k3, 1)) as tf.Tensor2D;
    return linear(drop(pooled, training) as tf.Tensor2D, fc);
  };

  const upperVars = upper.flatMap((l) => [l.q, l.k, l.v, l.o, l.up, l.down].flatMap((d) => [d.w, d.b]).concat([l.ln1.g, l.ln1.b, l.ln2.g, l.ln2.b])) as tf.Variable[];
  const result = await fineTune({
    train: data.train, valCount: data.val.length, epochs, headVars: [fc.w, fc.b] as tf.Variable[], upperVars,
    loss: (ids) => {
      const batch = batchOf(ids);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(batch.y, classes), forward(batch, true)) as tf.Scalar;
    },
    validate: (start, size) => {
      const batch = batchOf(data.val.slice(start, start + size));
      return scoreBatch(forward(batch, false), batch.y, classes);
    },
  });
  return {
    caching_examples_per_s: cachingPerS, ...result,
  };
}
