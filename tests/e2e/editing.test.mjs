// The image page as a user edits and steers it: class cards with thumbnails, removing an example
// and a class, renaming a class, adding images to a class (picker and drop on its card); pausing and resuming training; cancelling mid-epoch keeps the best
// epoch's weights for predict and export; a full storage quota (injected) gets its message; then
// the same page on a narrow screen: no horizontal scrolling, and no WCAG 2.1 A/AA violation
// that axe-core finds (control names, text contrast, labels, ARIA).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { accessibilityViolations, browserSuite, onPage } from './browser.mjs';

const WEB = process.env.WEB_DIR ?? 'build/web';
const ARTIFACTS = 'test-results';
const suite = browserSuite(WEB, ARTIFACTS);

const card = (label) => `.class-card[data-label="${label}"]`;

test('images: edit classes, pause/resume, cancel keeps the best epoch, quota message, narrow screen', { timeout: 900_000 }, async (t) => {
  // Fault injection for the quota path: once `failQuota` is set, IndexedDB refuses to store.
  await suite.context.addInitScript(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (...args) {
      if (window.failQuota) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
  });
  await onPage(suite.context, suite.server.url, 'cpu', 'editing', async (page) => {
    await page.click('#sample-button');
    await page.locator('.class-card').nth(9).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator(`${card('Bag')} .thumb img`).count(), 12, 'twelve thumbnails shown');
    assert.equal(await page.locator(`${card('Bag')} .more`).textContent(), '+8 more');
    assert.match(await page.locator(`${card('Bag')} .thumb img`).first().getAttribute('src'), /^blob:/);

    await page.locator(`${card('Bag')} .thumb button`).first().click();
    await page.locator(`${card('Bag')} .class-count`).filter({ hasText: '19 images' }).waitFor();
    await page.locator(`${card('Sandal')} button[data-action="remove-class"]`).click();
    await page.locator(card('Sandal')).waitFor({ state: 'detached' });
    assert.equal(await page.locator('.class-card').count(), 9);

    await page.locator(`${card('Bag')} button[data-action="rename"]`).click();
    await page.locator('.rename-input').fill('Coat');
    await page.locator('.rename-input').press('Enter');
    await page.locator('.error').filter({ hasText: 'There is already a class named "Coat"' }).waitFor();
    await page.locator('.rename-input').fill('Handbag');
    await page.locator('.rename-input').press('Enter');
    await page.locator(card('Handbag')).waitFor();
    assert.equal(await page.locator(card('Bag')).count(), 0);
    // Add images to one class with its picker, and to another by dropping a file on its card.
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click(`${card('Coat')} button[data-action="add-files"]`)]);
    await chooser.setFiles([join(WEB, 'sample', 'Coat', '0000.png'), join(WEB, 'sample', 'Coat', '0001.png')]);
    await page.locator(`${card('Coat')} .class-count`).filter({ hasText: '22 images' }).waitFor();
    await page.evaluate(async (selector) => {
      const blob = await (await fetch('./sample/Bag/0000.png')).blob();
      const data = new DataTransfer();
      data.items.add(new File([blob], 'dropped.png', { type: 'image/png' }));
      document.querySelector(`${selector} .thumbs`).dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, card('Handbag'));
    await page.locator(`${card('Handbag')} .class-count`).filter({ hasText: '20 images' }).waitFor();
    await page.locator('#data-status').filter({ hasText: '182 images ready' }).waitFor({ timeout: 300_000 });

    await page.fill('#epochs', '3');
    await page.fill('#batch-size', '8');
    await page.click('#train-button');
    const progress = page.locator('#progress-text');
    await progress.filter({ hasText: /^Epoch 1, step [2-9]/ }).waitFor({ timeout: 300_000 });
    await page.click('#pause-button');
    await progress.filter({ hasText: /^Paused\./ }).waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1500); // the step under way when Pause was pressed may still finish
    const held = await progress.textContent();
    await page.waitForTimeout(2500);
    assert.equal(await progress.textContent(), held, 'no step ran while paused');
    assert.equal(await page.locator('#pause-button').textContent(), 'Resume');
    await page.click('#pause-button');
    await progress.filter({ hasText: /^Epoch/ }).waitFor({ timeout: 30_000 });

    await progress.filter({ hasText: /^Epoch 2, step/ }).waitFor({ timeout: 300_000 });
    await page.click('#cancel-button');
    const done = page.locator('.info').filter({ hasText: /^Cancelled; kept the weights of epoch \d/ });
    await done.waitFor({ timeout: 60_000 });
    t.diagnostic(await done.textContent());
    assert.equal(await page.evaluate(() => document.body.dataset.trained), 'true');
    const header = await page.locator('#confusion tr').first().textContent();
    assert.match(header, /Handbag/);
    assert.doesNotMatch(header, /Sandal/);

    await page.setInputFiles('#predict-input', join(WEB, 'sample', 'Trouser', '0019.png'));
    await page.locator('#predictions li').first().waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
    assert.match(download.suggestedFilename(), /\.safetensors$/);

    await page.evaluate(() => { window.failQuota = true; });
    await page.click('#keep-button');
    await page.locator('.error').filter({ hasText: /^Not enough storage space in this browser to keep this model \(\d/ }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'editing.png'), fullPage: true });

    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a 375px screen`);
    // WCAG 2.1 A and AA by axe-core (names of controls, text contrast, labels, ARIA, …).
    assert.deepEqual(await accessibilityViolations(page), [], 'WCAG A/AA violations (axe-core)');
    assert.deepEqual(await unreachableByTab(page), [], 'controls that Tab never reaches');
    await page.screenshot({ path: join(ARTIFACTS, 'narrow-screen.png'), fullPage: true });
  });
});

/** Visible, enabled controls that pressing Tab from the top of the page never focuses (a radio
 * group is one stop: its checked radio). */
async function unreachableByTab(page) {
  const expected = await page.evaluate(() => {
    const controls = [...document.querySelectorAll('button, input, select, textarea, [tabindex]:not([tabindex="-1"])')]
      .filter((e) => e.getClientRects().length > 0 && !e.disabled && !(e.type === 'radio' && !e.checked));
    controls.forEach((e, k) => { e.dataset.tabCheck = String(k); });
    document.activeElement?.blur();
    return controls.map((e) => e.id || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40));
  });
  const reached = new Set();
  for (let i = 0; i < expected.length * 2 + 10; i++) {
    await page.keyboard.press('Tab');
    const k = await page.evaluate(() => document.activeElement?.dataset.tabCheck);
    if (k !== undefined) reached.add(Number(k));
    if (reached.size === expected.length) break;
  }
  return expected.filter((_, k) => !reached.has(k));
}
