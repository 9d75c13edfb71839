// Many inputs at once through the npm package in Chromium, as an app sends them: after training on
// a few images, `evaluate` on 1 000 labelled images and `predict` on 300 (once a crash: the worker
// sent every image to the engine in one call and the trunk ran them as one batch, "capacity
// overflow"). They run in batches of 32 with `predicting` progress, in the memory one batch needs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, packagePage } from './browser.mjs';

const WEB = process.env.WEB ?? 'build/web';
const suite = browserSuite(WEB, 'test-results');

test('1 000 images evaluated and 300 predicted through the package, in batches, with progress', { timeout: 900_000 }, async () => {
  const { page, logs } = await packagePage(suite);
  try {
    const result = await page.evaluate(async () => {
      const { createFineTuner } = await import('./index.js');
      // Dark and light images with noise: two classes anyone can tell apart.
      const canvas = new OffscreenCanvas(64, 64);
      const ctx = canvas.getContext('2d');
      const image = async (i, light) => {
        const base = light ? 190 : 50;
        const pixels = ctx.createImageData(64, 64);
        for (let p = 0; p < pixels.data.length; p += 4) {
          const v = base + ((i * 7919 + p * 31) % 60) - 30;
          pixels.data.set([v, v, v, 255], p);
        }
        ctx.putImageData(pixels, 0, 0);
        return { image: await canvas.convertToBlob({ type: 'image/png' }), label: light ? 'light' : 'dark' };
      };
      const set = async (from, count) => Promise.all(Array.from({ length: count }, (_, k) => image(from + k, k % 2 === 1)));
      const events = [];
      const tuner = await createFineTuner({
        task: 'image', backend: 'cpu', modelUrl: './efficientnet-lite0.safetensors',
        onProgress: (e) => { if (e.type === 'predicting') events.push([e.done, e.total]); },
      });
      tuner.addExamples(await set(0, 24));
      await tuner.train({ epochs: 2, batchSize: 8 });
      const held = await set(10_000, 1000);
      const started = performance.now();
      const scores = await tuner.evaluate(held);
      const evaluateMs = performance.now() - started;
      const evaluateEvents = events.splice(0);
      const predictions = await tuner.predict(held.slice(0, 300).map((ex) => ex.image), { topK: 1 });
      const right = predictions.filter((p, i) => p[0].label === held[i].label).length;
      tuner.dispose();
      return { examples: scores.examples, accuracy: scores.accuracy, confusion: scores.confusion, evaluateMs, evaluateEvents, predictEvents: events, predicted: predictions.length, right };
    });
    console.log(JSON.stringify({ ...result, evaluateEvents: result.evaluateEvents.length, predictEvents: result.predictEvents.length }));
    assert.equal(result.examples, 1000);
    assert.ok(result.accuracy >= 0.9, `dark vs light, held out: accuracy ${result.accuracy}`);
    assert.equal(result.confusion.flat().reduce((a, b) => a + b, 0), 1000);
    assert.equal(result.evaluateEvents.length, Math.ceil(1000 / 32), 'one progress event per batch of 32');
    assert.deepEqual(result.evaluateEvents.at(-1), [1000, 1000]);
    assert.equal(result.predicted, 300);
    assert.deepEqual(result.predictEvents.at(-1), [300, 300]);
    assert.ok(result.right >= 270, `${result.right} of 300 predicted right`);
  } catch (e) {
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.close();
  }
});
