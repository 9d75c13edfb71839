// The custom ops' portable bodies (what the GPU runs: attention, layer norm, GELU, dense layers,
// depthwise convolutions, ReLU6, dropout, the fused AdamW step) on a real WebGPU implementation
// (SwiftShader in Chromium) against the CPU kernels, through the npm package: a model with 2
// unfrozen layers (text) or blocks (images) is trained on the CPU engine, exported, imported into
// a WebGPU engine with the same examples, and
// - both predict the same inputs: scores within 1e-4 (f32 on both, sums in another order);
// - both run the same 3 training steps (`probeGradients`, dropout off: the backends draw their
//   masks differently), and take each of the 12 examples' gradients at the same weights (`update:
//   false`, batches of 1): losses and gradients within GRADIENT_TOLERANCE, relative (the largest
//   difference of a gradient's norm or projections over its norm). Images' gradients jump where a
//   ReLU6 input lies within rounding of 0 or 6 (its derivative is 1 on one backend, 0 on the
//   other): for them the examples' gradients agree in the lower quartile over the examples (a
//   jump hits a quarter to a half of them, a wrong kernel all of them) and the training steps in
//   their losses (tests/gradient_parity.rs measures the jumps: the CPU against itself).
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
/** Each example's gradients at the model's weights. */
const EXAMPLES = { ...PROBE, steps: 12, batchSize: 1, update: false };

/** The largest relative differences of two probes (as Rust's `train::probe::compare`), and per
 * gradient the lower quartile over the steps, the largest of those. */
function compareProbes(a, b) {
  assert.equal(a.length, b.length);
  const d = { loss: 0, gradient: 0, worst: '', quartileGradient: 0, quartileWorst: '', compared: 0 };
  const perGradient = a[0].gradients.map(() => []);
  a.forEach((sa, step) => {
    const sb = b[step];
    const whole = Math.hypot(...sa.gradients.map((g) => g.norm));
    d.loss = Math.max(d.loss, Math.abs(sa.loss - sb.loss) / Math.abs(sa.loss));
    assert.deepEqual(sa.gradients.map((g) => [g.path, g.elements]), sb.gradients.map((g) => [g.path, g.elements]));
    sa.gradients.forEach((ga, i) => {
      const gb = sb.gradients[i];
      const diff = Math.max(Math.abs(ga.norm - gb.norm), ...ga.projections.map((p, k) => Math.abs(p - gb.projections[k]))) / Math.max(ga.norm, FLOOR * whole, 1e-30);
      if (!(diff <= d.gradient)) Object.assign(d, { gradient: diff, worst: `step ${step + 1}, ${ga.path}` });
      perGradient[i].push(diff);
      d.compared += 1;
    });
  });
  perGradient.forEach((diffs, i) => {
    const quartile = diffs.sort((x, y) => x - y)[Math.floor(diffs.length / 4)];
    if (!(quartile <= d.quartileGradient)) Object.assign(d, { quartileGradient: quartile, quartileWorst: a[0].gradients[i].path });
  });
  return d;
}

/** Runs in the page: train on the CPU, predict there and on WebGPU after import. */
async function bothBackends({ task, probe, perExample }) {
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
    // tests/gradient_parity.rs's images: seeded noise around a dark or a light mean (224 × 224,
    // so nothing is resized), then 3 more for predictions.
    let state = 7;
    const images = Array.from({ length: 15 }, (_, i) => {
      const rgba = new Uint8ClampedArray(224 * 224 * 4).fill(255);
      for (let p = 0; p < 224 * 224 * 3; p++) {
        state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
        rgba[Math.floor(p / 3) * 4 + (p % 3)] = (i % 2 === 0 ? 60 : 170) + (state >>> 26);
      }
      return new ImageData(rgba, 224, 224);
    });
    examples = images.slice(0, 12).map((image, i) => ({ image, label: i % 2 ? 'light' : 'dark' }));
    probes = images.slice(12);
  }
  const cpu = await createFineTuner({ task, backend: 'cpu', modelUrl });
  cpu.addExamples(examples);
  await cpu.train({ epochs: 1, batchSize: 4, unfreeze: 2 });
  const onCpu = await cpu.predict(probes, { topK: 2 });
  const cpuSteps = await cpu.probeGradients(probe);
  const cpuAgain = await cpu.probeGradients(probe);
  const cpuExamples = await cpu.probeGradients(perExample);
  const bytes = await cpu.export();
  cpu.dispose();
  const one = await createFineTuner({ task, backend: 'cpu', modelUrl, threads: 1 });
  one.addExamples(examples);
  await one.importModel(bytes);
  const oneExamples = await one.probeGradients(perExample);
  one.dispose();
  const gpu = await createFineTuner({ task, backend: 'webgpu', modelUrl });
  const info = await gpu.importModel(bytes);
  const onGpu = await gpu.predict(probes, { topK: 2 });
  gpu.addExamples(examples);
  const gpuSteps = await gpu.probeGradients(probe);
  const gpuAgain = await gpu.probeGradients(probe);
  const gpuExamples = await gpu.probeGradients(perExample);
  const backend = gpu.backend;
  gpu.dispose();
  return { onCpu, onGpu, backend, unfreeze: info.unfreeze, cpuSteps, cpuAgain, gpuSteps, gpuAgain, oneExamples, cpuExamples, gpuExamples };
}

/** Each task's run (both engines, one page), shared by its two tests. */
const runs = {};
function run(task) {
  runs[task] ??= (async () => {
    const { page, logs } = await packagePage(suite);
    try {
      return await page.evaluate(bothBackends, { task, probe: PROBE, perExample: EXAMPLES });
    } catch (e) {
      console.log(logs.join('\n'));
      throw e;
    } finally {
      await page.close();
    }
  })();
  return runs[task];
}

for (const task of ['text', 'image']) {
  const what = `${task}: 2 unfrozen ${task === 'text' ? 'layers' : 'blocks'}`;
  test(`${what} predict the same on WebGPU (SwiftShader) as on the CPU; each engine repeats its training steps exactly`, { timeout: 600_000 }, async () => {
    const result = await run(task);
    const { cpuSteps, cpuAgain, gpuSteps, gpuAgain, oneExamples, cpuExamples, gpuExamples, ...shown } = result;
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
    // Each example's gradients (training steps would let AdamW amplify the threads' rounding).
    const threads = compareProbes(cpuExamples, oneExamples);
    console.log(`${task}: CPU engine, 2 threads against 1, each example's gradients: loss ${threads.loss.toExponential(1)}, gradient: lower quartile ${threads.quartileGradient.toExponential(1)}, largest ${threads.gradient.toExponential(1)} (${threads.worst})`);
    assert.ok(threads.loss <= 1e-5 && (task === 'text' ? threads.gradient : threads.quartileGradient) <= 1e-5, JSON.stringify(threads));
  });

  test(`${what} train the same on WebGPU (SwiftShader) as on the CPU: each example's gradients, and 3 training steps`, { timeout: 600_000 }, async () => {
    const { cpuSteps, gpuSteps, cpuExamples, gpuExamples } = await run(task);
    const examples = compareProbes(cpuExamples, gpuExamples);
    const first = compareProbes(cpuSteps.slice(0, 1), gpuSteps.slice(0, 1));
    const d = compareProbes(cpuSteps, gpuSteps);
    const e = (x) => x.toExponential(1);
    console.log(`${task}: ${EXAMPLES.steps} examples' gradients at the same weights, CPU against WebGPU: lower quartile over the examples ${e(examples.quartileGradient)} (${examples.quartileWorst}), largest ${e(examples.gradient)} (${examples.worst}), loss ${e(examples.loss)}`);
    console.log(`${task}: ${d.compared} gradients over ${PROBE.steps} training steps: largest relative difference loss ${e(d.loss)}, gradient ${e(d.gradient)} (${d.worst}); first step: loss ${e(first.loss)}, gradient ${e(first.gradient)} (${first.worst})`);
    assert.ok(examples.loss <= GRADIENT_TOLERANCE && examples.quartileGradient <= GRADIENT_TOLERANCE, JSON.stringify(examples));
    assert.ok(first.loss <= GRADIENT_TOLERANCE && d.loss <= LATER_TOLERANCE, JSON.stringify(d));
    if (task === 'text') { // smooth: no kinks
      assert.ok(examples.gradient <= GRADIENT_TOLERANCE, JSON.stringify(examples));
      assert.ok(first.gradient <= GRADIENT_TOLERANCE && d.gradient <= LATER_TOLERANCE, JSON.stringify(d));
    }
  });
}
