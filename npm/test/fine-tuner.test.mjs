// Unit tests of the package's wrapper (npm/dist/index.js, as published) against a scripted fake
// Worker: what it sends the engine's worker, how it maps settings, orders calls, and reports
// errors, cancellation and crashes. The real worker is exercised by tests/e2e/consumer.test.mjs.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createFineTuner } from '../dist/index.js';

const MODEL = 'https://example.test/models/model.safetensors';

/** A Worker whose replies come from `FakeWorker.script(message, worker)`. */
class FakeWorker {
  static script = () => {};
  static last = null;
  constructor(url, options) {
    this.url = String(url);
    this.options = options;
    this.sent = [];
    this.terminated = false;
    FakeWorker.last = this;
  }
  postMessage(message) {
    this.sent.push(message);
    queueMicrotask(() => FakeWorker.script(message, this));
  }
  reply(data) { if (!this.terminated) this.onmessage?.({ data }); }
  settle(id, error = null) { this.reply({ type: 'settled', id, error }); }
  terminate() { this.terminated = true; }
  types() { return this.sent.map((m) => m.type); }
}

const report = (over = {}) => ({
  stopReason: 'completed', bestEpoch: 1, bestValAccuracy: 0.75, message: 'done', warnings: [], trainExamples: 6, valExamples: 4,
  epochs: [{ epoch: 1, trainLoss: 1, trainAccuracy: 0.5, trainMacroF1: 0.5, valLoss: 1, valAccuracy: 0.75, valMacroF1: 0.7,
    valConfusion: { classes: 2, cells: [[0, 0, 2], [1, 0, 1], [1, 1, 1]], counts: [2, 0, 1, 1] },
    valPerClass: [{ precision: 2 / 3, recall: 1, f1: 0.8, support: 2 }, { precision: 1, recall: 0.5, f1: 2 / 3, support: 2 }],
    learningRate: 1e-3, headLr: 1e-3, trainExamplesPerSec: 10, seconds: 1 }],
  ...over,
});
const DEFAULTS = { preparation: { unfreeze: 2, maxLength: 128 }, training: { epochs: 10, batchSize: 32, learningRate: 1e-3 } };

/** The engine's normal answers; `w.examples` / `w.classes`: what it holds. */
function engine(message, w) {
  const { id } = message;
  switch (message.type) {
    case 'init':
      w.reply({ type: 'loading', file: 'weights', loaded: 0, total: 10 });
      w.reply({ type: 'ready', task: message.task, backend: { kind: 'cpu', reason: 'forced' }, adapter: 'none', loadMs: 5, defaults: DEFAULTS });
      return w.settle(id);
    case 'examples': {
      w.classes = [...new Set([...(message.classes ?? []), ...message.examples.map((e) => e.label)])];
      const counts = w.classes.map((c) => message.examples.filter((e) => e.label === c).length);
      const readiness = counts.some((n) => n === 0) ? 'Each class needs at least 2.' : null; // the real rule is the engine's
      w.reply({ type: 'examples', summary: { classes: w.classes, counts, readiness } });
      return w.settle(id);
    }
    case 'prepare':
      w.reply({ type: 'progress', event: { type: 'caching', done: 3, total: 3, examplesPerSec: 1 } });
      w.reply({ type: 'prepared', cancelled: false, classes: w.classes, counts: [1, 1], skipped: [{ name: 'x.png', reason: 'not an image' }], readiness: null, cacheBytes: 1, ms: 1, wasmMemoryBytes: 1, truncated: 0 });
      return w.settle(id);
    case 'train': {
      const r = report();
      w.reply({ type: 'prepared', cancelled: false, classes: w.classes, counts: [1, 1], skipped: [{ name: 'x.png', reason: 'not an image' }], readiness: null, cacheBytes: 1, ms: 1, wasmMemoryBytes: 1, truncated: 0 });
      w.reply({ type: 'progress', event: { type: 'epoch', ...r.epochs[0] } });
      w.reply({ type: 'progress', event: { type: 'done', ...r } });
      w.reply({ type: 'trained', report: r, classes: w.classes, wasmMemoryBytes: 1 });
      return w.settle(id);
    }
    case 'predict':
      w.reply({ type: 'prediction', results: message.inputs.map((t) => (typeof t === 'string'
        ? [{ label: t.includes('good') ? 'pos' : 'neg', score: 0.8 }]
        : [{ label: 'a', score: 0.9 }, { label: 'b', score: 0.1 }])) });
      return w.settle(id);
    case 'evaluate':
      w.reply({ type: 'evaluation', evaluation: { examples: message.labels.length, accuracy: 2 / 3, macroF1: 2 / 3, classes: ['neg', 'pos'],
        confusion: { classes: 2, cells: [[0, 0, 1], [0, 1, 1], [1, 1, 1]], counts: [1, 1, 0, 1] }, perClass: [{ precision: 1, recall: 0.5, f1: 2 / 3, support: 2 }, { precision: 0.5, recall: 1, f1: 2 / 3, support: 1 }] } });
      return w.settle(id);
    case 'export':
      w.reply({ type: 'exported', bytes: new Uint8Array([1, 2, 3]) });
      return w.settle(id);
    case 'checkpoint-status':
      w.reply({ type: 'checkpoint-status', status: w.kept ?? null });
      return w.settle(id);
    case 'discard-checkpoint':
      w.kept = null;
      return w.settle(id);
    case 'import':
      w.reply({ type: 'imported', info: { format: 'burn-finetune/1', baseModel: 'all-minilm-l6-v2', task: 'text', classes: ['neg', 'pos'], unfreeze: 2, maxLength: 128, preprocessing: '' } });
      return w.settle(id);
    case 'load-table':
      w.reply({ type: 'table-progress', bytes: 4, total: 8, rows: 1 });
      w.reply({ type: 'table', summary: { format: 'csv', columns: ['text', 'label'], rows: 4, guess: { text: 0, label: 1, problem: null }, skipped: [], skippedTotal: 0 }, ms: 1 });
      return w.settle(id);
    case 'choose-columns':
      w.classes = ['neg', 'pos'];
      w.reply({ type: 'text-dataset', summary: { classes: w.classes, counts: [2, 2], examples: 4, emptyTexts: 0, skipped: [], skippedTotal: 0, readiness: null } });
      return w.settle(id);
    default:
      return id === undefined ? undefined : w.settle(id);
  }
}

const png = (name) => new File([new Uint8Array([137, 80, 78, 71])], name, { type: 'image/png' });
const imageExamples = () => [
  { image: png('a1.png'), label: 'b' }, { image: png('a2.png'), label: 'a' }, { image: png('a3.png'), label: 'a', validation: true },
];

beforeEach(() => { globalThis.Worker = FakeWorker; FakeWorker.script = engine; });
afterEach(() => { delete globalThis.Worker; });

test('createFineTuner starts the package worker, resolves URLs and reports loading', async () => {
  const events = [];
  const tuner = await createFineTuner({ task: 'text', modelUrl: MODEL, onProgress: (e) => events.push(e.type) });
  const w = FakeWorker.last;
  assert.match(w.url, /\/worker\.js$/);
  assert.equal(w.options.type, 'module');
  const { crashChannel, ...init } = w.sent[0];
  assert.match(crashChannel, /^burn-finetune-crash-/, 'where a training thread that traps says so');
  assert.deepEqual(init, { type: 'init', task: 'text', backend: 'auto', weightsUrl: MODEL, cache: true, tokenizerUrl: 'https://example.test/models/tokenizer.json', id: 1 });
  assert.deepEqual(events, ['loading', 'ready']);
  assert.deepEqual(tuner.backend, { kind: 'cpu', reason: 'forced' });
  assert.deepEqual(tuner.defaults, DEFAULTS, 'the engine\'s defaults, read at start');
  assert.equal(tuner.task, 'text');
});

test('createFineTuner passes the cache switch, the engine files\' folder and the worker\'s URL', async () => {
  await createFineTuner({ task: 'image', modelUrl: MODEL, cache: false, assetBase: 'https://cdn.example.test/burn-finetune/dist/', workerUrl: 'https://example.test/w/worker.js', threads: 2 });
  const w = FakeWorker.last;
  assert.equal(w.url, 'https://example.test/w/worker.js');
  const { crashChannel: _, ...init } = w.sent[0];
  assert.deepEqual(init, { type: 'init', task: 'image', backend: 'auto', weightsUrl: MODEL, cache: false, threads: 2, assetBase: 'https://cdn.example.test/burn-finetune/dist/', id: 1 });
});

test('a failed start rejects with the reason and stops the worker', async () => {
  FakeWorker.script = (m, w) => w.settle(m.id, 'The weights file https://x/w could not be fetched (HTTP 404).');
  await assert.rejects(createFineTuner({ task: 'image', modelUrl: 'https://x/w' }), /HTTP 404/);
  assert.equal(FakeWorker.last.terminated, true);
  await assert.rejects(createFineTuner({ task: 'video', modelUrl: MODEL }), TypeError);
  await assert.rejects(createFineTuner({ task: 'image' }), /modelUrl is required/);
});

test('addExamples checks each example, counts per class, and clears', async () => {
  const tuner = await createFineTuner({ task: 'image', modelUrl: MODEL });
  assert.equal(tuner.addExamples(imageExamples()), 3);
  assert.throws(() => tuner.addExamples([{ image: png('x.png'), label: 'a' }, { image: png('y.png'), label: ' ' }]), /example 2 has no label/);
  assert.throws(() => tuner.addExamples([{ image: 'cat.png', label: 'a' }]), /example 1: not an image \(a Blob\/File, ImageBitmap, ImageData, <img>, <canvas>, <video> or OffscreenCanvas\)/);
  await assert.rejects(tuner.predict({}), /the input: not an image/);
  await assert.rejects(tuner.keep('m'), /no fine-tuned model yet/);
  assert.throws(() => tuner.addExamples({ image: png('x.png'), label: 'a' }), /takes an array/);
  assert.deepEqual(tuner.countExamples(), { b: 1, a: 2 });
  assert.deepEqual(tuner.classes(), ['a', 'b'], 'classes sorted, as the engine numbers them');
  tuner.clearExamples();
  assert.deepEqual(tuner.countExamples(), {});
  const text = await createFineTuner({ task: 'text', modelUrl: MODEL });
  assert.throws(() => text.addExamples([{ text: 5, label: 'a' }]), /example 1 has no text/);
});

test('train sends changed examples once, the cut once (as preparation), the rest as options', async () => {
  const tuner = await createFineTuner({ task: 'image', modelUrl: MODEL });
  tuner.addExamples([...imageExamples(), { image: png('b2.png'), label: 'b' }]);
  const epochs = [];
  const result = await tuner.train({ epochs: 4, learningRate: 0.01, backboneLearningRate: 0.001, validationSplit: 0.3, unfreeze: 1, augment: 2, flip: false, onEpochEnd: (e) => epochs.push(e.epoch) });
  const w = FakeWorker.last;
  const sent = w.sent.find((m) => m.type === 'examples');
  assert.deepEqual(sent.classes, ['a', 'b']);
  assert.deepEqual(sent.examples.map((e) => [e.name, e.label, e.holdout]), [['a1.png', 'b', undefined], ['a2.png', 'a', undefined], ['a3.png', 'a', true], ['b2.png', 'b', undefined]]);
  const train = w.sent.find((m) => m.type === 'train');
  assert.deepEqual(train.preparation, { unfreeze: 1, maxLength: undefined, augment: 2, flip: false });
  assert.deepEqual(train.options, { epochs: 4, learningRate: 0.01, backboneLearningRate: 0.001, validationSplit: 0.3 }, 'the cut and the views are not training options');
  assert.deepEqual(epochs, [1]);
  assert.equal(result.stopReason, 'completed');
  assert.deepEqual(result.skipped, [{ name: 'x.png', reason: 'not an image' }]);

  await tuner.train({ unfreeze: 'head' });
  assert.equal(w.types().filter((t) => t === 'examples').length, 1, 'unchanged examples are not sent again');
  tuner.addExamples([{ image: png('b3.png'), label: 'b' }]);
  await tuner.train();
  assert.equal(w.types().filter((t) => t === 'examples').length, 2);
});

test('classes are added, renamed, merged and removed; examples removed by a filter', async () => {
  const tuner = await createFineTuner({ task: 'image', modelUrl: MODEL });
  tuner.addExamples(imageExamples());
  assert.equal(tuner.addClass('c'), true);
  assert.equal(tuner.addClass('c'), false);
  assert.deepEqual(tuner.countExamples(), { b: 1, a: 2, c: 0 });
  assert.equal(await tuner.readiness(), 'Each class needs at least 2.', 'the engine\'s rule, before any preparation');
  assert.deepEqual(FakeWorker.last.sent.at(-1).classes, ['a', 'b', 'c'], 'an empty class is sent too');
  assert.equal(tuner.renameClass('b', 'bee'), true);
  assert.equal(tuner.renameClass('nope', 'x'), false);
  assert.deepEqual(tuner.classes(), ['a', 'bee', 'c']);
  assert.equal(tuner.renameClass('bee', 'a'), true, 'renaming onto a class merges');
  assert.deepEqual(tuner.countExamples(), { a: 3, c: 0 });
  assert.equal(tuner.removeExamples((ex) => ex.validation === true), 1);
  assert.equal(tuner.removeClass('c'), 0);
  assert.deepEqual(tuner.countExamples(), { a: 2 });
  assert.throws(() => tuner.renameClass('a', ' '), TypeError);
});

test('prepare warms the cache before Train, with progress; train after it sends no examples again', async () => {
  const events = [];
  const tuner = await createFineTuner({ task: 'image', modelUrl: MODEL, onProgress: (e) => events.push(e.type) });
  tuner.addExamples([...imageExamples(), { image: png('b2.png'), label: 'b' }]);
  const prepared = await tuner.prepare({ unfreeze: 'head' });
  assert.equal(prepared.cacheBytes, 1);
  assert.ok(events.includes('caching'));
  const w = FakeWorker.last;
  assert.deepEqual(w.sent.find((m) => m.type === 'prepare').preparation, { unfreeze: 'head' });
  await tuner.train({ unfreeze: 'head' });
  assert.equal(w.types().filter((t) => t === 'examples').length, 1);
  await assert.rejects(tuner.prepare({ signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('text: a table file is read in the worker, its columns chosen, then trained on', async () => {
  const events = [];
  const tuner = await createFineTuner({ task: 'text', modelUrl: MODEL, onProgress: (e) => events.push(e) });
  const table = await tuner.loadTable(new File(['text,label\n'], 'reviews.csv'));
  assert.deepEqual(table.guess, { text: 0, label: 1, problem: null });
  assert.deepEqual(events.find((e) => e.type === 'reading'), { type: 'reading', bytes: 4, total: 8, rows: 1 });
  assert.equal(FakeWorker.last.sent.find((m) => m.type === 'load-table').name, 'reviews.csv');
  const dataset = await tuner.chooseColumns({ text: 0, label: 1 });
  assert.deepEqual(dataset.counts, [2, 2]);
  await tuner.train({ maxLength: 64 });
  const w = FakeWorker.last;
  assert.ok(!w.types().includes('examples'), 'a table replaces the examples');
  assert.deepEqual(w.sent.find((m) => m.type === 'train').preparation, { unfreeze: undefined, maxLength: 64, augment: undefined, flip: undefined });
  assert.deepEqual(await tuner.predict('good'), [{ label: 'pos', score: 0.8 }]);
  const image = await createFineTuner({ task: 'image', modelUrl: MODEL });
  await assert.rejects(image.loadTable(new Blob(['x'])), /for the text task/);
});

test('train rejects with the engine\'s reason when the examples are not enough', async () => {
  const tuner = await createFineTuner({ task: 'image', modelUrl: MODEL });
  FakeWorker.script = (m, w) => {
    if (m.type !== 'examples') return engine(m, w);
    w.reply({ type: 'examples', summary: { classes: ['a'], counts: [1], readiness: 'Add at least 2 classes.' } });
    w.settle(m.id);
  };
  tuner.addExamples([{ image: png('a.png'), label: 'a' }]);
  await assert.rejects(tuner.train(), /Add at least 2 classes/);
  assert.ok(!FakeWorker.last.types().includes('train'));
});

test('an AbortSignal cancels: before the start, during caching, and during training', async () => {
  const tuner = await createFineTuner({ task: 'text', modelUrl: MODEL });
  tuner.addExamples([{ text: 'good', label: 'pos' }, { text: 'bad', label: 'neg' }]);
  await assert.rejects(tuner.train({ signal: AbortSignal.abort() }), { name: 'AbortError' });
  assert.ok(!FakeWorker.last.types().includes('train'));

  const controller = new AbortController();
  let cancelled = false;
  FakeWorker.script = (m, w) => {
    if (m.type === 'cancel') { cancelled = true; return; }
    if (m.type !== 'train') return engine(m, w);
    controller.abort();
    setTimeout(() => {
      w.reply({ type: 'trained', report: report({ stopReason: 'cancelled' }), classes: ['neg', 'pos'], wasmMemoryBytes: 1 });
      w.settle(m.id);
    }, 5);
  };
  const result = await tuner.train({ signal: controller.signal });
  assert.ok(cancelled, 'the worker was told to cancel');
  assert.equal(result.stopReason, 'cancelled');
  assert.deepEqual(await tuner.predict('good'), [{ label: 'pos', score: 0.8 }], 'the kept weights predict');

  const during = new AbortController();
  FakeWorker.script = (m, w) => {
    if (m.type !== 'train') return m.type === 'cancel' ? undefined : engine(m, w);
    during.abort();
    w.settle(m.id, 'Cancelled while the examples were prepared; nothing was trained.');
  };
  await assert.rejects(tuner.train({ signal: during.signal }), { name: 'AbortError' });
});

test('pause and resume go to the worker at once, past the queue', async () => {
  const tuner = await createFineTuner({ task: 'text', modelUrl: MODEL });
  tuner.addExamples([{ text: 'good', label: 'pos' }, { text: 'bad', label: 'neg' }]);
  let release;
  FakeWorker.script = (m, w) => {
    if (m.type !== 'train') return engine(m, w);
    release = () => engine(m, w);
  };
  const training = tuner.train();
  await new Promise((r) => setTimeout(r, 5));
  tuner.pause();
  tuner.resume();
  const w = FakeWorker.last;
  assert.deepEqual(w.types().slice(-3), ['train', 'pause', 'resume']);
  release();
  assert.equal((await training).stopReason, 'completed');
});

test('predict takes one input or many, images and texts alike', async () => {
  const tuner = await createFineTuner({ task: 'image', modelUrl: MODEL });
  await assert.rejects(tuner.predict(png('x.png')), /no fine-tuned model yet/);
  tuner.addExamples(imageExamples());
  await tuner.train();
  assert.deepEqual(await tuner.predict(png('x.png')), [{ label: 'a', score: 0.9 }, { label: 'b', score: 0.1 }]);
  const many = await tuner.predict([png('x.png'), png('y.png')], { topK: 1 });
  assert.equal(many.length, 2);
  assert.equal(FakeWorker.last.sent.at(-1).topK, 1);
  assert.deepEqual(await tuner.predict([]), []);

  const text = await createFineTuner({ task: 'text', modelUrl: MODEL });
  text.addExamples([{ text: 'good', label: 'pos' }, { text: 'bad', label: 'neg' }]);
  await text.train();
  assert.deepEqual(await text.predict(['so good', 'awful']), [[{ label: 'pos', score: 0.8 }], [{ label: 'neg', score: 0.8 }]]);
  assert.deepEqual(FakeWorker.last.sent.find((m) => m.type === 'examples').examples, [{ input: 'good', name: 'example 1', label: 'pos' }, { input: 'bad', name: 'example 2', label: 'neg' }]);
});

test('evaluate scores given examples or the best epoch\'s validation split', async () => {
  const tuner = await createFineTuner({ task: 'text', modelUrl: MODEL });
  await assert.rejects(tuner.evaluate(), /no fine-tuned model yet/);
  tuner.addExamples([{ text: 'good', label: 'pos' }, { text: 'bad', label: 'neg' }]);
  await tuner.train();
  const val = await tuner.evaluate();
  assert.equal(val.source, 'validation');
  assert.deepEqual(val.confusion, [[2, 0], [1, 1]]);
  assert.equal(val.accuracy, 0.75);
  assert.deepEqual(val.perClass.map((c) => [c.label, c.precision, c.recall, c.support]), [['neg', 2 / 3, 1, 2], ['pos', 1, 0.5, 2]], 'the engine\'s per-class scores, labelled');
  const given = await tuner.evaluate([{ text: 'good film', label: 'pos' }, { text: 'good grief', label: 'neg' }, { text: 'dull', label: 'neg' }]);
  const sent = FakeWorker.last.sent.at(-1);
  assert.deepEqual([sent.type, sent.inputs, sent.labels], ['evaluate', ['good film', 'good grief', 'dull'], ['pos', 'neg', 'neg']]);
  assert.equal(given.source, 'examples');
  assert.deepEqual(given.confusion, [[1, 1], [0, 1]]);
  assert.equal(given.accuracy, 2 / 3);
  assert.deepEqual(given.perClass.map((c) => c.label), ['neg', 'pos']);
});

test('export returns the bytes; an imported model predicts and evaluates without training', async () => {
  const tuner = await createFineTuner({ task: 'text', modelUrl: MODEL });
  const info = await tuner.importModel(new Uint8Array([9, 9]));
  assert.deepEqual(info.classes, ['neg', 'pos']);
  assert.ok(FakeWorker.last.sent.at(-1).file instanceof Blob);
  assert.deepEqual(await tuner.predict('good'), [{ label: 'pos', score: 0.8 }]);
  await assert.rejects(tuner.evaluate(), /pass labelled examples/);
  assert.deepEqual(Array.from(await tuner.export()), [1, 2, 3]);
  FakeWorker.script = (m, w) => (m.type === 'import' ? w.settle(m.id, 'This is not a model exported by this fine-tuner.') : engine(m, w));
  await assert.rejects(tuner.importModel(new Blob(['junk'])), /not a model exported/);
  assert.deepEqual(await tuner.predict('good'), [{ label: 'pos', score: 0.8 }], 'a refused import keeps the model');
});

test('calls run one at a time, in order', async () => {
  const tuner = await createFineTuner({ task: 'text', modelUrl: MODEL });
  tuner.addExamples([{ text: 'good', label: 'pos' }, { text: 'bad', label: 'neg' }]);
  const order = [];
  const training = tuner.train().then(() => order.push('train'));
  const predicting = tuner.predict('good').then(() => order.push('predict'));
  await Promise.all([training, predicting]);
  assert.deepEqual(order, ['train', 'predict']);
  const w = FakeWorker.last;
  assert.ok(w.types().indexOf('predict') > w.types().indexOf('train'));
});

test('a crashed engine fails the waiting call and every later one; dispose stops the worker', async () => {
  const events = [];
  const tuner = await createFineTuner({ task: 'text', modelUrl: MODEL, onProgress: (e) => events.push(e) });
  tuner.addExamples([{ text: 'good', label: 'pos' }, { text: 'bad', label: 'neg' }]);
  FakeWorker.script = (m, w) => (m.type === 'train'
    ? w.reply({ type: 'error', message: 'panicked at src/train/trainer.rs: out of memory', fatal: true })
    : engine(m, w));
  await assert.rejects(tuner.train(), /engine stopped: panicked .*out of memory.*Create a new fine-tuner/);
  await assert.rejects(tuner.predict('x'), /engine stopped/);
  assert.deepEqual(events.at(-1).type, 'error');
  assert.equal(events.at(-1).fatal, true);

  const other = await createFineTuner({ task: 'image', modelUrl: MODEL });
  const w = FakeWorker.last;
  w.onerror({ message: 'Failed to fetch worker script', preventDefault() {} });
  await assert.rejects(other.export(), /worker failed: Failed to fetch worker script/);

  const third = await createFineTuner({ task: 'image', modelUrl: MODEL });
  third.dispose();
  assert.equal(FakeWorker.last.terminated, true);
  await assert.rejects(third.export(), /disposed/);
});

test('audio: clips are checked, sent decoded (16 kHz samples) once per clip, and predicted the same way', async () => {
  const tuner = await createFineTuner({ task: 'audio', modelUrl: MODEL });
  const w = FakeWorker.last;
  assert.equal(w.sent[0].tokenizerUrl, undefined, 'the audio task loads no tokenizer');
  assert.throws(() => tuner.addExamples([{ audio: new Float32Array(4), label: 'a' }, { audio: 'hello.wav', label: 'b' }]),
    /example 2's audio is not audio: give a File\/Blob/);
  const clip = new Float32Array([0.1, -0.2, 0.3]);
  tuner.addExamples([{ audio: clip, label: 'knock' }, { audio: new Float32Array(8), label: 'knock' }, { audio: new Float32Array(2), label: 'silence', name: 'quiet' }]);
  await tuner.train({ epochs: 1 });
  const examples = w.sent.find((m) => m.type === 'examples').examples;
  assert.deepEqual(examples.map((e) => [e.name, e.label, e.input.samples.length]), [['clip 1', 'knock', 3], ['clip 2', 'knock', 8], ['quiet', 'silence', 2]]);
  assert.deepEqual(Array.from(examples[0].input.samples), Array.from(clip));
  await tuner.predict(clip);
  const predict = w.sent.find((m) => m.type === 'predict');
  assert.deepEqual(predict.inputs.map((i) => i.samples.length), [3]);
  await assert.rejects(tuner.predict(42), /the input is not audio/);
});

test('resume: train({ resume: true }) asks the worker to go on from the kept run, with no settings beside it', async () => {
  const tuner = await createFineTuner({ task: 'image', modelUrl: MODEL });
  tuner.addExamples(imageExamples());
  const w = FakeWorker.last;
  assert.equal(await tuner.checkpoint(), null);
  w.kept = { epoch: 2, epochs: 10, savedAt: '2026-11-30T18:00:00Z', summary: null, usable: true, reason: null };
  assert.equal((await tuner.checkpoint()).epoch, 2);
  await tuner.train({ resume: true });
  const sent = w.sent.filter((m) => m.type === 'train');
  assert.deepEqual([sent[0].resume, sent[0].keep, sent[0].options], [true, true, {}]);
  await assert.rejects(tuner.train({ resume: true, epochs: 3, unfreeze: 1 }), /takes its checkpoint's settings: leave out epochs, unfreeze/);
  await tuner.train({ keepCheckpoints: false });
  assert.deepEqual([w.sent.filter((m) => m.type === 'train').at(-1).keep, w.sent.filter((m) => m.type === 'train').at(-1).resume], [false, false]);
  await tuner.discardCheckpoint();
  assert.equal(await tuner.checkpoint(), null);
});
