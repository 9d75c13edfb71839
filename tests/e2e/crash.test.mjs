// Crashes that are not Rust panics, through the npm package in Chromium: a wasm trap on the
// engine's thread (as out of memory or a stack overflow end) and one on a training thread of the
// threaded engine (the engine's worker waits for that thread forever and cannot report it). Each
// must end the fine-tuner with a fatal error — once a trap was reported as non-fatal and the engine
// answered "busy" ever after; a trap on a training thread hung training silently. And the page:
// a second crash in a row restarts the engine without preparing the examples again by itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, openPage, packagePage } from './browser.mjs';

const WEB = process.env.WEB ?? 'build/web';
const suite = browserSuite(WEB, 'test-results');

for (const onTrainingThread of [false, true]) {
  test(`a trap on ${onTrainingThread ? 'a training thread' : 'the engine thread'} stops the fine-tuner with a fatal error`, { timeout: 300_000 }, async () => {
    const { page, logs } = await packagePage(suite);
    try {
      const result = await page.evaluate(async (onTrainingThread) => {
        const { createFineTuner } = await import('./index.js');
        const errors = [];
        const tuner = await createFineTuner({
          task: 'text', backend: 'cpu', modelUrl: './minilm-l6/model.safetensors',
          onProgress: (e) => { if (e.type === 'error') errors.push(e); },
        });
        const threads = tuner.backend.threads;
        tuner.testTrap(onTrainingThread);
        const deadline = Date.now() + 60_000;
        while (!errors.some((e) => e.fatal) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        let after = '';
        try { await tuner.predict('a text'); } catch (e) { after = e.message; }
        return { threads, errors, after };
      }, onTrainingThread);
      console.log(JSON.stringify(result));
      if (onTrainingThread) assert.ok(result.threads > 1, `the threaded engine runs (cross-origin isolated page): ${result.threads} thread(s)`);
      const fatal = result.errors.find((e) => e.fatal);
      assert.ok(fatal, `a fatal error is reported: ${JSON.stringify(result.errors)}`);
      assert.match(fatal.message, onTrainingThread ? /a training thread crashed \(.*unreachable.*\)/ : /The engine crashed \(.*unreachable.*\)/);
      assert.match(result.after, /engine stopped/, 'later calls fail with the reason instead of "busy" or silence');
    } catch (e) {
      console.log(logs.join('\n'));
      throw e;
    } finally {
      await page.close();
    }
  });
}

test('page: a second crash in a row restarts the engine without preparing the examples again', { timeout: 300_000 }, async () => {
  const { page } = await openPage(suite.context, suite.server.url, 'cpu');
  try {
    for (const time of [1, 2]) {
      await page.evaluate(() => window.dispatchEvent(new Event('finetune:test-panic')));
      await page.locator('.error').filter({ hasText: time === 1 ? 'the engine was restarted' : 'crashed again' }).first().waitFor({ timeout: 60_000 });
      await page.waitForFunction(() => document.getElementById('backend-status')?.textContent?.startsWith('Backend:'), null, { timeout: 120_000 });
    }
    assert.match(await page.locator('.error').filter({ hasText: 'crashed again' }).first().textContent(), /without preparing them/);
  } finally {
    await page.close();
  }
});
