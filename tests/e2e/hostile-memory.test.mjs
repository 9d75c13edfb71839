// Hostile inputs through the npm package in Chromium, as an app would pass on what a user drops:
// each gets its clear message (or is skipped and listed) and the browser's memory stays bounded.
// Memory: the resident memory of all of Chromium's processes (from /proc, sampled every 50 ms
// while the input is handled), its peak above what it was just before; printed as a table for
// docs/benchmarks.md. The native numbers of the same inputs are in the issue-17 table there.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { deflateSync, crc32 } from 'node:zlib';
import { browserSuite, packagePage } from './browser.mjs';

const WEB = process.env.WEB ?? 'build/web';
const suite = browserSuite(WEB, 'test-results');
/** Peak growth allowed per input: the engine's weights are loaded before; the largest input
 * here is 4 MB of text. */
const BOUND_MB = 600;

/** Resident memory of every Chromium process, in MB. */
function chromiumRssMb() {
  let kb = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      if (!/^Name:\s+(chromium|chrome)/m.test(status)) continue;
      kb += Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0);
    } catch { /* gone meanwhile */ }
  }
  return kb / 1024;
}

/** Runs `body` while sampling Chromium's memory: `{ result, peakMb }` (peak above the start). */
async function measured(body) {
  const start = chromiumRssMb();
  let peak = start;
  const timer = setInterval(() => { peak = Math.max(peak, chromiumRssMb()); }, 50);
  try {
    const result = await body();
    peak = Math.max(peak, chromiumRssMb());
    return { result, peakMb: peak - start };
  } finally {
    clearInterval(timer);
  }
}

/** A grey PNG of `width` × `height` (tiny when compressed, huge when decoded). */
function png(width, height) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth; colour type 0 (grey)
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter: none
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** In the page: a text fine-tuner kept on `window` between inputs. */
async function textInput(kind) {
  const { createFineTuner } = await import('./index.js');
  window.tuner ??= await createFineTuner({ task: 'text', backend: 'cpu', modelUrl: './minilm-l6/model.safetensors' });
  const tuner = window.tuner;
  const outcome = async (run) => { try { return { ok: await run() }; } catch (e) { return { error: e.message }; } };
  if (kind === 'many-labels') {
    const csv = 'text,label\n' + Array.from({ length: 20_000 }, (_, i) => `text a${i},l${i}\ntext b${i},l${i}\n`).join('');
    return outcome(async () => {
      const table = await tuner.loadTable(new Blob([csv]), 'many.csv');
      return tuner.chooseColumns({ text: table.guess.text ?? 0, label: table.guess.label ?? 1 });
    });
  }
  if (kind === 'key-per-line') {
    const lines = Array.from({ length: 20_000 }, (_, i) => `{"text": "t${i}", "label": "${i % 2}", "k${i}": 1}\n`).join('');
    return outcome(async () => {
      const table = await tuner.loadTable(new Blob([lines]), 'keys.jsonl');
      return { columns: table.columns.length, rows: table.rows, skippedTotal: table.skippedTotal, firstSkipped: table.skipped[0]?.reason };
    });
  }
  if (kind === 'wide-header') {
    const header = Array.from({ length: 5000 }, (_, i) => `c${i}`).join(',');
    return outcome(() => tuner.loadTable(new Blob([`${header}\n${header}\n`]), 'wide.csv'));
  }
  if (kind === 'long-line') {
    const line = `{"text": "${'word '.repeat(800_000)}", "label": "a"}\n{"text": "short", "label": "b"}\n`;
    return outcome(async () => {
      const table = await tuner.loadTable(new Blob([line]), 'long.jsonl');
      return { rows: table.rows, columns: table.columns };
    });
  }
  if (kind === 'many-classes') {
    tuner.clearExamples();
    tuner.addExamples(Array.from({ length: 2002 }, (_, i) => ({ text: `text ${i}`, label: `class ${i >> 1}` })));
    return outcome(() => tuner.readiness());
  }
  if (kind === 'million-class-model') {
    const info = { format: 'burn-finetune/1', baseModel: 'all-minilm-l6-v2', task: 'text', classes: Array.from({ length: 1_000_000 }, (_, i) => `c${i}`), unfreeze: 2, maxLength: 128, preprocessing: '' };
    let header = JSON.stringify({ __metadata__: { 'burn-finetune': JSON.stringify(info) } });
    header += ' '.repeat((8 - (header.length % 8)) % 8);
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    return outcome(() => tuner.importModel(bytes));
  }
  throw new Error(kind);
}

/** In the page: an image fine-tuner (kept on `window`) given a 1 × 2 000 000 PNG among good
 * images; without `strip`, only starts the fine-tuner. */
async function imageInput(strip) {
  const { createFineTuner } = await import('./index.js');
  window.imageTuner ??= await createFineTuner({ task: 'image', backend: 'cpu', modelUrl: './efficientnet-lite0.safetensors' });
  if (!strip) return null;
  const tuner = window.imageTuner;
  const canvas = new OffscreenCanvas(32, 32);
  const ctx = canvas.getContext('2d');
  const good = await Promise.all(Array.from({ length: 4 }, async (_, i) => {
    ctx.fillStyle = i % 2 ? '#eee' : '#222';
    ctx.fillRect(0, 0, 32, 32);
    return { image: await canvas.convertToBlob({ type: 'image/png' }), label: i % 2 ? 'light' : 'dark' };
  }));
  tuner.addExamples([...good, { image: new File([new Uint8Array(strip)], 'strip.png', { type: 'image/png' }), label: 'dark' }]);
  try {
    const prepared = await tuner.prepare({ unfreeze: 'head' });
    return { ok: { skipped: prepared.skipped, counts: prepared.counts } };
  } catch (e) {
    return { error: e.message };
  }
}

test('hostile inputs get their messages within bounded browser memory', { timeout: 900_000 }, async () => {
  const { page, logs } = await packagePage(suite);
  const rows = [];
  const expectations = {
    'many-labels': (r) => assert.match(r.error ?? '', /20000 different values: at most 1000 classes/),
    'key-per-line': (r) => {
      assert.ok(r.ok && r.ok.columns <= 256, JSON.stringify(r));
      assert.match(r.ok.firstSkipped ?? '', /beyond the first 256/);
    },
    'wide-header': (r) => assert.match(r.error ?? JSON.stringify(r.ok?.skipped ?? r), /5000 columns; at most 256/),
    'long-line': (r) => assert.equal(r.ok?.rows, 2, JSON.stringify(r).slice(0, 300)),
    'many-classes': (r) => assert.match(r.ok ?? r.error ?? '', /1001 different values: at most 1000 classes/),
    'million-class-model': (r) => assert.match(r.error ?? '', /1000000 classes: at most 1000/),
  };
  try {
    await page.evaluate(textInput, 'many-classes').catch(() => {}); // loads the engine and weights first
    for (const [kind, check] of Object.entries(expectations)) {
      const { result, peakMb } = await measured(() => page.evaluate(textInput, kind));
      rows.push({ input: kind, peakMb: Math.round(peakMb), message: (result.error ?? JSON.stringify(result.ok)).slice(0, 140) });
      check(result);
    }
    const strip = png(1, 2_000_000);
    await page.evaluate(imageInput, null);
    const { result, peakMb } = await measured(() => page.evaluate(imageInput, [...strip]));
    rows.push({ input: `1 × 2 000 000 PNG (${(strip.length / 1024).toFixed(0)} KB) among 4 images, prepared`, peakMb: Math.round(peakMb), message: JSON.stringify(result).slice(0, 200) });
    const skipped = result.ok?.skipped ?? [];
    assert.equal(skipped.length, 1, JSON.stringify(result));
    assert.match(skipped[0].name, /strip\.png/);
    console.log('| input | peak Chromium memory above before (MB) | message |\n|---|---|---|');
    for (const r of rows) console.log(`| ${r.input} | ${r.peakMb} | ${r.message.replaceAll('|', '\\|')} |`);
    for (const r of rows) assert.ok(r.peakMb <= BOUND_MB, `${r.input}: ${r.peakMb} MB`);
  } catch (e) {
    console.log(JSON.stringify(rows, null, 1));
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.evaluate(() => { window.tuner?.dispose(); window.imageTuner?.dispose(); }).catch(() => {});
    await page.close();
  }
});
