// The sound-classes benchmark in headless Chromium: the npm package's API (createFineTuner, task
// 'audio') on the page's build (index.js). The same data as `bench_audio` (native): the Asterisk
// prompts of digits/, letters/ and phonetic/ as three classes, each class's clips in name order,
// every 5th held out as the test set (20 %), the rest trained with the audio task's defaults (its
// own seeded validation split picks the epoch). Clips are decoded by the page (decodeAudioData +
// OfflineAudioContext) before the clock starts. Prints Markdown table rows like `bench_audio`.
// Usage: node scripts/bench-browser-audio.mjs [--backend cpu|webgpu] [--threads N (CPU; 0: one per core)] [--unfreeze head,1] [--json]
import { parseArgs } from 'node:util';
import { PAGE, serve } from './serve.mjs';
import { launch } from '../tests/e2e/browser.mjs';

const { values: args } = parseArgs({ options: {
  backend: { type: 'string', default: 'cpu' },
  threads: { type: 'string', default: '0' },
  unfreeze: { type: 'string', default: 'head,1' },
  web: { type: 'string', default: 'build/web' },
  json: { type: 'boolean', default: false },
} });

async function runInPage(page, backend, threads, unfreeze) {
  return page.evaluate(async ({ backend, threads, unfreeze }) => {
    const { createFineTuner } = await import('./index.js');
    let trainStart = 0;
    let firstStep = null;
    const epochs = [];
    const tuner = await createFineTuner({
      task: 'audio', backend, threads, modelUrl: './whisper-tiny-en/model.safetensors',
      onProgress: (e) => {
        if (e.type === 'step' && firstStep === null && trainStart) firstStep = (performance.now() - trainStart) / 1000;
        if (e.type === 'epoch') epochs.push(e);
      },
    });
    const files = (await (await fetch('./asterisk/manifest.csv')).text()).trim().split('\n').slice(1).map((l) => l.split(',')[0]).sort();
    // 16 kHz mono samples, decoded before timing (the package would decode them in addExamples' first prepare).
    const decode = async (path) => {
      const buffer = await new OfflineAudioContext(1, 1, 16000).decodeAudioData(await (await fetch(`./asterisk/${path}`)).arrayBuffer());
      const offline = new OfflineAudioContext(1, Math.round(buffer.duration * 16000), 16000);
      const src = offline.createBufferSource(); src.buffer = buffer; src.connect(offline.destination); src.start();
      return (await offline.startRendering()).getChannelData(0);
    };
    const train = [];
    const test = [];
    for (const label of ['digits', 'letters', 'phonetic']) {
      for (const [i, path] of files.filter((f) => f.startsWith(`${label}/`)).entries()) {
        (i % 5 === 4 ? test : train).push({ audio: await decode(path), label, name: path });
      }
    }
    tuner.addExamples(train);
    const prepared = await tuner.prepare({ unfreeze });
    trainStart = performance.now();
    const trained = await tuner.train({ unfreeze });
    const scores = await tuner.evaluate(test);
    const backendUsed = tuner.backend;
    tuner.dispose();
    return {
      backend: backendUsed.reason, threads: backendUsed.threads, train: train.length, test: test.length,
      cachingPerS: train.length / (prepared.ms / 1000), firstStepS: firstStep,
      trainPerS: epochs.reduce((a, e) => a + e.trainExamplesPerSec, 0) / Math.max(1, epochs.length),
      wasmMb: trained.wasmMemoryBytes / 1e6, cacheMb: prepared.cacheBytes / 1e6, bestValAcc: trained.bestValAccuracy,
      testAcc: scores.accuracy, epochs: trained.epochs.length,
    };
  }, { backend, threads, unfreeze });
}

const server = await serve(args.web, { headers: PAGE });
const context = await launch();
try {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error(m.text()); });
  await page.goto(server.url);
  if (!args.json) {
    console.log('| path | trains | train / test clips | caching clips/s | first step s | train clips/s | wasm memory MB | cache MB | best val acc | test acc | epochs |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  }
  for (const u of args.unfreeze.split(',')) {
    const unfreeze = u === 'head' ? 'head' : Number(u);
    const r = await runInPage(page, args.backend, Number(args.threads), unfreeze);
    console.error(`  (${r.backend}, ${r.threads} thread(s))`);
    if (args.json) console.log(JSON.stringify({ path: `browser ${args.backend}`, threads: r.threads, unfreeze: u, ...r }));
    else console.log(`| browser ${args.backend} (${r.threads} thr) | ${u === 'head' ? 'head only' : `head + last ${u} encoder layers`} | ${r.train} / ${r.test} | ${r.cachingPerS.toFixed(1)} | ${r.firstStepS?.toFixed(2)} | ${r.trainPerS.toFixed(0)} | ${r.wasmMb.toFixed(0)} | ${r.cacheMb.toFixed(1)} | ${(r.bestValAcc * 100).toFixed(1)}% | ${(r.testAcc * 100).toFixed(1)}% | ${r.epochs} |`);
  }
} finally {
  await context.close();
  await server.close();
}
