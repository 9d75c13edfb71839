// The checkpoint of each task's unfinished run, kept in this browser (IndexedDB, by task) after
// every epoch so that a reload, a crash or a closed tab does not lose the run: the engine goes on
// from it with the same examples (`FineTuner.train({ resume: true })`). Written by the worker,
// which receives each epoch's checkpoint from the engine; deleted when the run ends (not when it
// is cancelled: it can go on).

import type { ClassifierTask } from './protocol';
import { inStore } from './storage';

export interface KeptCheckpoint {
  task: ClassifierTask;
  /** Epochs done, of at most `epochs`. */
  epoch: number;
  epochs: number;
  /** ISO 8601 time it was written. */
  savedAt: string;
  bytes: Uint8Array;
}

export async function saveCheckpoint(checkpoint: KeptCheckpoint): Promise<void> {
  try {
    await inStore('checkpoints', 'readwrite', (s) => s.put(checkpoint));
  } catch (err) {
    if ((err as DOMException)?.name === 'QuotaExceededError') {
      throw new Error(`Not enough storage space in this browser for the run's checkpoint (${(checkpoint.bytes.length / 1e6).toFixed(1)} MB): the run goes on, but cannot be resumed after a reload.`);
    }
    throw new Error(`The run's checkpoint could not be kept in this browser: ${(err as Error)?.message ?? err}`);
  }
}

/** The kept checkpoint of `task`'s unfinished run, or null. */
export async function loadCheckpoint(task: ClassifierTask): Promise<KeptCheckpoint | null> {
  return (await inStore('checkpoints', 'readonly', (s) => s.get(task)) as KeptCheckpoint | undefined) ?? null;
}

export async function deleteCheckpoint(task: ClassifierTask): Promise<void> {
  await inStore('checkpoints', 'readwrite', (s) => s.delete(task));
}
