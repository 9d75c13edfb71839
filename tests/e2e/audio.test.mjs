// The audio task (sound classes on Whisper tiny.en's encoder) in Chromium: through the npm package
// as an app uses it — three classes of Asterisk prompts (numbers, letters, NATO alphabet), a file
// that is not audio listed, held-out accuracy well above chance, the same predictions after export
// and import — and on the page as a user drives it: a folder per class, a class recorded from the
// microphone (Chromium's fake capture), training, classifying a recording, axe's WCAG checks.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { accessibilityViolations, browserSuite, openPage, packagePage } from './browser.mjs';

const WEB = process.env.WEB ?? 'build/web';
const ARTIFACTS = 'test-results';
const PROMPT = resolve('tests/fixtures/whisper-clips/agent-pass.wav');
const suite = browserSuite(WEB, ARTIFACTS, ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  `--use-file-for-fake-audio-capture=${PROMPT}`]);

test('audio package: three sound classes learnt, held-out accuracy above chance, export/import', { timeout: 600_000 }, async () => {
  const { page, logs } = await packagePage(suite);
  try {
    const result = await page.evaluate(async () => {
      const { createFineTuner } = await import('./index.js');
      const options = { task: 'audio', backend: 'cpu', modelUrl: './whisper-tiny-en/model.safetensors' };
      const tuner = await createFineTuner(options);
      const files = (await (await fetch('./asterisk/manifest.csv')).text()).trim().split('\n').slice(1).map((l) => l.split(',')[0]);
      const train = [];
      const test = [];
      for (const label of ['digits', 'letters', 'phonetic']) {
        const mine = files.filter((f) => f.startsWith(`${label}/`));
        for (const [i, f] of mine.slice(0, 32).entries()) {
          const example = { audio: new File([await (await fetch(`./asterisk/${f}`)).blob()], f), label };
          (i % 4 === 3 ? test : train).push(example);
        }
      }
      tuner.addExamples([...train, { audio: new Blob(['this is not audio']), label: 'digits', name: 'notes.txt' }]);
      const epochs = [];
      const trained = await tuner.train({ onEpochEnd: (e) => epochs.push(e.valAccuracy) });
      const scores = await tuner.evaluate(test);
      const clip = test[0].audio;
      const before = await tuner.predict(clip);
      const bytes = await tuner.export();
      tuner.dispose();
      const other = await createFineTuner(options);
      const info = await other.importModel(bytes);
      const after = await other.predict(clip);
      let wrongTask = '';
      try { await other.predict('a text'); } catch (e) { wrongTask = e.message; }
      other.dispose();
      return {
        defaults: other.defaults, epochs, best: trained.bestValAccuracy, skipped: trained.skipped, accuracy: scores.accuracy,
        examples: scores.examples, held: test.length, before, after, info, bytes: bytes.length, wrongTask,
      };
    });
    console.log(JSON.stringify({ ...result, defaults: undefined }).slice(0, 1500));
    assert.equal(result.defaults.preparation.unfreeze, 'head', 'the audio task trains its head by default');
    assert.deepEqual(result.skipped.map((s) => s.name), ['notes.txt']);
    assert.match(result.skipped[0].reason, /not audio/);
    assert.ok(result.best > result.epochs[0], `validation accuracy rises from epoch 1: ${result.epochs}`);
    assert.equal(result.examples, result.held);
    assert.ok(result.held >= 20);
    assert.ok(result.accuracy >= 0.6, `held-out accuracy ${result.accuracy} (three classes: chance 0.33)`);
    assert.equal(result.info.task, 'audio');
    assert.deepEqual(result.after, result.before, 'the imported model predicts the same');
    assert.ok(result.bytes < 100_000, `only the head is stored: ${result.bytes} bytes`);
    assert.match(result.wrongTask, /is not audio/);
  } catch (e) {
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.close();
  }
});

test('audio page: a folder per class, a class recorded from the microphone, training, classifying a recording', { timeout: 600_000 }, async () => {
  const folder = mkdtempSync(join(tmpdir(), 'sound-classes-'));
  for (const label of ['digits', 'phonetic']) {
    mkdirSync(join(folder, label));
    for (const f of readdirSync(resolve(`assets/asterisk/${label}`)).sort().slice(0, 6)) copyFileSync(resolve(`assets/asterisk/${label}/${f}`), join(folder, label, f));
  }
  writeFileSync(join(folder, 'digits', 'notes.pdf'), '%PDF-1.4');

  const { page, logs } = await openPage(suite.context, suite.server.url, 'cpu', 'audio');
  try {
    assert.ok(await page.locator('#audio-dropzone').isVisible());
    assert.ok(!(await page.locator('#dropzone').isVisible()), 'the image drop zone is hidden');
    await page.setInputFiles('#audio-folder-input', folder);
    await page.locator('#messages p').filter({ hasText: '1 file(s) are not audio' }).waitFor({ timeout: 30_000 });
    await page.locator('.audio-class').nth(1).waitFor();

    await page.fill('#audio-new-class', 'my voice');
    await page.click('#audio-add-class-form button[type="submit"]');
    const record = page.getByRole('button', { name: 'Record 2 s into my voice' });
    for (let i = 0; i < 3; i += 1) {
      await record.click();
      await page.locator('#audio-record-status').filter({ hasText: 'Added a recording to my voice' }).waitFor({ timeout: 30_000 });
      await page.locator('#audio-record-status').evaluate((e) => { e.textContent = ''; });
    }
    assert.match(await page.locator('.audio-class[data-label="my voice"] h3').textContent(), /my voice \(3\)/);
    await page.locator('#data-status').filter({ hasText: /15 clips ready/ }).waitFor({ timeout: 120_000 });

    await page.click('#train-button');
    await page.waitForSelector('body[data-trained="true"]', { timeout: 300_000 });
    assert.ok(await page.locator('#confusion tr').count() >= 4, 'a 3-class confusion matrix is drawn');

    await page.click('#audio-predict-record');
    await page.locator('#predictions li').first().waitFor({ timeout: 60_000 });
    assert.match(await page.locator('#predictions li').first().textContent(), /my voice|digits|phonetic/);

    assert.deepEqual(await accessibilityViolations(page), []);
  } catch (e) {
    await page.screenshot({ path: join(ARTIFACTS, 'audio-page-failed.png'), fullPage: true }).catch(() => {});
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.close();
  }
});
