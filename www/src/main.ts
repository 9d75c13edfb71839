// The demo page: collects examples (images, or a text file through text-mode.ts), drives the
// engine's worker, draws progress. All heavy work happens in the worker; this thread only renders.

import { Curves, escape, renderConfusion, renderPerClass } from './charts';
import type { BackendPreference, EpochReport, FromWorker, Task, ToWorker, TrainEvent, TrainOptions, Unfreeze } from '../../npm/src/protocol';
import { ImageMode } from './image-mode';
import { SavedModels } from './saved-models';
import { TextMode } from './text-mode';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const IMAGE_WEIGHTS_URL = './efficientnet-lite0.safetensors';
const TEXT_WEIGHTS_URL = './minilm-l6/model.safetensors';
const TOKENIZER_URL = './minilm-l6/tokenizer.json';
/** Labels of the unfreeze choices per task. */
const UNFREEZE_LABELS: Record<Task, Record<string, string>> = {
  image: { head: 'head only (fastest)', 1: 'head + last block', 2: 'head + last 2 blocks', 4: 'head + last 4 blocks' },
  text: { head: 'head only (fastest)', 1: 'head + last encoder layer', 2: 'head + last 2 encoder layers', 4: 'head + last 4 encoder layers' },
};

const state = {
  task: 'image' as Task,
  /** Class names of the model `predict` uses now (trained or imported). */
  modelClasses: [] as string[],
  /** A kept model of the other task waits here until that task's engine is ready. */
  pendingImport: null as Blob | null,
  worker: null as Worker | null,
  engineReady: false,
  busy: false,
  /** A training run is going (not only a preparation). */
  training: false,
  paused: false,
  epochs: [] as EpochReport[],
  /** Where the engine's files came from while it loaded ('cache', 'network'). */
  loadedFrom: new Set<string>(),
};

function send(msg: ToWorker) {
  state.worker?.postMessage(msg);
}

function startWorker() {
  state.worker?.terminate();
  state.engineReady = false;
  state.loadedFrom.clear();
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<FromWorker>) => onWorkerMessage(e.data);
  worker.onerror = (e) => fatal(`The engine crashed: ${e.message || 'unknown error'}`);
  state.worker = worker;
  state.paused = false;
  $('pause-button').textContent = 'Pause';
  $('backend-status').textContent = 'Loading the engine and the pretrained weights…';
  const backend = $<HTMLSelectElement>('backend').value as BackendPreference;
  send(state.task === 'text'
    ? { type: 'init', task: 'text', backend, weightsUrl: TEXT_WEIGHTS_URL, tokenizerUrl: TOKENIZER_URL }
    : { type: 'init', task: 'image', backend, weightsUrl: IMAGE_WEIGHTS_URL });
}

const text = new TextMode(send, () => updateTrainButton(), showMessage);
const images = new ImageMode({
  send, message: showMessage, engineReady: () => state.engineReady, busy: () => state.busy,
  setBusy, changed: () => updateTrainButton(), unfreeze: () => unfreezeValue(),
});

/** Shows the controls of `task` and starts its engine. */
function setTask(task: Task) {
  state.task = task;
  document.body.dataset.task = task;
  document.querySelectorAll<HTMLElement>('.image-only').forEach((e) => { e.hidden = task !== 'image'; });
  document.querySelectorAll<HTMLElement>('.text-only').forEach((e) => { e.hidden = task !== 'text'; });
  if (task === 'text') $('columns').hidden = true;
  for (const option of Array.from($<HTMLSelectElement>('unfreeze').options)) option.textContent = UNFREEZE_LABELS[task][option.value];
  $<HTMLInputElement>('epochs').value = task === 'text' ? '3' : '10';
  $('class-table').innerHTML = '';
  $('predictions').innerHTML = '';
  $('confusion').innerHTML = '';
  $('per-class').innerHTML = '';
  $('data-status').textContent = '';
  $('skipped-box').hidden = true;
  setTrained(false);
  state.epochs = [];
  drawCharts();
  startWorker();
}

/** A crash inside the worker: report it, start a fresh worker, keep the page's data. */
function fatal(message: string) {
  const backend = $<HTMLSelectElement>('backend');
  const lostGpu = state.training && document.getElementById('backend-status')?.dataset.kind === 'webgpu';
  if (lostGpu) {
    // WebGPU failed mid-training (e.g. the device was lost): go on with the CPU backend.
    backend.value = 'cpu';
    showMessage('error', `WebGPU failed during training (${message}). Switched to the CPU backend; your data is still here — press Train to train again.`);
  } else {
    showMessage('error', `${message} — the engine was restarted; your data is still here.`);
  }
  setTrained(false);
  setBusy(false);
  startWorker();
}

function onWorkerMessage(msg: FromWorker) {
  switch (msg.type) {
    case 'ready':
      state.engineReady = true;
      const threads = msg.backend.kind === 'cpu' ? ` on ${msg.backend.threads} thread${msg.backend.threads > 1 ? 's' : ''}` : '';
      const from = state.loadedFrom.has('network') ? '' : ' from this browser\'s cache';
      $('backend-status').textContent = `Backend: ${msg.backend.reason}${threads}. WebGPU adapter: ${msg.adapter}. Loaded${from} in ${(msg.loadMs / 1000).toFixed(1)} s.`;
      $('backend-status').dataset.kind = msg.backend.kind;
      $('backend-status').dataset.threads = String(msg.backend.threads);
      if (msg.task === 'image') images.onReady();
      if (msg.task === 'text') text.reload();
      if (state.pendingImport) { send({ type: 'import', file: state.pendingImport }); state.pendingImport = null; }
      updateTrainButton();
      break;
    case 'loading': {
      const mb = (n: number) => (n / 1e6).toFixed(1);
      const where = msg.fromCache ? ' (kept in this browser)' : '';
      $('backend-status').textContent = `Loading the ${msg.file}${where}: ${mb(msg.loaded)}${msg.total ? ` of ${mb(msg.total)}` : ''} MB…`;
      state.loadedFrom.add(msg.fromCache ? 'cache' : 'network');
      break;
    }
    case 'progress':
      onProgress(msg.event);
      break;
    case 'prepared': {
      if (state.task === 'text') {
        const cut = msg.truncated ? `; ${msg.truncated} long text(s) cut to the max length` : '';
        $('data-status').textContent = `${msg.counts.reduce((a, b) => a + b, 0)} texts ready (frozen layers cached: ${(msg.cacheBytes / 1e6).toFixed(1)} MB, ${(msg.ms / 1000).toFixed(1)} s${cut}).`;
        if (msg.readiness) { showMessage('error', msg.readiness); setBusy(false); }
        break;
      }
      images.onPrepared(msg);
      break;
    }
    case 'trained':
      showMessage(msg.report.stopReason === 'diverged' ? 'error' : 'info', msg.report.message);
      state.modelClasses = classNames();
      setTrained(true);
      setBusy(false);
      break;
    case 'exported':
      if (msg.purpose === 'keep') void saved.keep(msg.bytes);
      else download(msg.bytes, `finetuned-${state.task}.safetensors`);
      break;
    case 'imported':
      state.modelClasses = msg.info.classes;
      showMessage('info', `Imported a model fine-tuned from ${msg.info.baseModel} for ${msg.info.classes.length} classes (${msg.info.classes.join(', ')}); trained layers: ${msg.info.unfreeze === 'head' ? 'head only' : `head + last ${msg.info.unfreeze}`}.`);
      setTrained(true);
      break;
    case 'prediction':
      $('predictions').innerHTML = msg.results[0]
        .map((p) => `<li><strong>${escape(p.label)}</strong> ${(p.score * 100).toFixed(1)}%</li>`)
        .join('');
      if (state.task === 'image') images.onPrediction();
      break;
    case 'paused':
      state.paused = msg.paused;
      $('pause-button').textContent = msg.paused ? 'Resume' : 'Pause';
      $('pause-button').setAttribute('aria-pressed', String(msg.paused));
      if (msg.paused) $('progress-text').textContent = `Paused. ${$('progress-text').textContent}`;
      break;
    case 'settled':
      break;
    case 'table-progress':
    case 'table':
    case 'text-dataset':
      text.onMessage(msg);
      break;
    case 'error':
      if (msg.fatal) fatal(msg.message);
      else {
        showMessage('error', msg.message);
        if (state.task === 'text') text.failed(msg.message);
        setBusy(false);
      }
      break;
  }
}

function onProgress(ev: TrainEvent) {
  const progress = $<HTMLProgressElement>('progress');
  switch (ev.type) {
    case 'caching':
      progress.value = ev.done / ev.total;
      $('progress-text').textContent = `Preparing examples (frozen layers): ${ev.done}/${ev.total} · ${ev.examplesPerSec.toFixed(1)} ${state.task === 'text' ? 'texts' : 'images'}/s · about ${Math.round((ev.total - ev.done) / Math.max(ev.examplesPerSec, 1e-3))} s left`;
      break;
    case 'step': {
      const epochs = Number($<HTMLInputElement>('epochs').value) || 1;
      const done = (ev.epoch - 1) * ev.stepsPerEpoch + ev.step;
      progress.value = done / (epochs * ev.stepsPerEpoch);
      const batch = Number($<HTMLInputElement>('batch-size').value) || 32;
      const etaS = ((epochs * ev.stepsPerEpoch - done) * batch) / Math.max(ev.examplesPerSec, 1e-3);
      const eta = etaS >= 90 ? `${Math.round(etaS / 60)} min` : `${Math.round(etaS)} s`;
      $('progress-text').textContent = `${state.paused ? 'Paused. ' : ''}Epoch ${ev.epoch}, step ${ev.step}/${ev.stepsPerEpoch} · loss ${ev.loss.toFixed(4)} · ${ev.examplesPerSec.toFixed(1)} examples/s · about ${eta} left (at most; early stopping may end sooner)`;
      break;
    }
    case 'epoch':
      state.epochs.push(ev);
      drawCharts();
      renderConfusion($<HTMLTableElement>('confusion'), classNames(), ev.valConfusion.counts);
      renderPerClass($<HTMLTableElement>('per-class'), classNames(), ev.valConfusion.counts);
      $('progress-text').textContent = `Epoch ${ev.epoch}: train accuracy ${(ev.trainAccuracy * 100).toFixed(1)}% (macro-F1 ${ev.trainMacroF1.toFixed(3)}), val accuracy ${(ev.valAccuracy * 100).toFixed(1)}% (macro-F1 ${ev.valMacroF1.toFixed(3)})`;
      document.body.dataset.valAccuracy = String(ev.valAccuracy);
      break;
    case 'warning':
      showMessage('warning', ev.message);
      break;
    case 'done':
      progress.value = 1;
      break;
  }
}

let charts: { loss: Curves; accuracy: Curves } | null = null;

function drawCharts() {
  charts ??= { loss: new Curves($('loss-chart'), 'loss'), accuracy: new Curves($('acc-chart'), 'accuracy') };
  const e = state.epochs;
  charts.loss.set(e.map((r) => r.trainLoss), e.map((r) => r.valLoss));
  charts.accuracy.set(e.map((r) => r.trainAccuracy), e.map((r) => r.valAccuracy));
}

function setTrained(trained: boolean) {
  if (trained) document.body.dataset.trained = 'true';
  else delete document.body.dataset.trained;
  $<HTMLButtonElement>('export-button').disabled = !trained;
  $<HTMLButtonElement>('keep-button').disabled = !trained;
}

/** Saves `bytes` as a file through the browser's download (nothing is uploaded). */
function download(bytes: Uint8Array, name: string) {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Imports a kept model, switching to its task first when needed. */
function importKept(task: Task, file: Blob) {
  if (task === state.task) {
    send({ type: 'import', file });
    return;
  }
  state.pendingImport = file; // sent once the other task's engine is ready
  document.querySelector<HTMLInputElement>(`input[name="task"][value="${task}"]`)!.checked = true;
  setTask(task);
}

const saved = new SavedModels(() => state.task, () => state.modelClasses, showMessage, importKept);

function showMessage(kind: 'info' | 'warning' | 'error', text: string) {
  const p = document.createElement('p');
  p.className = kind;
  p.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  p.textContent = text;
  $('messages').prepend(p);
}

/** Class names as the engine numbers them for the current data. */
function classNames(): string[] {
  return state.task === 'text' ? text.classes() : images.names();
}

function unfreezeValue(): Unfreeze {
  const v = $<HTMLSelectElement>('unfreeze').value;
  return v === 'head' ? 'head' : Number(v);
}

function options(): TrainOptions {
  const num = (id: string) => Number($<HTMLInputElement>(id).value);
  return {
    unfreeze: unfreezeValue(),
    epochs: num('epochs'),
    batchSize: num('batch-size'),
    headLr: num('head-lr'),
    backboneLr: num('backbone-lr'),
    valShare: num('val-share'),
    seed: num('seed'),
    patience: num('patience'),
  };
}

function setBusy(busy: boolean) {
  state.busy = busy;
  if (!busy) {
    state.training = false;
    if (state.paused) send({ type: 'resume' });
  }
  $<HTMLButtonElement>('cancel-button').disabled = !busy;
  $<HTMLButtonElement>('pause-button').disabled = !busy;
  updateTrainButton();
  if (!busy && state.task === 'image') images.onIdle();
}

function updateTrainButton() {
  const reason = !state.engineReady ? 'The engine is loading…'
    : state.busy ? 'Working…'
    : state.task === 'text' ? text.readiness()
    : images.readiness();
  $<HTMLButtonElement>('train-button').disabled = reason !== null;
  $('train-reason').textContent = reason ?? '';
}

function wire() {
  images.wire();
  // Buttons that open a hidden file input (a <label for> cannot take keyboard focus).
  document.querySelectorAll<HTMLButtonElement>('button[data-opens]').forEach((b) =>
    b.addEventListener('click', () => $(b.dataset.opens!).click()));
  $('train-button').addEventListener('click', () => {
    state.epochs = [];
    drawCharts();
    const start = () => {
      setBusy(true);
      state.training = true;
      if (state.task === 'text') send({ type: 'train-text', options: options(), maxLength: Number($<HTMLInputElement>('max-length').value) });
      else send({ type: 'train', options: options() });
    };
    if (state.task === 'image') images.whenPrepared(start);
    else start();
  });
  $('predict-text-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $<HTMLTextAreaElement>('predict-text').value;
    if (value.trim()) send({ type: 'predict-text', texts: [value], topK: 3 });
  });
  text.wire();
  $('export-button').addEventListener('click', () => send({ type: 'export', purpose: 'download' }));
  $('keep-button').addEventListener('click', () => send({ type: 'export', purpose: 'keep' }));
  saved.wire();
  $<HTMLInputElement>('import-input').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const f = input.files?.[0];
    if (f) send({ type: 'import', file: f });
    input.value = '';
  });
  document.querySelectorAll<HTMLInputElement>('input[name="task"]').forEach((radio) =>
    radio.addEventListener('change', () => { if (radio.checked) setTask(radio.value as Task); }));
  $('cancel-button').addEventListener('click', () => send({ type: 'cancel' }));
  $('pause-button').addEventListener('click', () => send({ type: state.paused ? 'resume' : 'pause' }));
  $('backend').addEventListener('change', () => { setTrained(false); startWorker(); });
  const params = new URLSearchParams(location.search);
  const backend = params.get('backend');
  if (backend === 'auto' || backend === 'webgpu' || backend === 'cpu') $<HTMLSelectElement>('backend').value = backend;
  if (params.has('testHooks')) window.addEventListener('finetune:test-panic', () => send({ type: 'test-panic' }));
  const task: Task = params.get('task') === 'text' ? 'text' : 'image';
  document.querySelector<HTMLInputElement>(`input[name="task"][value="${task}"]`)!.checked = true;
  setTask(task);
  updateTrainButton();
}

wire();
