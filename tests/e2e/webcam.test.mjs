// Teachable-Machine style: with Chromium's fake camera, make two classes, record webcam frames into
// each, train, and classify webcam frames once and live; the camera turns off again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { browserSuite, onPage } from './browser.mjs';

const WEB = process.env.WEB_DIR ?? 'build/web';
const ARTIFACTS = 'test-results';
const suite = browserSuite(WEB, ARTIFACTS, ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);

const card = (label) => `.class-card[data-label="${label}"]`;

test('webcam: record frames into new classes, train, classify frames once and live', { timeout: 600_000 }, async (t) => {
  await onPage(suite.context, suite.server.url, 'cpu', 'webcam', async (page) => {
    await page.click('#webcam-button');
    await page.locator('#webcam-box').waitFor({ state: 'visible', timeout: 30_000 });
    assert.ok(await page.locator('#webcam-video').evaluate((v) => v.videoWidth > 0), 'the preview plays');
    assert.equal(await page.locator('#webcam-button').getAttribute('aria-pressed'), 'true');

    for (const label of ['Left', 'Right']) {
      await page.fill('#new-class', label);
      await page.click('#add-class-form button[type="submit"]');
      await page.locator(card(label)).waitFor();
      await page.locator(`${card(label)} button[data-action="record"]`).click();
      await page.locator('#webcam-status').filter({ hasText: `Added 10 frames to ${label}.` }).waitFor({ timeout: 60_000 });
      assert.equal(await page.locator(`${card(label)} .class-count`).textContent(), '10 images');
      assert.equal(await page.locator(`${card(label)} .thumb img`).count(), 10);
    }
    await page.locator('#data-status').filter({ hasText: '20 images ready' }).waitFor({ timeout: 120_000 });

    await page.selectOption('#unfreeze', 'head');
    await page.fill('#epochs', '2');
    await page.locator('#train-button:enabled').waitFor({ timeout: 60_000 });
    await page.click('#train-button');
    await page.waitForFunction(() => document.body.dataset.trained === 'true', null, { timeout: 300_000 });

    await page.click('#classify-frame');
    await page.locator('#predictions li').first().waitFor({ timeout: 60_000 });
    const labels = await page.locator('#predictions li strong').allTextContents();
    assert.deepEqual([...labels].sort(), ['Left', 'Right']);

    await page.evaluate(() => {
      window.predictionsShown = 0;
      new MutationObserver(() => { window.predictionsShown += 1; }).observe(document.getElementById('predictions'), { childList: true });
    });
    await page.check('#classify-live');
    await page.waitForFunction(() => window.predictionsShown >= 3, null, { timeout: 60_000 });
    await page.uncheck('#classify-live');
    t.diagnostic(`live classification: ${await page.evaluate(() => window.predictionsShown)} frames classified`);
    await page.screenshot({ path: join(ARTIFACTS, 'webcam.png'), fullPage: true });

    await page.click('#webcam-button');
    await page.locator('#webcam-box').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#webcam-video').evaluate((v) => v.srcObject), null, 'the camera is released');
    assert.equal(await page.locator(`${card('Left')} button[data-action="record"]`).count(), 0);
  });
});
