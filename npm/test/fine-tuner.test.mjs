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
    valConfusion: { classes: 2, counts: [2, 0, 1, 1] }, headLr: 1e-3, trainExamplesPerSec: 10, seconds: 1 }],
  ...over,
});

/** The engine's normal answers. */
function engine(message, w) {
  const { id } = message;
  switch (message.type) {
    case 'init':
      w.reply({ type: 'loading', file: 'weights', loaded: 0, total: 10 });
      w.reply({ type: 'ready', task: message.task, backend: { kind: 'cpu', reason: 'forced' }, adapter: 'none', loadMs: 5 });
      return w.settle(id);
    case 'prepare':
      w.reply({ type: 'progress', event: { type: 'caching', done: message.examples.length, total: message.examples.length, examplesPerSec: 1 } });
      w.reply({ type: 'prepared', cancelled: false, counts: [1, 1], skipped: [{ name: 'x.png', reason: 'not an image' }], readiness: null, cacheBytes: 1, ms: 1, wasmMemoryBytes: 1 });
      return w.settle(id);
    case 'text-examples':
      w.reply({ type: 'text-dataset', summary: { classes: [...new Set(message.labels)].sort(), counts: [], examples: message.texts.length, emptyTexts: 0, skipped: [], skippedTotal: 0 } });
      return w.settle(id);
    case 'train':
    case 'train-text': {
      const r = report();
      w.reply({ type: 'progress', event: { type: 'epoch', ...r.epochs[0] } });
      w.reply({ type: 'progress', event: { type: 'done', ...r } });
      w.reply({ type: 'trained', report: r, wasmMemoryBytes: 1 });
      return w.settle(id);
    }
    case 'predict':
      w.reply({ type: 'prediction', results: message.inputs.map(() => [{ label: 'a', score: 0.9 }, { label: 'b', score: 0.1 }]) });
      return w.settle(id);
    case 'predict-text':
      w.reply({ type: 'prediction', results: message.texts.map((t) => [{ label: t.includes('good') ? 'pos' : 'neg', score: 0.8 }]) });
      return w.settle(id);
    case 'export':
      w.reply({ type: 'exported', bytes: new Uint8Array([1, 2, 3]), purpose: message.purpose });
      return w.settle(id);
    case 'import':
      w.reply({ type: 'imported', info: { format: 'burn-finetune/1', baseModel: 'all-minilm-l6-v2', task: 'text', classes: ['neg', 'pos'], unfreeze: 2, maxLength: 128, preprocessing: '' } });
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
  assert.deepEqual(w.sent[0], { type: 'init', task: 'text', backend: 'auto', weightsUrl: MODEL, cache: true, tokenizerUrl: 'https://example.test/models/tokenizer.json', id: 1 });
  assert.deepEqual(events, ['loading', 'ready']);
  assert.deepEqual(tuner.backend, { kind: 'cpu', reason: 'forced' });
  assert.equal(tuner.task, 'text');
});

test('createFineTuner passes the cache switch, the engine files\' folder and the worker\'s URL', async () => {
  await createFineTuner({ task: 'image', modelUrl: MODEL, cache: false, assetBase: 'https://cdn.example.test/burn-finetune/dist/', workerUrl: 'https://example.test/w/worker.js', threads: 2 });
  const w = FakeWorker.last;
  assert.equal(w.url, 'https://example.test/w/worker.js');
  assert.deepEqual(w.sent[0], { type: 'init', task: 'image', backend: 'auto', weightsUrl: MODEL, cache: false, threads: 2, assetBase: 'https://cdn.example.test/burn-finetune/dist/', id: 1 });
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
  assert.deepEqual(tuner.countExamples(), { a: 2, b: 1 });
  tuner.clearExamples();
  assert.deepEqual(tuner.countExamples(), {});
  const text = await createFineTuner({ task: 'text', modelUrl: MODEL });
  assert.throws(() => text.addExamples([{ text: 5, label: 'a' }]), /example 1 has no text/);
});

test('train prepares changed examples once, maps the settings, and reports epochs', async () => {
  const tuner = await createFineTuner({ task: 'image', modelUrl: MODEL });
  tuner.addExamples(imageExamples());
  const epochs = [];
  const result = await tuner.train({ epochs: 4, learningRate: 0.01, backboneLearningRate: 0.001, validationSplit: 0.3, onEpochEnd: (e) => epochs.push(e.epoch) });
  const w = FakeWorker.last;
  const prepare = w.sent.find((m) => m.type === 'prepare');
  assert.deepEqual(prepare.classes, ['a', 'b']);
  assert.equal(prepare.unfreeze, 2);
  assert.deepEqual(prepare.examples.map((e) => [e.name, e.label, e.holdout]), [['a1.png', 'b', undefined], ['a2.png', 'a', undefined], ['a3.png', 'a', true]]);
  // Unset settings are not sent (`undefined` would not deserialize in the engine).
  assert.deepEqual(w.sent.find((m) => m.type === 'train').options, { unfreeze: 2, epochs: 4, headLr: 0.01, backboneLr: 0.001, valShare: 0.3 });
  assert.deepEqual(epochs, [1]);
  assert.equal(result.stopReason, 'completed');
  assert.deepEqual(result.skipped, [{ name: 'x.png', reason: 'not an image' }]);

  await tuner.train({ unfreeze: 'head' });
  assert.equal(w.types().filter((t) => t === 'prepare').length, 1, 'unchanged examples are not prepared again');
  tuner.addExamples([{ image: png('b2.png'), label: 'b' }]);
  await tuner.train();
  assert.equal(w.types().filter((t) => t === 'prepare').length, 2);
});

test('train rejects with the engine\'s reason when the examples are not enough', async () => {
  const tuner = await createFineTuner({ task: 'image', modelUrl: MODEL });
  FakeWorker.script = (m, w) => {
    if (m.type !== 'prepare') return engine(m, w);
    w.reply({ type: 'prepared', cancelled: false, counts: [1], skipped: [], readiness: 'Add at least 2 classes.', cacheBytes: 0, ms: 1, wasmMemoryBytes: 1 });
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
  assert.ok(!FakeWorker.last.types().includes('train-text'));

  const controller = new AbortController();
  let cancelled = false;
  FakeWorker.script = (m, w) => {
    if (m.type === 'cancel') { cancelled = true; return; }
    if (m.type !== 'train-text') return engine(m, w);
    controller.abort();
    setTimeout(() => {
      w.reply({ type: 'trained', report: report({ stopReason: 'cancelled' }), wasmMemoryBytes: 1 });
      w.settle(m.id);
    }, 5);
  };
  const result = await tuner.train({ signal: controller.signal });
  assert.ok(cancelled, 'the worker was told to cancel');
  assert.equal(result.stopReason, 'cancelled');
  assert.deepEqual(await tuner.predict('good'), [{ label: 'pos', score: 0.8 }], 'the kept weights predict');

  const during = new AbortController();
  FakeWorker.script = (m, w) => {
    if (m.type !== 'train-text') return m.type === 'cancel' ? undefined : engine(m, w);
    during.abort();
    w.reply({ type: 'prepared', cancelled: true, counts: [], skipped: [], readiness: 'Preparation was cancelled: train again to prepare the texts.', cacheBytes: 0, ms: 1, wasmMemoryBytes: 1 });
    w.settle(m.id);
  };
  await assert.rejects(tuner.train({ signal: during.signal }), { name: 'AbortError' });
});

test('pause and resume go to the worker at once, past the queue', async () => {
  const tuner = await createFineTuner({ task: 'text', modelUrl: MODEL });
  tuner.addExamples([{ text: 'good', label: 'pos' }, { text: 'bad', label: 'neg' }]);
  let release;
  FakeWorker.script = (m, w) => {
    if (m.type !== 'train-text') return engine(m, w);
    release = () => engine(m, w);
  };
  const training = tuner.train();
  await new Promise((r) => setTimeout(r, 5));
  tuner.pause();
  tuner.resume();
  const w = FakeWorker.last;
  assert.deepEqual(w.types().slice(-3), ['train-text', 'pause', 'resume']);
  release();
  assert.equal((await training).stopReason, 'completed');
});

test('predict takes one input or many; text goes to predict-text', async () => {
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
  assert.deepEqual(FakeWorker.last.sent.find((m) => m.type === 'text-examples'), { type: 'text-examples', texts: ['good', 'bad'], labels: ['pos', 'neg'], id: 2 });
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
  assert.deepEqual(val.perClass.map((c) => [c.label, c.precision, c.recall, c.support]), [['neg', 2 / 3, 1, 2], ['pos', 1, 0.5, 2]]);
  const given = await tuner.evaluate([{ text: 'good film', label: 'pos' }, { text: 'good grief', label: 'neg' }, { text: 'dull', label: 'neg' }]);
  assert.equal(given.source, 'examples');
  assert.deepEqual(given.confusion, [[1, 1], [0, 1]]);
  assert.equal(given.accuracy, 2 / 3);
  assert.ok(Math.abs(given.macroF1 - (2 / 3 + 2 / 3) / 2) < 1e-12);
  await assert.rejects(tuner.evaluate([{ text: 'x', label: 'meh' }]), /'meh' is not one of the model's classes \(neg, pos\)/);
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
  assert.ok(w.types().indexOf('predict-text') > w.types().indexOf('train-text'));
});

test('a crashed engine fails the waiting call and every later one; dispose stops the worker', async () => {
  const events = [];
  const tuner = await createFineTuner({ task: 'text', modelUrl: MODEL, onProgress: (e) => events.push(e) });
  tuner.addExamples([{ text: 'good', label: 'pos' }, { text: 'bad', label: 'neg' }]);
  FakeWorker.script = (m, w) => (m.type === 'train-text'
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
