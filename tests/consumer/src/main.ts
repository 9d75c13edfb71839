// What an app that installed burn-finetune from npm writes: fine-tune the image model on a few
// labelled images given as every kind of input an app has (files, <img>, <canvas>), check it on
// others (OffscreenCanvas, ImageBitmap), classify a <video> frame, keep the model in the browser
// and load it back, export it (`?task=text`: the text model, text.ts). The test reads
// `window.result`. Built by Vite (build and dev server), webpack 5, and tsc alone for a page
// without a bundler (tests/e2e/consumer.test.mjs).
import { createFineTuner, type FineTunerEvent, type ImageExample, type ImageInput, type LoadingEvent } from 'burn-finetune';
import { runText } from './text.js';

const log = (line: string) => { document.getElementById('log')!.textContent += `${line}\n`; };
const events: FineTunerEvent['type'][] = [];
const loads: Omit<LoadingEvent, 'type' | 'loaded'>[] = [];
const classes = ['Trouser', 'Bag', 'Sneaker'];
const params = new URLSearchParams(location.search);
const backend = params.get('backend') === 'webgpu' ? 'webgpu' : 'cpu';
/** `?assetBase=…`: the engine's .wasm files are served from there, not beside worker.js. */
const assetBase = params.get('assetBase') ?? undefined;

async function loaded(blob: Blob): Promise<HTMLImageElement> {
  const img = new Image();
  img.src = URL.createObjectURL(blob);
  await img.decode();
  return img;
}

function canvasOf(bitmap: ImageBitmap): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
  return canvas;
}

/** Sample images `from`..`to` of each class, as `kind(i)` says: a Blob, an <img> or a <canvas>. */
async function images(from: number, to: number, kind: (i: number) => 'blob' | 'img' | 'canvas' | 'offscreen' | 'bitmap'): Promise<ImageExample[]> {
  const list = classes.flatMap((label) => Array.from({ length: to - from }, (_, i) => ({ label, i: from + i })));
  return Promise.all(list.map(async ({ label, i }, k) => {
    const blob = await (await fetch(`./sample/${label}/${String(i).padStart(4, '0')}.png`)).blob();
    let image: ImageInput = blob;
    switch (kind(k)) {
      case 'img': image = await loaded(blob); break;
      case 'canvas': image = canvasOf(await createImageBitmap(blob)); break;
      case 'offscreen': {
        const bitmap = await createImageBitmap(blob);
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
        image = canvas;
        break;
      }
      case 'bitmap': image = await createImageBitmap(blob); break;
      default: break;
    }
    return { label, image };
  }));
}

/** A <video> playing a canvas that shows `blob`, once it has a frame. */
async function videoOf(blob: Blob): Promise<HTMLVideoElement> {
  const canvas = canvasOf(await createImageBitmap(blob));
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = canvas.captureStream(10);
  document.body.append(video);
  await video.play();
  const draw = setInterval(() => canvas.getContext('2d')!.drawImage(canvas, 0, 0), 50); // keeps frames coming
  while (video.readyState < 2) await new Promise((r) => setTimeout(r, 50));
  clearInterval(draw);
  return video;
}

async function run() {
  const t0 = performance.now();
  const tuner = await createFineTuner({
    task: 'image',
    modelUrl: './efficientnet-lite0.safetensors',
    backend,
    assetBase,
    onProgress: (e) => {
      events.push(e.type);
      if (e.type === 'loading' && e.loaded === e.total) loads.push({ file: e.file, total: e.total, fromCache: e.fromCache });
      if (e.type !== 'step') log(e.type);
    },
  });
  const loadMs = performance.now() - t0;
  const kinds = ['blob', 'img', 'canvas'] as const;
  tuner.addExamples(await images(0, 12, (k) => kinds[k % 3]));
  const t1 = performance.now();
  const epochs: number[] = [];
  const report = await tuner.train({ epochs: 3, unfreeze: 'head', validationSplit: 0.25, onEpochEnd: (e) => epochs.push(e.valAccuracy) });
  const trainMs = performance.now() - t1;
  const heldOut = await images(12, 20, (k) => (k % 2 ? 'offscreen' : 'bitmap'));
  const t2 = performance.now();
  const evaluation = await tuner.evaluate(heldOut);
  const evaluateMs = performance.now() - t2;
  const file = await (await fetch('./sample/Bag/0019.png')).blob();
  const top = await tuner.predict(file, { topK: 3 });
  const fromVideo = await tuner.predict(await videoOf(file), { topK: 3 });
  // Kept in this browser, listed, loaded back into a fresh fine-tuner below, then deleted.
  await tuner.keep('consumer test model');
  const kept = (await tuner.listKept()).map((m) => m.name);
  const model = await tuner.export();
  const counts = tuner.countExamples();
  tuner.dispose();
  const again = await createFineTuner({ task: 'image', modelUrl: './efficientnet-lite0.safetensors', backend, assetBase });
  const info = await again.loadKept('consumer test model');
  const [reloaded] = await again.predict(file, { topK: 1 });
  const deleted = await again.deleteKept('consumer test model');
  const keptAfter = (await again.listKept()).length;
  again.dispose();
  log(`held-out accuracy ${evaluation.accuracy}`);
  const timings = { loadMs, trainMs, evaluateMs };
  return {
    timings, backend: tuner.backend, report: { stopReason: report.stopReason, bestEpoch: report.bestEpoch }, epochs, evaluation,
    top, fromVideo, kept, keptClasses: info.classes, reloaded, deleted, keptAfter, modelBytes: model.length, counts, events, loads,
  };
}

declare global { interface Window { result?: unknown } }
const task = new URLSearchParams(location.search).get('task');
(task === 'text' ? runText(events) : run()).then(
  (result) => { window.result = result; },
  (err: Error) => { window.result = { error: err.message }; log(err.message); },
);
