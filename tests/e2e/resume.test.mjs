// Resume through the npm package in Chromium: a run cancelled after epoch 2 keeps its checkpoint in
// IndexedDB; after a reload of the page (a new worker, a new engine), the same examples resume it
// and the run ends with the uninterrupted run's numbers, to the last bit. The same examples in
// another order are refused by name; a finished run leaves no checkpoint behind. And the demo
// page offers "Resume from epoch N" when its sample is loaded again after a reload.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, openPage, packagePage } from './browser.mjs';

const WEB = process.env.WEB ?? 'build/web';
const suite = browserSuite(WEB, 'test-results');

/** Runs in the page: a text fine-tuner with 24 short reviews (in `order`), and the settings. */
const SETUP = `
  const POS = ['great film', 'loved it', 'wonderful acting', 'a joy', 'brilliant', 'a delight', 'moving and funny', 'superb cast', 'so good', 'a gem', 'charming', 'a triumph'];
  const NEG = ['awful film', 'boring plot', 'hated it', 'a mess', 'dull and slow', 'a waste', 'terrible acting', 'so bad', 'tedious', 'a disaster', 'lifeless', 'painful'];
  const EXAMPLES = [...POS.map((text) => ({ text, label: 'pos' })), ...NEG.map((text) => ({ text, label: 'neg' }))];
  const SETTINGS = { epochs: 4, unfreeze: 1, maxLength: 16, batchSize: 4, patience: 9, learningRate: 3e-3 };
  const numbers = (r) => r.epochs.map((e) => [e.epoch, e.trainLoss, e.trainAccuracy, e.valLoss, e.valAccuracy, e.learningRate]);
  async function tuner(order) {
    const { createFineTuner } = await import('./index.js');
    const events = [];
    const t = await createFineTuner({ task: 'text', backend: 'cpu', modelUrl: './minilm-l6/model.safetensors', tokenizerUrl: './minilm-l6/tokenizer.json', onProgress: (e) => events.push(e) });
    t.addExamples(order ? order.map((i) => EXAMPLES[i]) : EXAMPLES);
    return { t, events };
  }
`;

test('a run cancelled after epoch 2 resumes after a reload to the uninterrupted result', { timeout: 900_000 }, async () => {
  const { page, logs } = await packagePage(suite);
  try {
    const first = await page.evaluate(`(async () => {
      ${SETUP}
      const whole = await tuner();
      const uninterrupted = await whole.t.train(SETTINGS);
      const kept = whole.events.filter((e) => e.type === 'checkpoint').map((e) => [e.epoch, e.bytes]);
      const afterWhole = await whole.t.checkpoint();
      whole.t.dispose();
      // The same run, cancelled once epoch 2 ended.
      const cut = await tuner();
      const abort = new AbortController();
      const cancelled = await cut.t.train({ ...SETTINGS, signal: abort.signal, onEpochEnd: (e) => { if (e.epoch === 2) abort.abort(); } });
      await new Promise((r) => setTimeout(r, 500));
      const status = await cut.t.checkpoint();
      cut.t.dispose();
      return { uninterrupted: numbers(uninterrupted), kept, afterWhole, cancelled: cancelled.stopReason, cancelledEpochs: cancelled.epochs.length, status };
    })()`);
    console.log(JSON.stringify({ ...first, status: { ...first.status, summary: undefined } }));
    assert.deepEqual(first.kept.map((k) => k[0]), [1, 2, 3], 'a checkpoint after each epoch but the last');
    assert.equal(first.afterWhole, null, 'a finished run leaves no checkpoint');
    assert.equal(first.cancelled, 'cancelled');
    assert.equal(first.status.epoch, 2);
    assert.equal(first.status.usable, true, first.status.reason);
    assert.equal(first.status.summary.examples, 24);

    await page.reload();
    const second = await page.evaluate(`(async () => {
      ${SETUP}
      // The same examples in another order: the cheap look says usable, the resume refuses by name.
      const swapped = await tuner([1, 0, ...Array.from({ length: 22 }, (_, i) => i + 2)]);
      let refused = '';
      try { await swapped.t.train({ resume: true }); } catch (e) { refused = e.message; }
      swapped.t.dispose();
      const again = await tuner();
      const status = await again.t.checkpoint();
      const resumed = await again.t.train({ resume: true });
      const event = again.events.find((e) => e.type === 'resumed');
      const after = await again.t.checkpoint();
      let withSettings = '';
      try { await again.t.train({ resume: true, epochs: 9 }); } catch (e) { withSettings = e.message; }
      return { refused, status: status && { epoch: status.epoch, usable: status.usable }, resumed: numbers(resumed), resumedEvent: event && [event.epoch, event.epochs.length], after, withSettings };
    })()`);
    console.log(JSON.stringify(second));
    assert.match(second.refused, /in another order/);
    assert.deepEqual(second.status, { epoch: 2, usable: true });
    assert.deepEqual(second.resumedEvent, [2, 2]);
    assert.deepEqual(second.resumed, first.uninterrupted, 'the resumed run ends as the uninterrupted one');
    assert.equal(second.after, null);
    assert.match(second.withSettings, /takes its checkpoint's settings: leave out epochs/);
  } catch (e) {
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.close();
  }
});

test('page: a cancelled run is offered again after a reload and resumes', { timeout: 900_000 }, async () => {
  const { page, logs } = await openPage(suite.context, suite.server.url, 'cpu');
  try {
    await page.click('#sample-button');
    await page.waitForFunction(() => !document.getElementById('train-button').disabled, null, { timeout: 300_000 });
    // Two blocks train (the default cut): epochs long enough to cancel between them.
    await page.fill('#epochs', '4');
    await page.click('#train-button');
    await page.waitForFunction(() => /^Epoch \d+:/.test(document.getElementById('progress-text').textContent), null, { timeout: 300_000 });
    await page.click('#cancel-button');
    await page.locator('#messages p').filter({ hasText: 'Cancelled' }).first().waitFor({ timeout: 120_000 });
    await page.reload();
    await page.waitForFunction(() => document.getElementById('backend-status')?.dataset.kind, null, { timeout: 120_000 });
    await page.click('#sample-button'); // the same data again
    const offer = page.locator('#resume-button');
    await offer.waitFor({ state: 'visible', timeout: 300_000 });
    assert.match(await offer.textContent(), /^Resume from epoch [234]$/);
    assert.match(await page.locator('#resume-text').textContent(), /epoch \d of 4 done \(200 examples, 10 classes\)/);
    await offer.click();
    await page.locator('#messages p').filter({ hasText: /Training finished after 4 epochs|Stopped early/ }).first().waitFor({ timeout: 600_000 });
    assert.equal(await page.inputValue('#epochs'), '4', 'the form shows the resumed run\'s settings');
    assert.equal(await page.locator('#resume-offer').isHidden(), true, 'a finished run is no longer offered');
  } catch (e) {
    await page.screenshot({ path: 'test-results/resume-page-failed.png', fullPage: true }).catch(() => {});
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.close();
  }
});
