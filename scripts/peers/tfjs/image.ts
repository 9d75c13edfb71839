// The TF.js peer, image task, in the page: EfficientNet-Lite0 built from tf ops on the same
// converted weights (batch-norm folded into the convolutions, as ours), TF "SAME" padding, NHWC.
// The frozen part runs once per image (cached); blocks 14-15 + `_conv_head` + a new head train with
// Adam (head 1e-3, pretrained layers 1e-4; TF.js has no AdamW), 10 % warm-up then cosine, batch 32.
//
// 1×1 convolutions are matrix products (the same arithmetic). TF.js's wasm backend has no kernels
// for the gradients of depthwise convolutions (DepthwiseConv2dNativeBackpropInput/Filter), so there
// the trained blocks' depthwise convolution is written as k×k shifted multiply-adds.

import * as tf from '@tensorflow/tfjs-core';
import { BATCH, fineTune, scoreBatch } from './fine-tune';
import { matMul2d } from './matmul';
import { readSafetensors, type Weights } from './safetensors';

const STAGES: [number, number, number, number, number, number][] = [
  [1, 3, 1, 1, 32, 16], [2, 3, 2, 6, 16, 24], [2, 5, 2, 6, 24, 40], [3, 3, 2, 6, 40, 80],
  [3, 5, 1, 6, 80, 112], [4, 5, 2, 6, 112, 192], [1, 3, 1, 6, 192, 320]];
const UNFROZEN = 2;

interface Conv { w: tf.Tensor; b: tf.Tensor; k: number; stride: number; kind: 'full' | 'pointwise' | 'depthwise'; act: boolean }
interface Block { expand: Conv | null; depthwise: Conv; project: Conv; residual: boolean }

/** A convolution with batch-norm folded in, as tensors in TF layouts. */
function conv(p: Weights, name: string, bn: string, stride: number, kind: Conv['kind'], act: boolean, trainable: boolean): Conv {
  const { data: w, shape } = p.get(`${name}.weight`)!; // [O, I, k, k]
  const [o, i, k] = shape;
  const gamma = p.get(`${bn}.weight`)!.data, beta = p.get(`${bn}.bias`)!.data;
  const mean = p.get(`${bn}.running_mean`)!.data, variance = p.get(`${bn}.running_var`)!.data;
  const scale = Array.from(gamma, (g, c) => g / Math.sqrt(variance[c] + 1e-3));
  const bias = new Float32Array(o).map((_, c) => beta[c] - mean[c] * scale[c]);
  let tensor: tf.Tensor;
  if (kind === 'pointwise') { // [I, O]
    const m = new Float32Array(i * o);
    for (let a = 0; a < o; a++) for (let c = 0; c < i; c++) m[c * o + a] = w[a * i + c] * scale[a];
    tensor = tf.tensor2d(m, [i, o]);
  } else if (kind === 'depthwise') { // [k, k, C, 1]
    const m = new Float32Array(k * k * o);
    for (let c = 0; c < o; c++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) m[(y * k + x) * o + c] = w[c * k * k + y * k + x] * scale[c];
    tensor = tf.tensor4d(m, [k, k, o, 1]);
  } else { // [k, k, I, O]
    const m = new Float32Array(k * k * i * o);
    for (let a = 0; a < o; a++) for (let c = 0; c < i; c++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) {
      m[((y * k + x) * i + c) * o + a] = w[((a * i + c) * k + y) * k + x] * scale[a];
    }
    tensor = tf.tensor4d(m, [k, k, i, o]);
  }
  const b = tf.tensor1d(bias);
  return trainable ? { w: tf.variable(tensor), b: tf.variable(b), k, stride, kind, act } : { w: tensor, b, k, stride, kind, act };
}

/** Depthwise convolution as k×k shifted multiply-adds (stride 1, SAME): differentiable everywhere. */
function depthwiseBySlices(x: tf.Tensor4D, w: tf.Tensor, k: number): tf.Tensor4D {
  const [, h, wd] = x.shape;
  const before = Math.floor((k - 1) / 2);
  const padded = tf.pad(x, [[0, 0], [before, k - 1 - before], [before, k - 1 - before], [0, 0]]);
  let out: tf.Tensor4D | null = null;
  for (let y = 0; y < k; y++) {
    for (let xx = 0; xx < k; xx++) {
      const term = tf.mul(tf.slice(padded, [0, y, xx, 0], [-1, h, wd, -1]), tf.reshape(tf.slice(w, [y, xx, 0, 0], [1, 1, -1, 1]), [-1])) as tf.Tensor4D;
      out = out ? (tf.add(out, term) as tf.Tensor4D) : term;
    }
  }
  return out!;
}

function apply(c: Conv, x: tf.Tensor4D, slices: boolean): tf.Tensor4D {
  let y: tf.Tensor4D;
  if (c.kind === 'pointwise') {
    const [n, h, w, ch] = x.shape;
    y = tf.reshape(matMul2d(tf.reshape(x, [n * h * w, ch]), c.w as tf.Tensor2D), [n, h, w, -1]);
  } else if (c.kind === 'depthwise') {
    y = slices && c.stride === 1 ? depthwiseBySlices(x, c.w, c.k) : tf.depthwiseConv2d(x, c.w as tf.Tensor4D, c.stride, 'same');
  } else {
    y = tf.conv2d(x, c.w as tf.Tensor4D, c.stride, 'same');
  }
  y = tf.add(y, c.b);
  return c.act ? tf.relu6(y) : y;
}

function block(b: Block, x: tf.Tensor4D, slices: boolean): tf.Tensor4D {
  let y = b.expand ? apply(b.expand, x, slices) : x;
  y = apply(b.project, apply(b.depthwise, y, slices), slices);
  return b.residual ? tf.add(y, x) : y;
}

function build(p: Weights, classes: number) {
  const blocks: Block[] = [];
  let i = 0;
  const total = STAGES.reduce((a, s) => a + s[0], 0);
  for (const [repeats, k, stride, expand, cin, cout] of STAGES) {
    for (let r = 0; r < repeats; r++, i++) {
      const t = i >= total - UNFROZEN;
      const pre = `_blocks.${i}.`;
      blocks.push({
        expand: expand !== 1 ? conv(p, pre + '_expand_conv', pre + '_bn0', 1, 'pointwise', true, t) : null,
        depthwise: conv(p, pre + '_depthwise_conv', pre + '_bn1', r === 0 ? stride : 1, 'depthwise', true, t),
        project: conv(p, pre + '_project_conv', pre + '_bn2', 1, 'pointwise', false, t),
        residual: (r === 0 ? stride : 1) === 1 && (r === 0 ? cin : cout) === cout,
      });
    }
  }
  const stem = conv(p, '_conv_stem', '_bn0', 2, 'full', true, false);
  const head = conv(p, '_conv_head', '_bn1', 1, 'pointwise', true, true);
  const limit = Math.sqrt(6 / (1280 + classes));
  const fc = { w: tf.variable(tf.randomUniform([1280, classes], -limit, limit, 'float32', 0)), b: tf.variable(tf.zeros([classes])) };
  return { stem, trunk: blocks.slice(0, total - UNFROZEN), upper: blocks.slice(total - UNFROZEN), head, fc };
}

async function pixels(url: string): Promise<Float32Array> {
  const bitmap = await createImageBitmap(await (await fetch(url)).blob());
  const canvas = new OffscreenCanvas(224, 224);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const side = Math.min(bitmap.width, bitmap.height);
  ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, 224, 224);
  const rgba = ctx.getImageData(0, 0, 224, 224).data;
  const out = new Float32Array(224 * 224 * 3);
  for (let j = 0; j < 224 * 224; j++) for (let c = 0; c < 3; c++) out[j * 3 + c] = (rgba[j * 4 + c] - 127) / 128;
  return out;
}

export async function imageBenchmark(files: { train: [string, number][]; val: [string, number][]; classes: number }, epochs: number) {
  const p = readSafetensors(await (await fetch('/assets/efficientnet-lite0.safetensors')).arrayBuffer());
  const net = build(p, files.classes);
  const slices = !tf.getKernel('DepthwiseConv2dNativeBackpropFilter', tf.getBackend());
  const started = performance.now();
  const cache = async (list: [string, number][]) => {
    const parts: tf.Tensor4D[] = [];
    for (let s = 0; s < list.length; s += BATCH) {
      const chunk = list.slice(s, s + BATCH);
      const data = new Float32Array(chunk.length * 224 * 224 * 3);
      (await Promise.all(chunk.map(([f]) => pixels(f)))).forEach((px, k) => data.set(px, k * 224 * 224 * 3));
      const features = tf.tidy(() => {
        let x = apply(net.stem, tf.tensor4d(data, [chunk.length, 224, 224, 3]), false);
        for (const b of net.trunk) x = block(b, x, false);
        return x;
      });
      await features.data(); // finish the work before timing the next batch
      parts.push(features);
    }
    const all = tf.concat(parts);
    parts.forEach((t) => t.dispose());
    return { x: all, y: tf.tensor1d(list.map(([, y]) => y), 'int32') };
  };
  const train = await cache(files.train);
  const val = await cache(files.val);
  const cachingPerS = (files.train.length + files.val.length) / ((performance.now() - started) / 1000);

  const forward = (x: tf.Tensor4D) => {
    let y = x;
    for (const b of net.upper) y = block(b, y, slices);
    y = apply(net.head, y, slices);
    return tf.add(matMul2d(tf.mean(y, [1, 2]) as tf.Tensor2D, net.fc.w as tf.Tensor2D), net.fc.b) as tf.Tensor2D;
  };
  const upperVars = [...net.upper.flatMap((b) => [b.expand!, b.depthwise, b.project]), net.head].flatMap((c) => [c.w, c.b]) as tf.Variable[];
  const result = await fineTune({
    train: Array.from({ length: files.train.length }, (_, k) => k), valCount: files.val.length, epochs,
    headVars: [net.fc.w, net.fc.b] as tf.Variable[], upperVars,
    loss: (ids) => {
      const idx = tf.tensor1d(ids, 'int32');
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.gather(train.y, idx), files.classes), forward(tf.gather(train.x, idx) as tf.Tensor4D)) as tf.Scalar;
    },
    validate: (start, size) => scoreBatch(forward(tf.slice(val.x, [start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D), tf.slice(val.y, [start], [size]), files.classes),
  });
  return {
    caching_examples_per_s: cachingPerS, ...result,
 depthwise: slices ? 'shifted multiply-adds (no depthwise gradient kernels)' : 'depthwiseConv2d',
  };
}
