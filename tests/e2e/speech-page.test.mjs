// The page's speech mode, as a user drives it: pick a folder of clips with transcripts (a stray
// file listed, not fatal), record a clip from the microphone (Chromium's fake capture plays an
// Asterisk prompt) and type what it says, train one epoch, then transcribe a file and see the
// pretrained and fine-tuned transcripts side by side; the panel passes axe's WCAG 2.1 A/AA checks;
// the model kept in the browser loads back from the models list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { accessibilityViolations, browserSuite, openPage } from './browser.mjs';

const WEB = process.env.WEB_DIR ?? 'build/web';
const ARTIFACTS = 'test-results';
const PROMPT = resolve('tests/fixtures/whisper-clips/agent-pass.wav');
const suite = browserSuite(WEB, ARTIFACTS, ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  `--use-file-for-fake-audio-capture=${PROMPT}`]);

test('speech page: a folder of clips, a microphone recording, training, transcripts before and after', { timeout: 900_000 }, async () => {
  const folder = mkdtempSync(join(tmpdir(), 'speech-clips-'));
  const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven'];
  words.forEach((word, n) => {
    copyFileSync(resolve(`assets/asterisk/digits/${n}.wav`), join(folder, `${n}.wav`));
    writeFileSync(join(folder, `${n}.txt`), word);
  });
  writeFileSync(join(folder, 'notes.pdf'), '%PDF-1.4');

  const { page, logs } = await openPage(suite.context, suite.server.url, 'cpu', 'speech');
  try {
    await page.waitForFunction(() => document.getElementById('speech-status')?.dataset.kind, null, { timeout: 180_000 });
    assert.ok(await page.locator('#speech-app').isVisible());
    assert.ok(!(await page.locator('#train-button').isVisible()), 'the classifier panels are hidden');

    await page.setInputFiles('#speech-folder-input', folder);
    await page.locator('#speech-data-status').filter({ hasText: '8 clip(s)' }).waitFor({ timeout: 60_000 });
    assert.match(await page.locator('#speech-skipped-list').textContent(), /notes\.pdf: not an audio file/);

    await page.click('#speech-record-button');
    await page.waitForTimeout(3500);
    await page.click('#speech-record-button');
    await page.locator('#speech-add-recording:enabled').waitFor({ timeout: 30_000 });
    await page.fill('#speech-transcript', 'Please enter your password followed by the pound key.');
    await page.click('#speech-add-recording');
    await page.locator('#speech-data-status').filter({ hasText: '9 clip(s)' }).waitFor();

    await page.fill('#speech-epochs', '1');
    await page.click('#speech-train-button');
    await page.locator('#speech-messages p').filter({ hasText: /Training finished|no epoch beat/ }).waitFor({ timeout: 600_000 });
    assert.ok(await page.locator('#speech-samples tr').count() >= 2, 'validation transcripts are shown');
    assert.ok(await page.locator('#speech-export-button:enabled').count() === 1);

    await page.setInputFiles('#speech-try-input', PROMPT);
    await page.locator('[data-transcript="fine-tuned"]').waitFor({ timeout: 300_000 });
    const before = await page.locator('[data-transcript="pretrained"]').textContent();
    const after = await page.locator('[data-transcript="fine-tuned"]').textContent();
    assert.match(before, /password/i);
    assert.match(after, /password/i);

    assert.deepEqual(await accessibilityViolations(page), []);

    // Kept in this browser, listed with the other tasks' models, and loaded back from there:
    // the page switches to speech and imports it.
    await page.click('#speech-keep-button');
    await page.locator('#speech-messages p').filter({ hasText: 'Kept in this browser' }).waitFor({ timeout: 60_000 });
    await page.check('input[name="task"][value="image"]');
    const kept = page.locator('#saved-models li[data-task="speech"]');
    await kept.waitFor({ timeout: 60_000 });
    assert.doesNotMatch(await kept.textContent(), /classes/);
    await kept.locator('button[data-action="load"]').click();
    await page.locator('#speech-messages p').filter({ hasText: 'Imported a fine-tuned' }).waitFor({ timeout: 180_000 });
    assert.ok(await page.locator('#speech-app').isVisible());
  } catch (e) {
    await page.screenshot({ path: join(ARTIFACTS, 'speech-page-failed.png'), fullPage: true }).catch(() => {});
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.close();
  }
});
