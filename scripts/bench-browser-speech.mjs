// The speech benchmark in headless Chromium: the npm package's SpeechFineTuner on the page's build
// (index.js). The Asterisk prompts (assets/asterisk/manifest.csv) sorted by name, the first
// `--limit` of them (all by default); the test set is held out as bench_speech holds it out (FNV-1a of
// "0/name" a multiple of 5: the same clips natively and here), the rest fine-tunes
// the top decoder layers with the speech task's defaults (its own seeded validation split picks the
// epoch). Clips are decoded by the page (decodeAudioData + OfflineAudioContext) before the clock
// starts. Prints zero-shot and fine-tuned WER on the held-out clips (words lower-cased, punctuation
// removed, as the engine counts them), encoder caching, training and transcription speed, first
// step and the engine's memory, as a Markdown row.
// Usage: node scripts/bench-browser-speech.mjs [--backend cpu|webgpu] [--threads N] [--limit N] [--epochs 5] [--json]
import { parseArgs } from 'node:util';
import { PAGE, serve } from './serve.mjs';
import { launch } from '../tests/e2e/browser.mjs';

const { values: args } = parseArgs({ options: {
  backend: { type: 'string', default: 'cpu' },
  threads: { type: 'string', default: '0' },
  limit: { type: 'string', default: '0' },
  epochs: { type: 'string', default: '5' },
  unfreeze: { type: 'string', default: '2' },
  web: { type: 'string', default: 'build/web' },
  json: { type: 'boolean', default: false },
} });

async function runInPage(page, options) {
  return page.evaluate(async ({ backend, threads, limit, epochs, unfreeze }) => {
    const { createFineTuner } = await import('./index.js');
    let trainStart = 0;
    let firstStep = null;
    const seen = [];
    const tuner = await createFineTuner({
      task: 'speech', backend, threads, modelUrl: './whisper-tiny-en/model.safetensors',
      onProgress: (e) => {
        if (e.type === 'step' && firstStep === null && trainStart) firstStep = (performance.now() - trainStart) / 1000;
        if (e.type === 'speechEpoch') seen.push(e);
      },
    });
    const rows = (await (await fetch('./asterisk/manifest.csv')).text()).trim().split('\n').slice(1)
      .map((line) => { const i = line.indexOf(','); return { file: line.slice(0, i), text: line.slice(i + 1).replace(/^"|"$/g, '').replace(/""/g, '"') }; })
      .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const used = limit > 0 ? rows.slice(0, limit) : rows;
    const decode = async (path) => {
      const buffer = await new OfflineAudioContext(1, 1, 16000).decodeAudioData(await (await fetch(`./asterisk/${path}`)).arrayBuffer());
      const offline = new OfflineAudioContext(1, Math.round(buffer.duration * 16000), 16000);
      const src = offline.createBufferSource(); src.buffer = buffer; src.connect(offline.destination); src.start();
      return (await offline.startRendering()).getChannelData(0);
    };
    const train = [];
    const test = [];
    const heldOut = (name) => {
      let h = 0x811c9dc5;
      for (const b of new TextEncoder().encode(`0/${name}`)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
      return h % 5 === 0;
    };
    for (const r of used) (heldOut(r.file) ? test : train).push({ audio: await decode(r.file), text: r.text, name: r.file });
    const words = (t) => t.replace(/['’]/g, '').replace(/[^\p{L}\p{N}]+/gu, ' ').toLowerCase().split(' ').filter(Boolean);
    const edits = (r, h) => {
      let row = Array.from({ length: h.length + 1 }, (_, j) => j);
      for (let i = 0; i < r.length; i += 1) {
        const next = [i + 1];
        for (let j = 0; j < h.length; j += 1) next.push(Math.min(row[j] + (r[i] === h[j] ? 0 : 1), next[j] + 1, row[j + 1] + 1));
        row = next;
      }
      return row[h.length];
    };
    const wer = async (fineTuned) => {
      const started = performance.now();
      let e = 0;
      let n = 0;
      for (const clip of test) {
        const r = words(clip.text);
        e += edits(r, words(await tuner.transcribe(clip.audio, { fineTuned })));
        n += r.length;
      }
      return { wer: e / Math.max(1, n), perS: test.length / ((performance.now() - started) / 1000) };
    };
    tuner.addExamples(train);
    const prepared = await tuner.prepare({ unfreeze });
    const zeroShot = await wer(false);
    trainStart = performance.now();
    const trained = await tuner.train({ unfreeze, epochs });
    const fineTuned = await wer(true);
    const backendUsed = tuner.backend;
    tuner.dispose();
    return {
      backend: backendUsed.reason, threads: backendUsed.threads, train: prepared.counts[0], test: test.length, skipped: prepared.skipped.length,
      zeroShotWer: zeroShot.wer, fineTunedWer: fineTuned.wer, valWer: [trained.zeroShotValWer, trained.bestValWer], bestEpoch: trained.bestEpoch, fineTunedShare: trained.fineTunedShare,
      cachingPerS: prepared.counts[0] / (prepared.ms / 1000), trainPerS: seen.reduce((a, e) => a + e.trainExamplesPerSec, 0) / Math.max(1, seen.length),
      firstStepS: firstStep, transcribePerS: zeroShot.perS, wasmMb: trained.wasmMemoryBytes / 1e6, cacheMb: prepared.cacheBytes / 1e6,
    };
  }, options);
}

const server = await serve(args.web, { headers: PAGE });
const context = await launch();
try {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error(m.text()); });
  await page.goto(server.url);
  const r = await runInPage(page, { backend: args.backend, threads: Number(args.threads), limit: Number(args.limit), epochs: Number(args.epochs), unfreeze: Number(args.unfreeze) });
  console.error(`  (${r.backend}, ${r.threads} thread(s); ${r.skipped} clip(s) skipped)`);
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  if (args.json) console.log(JSON.stringify({ path: `browser ${args.backend}`, ...r }));
  else {
    console.log('| path | decoder layers | train / test clips | zero-shot test WER | fine-tuned test WER | val WER (epoch) | fine-tuned share | caching clips/s | training clips/s | first step | transcribe clips/s | wasm memory |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
    console.log(`| browser ${args.backend} (${r.threads} thr) | ${args.unfreeze} | ${r.train} / ${r.test} | ${pct(r.zeroShotWer)} | ${pct(r.fineTunedWer)} | ${pct(r.valWer[0])} → ${pct(r.valWer[1])} (${r.bestEpoch}) | ${r.fineTunedShare?.toFixed(2)} | ${r.cachingPerS.toFixed(2)} | ${r.trainPerS.toFixed(1)} | ${r.firstStepS?.toFixed(1)} s | ${r.transcribePerS.toFixed(2)} | ${r.wasmMb.toFixed(0)} MB |`);
  }
} finally {
  await context.close();
  await server.close();
}
