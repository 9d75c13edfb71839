// The image benchmark in headless Chromium: the npm package's API (createFineTuner) on the page's build (index.js),
// in a page of its own. Prints Markdown table rows like `bench` (native).
// Usage: node scripts/bench-browser.mjs [--backend cpu|webgpu] [--threads N (CPU; 0: one per core)] [--per-class N] [--epochs N] [--unfreeze head|K] [--json]
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PAGE, serve } from './serve.mjs';
import { launch } from '../tests/e2e/browser.mjs';

const { values: args } = parseArgs({ options: {
  backend: { type: 'string', default: 'cpu' },
  threads: { type: 'string', default: '0' },
  'per-class': { type: 'string', default: '100' },
  epochs: { type: 'string', default: '10' },
  unfreeze: { type: 'string', default: 'head,2' },
  web: { type: 'string', default: 'build/web' },
  data: { type: 'string', default: 'assets/fashion-bench' },
  json: { type: 'boolean', default: false },
} });
const perClass = Number(args['per-class']);

/** `{path, label, holdout}` for `perClass` images per class of train (and test as holdout). */
function listing() {
  const out = [];
  for (const [split, holdout] of [['train', false], ['test', true]]) {
    for (const label of readdirSync(join(args.data, split)).sort()) {
      for (const f of readdirSync(join(args.data, split, label)).sort().slice(0, perClass)) out.push({ path: `${split}/${label}/${f}`, label, holdout });
    }
  }
  return out;
}

async function runInPage(page, backend, threads, unfreeze, files, epochs) {
  return page.evaluate(async ({ backend, threads, unfreeze, files, epochs }) => {
    // The package's API, as an app uses it (build-web.sh emits it as index.js beside the page).
    const { createFineTuner } = await import('./index.js');
    const started = performance.now();
    const loads = [];
    let trainStart = 0;
    let firstStep = null;
    const epochsSeen = [];
    const checkpoints = [];
    let epochEnded = 0;
    let loadMs = 0;
    const tuner = await createFineTuner({
      task: 'image', backend, threads, modelUrl: './efficientnet-lite0.safetensors',
      onProgress: (e) => {
        if (e.type === 'loading') loads.push(e.fromCache);
        if (e.type === 'ready') loadMs = e.loadMs;
        if (e.type === 'step' && firstStep === null && trainStart) firstStep = (performance.now() - trainStart) / 1000;
        if (e.type === 'epoch') { epochsSeen.push(e); epochEnded = performance.now(); }
        // The package keeps each epoch's checkpoint in IndexedDB (its default): size and time
        // from the end of the epoch until it is stored.
        if (e.type === 'checkpoint') checkpoints.push([e.bytes / 1e6, performance.now() - epochEnded]);
      },
    });
    const examples = [];
    for (let i = 0; i < files.length; i += 50) {  // bounded concurrency: thousands of fetches at once fail
      examples.push(...await Promise.all(files.slice(i, i + 50).map(async (f) => ({
        image: await (await fetch(`/bench-data/${f.path}`)).blob(), label: f.label, validation: f.holdout }))));
    }
    tuner.addExamples(examples);
    const prepared = await tuner.prepare({ unfreeze });
    trainStart = performance.now();
    const trained = await tuner.train({ unfreeze, epochs, batchSize: 32 });
    const ready = { backend: tuner.backend, loadMs };
    tuner.dispose();
    return {
      backend: ready.backend.reason, threads: ready.backend.threads, loadS: ready.loadMs / 1000, images: examples.length,
      loadedFrom: loads.every(Boolean) ? 'kept' : 'network',
      cachingPerS: examples.length / (prepared.ms / 1000), firstStepS: firstStep,
      trainPerS: epochsSeen.reduce((a, e) => a + e.trainExamplesPerSec, 0) / Math.max(1, epochsSeen.length),
      wasmMb: trained.wasmMemoryBytes / 1e6, cacheMb: prepared.cacheBytes / 1e6,
      bestValAcc: trained.bestValAccuracy, epochs: trained.epochs.length, totalS: (performance.now() - started) / 1000,
      epochPerS: epochsSeen.map((e) => e.trainExamplesPerSec),
      checkpointMb: checkpoints.reduce((a, c) => a + c[0], 0) / checkpoints.length,
      checkpointMs: checkpoints.reduce((a, c) => a + c[1], 0) / checkpoints.length,
    };
  }, { backend, threads, unfreeze, files, epochs });
}

const server = await serve(args.web, { mounts: { '/bench-data/': args.data }, headers: PAGE });
const context = await launch();
try {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error(m.text()); });
  await page.goto(server.url);
  const files = listing();
  if (!args.json) {
    // load s: engine + weights, from the network (first run of a fresh profile) or from the copies
    // kept in the browser's Cache API (later runs: revalidated, 304).
    console.log('| path | trains | images | load s (from) | caching ex/s | first step s | train ex/s | wasm memory MB | cache MB | checkpoint MB / ms (kept) | best val acc | epochs |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  }
  for (const u of args.unfreeze.split(',')) {
    const unfreeze = u === 'head' ? 'head' : Number(u);
    const r = await runInPage(page, args.backend, Number(args.threads), unfreeze, files, Number(args.epochs));
    console.error(`  (${r.backend}, ${r.threads} thread(s); ${r.totalS.toFixed(0)} s in all)`);
    if (args.json) console.log(JSON.stringify({ path: `browser ${args.backend}`, threads: r.threads, unfreeze: u, load_s: r.loadS, loaded_from: r.loadedFrom, caching_examples_per_s: r.cachingPerS, time_to_first_step_s: r.firstStepS, epoch_examples_per_s: r.epochPerS, peak_memory_mb: r.wasmMb, checkpoint_mb: r.checkpointMb, checkpoint_ms: r.checkpointMs, best_val_accuracy: r.bestValAcc }));
    else console.log(`| browser ${args.backend} (${r.threads} thr) | ${u === 'head' ? 'head only' : `head + top layer + last ${u} blocks`} | ${r.images} | ${r.loadS.toFixed(2)} (${r.loadedFrom}) | ${r.cachingPerS.toFixed(1)} | ${r.firstStepS?.toFixed(2)} | ${r.trainPerS.toFixed(1)} | ${r.wasmMb.toFixed(0)} | ${r.cacheMb.toFixed(1)} | ${r.checkpointMb.toFixed(2)} / ${r.checkpointMs.toFixed(0)} | ${(r.bestValAcc * 100).toFixed(1)}% | ${r.epochs} |`);
  }
} finally {
  await context.close();
  await server.close();
}
