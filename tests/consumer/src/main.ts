// What an app that installed burn-finetune from npm writes: fine-tune the image model on a few
// labelled images, check it on others, export it (`?task=text`: the text model, text.ts). The test
// reads `window.result`.
import { createFineTuner, type FineTunerEvent, type ImageExample } from 'burn-finetune';
import { runText } from './text';

const log = (line: string) => { document.getElementById('log')!.textContent += `${line}\n`; };
const events: FineTunerEvent['type'][] = [];
const classes = ['Trouser', 'Bag', 'Sneaker'];
const backend = new URLSearchParams(location.search).get('backend') === 'webgpu' ? 'webgpu' : 'cpu';

async function images(from: number, to: number): Promise<ImageExample[]> {
  const list = classes.flatMap((label) => Array.from({ length: to - from }, (_, i) => ({ label, i: from + i })));
  return Promise.all(list.map(async ({ label, i }) => ({
    label, image: await (await fetch(`./sample/${label}/${String(i).padStart(4, '0')}.png`)).blob(),
  })));
}

async function run() {
  const t0 = performance.now();
  const tuner = await createFineTuner({
    task: 'image',
    modelUrl: './efficientnet-lite0.safetensors',
    backend,
    onProgress: (e) => { events.push(e.type); if (e.type !== 'step') log(e.type); },
  });
  const loadMs = performance.now() - t0;
  tuner.addExamples(await images(0, 12));
  const t1 = performance.now();
  const epochs: number[] = [];
  const report = await tuner.train({ epochs: 3, unfreeze: 'head', validationSplit: 0.25, onEpochEnd: (e) => epochs.push(e.valAccuracy) });
  const trainMs = performance.now() - t1;
  const heldOut = await images(12, 20);
  const t2 = performance.now();
  const evaluation = await tuner.evaluate(heldOut);
  const evaluateMs = performance.now() - t2;
  const top = await tuner.predict(heldOut[0].image, { topK: 2 });
  const model = await tuner.export();
  const counts = tuner.countExamples();
  tuner.dispose();
  log(`held-out accuracy ${evaluation.accuracy}`);
  const timings = { loadMs, trainMs, evaluateMs };
  return { timings, backend: tuner.backend, report: { stopReason: report.stopReason, bestEpoch: report.bestEpoch }, epochs, evaluation, top, modelBytes: model.length, counts, events };
}

declare global { interface Window { result?: unknown } }
const task = new URLSearchParams(location.search).get('task');
(task === 'text' ? runText(events) : run()).then(
  (result) => { window.result = result; },
  (err: Error) => { window.result = { error: err.message }; log(err.message); },
);
