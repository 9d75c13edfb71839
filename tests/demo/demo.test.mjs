// The README's demo command, checked (`bash scripts/demo.sh --check`, run by scripts/test.sh):
// `trunk serve` exactly as scripts/demo.sh runs it (Trunk.toml: the pre-build hook builds the
// engine and the page, Trunk copies www/index.html's list and serves it cross-origin isolated),
// on a free port; Chromium opens the page as a user would, takes the sample and trains it for one
// epoch on the threaded CPU engine, and a reload loads the engine and weights from the browser's
// cache; then the server stops. With DEMO_URL set it checks a demo already served there instead
// (e.g. `bash scripts/demo.sh` running in another terminal).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { launch } from '../e2e/browser.mjs';

const ARTIFACTS = 'test-results';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200 with a body that passes `ok`, or `trunk` exits. */
async function waitFor(url, ok, trunk, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (trunk.exitCode !== null) throw new Error(`trunk serve exited with code ${trunk.exitCode} (log: ${ARTIFACTS}/demo-trunk.log)`);
    const response = await fetch(url).catch(() => null);
    if (response?.ok && ok(await response.text())) return response;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`${url} was not served within ${timeoutMs / 60_000} min (log: ${ARTIFACTS}/demo-trunk.log)`);
}

test('the demo command serves the page, which trains the sample on the threaded CPU engine', { timeout: 3_600_000 }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = createWriteStream(join(ARTIFACTS, 'demo-trunk.log'));
  const running = process.env.DEMO_URL;
  // Its own process group, so that stopping it also stops the pre-build hook's cargo.
  const port = running ? null : await freePort();
  const trunk = running ? { exitCode: null } : spawn('trunk', ['serve', '--port', String(port)], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  trunk.stdout?.pipe(log);
  trunk.stderr?.pipe(log);
  const url = running ?? `http://127.0.0.1:${port}/`;
  const started = Date.now();
  let context;
  try {
    // Trunk answers once its first build (the hook's cargo + wasm-bindgen + esbuild) is copied.
    const index = await waitFor(url, (body) => body.includes('main.js'), trunk, 3_000_000);
    t.diagnostic(`trunk serve answered after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    assert.equal(index.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(index.headers.get('cross-origin-embedder-policy'), 'require-corp');

    context = await launch();
    const page = await context.newPage();
    const logs = [];
    page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
    try {
      await page.goto(`${url}?backend=cpu`);
      const status = page.locator('#backend-status');
      await page.waitForFunction(() => document.getElementById('backend-status')?.dataset.kind, null, { timeout: 300_000 });
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'the demo is cross-origin isolated');
      assert.equal(Number(await status.getAttribute('data-threads')), cores, `one training thread per core: ${await status.textContent()}`);
      if (cores > 1) assert.match(await status.textContent(), new RegExp(`on ${cores} threads`));
      t.diagnostic(await status.textContent());

      await page.click('#sample-button');
      await page.fill('#epochs', '1');
      await page.locator('#train-button:enabled').waitFor({ timeout: 600_000 });
      await page.click('#train-button');
      await page.waitForFunction(() => document.body.dataset.trained === 'true', null, { timeout: 1_200_000 });
      const valAccuracy = Number(await page.evaluate(() => document.body.dataset.valAccuracy));
      t.diagnostic(`sample (Fashion-MNIST, 10 classes x 20), one epoch: validation accuracy ${(valAccuracy * 100).toFixed(1)} %`);
      assert.ok(valAccuracy >= 0.2, `validation accuracy ${valAccuracy} is not above chance (0.1)`);
      assert.equal(await page.locator('#confusion tr').count(), 11, 'confusion matrix drawn');
      await page.screenshot({ path: join(ARTIFACTS, 'demo-check.png'), fullPage: true });

      // A second visit: the engine and the weights come from this browser's cache (Trunk answers
      // the revalidation with 304).
      await page.reload();
      await status.filter({ hasText: /^Backend: .* Loaded from this browser's cache in/ }).waitFor({ timeout: 120_000 });
      t.diagnostic(`second visit: ${await status.textContent()}`);
    } catch (e) {
      await page.screenshot({ path: join(ARTIFACTS, 'demo-check-failed.png'), fullPage: true }).catch(() => {});
      console.log(logs.join('\n'));
      throw e;
    }
  } finally {
    await context?.close();
    if (!running) {
      try { process.kill(-trunk.pid, 'SIGTERM'); } catch { /* already gone */ }
      await new Promise((r) => (trunk.exitCode !== null ? r() : trunk.once('exit', r)));
    }
    log.end();
  }
});
