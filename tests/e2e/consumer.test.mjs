// The npm package outside this repository: `npm pack` → a separate app (tests/consumer) installs
// the tarball with `npm install ./burn-finetune-*.tgz` and type-checks against its .d.ts; then the
// same app, built four ways as people build apps — Vite build, the Vite dev server, webpack 5, and
// no bundler (tsc's output, the package's dist/ copied beside it) — fine-tunes the image model on
// three classes in Chromium, from every kind of image input, and predicts. The Vite build also runs
// the text task, on one thread and cross-origin isolated; the page without a bundler shows that
// the second visit downloads no weights and that the package loads offline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launch } from './browser.mjs';
import { ISOLATED, serve } from '../../scripts/serve.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const work = mkdtempSync(join(tmpdir(), 'finetune-consumer-'));
const app = join(work, 'app');
let packed;

before(() => {
  [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], join(ROOT, 'npm')));
  cpSync(join(ROOT, 'tests/consumer'), app, { recursive: true, filter: (p) => !/node_modules|dist/.test(p) });
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed.filename)], app);
  const pub = join(app, 'public');
  mkdirSync(join(pub, 'sample'), { recursive: true });
  cpSync(join(ROOT, 'assets/efficientnet-lite0.safetensors'), join(pub, 'efficientnet-lite0.safetensors'));
  for (const label of ['Trouser', 'Bag', 'Sneaker']) cpSync(join(ROOT, 'assets/sample', label), join(pub, 'sample', label), { recursive: true });
  mkdirSync(join(pub, 'minilm-l6'));
  for (const f of ['model.safetensors', 'tokenizer.json']) cpSync(join(ROOT, 'assets/minilm-l6', f), join(pub, 'minilm-l6', f));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Opens `url` in a fresh Chromium profile (or `context`) and returns the app's `window.result`;
 * `requests` collects the URLs the page and its workers ask for. */
async function appResult(url, context = null, requests = []) {
  const own = context ? null : await launch();
  const page = await (context ?? own).newPage();
  const record = (r) => requests.push(r.url());
  (context ?? own).on('request', record);
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(e.message));
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.result, null, { timeout: 600_000 });
    const result = await page.evaluate(() => window.result);
    assert.equal(result.error, undefined, `${result.error}\n${logs.join('\n')}`);
    return result;
  } finally {
    (context ?? own).off('request', record);
    await page.close();
    await own?.close();
  }
}

/** What every build of the image flow must show. */
function checkImages(result, setup, t) {
  assert.equal(result.backend.kind, 'cpu');
  assert.deepEqual(result.counts, { Trouser: 12, Bag: 12, Sneaker: 12 }, 'Blob, <img> and <canvas> examples');
  for (const type of ['loading', 'ready', 'caching', 'step', 'epoch', 'done']) assert.ok(result.events.includes(type), `event ${type}`);
  assert.equal(result.epochs.length, 3);
  assert.equal(result.evaluation.examples, 24, 'OffscreenCanvas and ImageBitmap examples evaluated');
  assert.ok(result.evaluation.accuracy >= 0.7, `held-out accuracy ${result.evaluation.accuracy}`);
  assert.equal(result.top.length, 3);
  // A <video> showing the same image (through a video encoder): the same scores, nearly.
  const byLabel = Object.fromEntries(result.fromVideo.map((p) => [p.label, p.score]));
  for (const { label, score } of result.top) assert.ok(Math.abs(byLabel[label] - score) < 0.1, `${label}: file ${score}, video frame ${byLabel[label]}`);
  assert.deepEqual(result.kept, ['consumer test model']);
  assert.deepEqual(result.keptClasses, ['Bag', 'Sneaker', 'Trouser']);
  assert.deepEqual(result.reloaded, result.top[0], 'the kept model, loaded into a new fine-tuner, predicts the same');
  assert.equal(result.deleted, true);
  assert.equal(result.keptAfter, 0);
  assert.ok(result.modelBytes > 1000);
  const { loadMs, trainMs, evaluateMs } = result.timings;
  t.diagnostic(`${setup}: held-out accuracy ${result.evaluation.accuracy.toFixed(3)}; createFineTuner ${(loadMs / 1000).toFixed(2)} s, `
    + `train (36 images: caching + 3 head-only epochs) ${(trainMs / 1000).toFixed(2)} s, evaluate 24 images ${(evaluateMs / 1000).toFixed(2)} s; `
    + `a bag's file → ${result.top[0].label} ${result.top[0].score.toFixed(3)}, as a <video> frame → ${result.fromVideo[0].label} ${result.fromVideo[0].score.toFixed(3)}`);
}

test('the packed package: files, types', () => {
  const files = packed.files.map((f) => f.path).sort();
  assert.deepEqual(files.filter((f) => !f.endsWith('.d.ts')),
    ['LICENSE-APACHE', 'LICENSE-MIT', 'README.md', 'dist/burn_finetune_bg.wasm', 'dist/burn_finetune_cpu_bg.wasm', 'dist/burn_finetune_cpu_mt_bg.wasm',
      'dist/index.js', 'dist/worker.js', 'package.json']);
  assert.ok(files.includes('dist/index.d.ts'), 'types are packed');
  assert.ok(!files.some((f) => f.endsWith('.safetensors')), 'no weights in the package');
  assert.ok(existsSync(join(app, 'node_modules/burn-finetune/dist/worker.js')));
  run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', app], app);
});

test('Vite build: images and text, on one thread and cross-origin isolated', { timeout: 1_800_000 }, async (t) => {
  run('npx', ['vite', 'build', '--logLevel', 'warn'], app);
  const assets = readdirSync(join(app, 'dist/assets'));
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 3, `Vite emitted the three engine modules: ${assets}`);
  const server = await serve(join(app, 'dist'));
  const isolated = await serve(join(app, 'dist'), { headers: ISOLATED });
  const context = await launch();
  try {
    const images = await appResult(`${server.url}?backend=cpu`, context);
    checkImages(images, 'Vite build', t);
    assert.equal(images.backend.threads, 1, 'vite preview sends no COOP/COEP: the one-thread engine');
    t.diagnostic(`package ${(packed.size / 1e6).toFixed(1)} MB packed (${(packed.unpackedSize / 1e6).toFixed(1)} MB unpacked); Vite emitted ${assets.join(', ')}`);

    // The text task: sentences in, MiniLM fine-tuned (its tokenizer.json found next to the weights).
    const text = await appResult(`${server.url}?task=text`, context);
    assert.deepEqual(text.classes, ['negative', 'positive']);
    for (const type of ['loading', 'ready', 'caching', 'epoch', 'done']) assert.ok(text.events.includes(type), `text event ${type}`);
    assert.ok(text.fitAccuracy >= 0.8, `accuracy on its own 24 sentences ${text.fitAccuracy}`);
    assert.equal(text.top.label, 'positive');
    assert.deepEqual(text.batch, ['negative', 'positive']);
    assert.ok(text.modelBytes > 1000);
    assert.equal(text.threads, 1);
    t.diagnostic(`text: accuracy on its 24 training sentences ${text.fitAccuracy.toFixed(3)}, typed review → ${text.top.label} ${text.top.score.toFixed(3)}`);

    // Cross-origin isolated: the worker loads the threaded engine and starts one training thread
    // per core from its own (Vite-emitted) script.
    const threaded = await appResult(`${isolated.url}?task=text`, context);
    const probe = await context.newPage();
    assert.equal(threaded.threads, await probe.evaluate(() => navigator.hardwareConcurrency));
    await probe.close();
    assert.ok(threaded.fitAccuracy >= 0.8, `threaded: accuracy on its own 24 sentences ${threaded.fitAccuracy}`);
    assert.equal(threaded.top.label, 'positive');
    t.diagnostic(`text, cross-origin isolated: ${threaded.threads} training threads, accuracy ${threaded.fitAccuracy.toFixed(3)}`);
  } finally {
    await context.close();
    await server.close();
    await isolated.close();
  }
});

test('Vite dev server (dependencies pre-bundled into node_modules/.vite/deps): no configuration needed', { timeout: 900_000 }, async (t) => {
  const port = 41000 + Math.floor(Math.random() * 2000);
  const vite = spawn('npx', ['vite', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: app, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  vite.stdout.on('data', (d) => { output += d; });
  vite.stderr.on('data', (d) => { output += d; });
  try {
    const url = `http://127.0.0.1:${port}/`;
    for (let i = 0; i < 120 && !(await fetch(url).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 500));
    const requests = [];
    const result = await appResult(`${url}?backend=cpu`, null, requests).catch((e) => { throw new Error(`${e.message}\nvite: ${output}`); });
    checkImages(result, 'Vite dev server', t);
    const path = (u) => new URL(u).pathname;
    assert.ok(requests.some((u) => path(u).startsWith('/node_modules/.vite/deps/burn-finetune')), 'the package was served pre-bundled');
    assert.ok(requests.some((u) => path(u) === '/node_modules/burn-finetune/dist/worker.js'), `the worker from the package's own folder: ${requests.map(path).join(' ')}`);
  } finally {
    try { process.kill(-vite.pid, 'SIGTERM'); } catch { /* gone */ }
  }
});

test('webpack 5 production build: no configuration needed', { timeout: 900_000 }, async (t) => {
  run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', app, '--noEmit', 'false', '--outDir', join(app, 'build-js')], app);
  run('npx', ['webpack', '--config', 'webpack.config.mjs'], app);
  const out = join(app, 'dist-webpack');
  const emitted = readdirSync(out);
  assert.equal(emitted.filter((f) => f.endsWith('.wasm')).length, 3, `webpack emitted the three engine modules: ${emitted}`);
  cpSync(join(app, 'public'), out, { recursive: true });
  writeFileSync(join(out, 'index.html'), '<!doctype html><meta charset="utf-8"><title>webpack app</title><pre id="log"></pre><script src="main.js"></script>\n');
  const server = await serve(out);
  try {
    checkImages(await appResult(`${server.url}?backend=cpu`), 'webpack 5', t);
  } finally {
    await server.close();
  }
});

test('no bundler: dist/ self-hosted, the engine files under assetBase; the second visit downloads no weights, and the package loads offline', { timeout: 1_200_000 }, async (t) => {
  const out = join(app, 'plain');
  run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', app, '--noEmit', 'false', '--outDir', join(out, 'js')], app);
  // The .wasm files moved to /engine/ (as onto a CDN): only `assetBase` finds them.
  cpSync(join(app, 'node_modules/burn-finetune/dist'), join(out, 'burn-finetune'), { recursive: true, filter: (p) => !p.endsWith('.wasm') });
  cpSync(join(app, 'node_modules/burn-finetune/dist'), join(out, 'engine'), { recursive: true, filter: (p) => !/\.(js|ts)$/.test(p) });
  cpSync(join(app, 'public'), out, { recursive: true });
  writeFileSync(join(out, 'index.html'), `<!doctype html><meta charset="utf-8"><title>plain page</title><pre id="log"></pre>
<script type="importmap">{ "imports": { "burn-finetune": "./burn-finetune/index.js" } }</script>
<script type="module" src="./js/main.js"></script>
`);
  const sent = [];
  const server = await serve(out, { onResponse: (r) => sent.push(r) });
  const context = await launch();
  const fileBytes = (from) => sent.slice(from).filter((r) => /\.(safetensors|wasm)$/.test(r.path));
  try {
    const page = `${server.url}?backend=cpu&assetBase=${encodeURIComponent('/engine/')}`;
    const first = await appResult(page, context);
    checkImages(first, 'no bundler, first visit', t);
    assert.ok(first.loads.every((l) => !l.fromCache), `first visit: from the network ${JSON.stringify(first.loads)}`);
    assert.ok(fileBytes(0).some((r) => r.path.endsWith('.safetensors') && r.status === 200 && r.bytes > 1e6));
    assert.ok(fileBytes(0).some((r) => r.path === '/engine/burn_finetune_cpu_bg.wasm' && r.status === 200), 'the engine from assetBase');

    // Second visit, fresh page: the weights and the engine are revalidated (304), no bytes sent.
    const mark = sent.length;
    const second = await appResult(page, context);
    checkImages(second, 'no bundler, second visit', t);
    const revalidated = fileBytes(mark);
    assert.ok(revalidated.length >= 2, 'the weights and the engine were asked for');
    assert.deepEqual(revalidated.filter((r) => r.status !== 304 || r.bytes > 0), [], 'no weights or engine bytes sent on the second visit');
    assert.ok(second.loads.length >= 2 && second.loads.every((l) => l.fromCache), `second visit: from the cache ${JSON.stringify(second.loads)}`);
    t.diagnostic(`second visit: ${revalidated.map((r) => `${r.path} ${r.status} ${r.bytes} B`).join(', ')}`);

    // The network cut for everything the package loads (the page's own files come from the app,
    // e.g. its service worker): it trains and predicts from the kept copies.
    server.offline = (path) => /\.(safetensors|wasm|json)$/.test(path);
    const offline = await appResult(page, context);
    checkImages(offline, 'no bundler, offline', t);
    assert.ok(offline.loads.every((l) => l.fromCache));
  } finally {
    await context.close();
    await server.close();
  }
});
