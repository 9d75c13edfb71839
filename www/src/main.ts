// The demo page: a client of the npm package (`createFineTuner`), like any app that embeds it.
// Collects examples (images through image-mode.ts, a text file through text-mode.ts, sound clips
// through audio-mode.ts), starts preparation and training, draws progress. All heavy work happens
// in the package's worker; this thread only renders. Speech has its own panel (speech-page.ts).

import { Curves, escape, renderConfusion, renderPerClass } from './charts';
import {
  type BackendPreference, type CheckpointStatus, type ClassifierTask as Task, createFineTuner, type EpochReport, type FineTuner, type FineTunerEvent,
} from '../../npm/src/index';
import { AudioMode } from './audio-mode';
import { ResumeOffer } from './resume-offer';
import { labelCuts, preparation, settings, showSettings } from './settings-form';
import { ImageMode } from './image-mode';
import { progressLine } from './progress-line';
import { SavedModels } from './saved-models';
import { SpeechPage } from './speech-page';
import { TextMode } from './text-mode';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const MODEL_URLS: Record<Task, { modelUrl: string; tokenizerUrl?: string }> = {
  image: { modelUrl: './efficientnet-lite0.safetensors' },
  text: { modelUrl: './minilm-l6/model.safetensors', tokenizerUrl: './minilm-l6/tokenizer.json' },
  audio: { modelUrl: './whisper-tiny-en/model.safetensors' },
};
/** What each task's examples are called. */
const NOUNS: Record<Task, string> = { image: 'images', text: 'texts', audio: 'clips' };
const state = {
  task: 'image' as Task,
  tuner: null as FineTuner | null,
  /** Bumped for each fine-tuner started: events of an older one are ignored. */
  generation: 0,
  /** Engine crashes since the examples last prepared or trained without one: at the second, the
   * restarted engine does not prepare them again by itself (a crash they cause would loop). */
  crashes: 0,
  /** Class names of the model `predict` uses now (trained or imported). */
  modelClasses: [] as string[],
  /** A kept model of the other task waits here until that task's fine-tuner is ready. */
  pendingKept: null as string | null,
  busy: false,
  /** A training run is going (not only a preparation). */
  training: false,
  paused: false,
  /** Cancels the call under way (preparation or training). */
  abort: null as AbortController | null,
  epochs: [] as EpochReport[],
  /** Where the engine's files came from while it loaded ('cache', 'network'). */
  loadedFrom: new Set<string>(),
};

const host = {
  tuner: () => state.tuner,
  busy: () => state.busy,
  preparation: () => preparation(state.task),
  changed: () => updateTrainButton(),
  message: showMessage,
  /** Runs `work` as the page's one long call: busy, cancellable; errors are shown. */
  run: (work: (signal: AbortSignal) => Promise<void>) => run(work),
  cancelPreparation: () => { if (!state.training) state.abort?.abort(); },
};
const images = new ImageMode(host);
const text = new TextMode(host);
const audio = new AudioMode(host);
/** The examples of each classifier task as the page collects them. */
const modes: Record<Task, { classes(): string[]; readiness(): string | null; onReady(prepare: boolean): void; prepared(signal: AbortSignal): Promise<boolean>; onIdle?(): void }> = {
  image: images, text, audio,
};
let speech: SpeechPage | null = null;

/** Starts a fine-tuner for the current task and backend (the previous one is disposed). */
async function startTuner(prepare = true) {
  state.tuner?.dispose();
  state.tuner = null;
  const generation = ++state.generation;
  state.loadedFrom.clear();
  state.paused = false;
  $('pause-button').textContent = 'Pause';
  $('backend-status').textContent = 'Loading the engine and the pretrained weights…';
  updateTrainButton();
  const task = state.task;
  try {
    const tuner = await createFineTuner({
      task, ...MODEL_URLS[task], backend: $<HTMLSelectElement>('backend').value as BackendPreference,
      onProgress: (event) => { if (generation === state.generation) onProgress(event); },
    });
    if (generation !== state.generation) { tuner.dispose(); return; }
    state.tuner = tuner;
    showSettings(tuner.defaults);
    const threads = tuner.backend.kind === 'cpu' ? ` on ${tuner.backend.threads} thread${tuner.backend.threads > 1 ? 's' : ''}` : '';
    const from = state.loadedFrom.has('network') ? '' : ' from this browser\'s cache';
    $('backend-status').dataset.kind = tuner.backend.kind;
    $('backend-status').dataset.threads = String(tuner.backend.threads);
    $('backend-status').textContent = `Backend: ${tuner.backend.reason}${threads}. WebGPU adapter: ${tuner.adapter}. Loaded${from} in ${(loadMs / 1000).toFixed(1)} s.`;
    if (state.pendingKept !== null) {
      const name = state.pendingKept;
      state.pendingKept = null;
      void saved.importModel(() => tuner.loadKept(name));
    }
    modes[task].onReady(prepare);
  } catch (err) {
    if (generation === state.generation) showMessage('error', `The engine could not start: ${(err as Error).message}`);
  }
  updateTrainButton();
}
let loadMs = 0;


/** Shows the controls of `task` and starts its fine-tuner (speech: the speech panel's own). */
function setTask(task: Task | 'speech') {
  const isSpeech = task === 'speech';
  document.querySelectorAll<HTMLElement>('.classifier-only').forEach((e) => { e.hidden = isSpeech; });
  document.querySelectorAll<HTMLElement>('.speech-only').forEach((e) => { e.hidden = !isSpeech; });
  if (isSpeech) {
    document.body.dataset.task = task;
    state.tuner?.dispose();
    state.tuner = null;
    state.generation += 1;
    $('backend-status').textContent = 'Speech: see below.';
    $('backend-status').dataset.kind = 'speech';
    void speech!.start($<HTMLSelectElement>('backend').value as BackendPreference);
    return;
  }
  speech?.stop();
  void saved.render(); // models kept in the other panel meanwhile
  state.task = task;
  document.body.dataset.task = task;
  document.querySelectorAll<HTMLElement>('.image-only').forEach((e) => { e.hidden = task !== 'image'; });
  document.querySelectorAll<HTMLElement>('.text-only').forEach((e) => { e.hidden = task !== 'text'; });
  document.querySelectorAll<HTMLElement>('.audio-only').forEach((e) => { e.hidden = task !== 'audio'; });
  if (task === 'text') $('columns').hidden = true;
  labelCuts(task);
  for (const id of ['class-table', 'predictions', 'confusion', 'per-class']) $(id).innerHTML = '';
  $('data-status').textContent = '';
  $('skipped-box').hidden = true;
  setTrained(false);
  state.epochs = [];
  drawCharts();
  void startTuner();
}

/** The engine crashed: report it, start a fresh fine-tuner, keep the page's data. */
function fatal(message: string) {
  const backend = $<HTMLSelectElement>('backend');
  const lostGpu = state.training && $('backend-status').dataset.kind === 'webgpu';
  if (lostGpu) {
    // WebGPU failed mid-training (e.g. the device was lost): go on with the CPU backend.
    backend.value = 'cpu';
    showMessage('error', `WebGPU failed during training (${message}). Switched to the CPU backend; your data is still here — resume from the last epoch kept, or press Train to train again.`);
  } else {
    showMessage('error', `${message} — the engine was restarted; your data is still here.`);
  }
  state.crashes += 1;
  const again = state.crashes >= 2 && !lostGpu;
  if (again) {
    const n = modes[state.task].classes().length;
    showMessage('error', `The engine crashed again on the same examples (${n} classes; ${message}). It was restarted without preparing them: `
      + 'remove the examples that cause it, or choose fewer unfrozen layers, a shorter max length or a smaller batch, then train again.');
  }
  setTrained(false);
  setBusy(false);
  void startTuner(!again);
}

function onProgress(event: FineTunerEvent) {
  const line = progressLine(event, {
    noun: NOUNS[state.task],
    epochs: Number($<HTMLInputElement>('epochs').value) || 1,
    batchSize: Number($<HTMLInputElement>('batch-size').value) || 32,
    paused: state.paused,
  });
  if (line) {
    if (line.value !== undefined) $<HTMLProgressElement>('progress').value = line.value;
    $('progress-text').textContent = line.text;
  }
  switch (event.type) {
    case 'loading': {
      const mb = (n: number) => (n / 1e6).toFixed(1);
      const where = event.fromCache ? ' (kept in this browser)' : '';
      $('backend-status').textContent = `Loading the ${event.file}${where}: ${mb(event.loaded)}${event.total ? ` of ${mb(event.total)}` : ''} MB…`;
      state.loadedFrom.add(event.fromCache ? 'cache' : 'network');
      break;
    }
    case 'ready':
      loadMs = event.loadMs;
      break;
    case 'reading':
      text.onReading(event);
      break;
    case 'error':
      if (event.fatal) fatal(event.message);
      break; // failed calls are reported where they were made
    case 'caching':
      if (event.done === event.total) state.crashes = 0;
      break;
    case 'epoch': {
      state.epochs.push(event);
      drawCharts();
      const classes = trainingClasses();
      renderConfusion($<HTMLTableElement>('confusion'), classes, event.valConfusion);
      renderPerClass($<HTMLTableElement>('per-class'), classes, event.valPerClass);
      document.body.dataset.valAccuracy = String(event.valAccuracy);
      break;
    }
    case 'resumed':
      state.epochs = [...event.epochs];
      drawCharts();
      break;
    case 'warning':
      showMessage('warning', event.message);
      break;
    case 'trial':
      state.epochs = []; // the curves show the trial under way
      drawCharts();
      break;
    case 'trialDone':
      showMessage('info', `Trial ${event.trial} of ${event.trials} (${event.report.name}): val accuracy ${(event.report.valAccuracy * 100).toFixed(1)}%, val loss ${event.report.valLoss.toFixed(3)}`);
      break;
    case 'done':
      $<HTMLProgressElement>('progress').value = 1;
      if (event.chosenTrial > 0) {
        state.epochs = [...event.epochs]; // the kept trial's curves
        drawCharts();
      }
      break;
  }
}

/** Class names of the examples being trained on, as the engine numbers them. */
function trainingClasses(): string[] {
  return modes[state.task].classes();
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

/** Loads a kept model, switching to its task first when needed. */
function loadKept(task: Task | 'speech', name: string) {
  if (task === 'speech') {
    speech!.loadKept(name); // once Whisper is ready
    document.querySelector<HTMLInputElement>('input[name="task"][value="speech"]')!.checked = true;
    setTask('speech');
    return;
  }
  if (task === state.task && state.tuner) {
    const tuner = state.tuner;
    void saved.importModel(() => tuner.loadKept(name));
    return;
  }
  state.pendingKept = name; // loaded once the other task's fine-tuner is ready
  document.querySelector<HTMLInputElement>(`input[name="task"][value="${task}"]`)!.checked = true;
  setTask(task);
}

const saved = new SavedModels(() => state.tuner, () => state.modelClasses, showMessage, loadKept, (classes) => {
  state.modelClasses = classes;
  setTrained(true);
});

function showMessage(kind: 'info' | 'warning' | 'error', message: string) {
  const p = document.createElement('p');
  p.className = kind;
  p.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  p.textContent = message;
  $('messages').prepend(p);
}

/** Runs the page's one long call (preparation or training): busy meanwhile, cancellable. */
async function run(work: (signal: AbortSignal) => Promise<void>) {
  const abort = new AbortController();
  state.abort = abort;
  setBusy(true);
  try {
    await work(abort.signal);
  } catch (err) {
    if ((err as Error).name !== 'AbortError' && state.tuner) showMessage('error', (err as Error).message);
  } finally {
    if (state.abort === abort) { state.abort = null; setBusy(false); }
  }
}

async function train() {
  const tuner = state.tuner;
  if (!tuner) return;
  state.epochs = [];
  drawCharts();
  await run(async (signal) => {
    state.training = true;
    if (!(await modes[state.task].prepared(signal))) return;
    const result = await tuner.train({ ...settings(state.task), signal });
    showMessage(result.stopReason === 'diverged' ? 'error' : 'info', result.message);
    state.modelClasses = trainingClasses();
    setTrained(true);
  });
}

/** Goes on with the run kept in this browser, with its settings. */
async function resumeRun(status: CheckpointStatus) {
  const tuner = state.tuner;
  if (!tuner) return;
  if (status.summary) showSettings({ training: status.summary.options, preparation: status.summary.preparation });
  state.epochs = [];
  drawCharts();
  await run(async (signal) => {
    state.training = true;
    const result = await tuner.train({ resume: true, signal });
    showMessage(result.stopReason === 'diverged' ? 'error' : 'info', result.message);
    state.modelClasses = trainingClasses();
    setTrained(true);
  });
}

const offer = new ResumeOffer({ tuner: () => state.tuner, busy: () => state.busy, resume: (s) => void resumeRun(s), message: showMessage });

function setBusy(busy: boolean) {
  state.busy = busy;
  if (!busy) {
    state.training = false;
    if (state.paused) { state.paused = false; state.tuner?.resume(); showPaused(); }
  }
  $<HTMLButtonElement>('cancel-button').disabled = !busy;
  $<HTMLButtonElement>('pause-button').disabled = !busy;
  updateTrainButton();
  if (!busy) modes[state.task].onIdle?.();
}

function showPaused() {
  $('pause-button').textContent = state.paused ? 'Resume' : 'Pause';
  $('pause-button').setAttribute('aria-pressed', String(state.paused));
  if (state.paused) $('progress-text').textContent = `Paused. ${$('progress-text').textContent}`;
}

function updateTrainButton() {
  const reason = !state.tuner ? 'The engine is loading…'
    : state.busy ? 'Working…'
    : modes[state.task].readiness();
  $<HTMLButtonElement>('train-button').disabled = reason !== null;
  $('train-reason').textContent = reason ?? '';
  offer.refresh();
}

/** Shows the top classes of one input. */
async function classify(input: Blob | string) {
  const tuner = state.tuner;
  if (!tuner) return;
  try {
    const top = await tuner.predict(input as never, { topK: 3 }); // an image or a clip (Blob), or a text, as the task takes
    $('predictions').innerHTML = top.map((p) => `<li><strong>${escape(p.label)}</strong> ${(p.score * 100).toFixed(1)}%</li>`).join('');
  } catch (err) {
    showMessage('error', (err as Error).message);
  }
}

function wire() {
  images.wire(classify);
  text.wire();
  audio.wire(classify);
  speech = new SpeechPage();
  speech.wire();
  // Buttons that open a hidden file input (a <label for> cannot take keyboard focus).
  document.querySelectorAll<HTMLButtonElement>('button[data-opens]').forEach((b) =>
    b.addEventListener('click', () => $(b.dataset.opens!).click()));
  $('train-button').addEventListener('click', () => void train());
  $('predict-text-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = $<HTMLTextAreaElement>('predict-text').value;
    if (value.trim()) void classify(value);
  });
  saved.wire();
  offer.wire();
  document.querySelectorAll<HTMLInputElement>('input[name="task"]').forEach((radio) =>
    radio.addEventListener('change', () => { if (radio.checked) setTask(radio.value as Task | 'speech'); }));
  $('cancel-button').addEventListener('click', () => state.abort?.abort());
  $('pause-button').addEventListener('click', () => {
    state.paused = !state.paused;
    if (state.paused) state.tuner?.pause();
    else state.tuner?.resume();
    showPaused();
  });
  $('backend').addEventListener('change', () => {
    if (document.body.dataset.task === 'speech') { void speech!.start($<HTMLSelectElement>('backend').value as BackendPreference); return; }
    setTrained(false);
    void startTuner();
  });
  const params = new URLSearchParams(location.search);
  const backend = params.get('backend');
  if (backend === 'auto' || backend === 'webgpu' || backend === 'cpu') $<HTMLSelectElement>('backend').value = backend;
  if (params.has('testHooks')) {
    window.addEventListener('finetune:test-panic', () => (state.tuner as unknown as { testPanic(): void } | null)?.testPanic());
  }
  const asked = params.get('task');
  const task: Task | 'speech' = asked === 'text' || asked === 'speech' || asked === 'audio' ? asked : 'image';
  document.querySelector<HTMLInputElement>(`input[name="task"][value="${task}"]`)!.checked = true;
  setTask(task);
  updateTrainButton();
}

wire();
