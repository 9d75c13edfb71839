// The npm package outside this repository: `npm pack` → a separate app (tests/consumer) installs
// the tarball with `npm install ./burn-finetune-*.tgz`, type-checks against its .d.ts, bundles
// with Vite (default settings), and fine-tunes the image model on a few images, then the text
// model on a few sentences, in Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launch } from './browser.mjs';
import { ISOLATED, serve } from '../../scripts/serve.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('the packed package installs, type-checks, bundles with Vite and fine-tunes in Chromium', { timeout: 900_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'finetune-consumer-'));
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], join(ROOT, 'npm')));
  const files = packed.files.map((f) => f.path).sort();
  assert.deepEqual(files.filter((f) => !f.endsWith('.d.ts')),
    ['README.md', 'dist/burn_finetune_bg.wasm', 'dist/burn_finetune_cpu_bg.wasm', 'dist/burn_finetune_cpu_mt_bg.wasm', 'dist/index.js', 'dist/worker.js', 'package.json']);
  assert.ok(files.includes('dist/index.d.ts'), 'types are packed');
  assert.ok(!files.some((f) => f.endsWith('.safetensors')), 'no weights in the package');

  const app = join(work, 'app');
  cpSync(join(ROOT, 'tests/consumer'), app, { recursive: true, filter: (p) => !/node_modules|dist/.test(p) });
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed.filename)], app);
  assert.ok(existsSync(join(app, 'node_modules/burn-finetune/dist/worker.js')));
  run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', app], app);

  const pub = join(app, 'public');
  mkdirSync(join(pub, 'sample'), { recursive: true });
  cpSync(join(ROOT, 'assets/efficientnet-lite0.safetensors'), join(pub, 'efficientnet-lite0.safetensors'));
  for (const label of ['Trouser', 'Bag', 'Sneaker']) cpSync(join(ROOT, 'assets/sample', label), join(pub, 'sample', label), { recursive: true });
  mkdirSync(join(pub, 'minilm-l6'));
  for (const f of ['model.safetensors', 'tokenizer.json']) cpSync(join(ROOT, 'assets/minilm-l6', f), join(pub, 'minilm-l6', f));
  run('npx', ['vite', 'build', '--logLevel', 'warn'], app);
  const assets = readdirSync(join(app, 'dist/assets'));
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 3, `Vite emitted the three engine modules: ${assets}`);

  const server = await serve(join(app, 'dist'));
  let isolated = null;
  const context = await launch();
  try {
    const page = await context.newPage();
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => logs.push(e.message));
    await page.goto(`${server.url}?backend=cpu`);
    await page.waitForFunction(() => window.result, null, { timeout: 600_000 });
    const result = await page.evaluate(() => window.result);
    assert.equal(result.error, undefined, `${result.error}\n${logs.join('\n')}`);
    assert.equal(result.backend.kind, 'cpu');
    assert.equal(result.backend.threads, 1, 'vite preview sends no COOP/COEP: the one-thread engine');
    assert.deepEqual(result.counts, { Trouser: 12, Bag: 12, Sneaker: 12 });
    for (const type of ['loading', 'ready', 'caching', 'step', 'epoch', 'done']) assert.ok(result.events.includes(type), `event ${type}`);
    assert.equal(result.epochs.length, 3);
    assert.equal(result.evaluation.examples, 24);
    assert.ok(result.evaluation.accuracy >= 0.7, `held-out accuracy ${result.evaluation.accuracy}`);
    assert.equal(result.top.length, 2);
    assert.ok(result.modelBytes > 1000);
    const { loadMs, trainMs, evaluateMs } = result.timings;
    console.log(`consumer app: held-out accuracy ${result.evaluation.accuracy.toFixed(3)}, best epoch ${result.report.bestEpoch}; `
      + `createFineTuner ${(loadMs / 1000).toFixed(2)} s, train (36 images: caching + 3 head-only epochs) ${(trainMs / 1000).toFixed(2)} s, `
      + `evaluate 24 images ${(evaluateMs / 1000).toFixed(2)} s; package ${(packed.size / 1e6).toFixed(1)} MB packed `
      + `(${(packed.unpackedSize / 1e6).toFixed(1)} MB unpacked); Vite emitted ${assets.join(', ')}`);
    await page.screenshot({ path: 'test-results/consumer-app.png' });

    // The text task: sentences in, MiniLM fine-tuned (its tokenizer.json found next to the weights).
    await page.goto(`${server.url}?task=text`);
    await page.waitForFunction(() => window.result, null, { timeout: 600_000 });
    const text = await page.evaluate(() => window.result);
    assert.equal(text.error, undefined, `${text.error}\n${logs.join('\n')}`);
    assert.deepEqual(text.classes, ['negative', 'positive']);
    for (const type of ['loading', 'ready', 'caching', 'epoch', 'done']) assert.ok(text.events.includes(type), `text event ${type}`);
    assert.ok(text.fitAccuracy >= 0.8, `accuracy on its own 24 sentences ${text.fitAccuracy}`);
    assert.equal(text.top.label, 'positive');
    assert.deepEqual(text.batch, ['negative', 'positive']);
    assert.ok(text.modelBytes > 1000);
    assert.equal(text.threads, 1);
    console.log(`consumer app, text: accuracy on its 24 training sentences ${text.fitAccuracy.toFixed(3)}, typed review → ${text.top.label} ${text.top.score.toFixed(3)}`);

    // The same app served cross-origin isolated: the worker loads the threaded engine and starts
    // one training thread per core from its own (Vite-emitted) script.
    isolated = await serve(join(app, 'dist'), 0, () => {}, {}, ISOLATED);
    await page.goto(`${isolated.url}?task=text`);
    await page.waitForFunction(() => window.result, null, { timeout: 600_000 });
    const threaded = await page.evaluate(() => window.result);
    assert.equal(threaded.error, undefined, `${threaded.error}\n${logs.join('\n')}`);
    assert.equal(threaded.threads, await page.evaluate(() => navigator.hardwareConcurrency));
    assert.ok(threaded.fitAccuracy >= 0.8, `threaded: accuracy on its own 24 sentences ${threaded.fitAccuracy}`);
    assert.equal(threaded.top.label, 'positive');
    console.log(`consumer app, text, cross-origin isolated: ${threaded.threads} training threads, accuracy ${threaded.fitAccuracy.toFixed(3)}`);
  } finally {
    await context.close();
    await server.close();
    await isolated?.close();
    rmSync(work, { recursive: true, force: true });
  }
});
