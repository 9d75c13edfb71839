// The TF.js peer of the benchmark (scripts/bench-peers.mjs): builds scripts/peers/tfjs/ with
// esbuild, serves it cross-origin isolated (COOP/COEP, so the wasm backend may use threads) with
// the data set and the weights, runs it in headless Chromium and prints its JSON result.
// The text task takes its token ids and split from the PyTorch peer (`torch_peer.py text-data`).
// Usage: node scripts/peers/tfjs_peer.mjs image|text [--backend wasm|webgpu] [--epochs 3]
//          [--per-class 100 (image)] [--limit N (smoke test: about N training + N validation examples)]
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ISOLATED, serve } from '../serve.mjs';
import { launch } from '../../tests/e2e/browser.mjs';

const { values: args, positionals } = parseArgs({ allowPositionals: true, options: {
  backend: { type: 'string', default: 'wasm' },
  epochs: { type: 'string', default: '3' },
  data: { type: 'string', default: 'assets/fashion-bench' },
  'per-class': { type: 'string', default: '100' },
  limit: { type: 'string', default: '0' },
} });
const task = positionals[0];
if (!['image', 'text'].includes(task)) throw new Error('usage: tfjs_peer.mjs image|text [options]');

const OUT = 'build/peers/tfjs';
mkdirSync(join(OUT, 'tfjs'), { recursive: true });
execFileSync('node_modules/.bin/esbuild', ['scripts/peers/tfjs/page.ts', '--bundle', '--format=esm', '--target=es2022',
  `--outfile=${OUT}/page.js`, '--log-level=warning'], { stdio: 'inherit' });
cpSync('scripts/peers/tfjs/index.html', join(OUT, 'index.html'));
const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) cpSync(join(wasmDir, f), join(OUT, 'tfjs', f));

const list = (split) => {
  const classes = readdirSync(join(args.data, split)).sort();
  return classes.flatMap((c, y) => readdirSync(join(args.data, split, c)).sort().slice(0, Number(args['per-class']))
    .map((f) => [`/data/${split}/${c}/${f}`, y]));
};
if (task === 'image') {
  writeFileSync(join(OUT, 'image.json'), JSON.stringify({ train: list('train'), val: list('test'), classes: readdirSync(join(args.data, 'train')).length }));
} else {
  const python = execFileSync('bash', ['scripts/peers/setup-torch.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  execFileSync('bash', ['-c', `"${python}" scripts/peers/torch_peer.py text-data > ${OUT}/text.json`], { stdio: 'inherit' });
}

const server = await serve(OUT, { mounts: { '/data/': args.data, '/assets/': 'assets' }, headers: ISOLATED });
const context = await launch();
try {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error(m.text()); });
  await page.goto(`${server.url}?task=${task}&backend=${args.backend}&epochs=${args.epochs}&limit=${args.limit}`);
  await page.waitForFunction(() => window.result, null, { timeout: 3_600_000, polling: 1000 });
  const result = await page.evaluate(() => window.result);
  if (result.error) throw new Error(`${result.error}\n${result.stack}`);
  console.log(JSON.stringify(result));
} finally {
  await context.close();
  await server.close();
}
