// The page's settings form for the classifiers: what trains (the cut, labelled per task), the
// training settings, the text's max length and the images' augmentation; filled from the engine's defaults, or from a kept
// run's settings when it resumes, and read back as `TrainSettings`.

import type { ClassifierTask as Task, Defaults, PrepareSettings, TrainSettings, Unfreeze } from '../../npm/src/index';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Labels of the unfreeze choices per task. */
const UNFREEZE_LABELS: Record<Task, Record<string, string>> = {
  image: { head: 'head only (fastest)', 1: 'head + last block', 2: 'head + last 2 blocks', 4: 'head + last 4 blocks' },
  text: { head: 'head only (fastest)', 1: 'head + last encoder layer', 2: 'head + last 2 encoder layers', 4: 'head + last 4 encoder layers' },
  audio: { head: 'head only (fastest)', 1: 'head + last encoder layer', 2: 'head + last 2 encoder layers', 4: 'head + all 4 encoder layers' },
};
/** The settings form: field id → training setting. */
const FIELDS = {
  epochs: 'epochs', 'batch-size': 'batchSize', 'learning-rate': 'learningRate', 'backbone-learning-rate': 'backboneLearningRate',
  'validation-split': 'validationSplit', seed: 'seed', patience: 'patience', dropout: 'dropout',
  'label-smoothing': 'labelSmoothing',
} as const;

/** The settings form's checkboxes: field id → training setting. */
const SWITCHES = { 'linear-probe': 'linearProbe', 'average-epochs': 'averageEpochs', 'mix-pretrained': 'mixPretrained', auto: 'auto' } as const;

/** Names the cut choices as `task` counts its layers. */
export function labelCuts(task: Task) {
  for (const option of Array.from($<HTMLSelectElement>('unfreeze').options)) option.textContent = UNFREEZE_LABELS[task][option.value];
}

/** Fills the form (the engine's defaults, or a kept run's settings). */
export function showSettings({ training, preparation }: Pick<Defaults, 'training' | 'preparation'>) {
  for (const [id, key] of Object.entries(FIELDS)) $<HTMLInputElement>(id).value = String(training[key]);
  for (const [id, key] of Object.entries(SWITCHES)) $<HTMLInputElement>(id).checked = Boolean(training[key]);
  $<HTMLInputElement>('max-length').value = String(preparation.maxLength);
  $<HTMLInputElement>('augment').value = String(preparation.augment ?? 0);
  $<HTMLInputElement>('flip').checked = preparation.flip ?? true;
  $<HTMLSelectElement>('unfreeze').value = String(preparation.unfreeze);
}

export function unfreezeValue(): Unfreeze {
  const v = $<HTMLSelectElement>('unfreeze').value;
  return v === 'head' ? 'head' : Number(v);
}

export function maxLengthValue(): number | undefined {
  return Number($<HTMLInputElement>('max-length').value) || undefined;
}

/** How the form says `task`'s examples are prepared: the cut, and the text's max length or the
 * images' augmented views. */
export function preparation(task: Task): Omit<PrepareSettings, 'signal'> {
  if (task === 'text') return { unfreeze: unfreezeValue(), maxLength: maxLengthValue() };
  if (task === 'image') {
    const augment = Number($<HTMLInputElement>('augment').value) || 0;
    return { unfreeze: unfreezeValue(), augment, ...(augment > 0 ? { flip: $<HTMLInputElement>('flip').checked } : {}) };
  }
  return { unfreeze: unfreezeValue() };
}

/** The training settings of the form for `task`. */
export function settings(task: Task): TrainSettings {
  const out: Record<string, number> = {};
  for (const [id, key] of Object.entries(FIELDS)) {
    const value = $<HTMLInputElement>(id).value;
    if (value !== '') out[key] = Number(value);
  }
  const switches: Record<string, boolean> = {};
  for (const [id, key] of Object.entries(SWITCHES)) switches[key] = $<HTMLInputElement>(id).checked;
  return { ...out, ...switches, ...preparation(task) };
}
