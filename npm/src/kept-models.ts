// Fine-tuned models kept in this browser (IndexedDB), by name: keep, list, load, delete. The bytes
// are the same file as an export; nothing leaves the device. Used by `FineTuner.keep` & co. and
// by the demo page.

import type { Task } from './protocol';
import { inStore } from './storage';

/** A kept model: its name, what it classifies, when it was kept, its size and bytes. */
export interface KeptModel {
  name: string;
  task: Task;
  classes: string[];
  /** ISO 8601 time it was kept. */
  keptAt: string;
  size: number;
  bytes: Uint8Array;
}

/** What `listKept()` gives: a kept model without its bytes. */
export type KeptSummary = Omit<KeptModel, 'bytes'>;

/** Runs `work` on the kept models' store in one transaction. */
function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return inStore('kept-models', mode, work);
}

/** Keeps `model` under its name (replacing a model kept under the same name); a full storage gets
 * a message that says what to do. */
export async function keepModel(model: KeptModel): Promise<void> {
  if (typeof model.name !== 'string' || model.name.trim() === '') throw new TypeError('A kept model needs a name (a non-empty string).');
  try {
    await run('readwrite', (s) => s.put(model));
  } catch (err) {
    if ((err as DOMException)?.name === 'QuotaExceededError') {
      throw new Error(`Not enough storage space in this browser to keep this model (${(model.size / 1e6).toFixed(1)} MB): delete kept models or export it to a file instead.`);
    }
    throw new Error(`The model could not be kept in this browser: ${(err as Error)?.message ?? err}`);
  }
}

/** The kept models (without their bytes), oldest first; of one task when `task` is given. */
export async function listKept(task?: Task): Promise<KeptSummary[]> {
  const all = await run('readonly', (s) => s.getAll()) as KeptModel[];
  return all
    .filter((m) => task === undefined || m.task === task)
    .map(({ bytes: _bytes, ...rest }) => rest)
    .sort((a, b) => a.keptAt.localeCompare(b.keptAt));
}

/** The kept model `name`; throws when there is none by that name. */
export async function loadKept(name: string): Promise<KeptModel> {
  const model = await run('readonly', (s) => s.get(name)) as KeptModel | undefined;
  if (!model) throw new Error(`No model named '${name}' is kept in this browser.`);
  return model;
}

/** Deletes the kept model `name`; false when there was none. */
export async function deleteKept(name: string): Promise<boolean> {
  const found = await run('readonly', (s) => s.count(name));
  if (found === 0) return false;
  await run('readwrite', (s) => s.delete(name));
  return true;
}
