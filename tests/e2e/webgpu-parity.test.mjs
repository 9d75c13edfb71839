// The custom ops' portable bodies (what the GPU runs: attention, layer norm, GELU, dense layers,
// depthwise convolutions, ReLU6) on a real WebGPU implementation (SwiftShader in Chromium) against
// the CPU kernels, through the npm package: a model with 2 unfrozen layers (text) or blocks
// (images) is trained on the CPU engine, exported, imported into a WebGPU engine, and both predict
// the same inputs. The scores must agree within 1e-4 (f32 on both, sums in another order; measured: 7e-6 text, 1e-6 images).
// Forward passes only: the gradients' comparison is still to be written (their dropout masks are
// drawn differently on the two backends).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, packagePage } from './browser.mjs';

const WEB = process.env.WEB ?? 'build/web';
const suite = browserSuite(WEB, 'test-results');
const TOLERANCE = 1e-4;

/** Runs in the page: train on the CPU, predict there and on WebGPU after import. */
async function bothBackends(task) {
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
  const bytes = await cpu.export();
  cpu.dispose();
  const gpu = await createFineTuner({ task, backend: 'webgpu', modelUrl });
  const info = await gpu.importModel(bytes);
  const onGpu = await gpu.predict(probes, { topK: 2 });
  const backend = gpu.backend;
  gpu.dispose();
  return { onCpu, onGpu, backend, unfreeze: info.unfreeze };
}

for (const task of ['text', 'image']) {
  test(`${task}: 2 unfrozen ${task === 'text' ? 'layers' : 'blocks'} predict the same on WebGPU (SwiftShader) as on the CPU`, { timeout: 600_000 }, async () => {
    const { page, logs } = await packagePage(suite);
    try {
      const result = await page.evaluate(bothBackends, task);
      console.log(JSON.stringify(result));
      assert.equal(result.backend.kind, 'webgpu', `a WebGPU engine: ${JSON.stringify(result.backend)}`);
      assert.equal(result.unfreeze, 2);
      let worst = 0;
      result.onCpu.forEach((cpu, i) => {
        const gpu = Object.fromEntries(result.onGpu[i].map((p) => [p.label, p.score]));
        for (const { label, score } of cpu) worst = Math.max(worst, Math.abs(score - gpu[label]));
      });
      console.log(`${task}: largest score difference CPU vs WebGPU ${worst.toExponential(2)}`);
      assert.ok(worst <= TOLERANCE, `scores differ by ${worst}`);
    } catch (e) {
      console.log(logs.join('\n'));
      throw e;
    } finally {
      await page.close();
    }
  });
}
