// Fine-tuned models kept in this browser (IndexedDB): list, save, load, delete. The bytes are the
// same file as an export; nothing leaves the device.

import type { Task } from '../../npm/src/protocol';

const DB = 'burn-finetune';
const STORE = 'models';

export interface SavedModel {
  id?: number;
  name: string;
  task: Task;
  classes: string[];
  savedAt: string;
  size: number;
  bytes: Uint8Array;
}

export type SavedSummary = Omit<SavedModel, 'bytes'> & { id: number };

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'id', autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`This browser's storage cannot be opened (${request.error?.message ?? 'unknown error'}).`));
  });
}

/** Runs `work` in one transaction and resolves with its request's result once committed. */
async function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = tx.onabort = () => reject(tx.error ?? request.error);
    });
  } finally {
    db.close();
  }
}

/** Keeps `model`; a full storage gets a message that says what to do. */
export async function saveModel(model: Omit<SavedModel, 'id'>): Promise<number> {
  try {
    return await run('readwrite', (s) => s.add(model)) as number;
  } catch (err) {
    if ((err as DOMException)?.name === 'QuotaExceededError') {
      throw new Error(`Not enough storage space in this browser to keep this model (${(model.size / 1e6).toFixed(1)} MB): delete kept models or export it to a file instead.`);
    }
    throw new Error(`The model could not be kept in this browser: ${(err as Error)?.message ?? err}`);
  }
}

export async function listModels(): Promise<SavedSummary[]> {
  const all = await run('readonly', (s) => s.getAll()) as SavedModel[];
  return all.map(({ bytes: _bytes, ...rest }) => rest as SavedSummary);
}

export async function loadModel(id: number): Promise<SavedModel> {
  const model = await run('readonly', (s) => s.get(id)) as SavedModel | undefined;
  if (!model) throw new Error('That model is no longer kept in this browser.');
  return model;
}

export async function deleteModel(id: number): Promise<void> {
  await run('readwrite', (s) => s.delete(id));
}
