// This browser's IndexedDB database of the package: the kept models (kept-models.ts) and the
// checkpoints of unfinished runs (checkpoints.ts), each a store of its own. Nothing leaves the
// device.

const DB = 'burn-finetune';
/** Version 3: adds 'checkpoints' (by task). Version 2: models keyed by name ('kept-models');
 * version 1 (the demo page's first store, 'models', numbered) is carried over on upgrade. */
const VERSION = 3;

export type Store = 'kept-models' | 'checkpoints';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') { reject(new Error('This browser has no IndexedDB: nothing can be kept here (export models to files instead).')); return; }
    const request = indexedDB.open(DB, VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      if (!db.objectStoreNames.contains('kept-models')) {
        const store = db.createObjectStore('kept-models', { keyPath: 'name' });
        if (event.oldVersion === 1 && db.objectStoreNames.contains('models')) {
          const old = request.transaction!.objectStore('models');
          old.openCursor().onsuccess = (e) => {
            const cursor = (e.target as IDBRequest<IDBCursorWithValue | null>).result;
            if (!cursor) { db.deleteObjectStore('models'); return; }
            const { id, savedAt, ...model } = cursor.value as { id: number; savedAt: string; name: string };
            store.put({ ...model, name: `${model.name} (${id})`, keptAt: savedAt });
            cursor.continue();
          };
        }
      }
      if (!db.objectStoreNames.contains('checkpoints')) db.createObjectStore('checkpoints', { keyPath: 'task' });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`This browser's storage cannot be opened (${request.error?.message ?? 'unknown error'}).`));
    request.onblocked = () => reject(new Error('This site\'s storage is being upgraded in another tab: close it and try again.'));
  });
}

/** Runs `work` on `store` in one transaction and resolves with its request's result once
 * committed. */
export async function inStore<T>(store: Store, mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const request = work(tx.objectStore(store));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = tx.onabort = () => reject(tx.error ?? request.error);
    });
  } finally {
    db.close();
  }
}
