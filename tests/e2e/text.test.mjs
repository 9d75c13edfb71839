// Text mode end to end in headless Chromium: the movie-review sample (CSV) on the CPU backend and
// on WebGPU (SwiftShader), a typed sentence classified, the model exported and imported into a
// fresh page; files that cannot be used get their messages; a 50 MB file is streamed while the
// page stays responsive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserSuite, openPage } from './browser.mjs';

const WEB = process.env.WEB_DIR ?? 'build/web';
const ARTIFACTS = 'test-results';
const suite = browserSuite(WEB, ARTIFACTS);

const openText = (backend) => openPage(suite.context, suite.server.url, backend, 'text');

async function setField(page, id, value) {
  const field = page.locator(`#${id}`);
  if (await field.evaluate((e) => e.tagName === 'SELECT')) await field.selectOption(value);
  else await field.fill(value);
  await field.dispatchEvent('change');
}

/** Drops `url`'s content as a file named `name` onto the text drop zone, as a user's drag would. */
async function dropFile(page, url, name) {
  const dataTransfer = await page.evaluateHandle(async ({ url, name }) => {
    const dt = new DataTransfer();
    dt.items.add(new File([await (await fetch(url)).blob()], name, { type: 'text/csv' }));
    return dt;
  }, { url, name });
  await page.dispatchEvent('#text-dropzone', 'drop', { dataTransfer });
}

async function textRun(backend, via, perClass, settings, t) {
  const { page, logs } = await openText(backend);
  try {
    assert.equal(await page.locator('#backend-status').getAttribute('data-kind'), backend);
    if (via === 'drop') await dropFile(page, './movie-reviews.csv', 'movie-reviews.csv');
    else await page.click('#text-sample-button');
    await page.locator('#data-status').filter({ hasText: '10568 texts in 2 classes' }).waitFor({ timeout: 120_000 });
    assert.equal(await page.locator('#text-column option:checked').textContent(), 'text');
    assert.equal(await page.locator('#label-column option:checked').textContent(), 'label');
    await setField(page, 'limit-per-class', String(perClass));
    await page.locator('#data-status').filter({ hasText: `${2 * perClass} texts in 2 classes` }).waitFor({ timeout: 60_000 });
    for (const [id, value] of Object.entries(settings)) await setField(page, id, value);
    await page.locator('#train-button:enabled').waitFor({ timeout: 60_000 });
    await page.click('#train-button');
    await page.waitForFunction(() => document.body.dataset.trained === 'true', null, { timeout: 1_200_000 });
    const valAccuracy = Number(await page.evaluate(() => document.body.dataset.valAccuracy));
    t.diagnostic(`${backend}: validation accuracy ${(valAccuracy * 100).toFixed(1)}% on ${2 * perClass} snippets`);
    assert.ok(valAccuracy >= 0 && valAccuracy <= 1);
    assert.equal(await page.locator('#confusion tr').count(), 3, 'confusion matrix not drawn');
    assert.match(await page.locator('#per-class').textContent(), /precision.*recall.*F1.*negative.*positive/s);
    await page.fill('#predict-text', 'An absolutely wonderful, moving film with superb acting.');
    await page.click('#predict-text-button');
    await page.locator('#predictions li').nth(1).waitFor({ timeout: 300_000 });
    const labels = await page.locator('#predictions li strong').allTextContents();
    assert.deepEqual([...labels].sort(), ['negative', 'positive']);
    await page.screenshot({ path: join(ARTIFACTS, `text-${backend}.png`), fullPage: true });
    return { page, valAccuracy, labels };
  } catch (e) {
    await page.screenshot({ path: join(ARTIFACTS, `text-${backend}-failed.png`), fullPage: true }).catch(() => {});
    console.log(logs.join('\n'));
    await page.close();
    throw e;
  }
}

test('text: fine-tunes MiniLM on the movie-review sample on the CPU (wasm) backend', { timeout: 1_200_000 }, async (t) => {
  const { page, valAccuracy, labels } = await textRun('cpu', 'sample button', 100, { epochs: '3', 'batch-size': '8', 'max-length': '64' }, t);
  assert.ok(valAccuracy >= 0.6, `validation accuracy ${valAccuracy} is not above chance (0.5)`);
  assert.equal(labels[0], 'positive', 'a clearly positive review was not classified positive');

  // Export the model, import it into a fresh page: the same sentence gets the same scores.
  const predicted = await page.locator('#predictions li').allTextContents();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
  const file = join(mkdtempSync(join(tmpdir(), 'finetune-model-')), 'model.safetensors');
  await download.saveAs(file);
  await page.close();
  const { page: fresh } = await openText('cpu');
  try {
    assert.ok(await fresh.locator('#export-button').isDisabled());
    await fresh.setInputFiles('#import-input', file);
    await fresh.locator('.info').filter({ hasText: 'Imported a model fine-tuned from all-minilm-l6-v2 for 2 classes' }).waitFor({ timeout: 60_000 });
    await fresh.fill('#predict-text', 'An absolutely wonderful, moving film with superb acting.');
    await fresh.click('#predict-text-button');
    await fresh.locator('#predictions li').nth(1).waitFor({ timeout: 60_000 });
    assert.deepEqual(await fresh.locator('#predictions li').allTextContents(), predicted);
  } finally {
    await fresh.close();
  }
  // The image task refuses a text model and says which task it belongs to.
  const { page: images } = await openPage(suite.context, suite.server.url, 'cpu');
  try {
    await images.setInputFiles('#import-input', file);
    await images.locator('.error').filter({ hasText: 'switch to the text task' }).waitFor({ timeout: 60_000 });
  } finally {
    await images.close();
  }
});

test('text: a dropped CSV fine-tunes on WebGPU (SwiftShader, forced)', { timeout: 1_800_000 }, async (t) => {
  // SwiftShader is a software GPU: a small slice, one layer, short texts.
  const { page } = await textRun('webgpu', 'drop', 12, { epochs: '1', 'batch-size': '8', 'max-length': '32', unfreeze: '1' }, t);
  await page.close();
});

/** Writes `text` to a temporary file and returns its path. */
function tmpFile(name, content) {
  const path = join(mkdtempSync(join(tmpdir(), 'finetune-text-')), name);
  writeFileSync(path, content);
  return path;
}

test('text: unusable files get specific messages and Train says why', { timeout: 300_000 }, async () => {
  const { page } = await openText('cpu');
  try {
    await page.setInputFiles('#text-input', tmpFile('reviews.csv', 'A wonderful film from start to finish,positive\nAwful,negative\n'));
    await page.locator('.warning').filter({ hasText: 'looks like data, not a header' }).waitFor({ timeout: 60_000 });
    await page.locator('#train-reason').filter({ hasText: 'Choose the text and label columns' }).waitFor();
    assert.ok(await page.locator('#train-button').isDisabled());

    await page.setInputFiles('#text-input', tmpFile('one.csv', 'text,label\ngood film,pos\ngreat film,pos\n'));
    await page.locator('.error').filter({ hasText: "single class ('pos')" }).waitFor({ timeout: 60_000 });
    await page.locator('#train-reason').filter({ hasText: 'single class' }).waitFor();

    const bytes = Buffer.concat([
      Buffer.from('\uFEFFtext,label\r\n"Funny, and ""smart""",pos\r\n   ,neg\r\nonly a text\r\ndull,neg\r\n'),
      Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2c, 0x6e, 0x65, 0x67, 0x0d, 0x0a]),
      Buffer.from('bright,pos\r\nflat,neg\r\n'),
    ]);
    await page.setInputFiles('#text-input', tmpFile('mixed.csv', bytes));
    await page.locator('#data-status').filter({ hasText: '4 texts in 2 classes. 1 empty text(s) skipped.' }).waitFor({ timeout: 60_000 });
    const skipped = await page.locator('#skipped-list').textContent();
    assert.match(skipped, /line 4: has 1 field\(s\), the header has 2/);
    assert.match(skipped, /line 6: not valid UTF-8 \(byte 0xE9\)/);
    await page.locator('#train-button:enabled').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'text-bad-input.png'), fullPage: true });
  } finally {
    await page.close();
  }
});

test('text: a 50 MB file is streamed and the page stays responsive', { timeout: 600_000 }, async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'finetune-big-')), 'big.csv');
  const out = createWriteStream(path);
  out.write('id,text,label\n');
  let bytes = 0;
  for (let i = 0; bytes < 50e6; i++) {
    const line = `${i},"Review number ${i}: the plot, the acting and the score were ${i % 2 ? 'wonderful' : 'dreadful'} ${'indeed '.repeat(12)}",${i % 2 ? 'pos' : 'neg'}\n`;
    bytes += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const { page } = await openText('cpu');
  try {
    await page.evaluate(() => {
      const w = window;
      w.gaps = [];
      w.statuses = [];
      let last = performance.now();
      w.ticker = setInterval(() => { const now = performance.now(); w.gaps.push(now - last); last = now; }, 50);
      new MutationObserver(() => w.statuses.push(document.getElementById('data-status').textContent))
        .observe(document.getElementById('data-status'), { childList: true, characterData: true, subtree: true });
    });
    await page.setInputFiles('#text-input', path);
    await page.locator('#data-status').filter({ hasText: /^\d+ texts in 2 classes/ }).waitFor({ timeout: 300_000 });
    const { gaps, statuses } = await page.evaluate(() => ({ gaps: window.gaps, statuses: window.statuses }));
    const reading = statuses.filter((s) => /^Reading big\.csv: [\d.]+ of 5\d\.\d MB/.test(s));
    const maxGap = Math.max(...gaps);
    const readIn = statuses.map((s) => /read in ([\d.]+) s/.exec(s)?.[1]).find(Boolean);
    t.diagnostic(`${(bytes / 1e6).toFixed(1)} MB read in ${readIn} s: ${reading.length} progress updates, longest main-thread gap ${maxGap.toFixed(0)} ms`);
    assert.ok(reading.length >= 5, `expected streaming progress, saw ${reading.length} updates`);
    assert.ok(maxGap < 1000, `the page froze for ${maxGap.toFixed(0)} ms`);
    assert.match(await page.locator('#data-status').textContent(), /^\d{6} texts in 2 classes/);
  } finally {
    await page.close();
  }
});

test('text: a model kept in this browser survives a reload, loads from the image task and is deleted', { timeout: 600_000 }, async () => {
  const rows = Array.from({ length: 20 }, (_, i) => `"${i % 2 ? 'a lovely, moving film' : 'a dull, tiresome film'} ${i}",${i % 2 ? 'pos' : 'neg'}`);
  const { page } = await openText('cpu');
  try {
    await page.setInputFiles('#text-input', tmpFile('small.csv', `text,label\n${rows.join('\n')}\n`));
    await page.locator('#data-status').filter({ hasText: '20 texts in 2 classes' }).waitFor({ timeout: 60_000 });
    await page.locator('#unfreeze').selectOption('head');
    await page.fill('#epochs', '1');
    await page.locator('#train-button:enabled').waitFor({ timeout: 60_000 });
    await page.click('#train-button');
    await page.waitForFunction(() => document.body.dataset.trained === 'true', null, { timeout: 300_000 });
    await page.click('#keep-button');
    await page.locator('#saved-models li[data-name]').filter({ hasText: 'Text model: neg, pos' }).waitFor({ timeout: 60_000 });

    // A reload in the image task still lists it; Load switches to the text task and imports it.
    await page.goto(`${suite.server.url}?backend=cpu&task=image`);
    const kept = page.locator('#saved-models li[data-name]');
    await kept.first().waitFor({ timeout: 60_000 });
    assert.equal(await kept.count(), 1);
    await kept.first().locator('button[data-action="load"]').click();
    await page.locator('.info').filter({ hasText: 'Imported a model fine-tuned from all-minilm-l6-v2 for 2 classes' }).waitFor({ timeout: 120_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.task), 'text');
    await page.fill('#predict-text', 'a lovely film');
    await page.click('#predict-text-button');
    await page.locator('#predictions li').nth(1).waitFor({ timeout: 60_000 });

    await page.locator('#saved-models li[data-name] button[data-action="delete"]').click();
    await page.locator('#saved-models li').filter({ hasText: 'None yet.' }).waitFor({ timeout: 30_000 });
  } finally {
    await page.close();
  }
});
