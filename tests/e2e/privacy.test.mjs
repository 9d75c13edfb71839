// Privacy and safety (text, images, sounds): once the pretrained weights are loaded, preparing data, training,
// prediction, export and import make zero network requests (the worker's requests included),
// and the page runs under its Content-Security-Policy without a single violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserSuite, openPage } from './browser.mjs';

const WEB = process.env.WEB_DIR ?? 'build/web';
const suite = browserSuite(WEB, 'test-results');

/** Opens the page for `task`, recording every http(s)/ws request and every CSP violation. */
async function recordedPage(task) {
  const requests = [];
  const onRequest = (r) => { if (/^(https?|wss?):/.test(r.url())) requests.push(r.url()); };
  suite.context.on('request', onRequest);
  await suite.context.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const { page } = await openPage(suite.context, suite.server.url, 'cpu', task);
  return { page, requests, stop: () => suite.context.off('request', onRequest) };
}

/** Trains, predicts, exports and imports in `page`; `predict` classifies one example. */
async function offlineFlow(page, predict) {
  await page.locator('#train-button:enabled').waitFor({ timeout: 120_000 });
  await page.click('#train-button');
  await page.waitForFunction(() => document.body.dataset.trained === 'true', null, { timeout: 600_000 });
  await predict();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
  const file = join(mkdtempSync(join(tmpdir(), 'finetune-private-')), 'model.safetensors');
  await download.saveAs(file);
  await page.setInputFiles('#import-input', file);
  await page.locator('.info').filter({ hasText: 'Imported a model' }).waitFor({ timeout: 60_000 });
  await predict();
}

test('text: no request after the weights are loaded, no CSP violation', { timeout: 900_000 }, async () => {
  const { page, requests, stop } = await recordedPage('text');
  try {
    assert.ok(requests.some((u) => u.endsWith('/minilm-l6/model.safetensors')), `the worker's weight fetch was not seen: ${requests}`);
    const loaded = requests.length;
    const rows = Array.from({ length: 40 }, (_, i) => `"${i % 2 ? 'a lovely, moving film' : 'a dull, tiresome film'} number ${i}",${i % 2 ? 'pos' : 'neg'}`);
    const csv = join(mkdtempSync(join(tmpdir(), 'finetune-private-')), 'reviews.csv');
    writeFileSync(csv, `text,label\n${rows.join('\n')}\n`);
    await page.setInputFiles('#text-input', csv);
    await page.locator('#data-status').filter({ hasText: '40 texts in 2 classes' }).waitFor({ timeout: 60_000 });
    await page.locator('#unfreeze').selectOption('head');
    await page.fill('#epochs', '1');
    await offlineFlow(page, async () => {
      await page.fill('#predict-text', 'a lovely film');
      await page.click('#predict-text-button');
      await page.locator('#predictions li').nth(1).waitFor({ timeout: 60_000 });
      await page.evaluate(() => { document.getElementById('predictions').innerHTML = ''; });
    });
    assert.deepEqual(requests.slice(loaded), [], 'requests after the weights were loaded');
    assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
    // The policy is really enforced: an injected inline script does not run and is reported.
    const ran = await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.inlineRan = true';
      document.body.append(s);
      return window.inlineRan === true;
    });
    assert.equal(ran, false, 'an inline script ran despite the Content-Security-Policy');
    await page.waitForFunction(() => window.cspViolations.some((v) => v.startsWith('script-src')));
  } finally {
    stop();
    await page.close();
  }
});

test('images: no request after the weights are loaded, no CSP violation', { timeout: 900_000 }, async () => {
  const { page, requests, stop } = await recordedPage('image');
  try {
    assert.ok(requests.some((u) => u.endsWith('/efficientnet-lite0.safetensors')), `the worker's weight fetch was not seen: ${requests}`);
    // On the CPU backend only a CPU engine module is fetched (the threaded one: the suite serves
    // the page cross-origin isolated), never the WebGPU one.
    assert.ok(requests.some((u) => u.endsWith('/burn_finetune_cpu_mt_bg.wasm')), `the threaded CPU module was not fetched: ${requests}`);
    assert.ok(!requests.some((u) => u.endsWith('/burn_finetune_bg.wasm')), 'the WebGPU module was fetched for the CPU backend');
    const loaded = requests.length;
    const root = mkdtempSync(join(tmpdir(), 'finetune-private-'));
    for (const c of ['Bag', 'Trouser']) {
      mkdirSync(join(root, c));
      for (const f of readdirSync(join(WEB, 'sample', c)).slice(0, 4)) cpSync(join(WEB, 'sample', c, f), join(root, c, f));
    }
    await page.locator('#unfreeze').selectOption('head');
    await page.fill('#epochs', '1');
    await page.setInputFiles('#folder-input', root);
    const probe = join(root, 'Bag', readdirSync(join(root, 'Bag'))[0]);
    await offlineFlow(page, async () => {
      await page.setInputFiles('#predict-input', probe);
      await page.locator('#predictions li').nth(1).waitFor({ timeout: 60_000 });
      await page.evaluate(() => { document.getElementById('predictions').innerHTML = ''; });
    });
    assert.deepEqual(requests.slice(loaded), [], 'requests after the weights were loaded');
    assert.deepEqual(await page.evaluate(() => window.cspViolations), []);
    await page.screenshot({ path: join('test-results', 'privacy-images.png'), fullPage: true });
  } finally {
    stop();
    await page.close();
  }
});

test('sounds: no request after the weights are loaded, no CSP violation', { timeout: 900_000 }, async () => {
  const { page, requests, stop } = await recordedPage('audio');
  try {
    assert.ok(requests.some((u) => u.endsWith('/whisper-tiny-en/model.safetensors')), `the worker's weight fetch was not seen: ${requests}`);
    const loaded = requests.length;
    const root = mkdtempSync(join(tmpdir(), 'finetune-private-'));
    for (const c of ['digits', 'phonetic']) {
      mkdirSync(join(root, c));
      for (const f of readdirSync(join(WEB, 'asterisk', c)).slice(0, 4)) cpSync(join(WEB, 'asterisk', c, f), join(root, c, f));
    }
    await page.fill('#epochs', '2');
    await page.setInputFiles('#audio-folder-input', root);
    const probe = join(root, 'digits', readdirSync(join(root, 'digits'))[0]);
    await offlineFlow(page, async () => {
      await page.setInputFiles('#audio-predict-input', probe);
      await page.locator('#predictions li').nth(1).waitFor({ timeout: 60_000 });
      await page.evaluate(() => { document.getElementById('predictions').innerHTML = ''; });
    });
    assert.deepEqual(requests.slice(loaded), [], 'requests after the weights were loaded');
    assert.deepEqual(await page.evaluate(() => window.cspViolations), [], 'the clips\' players (blob: URLs) are allowed');
  } finally {
    stop();
    await page.close();
  }
});
