// The text task through the package: labelled sentences in, a fine-tuned MiniLM out.
import { createFineTuner, type FineTunerEvent, type TextExample } from 'burn-finetune';

const positive = [
  'A wonderful, moving film with superb acting.', 'I loved every minute of it.', 'Brilliant, funny and warm.',
  'An absolute delight from start to finish.', 'The best movie I have seen this year.', 'Beautifully shot and deeply touching.',
  'Charming, clever and full of heart.', 'A joyful triumph.', 'Great story, great cast, great fun.',
  'I would happily watch it again.', 'Fantastic performances all round.', 'A gem of a film.',
];
const negative = [
  'A dull, lifeless mess.', 'I hated every minute of it.', 'Boring, clumsy and far too long.',
  'An absolute waste of time.', 'The worst movie I have seen this year.', 'Badly written and badly acted.',
  'Tedious, shallow and forgettable.', 'A miserable failure.', 'Awful story, awful cast, no fun at all.',
  'I walked out halfway through.', 'Terrible performances all round.', 'A disaster of a film.',
];

export async function runText(events: FineTunerEvent['type'][]) {
  const tuner = await createFineTuner({ task: 'text', modelUrl: './minilm-l6/model.safetensors', backend: 'cpu', onProgress: (e) => events.push(e.type) });
  const examples: TextExample[] = [...positive.map((text) => ({ text, label: 'positive' })), ...negative.map((text) => ({ text, label: 'negative' }))];
  tuner.addExamples(examples);
  const report = await tuner.train({ epochs: 8, unfreeze: 'head', learningRate: 0.01, validationSplit: 0.25, maxLength: 32 });
  const fit = await tuner.evaluate(examples);
  const [top] = await tuner.predict('What a lovely, uplifting film.', { topK: 2 });
  const batch = await tuner.predict(['Dreadful.', 'Marvellous.']);
  const model = await tuner.export();
  const { threads } = tuner.backend;
  tuner.dispose();
  return { events, threads, stopReason: report.stopReason, fitAccuracy: fit.accuracy, classes: fit.classes, top, batch: batch.map((p) => p[0].label), modelBytes: model.length };
}
