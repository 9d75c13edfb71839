// The text benchmark in headless Chromium: the npm package's API (createFineTuner) on the page's build (index.js),
// in a page of its own. Movie-review snippets, stratified 80/20 split (seed 0), max length
// 64, batch 32, 3 epochs. Prints Markdown table rows like `bench_text` (native).
// Usage: node scripts/bench-browser-text.mjs [--backend cpu|webgpu] [--threads N (CPU; 0: one per core)] [--epochs 3] [--unfreeze head,2] [--limit-per-class 0] [--json]
import { parseArgs } from 'node:util';
import { PAGE, serve } from './serve.mjs';
import { launch } from '../tests/e2e/browser.mjs';

const { values: args } = parseArgs({ options: {
  backend: { type: 'string', default: 'cpu' },
  threads: { type: 'string', default: '0' },
  epochs: { type: 'string', default: '3' },
  unfreeze: { type: 'string', default: 'head,2' },
  'max-length': { type: 'string', default: '64' },
  'limit-per-class': { type: 'string', default: '0' },
  web: { type: 'string', default: 'build/web' },
  json: { type: 'boolean', default: false },
} });

async function runInPage(page, backend, threads, unfreeze, epochs, maxLength, limitPerClass) {
  return page.evaluate(async ({ backend, threads, unfreeze, epochs, maxLength, limitPerClass }) => {
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
      task: 'text', backend, threads, modelUrl: './minilm-l6/model.safetensors', tokenizerUrl: './minilm-l6/tokenizer.json',
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
    const file = await (await fetch('./movie-reviews.csv')).blob();
    const table = await tuner.loadTable(file, 'movie-reviews.csv');
    const dataset = { summary: await tuner.chooseColumns({ text: table.guess.text, label: table.guess.label, limitPerClass }) };
    const tokens = await tuner.tokenStats(maxLength);
    const prepared = await tuner.prepare({ unfreeze, maxLength });
    trainStart = performance.now();
    const trained = await tuner.train({ unfreeze, maxLength, epochs, batchSize: 32 });
    const ready = { backend: tuner.backend, loadMs };
    tuner.dispose();
    return {
      backend: ready.backend.reason, threads: ready.backend.threads, loadS: ready.loadMs / 1000, texts: dataset.summary.examples,
      loadedFrom: loads.every(Boolean) ? 'kept' : 'network',
      tokenizePerS: tokens.texts / (tokens.ms / 1000), tokensPerS: tokens.tokens / (tokens.ms / 1000),
      cachingPerS: dataset.summary.examples / (prepared.ms / 1000), firstStepS: firstStep,
      trainPerS: epochsSeen.reduce((a, e) => a + e.trainExamplesPerSec, 0) / Math.max(1, epochsSeen.length),
      wasmMb: trained.wasmMemoryBytes / 1e6, cacheMb: prepared.cacheBytes / 1e6,
      bestValAcc: trained.bestValAccuracy, epochs: trained.epochs.length, totalS: (performance.now() - started) / 1000,
      epochPerS: epochsSeen.map((e) => e.trainExamplesPerSec),
      checkpointMb: checkpoints.reduce((a, c) => a + c[0], 0) / checkpoints.length,
      checkpointMs: checkpoints.reduce((a, c) => a + c[1], 0) / checkpoints.length,
    };
  }, { backend, threads, unfreeze, epochs, maxLength, limitPerClass });
}

const server = await serve(args.web, { headers: PAGE });
const context = await launch();
try {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error(m.text()); });
  await page.goto(server.url);
  if (!args.json) {
    // load s: engine + weights + tokenizer, from the network (first run of a fresh profile) or from
    // the copies kept in the browser's Cache API (later runs: revalidated, 304).
    console.log('| path | trains | texts | load s (from) | tokenize texts/s (tokens/s) | caching ex/s | first step s | train ex/s | wasm memory MB | cache MB | checkpoint MB / ms (kept) | best val acc | epochs |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  }
  for (const u of args.unfreeze.split(',')) {
    const unfreeze = u === 'head' ? 'head' : Number(u);
    const r = await runInPage(page, args.backend, Number(args.threads), unfreeze, Number(args.epochs), Number(args['max-length']), Number(args['limit-per-class']));
    console.error(`  (${r.backend}, ${r.threads} thread(s); ${r.totalS.toFixed(0)} s in all)`);
    if (args.json) console.log(JSON.stringify({ path: `browser ${args.backend}`, threads: r.threads, unfreeze: u, caching_examples_per_s: r.cachingPerS, time_to_first_step_s: r.firstStepS, epoch_examples_per_s: r.epochPerS, peak_memory_mb: r.wasmMb, checkpoint_mb: r.checkpointMb, checkpoint_ms: r.checkpointMs, best_val_accuracy: r.bestValAcc }));
    else console.log(`| browser ${args.backend} (${r.threads} thr) | ${u === 'head' ? 'head only' : `head + last ${u} layers`} | ${r.texts} | ${r.loadS.toFixed(2)} (${r.loadedFrom}) | ${r.tokenizePerS.toFixed(0)} (${r.tokensPerS.toFixed(0)}) | ${r.cachingPerS.toFixed(1)} | ${r.firstStepS?.toFixed(2)} | ${r.trainPerS.toFixed(1)} | ${r.wasmMb.toFixed(0)} | ${r.cacheMb.toFixed(1)} | ${r.checkpointMb.toFixed(2)} / ${r.checkpointMs.toFixed(0)} | ${(r.bestValAcc * 100).toFixed(1)}% | ${r.epochs} |`);
  }
} finally {
  await context.close();
  await server.close();
}
