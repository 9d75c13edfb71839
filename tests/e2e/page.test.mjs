// End to end in headless Chromium: drop a folder (with a corrupt and a non-image file), train,
// see curves, confusion matrix and a prediction — once on the CPU backend, once on WebGPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserSuite, onPage, openPage } from './browser.mjs';

const WEB = process.env.WEB_DIR ?? 'build/web';
const ARTIFACTS = 'test-results';
const suite = browserSuite(WEB, ARTIFACTS);

/** A folder of `perClass` sample images for each of `classes`, plus two files to be skipped. */
function dataset(classes, perClass, extras = true) {
  const root = mkdtempSync(join(tmpdir(), 'finetune-data-'));
  for (const c of classes) {
    mkdirSync(join(root, c));
    for (const f of readdirSync(join(WEB, 'sample', c)).slice(0, perClass)) cpSync(join(WEB, 'sample', c, f), join(root, c, f));
  }
  if (extras) {
    writeFileSync(join(root, classes[0], 'notes.txt'), 'not an image');
    writeFileSync(join(root, classes[1], 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  }
  return root;
}

async function fineTuneRun(backend, classes, perClass, settings, t) {
  const { page, logs } = await openPage(suite.context, suite.server.url, backend);
  try {
    assert.equal(await page.locator('#backend-status').getAttribute('data-kind'), backend);
    // The suite serves the page cross-origin isolated, as the demo: the CPU engine runs one
    // training thread per core (the threaded module); WebGPU runs one.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    assert.equal(Number(await page.locator('#backend-status').getAttribute('data-threads')), backend === 'cpu' ? cores : 1);
    await page.setInputFiles('#folder-input', dataset(classes, perClass));
    await page.locator('#skipped-summary').filter({ hasText: '2 file(s) skipped' }).waitFor({ timeout: 600_000 });
    const skipped = await page.locator('#skipped-list').textContent();
    assert.match(skipped, /notes\.txt/);
    assert.match(skipped, /broken\.png/);
    for (const [id, value] of Object.entries(settings)) {
      const field = page.locator(`#${id}`);
      if (await field.evaluate((e) => e.tagName === 'SELECT')) await field.selectOption(value);
      else await field.fill(value);
    }
    await page.locator('#train-button:enabled').waitFor({ timeout: 60_000 });
    await page.click('#train-button');
    await page.waitForFunction(() => document.body.dataset.trained === 'true', null, { timeout: 900_000 });
    const valAccuracy = Number(await page.evaluate(() => document.body.dataset.valAccuracy));
    t.diagnostic(`${backend}: validation accuracy ${(valAccuracy * 100).toFixed(1)}% on ${classes.length} classes`);
    assert.ok(valAccuracy >= Math.max(0.4, 2 / classes.length), `validation accuracy ${valAccuracy} is not well above chance`);
    assert.equal(await page.locator('#confusion tr').count(), classes.length + 1, 'confusion matrix not drawn');
    assert.equal(await page.locator('#per-class tr').count(), classes.length + 1, 'per-class table not drawn');
    await page.setInputFiles('#predict-input', join(WEB, 'sample', classes[0], readdirSync(join(WEB, 'sample', classes[0])).at(-1)));
    await page.locator('#predictions li').first().waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('#predictions li').count(), Math.min(3, classes.length));
    await page.screenshot({ path: join(ARTIFACTS, `finetune-${backend}.png`), fullPage: true });
    if (backend === 'cpu') await exportAndImport(page, classes);
  } catch (e) {
    await page.screenshot({ path: join(ARTIFACTS, `finetune-${backend}-failed.png`), fullPage: true }).catch(() => {});
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.close();
  }
}

/** Exports the trained model and imports it into a fresh page, which then predicts the same. */
async function exportAndImport(page, classes) {
  const predicted = await page.locator('#predictions li').allTextContents();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
  const file = join(mkdtempSync(join(tmpdir(), 'finetune-model-')), 'model.safetensors');
  await download.saveAs(file);
  const { page: fresh } = await openPage(suite.context, suite.server.url, 'cpu');
  try {
    await fresh.setInputFiles('#import-input', file);
    await fresh.locator('.info').filter({ hasText: `fine-tuned from efficientnet-lite0 for ${classes.length} classes` }).waitFor({ timeout: 60_000 });
    await fresh.setInputFiles('#predict-input', join(WEB, 'sample', classes[0], readdirSync(join(WEB, 'sample', classes[0])).at(-1)));
    await fresh.locator('#predictions li').nth(2).waitFor({ timeout: 60_000 });
    assert.deepEqual(await fresh.locator('#predictions li').allTextContents(), predicted);
  } finally {
    await fresh.close();
  }
}

const FASHION = ['Ankle_boot', 'Bag', 'Coat', 'Dress', 'Pullover', 'Sandal', 'Shirt', 'Sneaker', 'T-shirt_top', 'Trouser'];

test('fine-tunes on the CPU (wasm) backend', { timeout: 1_200_000 }, async (t) => {
  await fineTuneRun('cpu', FASHION, 20, { epochs: '2' }, t);
});

test('fine-tunes on WebGPU (SwiftShader, forced)', { timeout: 1_800_000 }, async (t) => {
  // SwiftShader is a software GPU: a small set, head only (the trunk pass dominates), more epochs.
  await fineTuneRun('webgpu', ['Bag', 'Dress', 'Sandal', 'Trouser'], 10, { epochs: '15', 'batch-size': '8', unfreeze: 'head' }, t);
});

test('augmented views and "Choose for me": every trial shown, the kept one reported and predicting', { timeout: 1_200_000 }, async (t) => {
  const classes = ['Bag', 'Dress', 'Sandal', 'Trouser'];
  const { page, logs } = await openPage(suite.context, suite.server.url, 'cpu');
  try {
    await page.setInputFiles('#folder-input', dataset(classes, 8, false));
    await page.locator('#train-button:enabled').waitFor({ timeout: 600_000 });
    await page.fill('#augment', '1');
    await page.check('#auto');
    await page.fill('#epochs', '2');
    await page.click('#train-button');
    await page.waitForFunction(() => document.body.dataset.trained === 'true', null, { timeout: 900_000 });
    const messages = await page.locator('#messages p').allTextContents();
    for (const n of [1, 2, 3, 4]) assert.ok(messages.some((m) => m.startsWith(`Trial ${n} of 4`)), `trial ${n} shown: ${messages.join(' | ')}`);
    const done = messages.find((m) => m.startsWith('Automatic: 4 of 4 configurations tried; kept'));
    assert.ok(done, messages.join(' | '));
    t.diagnostic(done);
    // The kept model predicts (prediction reads the originals, one row per image).
    await page.setInputFiles('#predict-input', join(WEB, 'sample', classes[0], readdirSync(join(WEB, 'sample', classes[0])).at(-1)));
    await page.locator('#predictions li').nth(2).waitFor({ timeout: 120_000 });
  } catch (e) {
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.close();
  }
});

test('a Rust panic in the worker is reported and the page recovers', { timeout: 300_000 }, async () => {
  const { page } = await openPage(suite.context, suite.server.url, 'cpu');
  try {
    await page.evaluate(() => window.dispatchEvent(new Event('finetune:test-panic')));
    await page.locator('.error').filter({ hasText: 'panic' }).waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => document.getElementById('backend-status')?.textContent?.startsWith('Backend:'), null, { timeout: 120_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'panic-recovered.png') });
  } finally {
    await page.close();
  }
});

test('WebGPU failing mid-training (a crashed engine, as on device loss) falls back to the CPU with the data kept', { timeout: 600_000 }, async () => {
  await onPage(suite.context, suite.server.url, 'webgpu', 'webgpu-fallback', async (page) => {
    await page.setInputFiles('#folder-input', dataset(['Bag', 'Trouser'], 4, false));
    await page.selectOption('#unfreeze', 'head');
    await page.fill('#epochs', '200');
    await page.fill('#batch-size', '2');
    await page.locator('#train-button:enabled').waitFor({ timeout: 300_000 });
    await page.click('#train-button');
    await page.locator('#progress-text').filter({ hasText: /^Epoch \d+, step/ }).waitFor({ timeout: 300_000 });
    await page.evaluate(() => window.dispatchEvent(new Event('finetune:test-panic')));
    await page.locator('.error').filter({ hasText: /^WebGPU failed during training \(.*panic.*\)\. Switched to the CPU backend/s }).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#backend').inputValue(), 'cpu');
    await page.locator('#backend-status[data-kind="cpu"]').waitFor({ timeout: 120_000 });
    await page.locator('#data-status').filter({ hasText: '8 images ready' }).waitFor({ timeout: 120_000 });
    await page.fill('#epochs', '2');
    await page.click('#train-button');
    await page.waitForFunction(() => document.body.dataset.trained === 'true', null, { timeout: 300_000 });
  });
});

test('a threaded engine that cannot start (here: its module does not load) leaves training on one thread', { timeout: 600_000 }, async () => {
  const pattern = '**/burn_finetune_cpu_mt_bg.wasm';
  await suite.context.route(pattern, (route) => route.fulfill({ status: 404, body: 'not here' }));
  try {
    await onPage(suite.context, suite.server.url, 'cpu', 'threads-fallback', async (page) => {
      assert.equal(await page.locator('#backend-status').getAttribute('data-kind'), 'cpu');
      assert.equal(await page.locator('#backend-status').getAttribute('data-threads'), '1');
      await page.setInputFiles('#folder-input', dataset(['Bag', 'Trouser'], 4, false));
      await page.selectOption('#unfreeze', 'head');
      await page.fill('#epochs', '2');
      await page.locator('#train-button:enabled').waitFor({ timeout: 300_000 });
      await page.click('#train-button');
      await page.waitForFunction(() => document.body.dataset.trained === 'true', null, { timeout: 300_000 });
    });
  } finally {
    await suite.context.unroute(pattern);
  }
});

test('a drop that cannot train disables Train and says why', { timeout: 300_000 }, async () => {
  const { page } = await openPage(suite.context, suite.server.url, 'cpu');
  try {
    await page.setInputFiles('#folder-input', dataset(['Bag'], 3, false));
    await page.locator('#train-reason').filter({ hasText: 'at least 2 classes' }).waitFor({ timeout: 30_000 });
    assert.ok(await page.locator('#train-button').isDisabled());
    const lonely = dataset(['Bag', 'Sandal'], 3, false);
    for (const f of readdirSync(join(lonely, 'Sandal')).slice(1)) rmSync(join(lonely, 'Sandal', f));
    await page.setInputFiles('#folder-input', lonely);
    await page.locator('#train-reason').filter({ hasText: "Class 'Sandal' has 1 example" }).waitFor({ timeout: 30_000 });
    assert.ok(await page.locator('#train-button').isDisabled());
    // The one-click sample replaces the bad drop.
    await page.click('#sample-button');
    await page.locator('#data-status').filter({ hasText: '200 images in 10 classes' }).waitFor({ timeout: 60_000 });
  } finally {
    await page.close();
  }
});
