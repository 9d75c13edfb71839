// The benchmark beside the peers, in one run on this machine: the same fine-tuning work for
// everyone — EfficientNet-Lite0 at 224×224 with the last 2 blocks + `_conv_head` + head trained on
// the Fashion-MNIST 1 000/1 000 set-up, and MiniLM-L6 with the last 2 layers + head trained on the
// movie-review set-up (max length 64) — batch 32, the same epochs for all, each run `--runs` times;
// and (`--tasks speech`) Whisper tiny.en with the top 2 decoder layers trained on the Asterisk
// prompts (bench_speech's split, batch 16) against Hugging Face transformers' Whisper modules.
// Prints one Markdown table: medians with the spread (min–max), train throughput without the first
// epoch (warm-up), ratios ours/PyTorch, and the training step's achieved GFLOP/s against the
// machine's nominal peak.
//
// Usage: node scripts/bench-peers.mjs [--runs 3] [--epochs 3] [--tasks image,text]
//          [--paths native,browser-cpu,pytorch,tfjs-wasm]
//          (speech: native,pytorch on 30-s windows; native-own-frames,pytorch-own-frames on each
//          clip's own frames)
//          (also: browser-cpu-1 = the browser CPU engine on one thread, browser-webgpu, tfjs-webgpu)
// Needs: scripts/build-web.sh for the browser paths; the PyTorch venv is made on first use
// (scripts/peers/setup-torch.sh).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: {
  runs: { type: 'string', default: '3' },
  epochs: { type: 'string', default: '3' },
  tasks: { type: 'string', default: 'image,text' },
  paths: { type: 'string', default: 'native,browser-cpu,pytorch,tfjs-wasm' },
} });
const runs = Number(args.runs);
const target = process.env.CARGO_TARGET_DIR ?? `${process.env.FINETUNE_CACHE ?? `${process.env.HOME}/.cache/burn-finetune`}/target`;
const common = ['--epochs', args.epochs, '--unfreeze', '2'];

/** Our page's engine in headless Chromium (scripts/bench-browser*.mjs). */
const browser = (task, ...options) => ['node', [`scripts/bench-browser${task === 'image' ? '' : '-text'}.mjs`, '--json', ...options, ...common]];
/** The command of each path for a task; each prints its result as the last JSON line. */
const BINARIES = { image: 'bench', text: 'bench_text', speech: 'bench_speech' };
const COMMANDS = {
  native: (task) => [`${target}/release/${BINARIES[task]}`, ['--json', ...common, ...(task === 'speech' ? ['--speed-only'] : []),
    ...(task === 'text' ? ['--validation-rows', peerValidationRows()] : [])]],
  'native-own-frames': (task) => [`${target}/release/${BINARIES[task]}`, ['--json', ...common, '--speed-only', '--own-frames']],
  'pytorch-own-frames': () => [python(), ['scripts/peers/torch_speech_peer.py', '--epochs', args.epochs, '--frames', 'own']],
  'browser-cpu': (task) => browser(task, '--backend', 'cpu'),
  'browser-cpu-1': (task) => browser(task, '--backend', 'cpu', '--threads', '1'),
  'browser-webgpu': (task) => browser(task, '--backend', 'webgpu'),
  pytorch: (task) => [python(), task === 'speech' ? ['scripts/peers/torch_speech_peer.py', '--epochs', args.epochs] : ['scripts/peers/torch_peer.py', task, '--epochs', args.epochs]],
  'tfjs-wasm': (task) => ['node', ['scripts/peers/tfjs_peer.mjs', task, '--backend', 'wasm', '--epochs', args.epochs]],
  'tfjs-webgpu': (task) => ['node', ['scripts/peers/tfjs_peer.mjs', task, '--backend', 'webgpu', '--epochs', args.epochs]],
};

/** The PyTorch peer's validation rows of the movie reviews (`torch_peer.py text-data`) in a file:
 * our native text row validates on the same rows, so that the accuracies compare (our seeded
 * split holds out other rows: 1.8 points apart on the same model, docs/benchmarks.md). */
let rowsFile = null;
function peerValidationRows() {
  if (!rowsFile) {
    const data = JSON.parse(execFileSync(python(), ['scripts/peers/torch_peer.py', 'text-data'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 }));
    rowsFile = join(mkdtempSync(join(tmpdir(), 'peer-split-')), 'validation-rows.json');
    writeFileSync(rowsFile, JSON.stringify(data.val));
  }
  return rowsFile;
}

let pythonPath = null;
function python() {
  pythonPath ??= execFileSync('bash', ['scripts/peers/setup-torch.sh'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return pythonPath;
}

function runOnce(path, task) {
  const [cmd, argv] = COMMANDS[path](task);
  const out = execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1));
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Training examples/s without the first epoch (warm-up), when there is more than one. */
const steady = (r) => mean(r.epoch_examples_per_s.length > 1 ? r.epoch_examples_per_s.slice(1) : r.epoch_examples_per_s);

/** The machine's nominal f32 peak: cores × SIMD lanes × 2 (an FMA is 2 FLOPs) × clock. */
function nominalPeak() {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const lanes = /\bavx512f\b/.test(info) ? 16 : /\bavx2\b/.test(info) ? 8 : 4;
  const ghz = Number(info.match(/cpu MHz\s*:\s*([\d.]+)/)?.[1] ?? 0) / 1000;
  const cores = cpus().length;
  return { gflops: cores * lanes * 2 * ghz, how: `${cores} cores × ${lanes} f32 lanes (${lanes === 16 ? 'AVX-512' : lanes === 8 ? 'AVX2' : 'SSE'}) × 2 (FMA) × ${ghz.toFixed(2)} GHz` };
}

const results = [];
for (const task of args.tasks.split(',')) {
  for (const path of args.paths.split(',')) {
    // Speech runs natively only (scripts/bench-browser-speech.mjs measures it in the browser).
    const speechOnly = ['native-own-frames', 'pytorch-own-frames'];
    const fits = task === 'speech' ? ['native', 'pytorch', ...speechOnly].includes(path) : !speechOnly.includes(path);
    if (!fits) { console.error(`== ${task} · ${path}: not a path for this task, skipped`); continue; }
    const rows = [];
    for (let i = 0; i < runs; i++) {
      console.error(`== ${task} · ${path} · run ${i + 1}/${runs}`);
      rows.push(runOnce(path, task));
    }
    results.push({ task, path, rows });
  }
}

const peak = nominalPeak();
const fmt = (xs, digits) => {
  const m = median(xs);
  return xs.length > 1 ? `${m.toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})` : m.toFixed(digits);
};
console.log(`Runs per row: ${runs} (median, min–max); ${args.epochs} epochs, batch 32 (speech: 16); train ex/s without the first epoch.`);
console.log(`Nominal peak: ${peak.how} = ${peak.gflops.toFixed(0)} GFLOP/s. Training-step FLOPs: 3 × the forward pass's matmul + convolution FLOPs, counted by PyTorch's FlopCounterMode on the same layers.\n`);
console.log('| task | path | threads | caching ex/s | first step s | train ex/s | train GFLOP/s (% of peak) | peak MB | best val acc | train × PyTorch | caching × PyTorch | train × best TF.js |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const { task, path, rows } of results) {
  // Each of our rows against the PyTorch row that does the same work (own frames or windows).
  const torch = results.find((r) => r.task === task && r.path === (path.endsWith('-own-frames') ? 'pytorch-own-frames' : 'pytorch'));
  const flops = torch ? median(torch.rows.map((r) => r.train_flops_per_example)) : null;
  const train = rows.map(steady);
  const caching = rows.map((r) => r.caching_examples_per_s);
  const gflops = flops ? (median(train) * flops) / 1e9 : null;
  const ratio = (mine, theirs) => (torch && !path.startsWith('pytorch') ? `${(median(mine) / median(theirs)).toFixed(2)}×` : '—');
  const threads = rows[0].threads ?? (path.startsWith('browser') ? 1 : '?');
  // Our browser rows against the faster TF.js backend in the same browser.
  const tfjs = results.filter((r) => r.task === task && r.path.startsWith('tfjs'))
    .map((r) => median(r.rows.map(steady))).sort((a, b) => b - a)[0];
  const vsTfjs = path.startsWith('browser') && tfjs ? `${(median(train) / tfjs).toFixed(2)}×` : '—';
  console.log(`| ${task} | ${path} | ${threads} | ${fmt(caching, 1)} | ${fmt(rows.map((r) => r.time_to_first_step_s), 2)} | ${fmt(train, 1)} | `
    + `${gflops ? `${gflops.toFixed(1)} (${((gflops / peak.gflops) * 100).toFixed(0)} %)` : '—'} | ${fmt(rows.map((r) => r.peak_memory_mb), 0)} | `
    + `${rows[0].best_val_accuracy === undefined ? '—' : `${fmt(rows.map((r) => r.best_val_accuracy * 100), 1)} %`} | ${ratio(train, torch?.rows.map(steady))} | ${ratio(caching, torch?.rows.map((r) => r.caching_examples_per_s))} | ${vsTfjs} |`);
}
