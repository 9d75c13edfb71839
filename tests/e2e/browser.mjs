// Shared set-up of the browser tests: Debian's Chromium through playwright-core, WebGPU through
// SwiftShader, no network but 127.0.0.1.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { PAGE, serve } from '../../scripts/serve.mjs';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/lib/chromium/chromium';

/** Starts Chromium with a fresh profile, removed when the context closes (each is ~400 MB: the
 * page's kept weights); `extraArgs` e.g. a fake camera. */
export async function launch(extraArgs = []) {
  const profile = mkdtempSync(join(tmpdir(), 'finetune-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', ...extraArgs],
    viewport: { width: 1100, height: 1600 },
  });
  // Chromium may still be writing there when 'close' fires: retry, and never fail a test over it.
  context.on('close', () => { rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }).catch(() => {}); });
  return context;
}

/** Opens the page to drive the npm package in it (`import('./index.js')` in `page.evaluate`),
 * collecting its console: `{ page, logs }`. */
export async function packagePage(suite) {
  const page = await suite.context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  await page.goto(`${suite.server.url}index.html?testHooks=1`);
  return { page, logs };
}

/** Opens the page with a forced backend (and task) and waits for the engine. */
export async function openPage(context, url, backend, task = 'image') {
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  await page.goto(`${url}?backend=${backend}&task=${task}&testHooks=1`);
  await page.waitForFunction(() => document.getElementById('backend-status')?.dataset.kind, null, { timeout: 120_000 });
  return { page, logs };
}

/** Runs `body(page)` on a freshly opened page; on failure saves `test-results/<name>-failed.png`
 * and prints the page's console before rethrowing. */
export async function onPage(context, url, backend, name, body) {
  const { page, logs } = await openPage(context, url, backend);
  try {
    await body(page);
  } catch (e) {
    await page.screenshot({ path: join('test-results', `${name}-failed.png`), fullPage: true }).catch(() => {});
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.close();
  }
}

/** Serves `web` and starts Chromium before a test file's tests, and stops both after them.
 * Screenshots go to `artifacts`. */
export function browserSuite(web, artifacts, extraArgs = []) {
  const suite = { server: null, context: null };
  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    suite.server = await serve(web, { headers: PAGE }); // as the demo: threads on the CPU, the CSP header
    suite.context = await launch(extraArgs);
  });
  after(async () => { await suite.context?.close(); await suite.server?.close(); });
  return suite;
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.1 A and AA violations that axe-core finds in the page as it is now, one line each
 * (rule, the element, the reason). Injected through DevTools, past the page's CSP. */
export async function accessibilityViolations(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const { violations } = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} (${n.failureSummary.replace(/\s+/g, ' ').slice(0, 160)})`));
  });
}
