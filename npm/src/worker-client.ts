// The package's end of the worker: numbered requests answered by `settled`, one at a time and in
// call order; progress events go to the caller's `onProgress`; a crash of the engine fails every
// waiting and later call with the reason.

import type { FromWorker, Request, ToWorker } from './protocol';
import type { FineTunerEvent } from './types';

export class WorkerClient {
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private pending: { id: number; resolve: () => void; reject: (e: Error) => void; reply: (m: FromWorker) => void } | null = null;
  /** Why the worker can no longer be used, once it cannot. */
  dead: string | null = null;
  /** Called with every training epoch while a `train` call runs. */
  onEpoch: ((event: Extract<FromWorker, { type: 'progress' }>['event']) => void) | undefined;

  /** Where the engine's training threads say that one trapped (see `PoolInit`). */
  readonly crashChannel = `burn-finetune-crash-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  private readonly crashes = new BroadcastChannel(this.crashChannel);

  constructor(private readonly worker: Worker, private readonly onProgress?: (e: FineTunerEvent) => void) {
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.onMessage(e.data);
    // Node (the unit tests) would stay up for an open channel; browsers have no `unref`.
    (this.crashes as { unref?: () => void }).unref?.();
    this.crashes.onmessage = (e: MessageEvent<{ message: string }>) => {
      // The engine's worker waits for the dead thread's work: it cannot report this itself.
      this.worker.terminate();
      this.fail(`The fine-tuner's engine stopped: a training thread crashed (${e.data.message}). Create a new fine-tuner to go on.`);
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault?.();
      this.fail(`The fine-tuner's worker failed: ${e.message || 'its script or the engine could not be loaded'}`);
    };
  }

  /** Sends a message that is not answered (cancel, pause, resume). */
  send(msg: ToWorker) {
    if (!this.dead) this.worker.postMessage(msg);
  }

  /** Runs `job` after every earlier call has finished (the worker does one thing at a time). */
  serial<R>(job: () => Promise<R>): Promise<R> {
    const run = this.queue.then(() => {
      if (this.dead) throw new Error(this.dead);
      return job();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** Sends `msg` numbered; `reply` sees the worker's messages until it is settled. */
  request(msg: ToWorker, reply: (m: FromWorker) => void = () => {}): Promise<void> {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending = { id, resolve, reject, reply };
      this.worker.postMessage({ ...msg, id } satisfies Request);
    });
  }

  /** `request`, resolving to the first reply of type `type`. */
  async ask<K extends FromWorker['type']>(msg: ToWorker, type: K): Promise<Extract<FromWorker, { type: K }>> {
    let answer: Extract<FromWorker, { type: K }> | null = null;
    await this.request(msg, (m) => { if (m.type === type && !answer) answer = m as Extract<FromWorker, { type: K }>; });
    if (!answer) throw new Error(`The engine did not answer ${msg.type} with ${type}.`);
    return answer;
  }

  dispose(message: string) {
    this.worker.terminate();
    this.fail(message, false);
  }

  private onMessage(m: FromWorker) {
    switch (m.type) {
      case 'settled': {
        const p = this.pending;
        if (!p || p.id !== m.id) return;
        this.pending = null;
        if (m.error === null) p.resolve();
        else {
          this.onProgress?.({ type: 'error', message: m.error, fatal: false });
          p.reject(new Error(m.error));
        }
        return;
      }
      case 'error':
        if (m.fatal) this.fail(`The fine-tuner's engine stopped: ${m.message}. Create a new fine-tuner to go on.`);
        return;
      case 'loading':
        this.onProgress?.(m);
        return;
      case 'table-progress':
        this.onProgress?.({ type: 'reading', bytes: m.bytes, total: m.total, rows: m.rows });
        return;
      case 'ready':
        this.onProgress?.({ type: 'ready', backend: m.backend, adapter: m.adapter, loadMs: m.loadMs });
        break;
      case 'progress':
        this.onProgress?.(m.event);
        if (m.event.type === 'epoch' || m.event.type === 'speechEpoch') this.onEpoch?.(m.event);
        return;
      default:
        break;
    }
    this.pending?.reply(m);
  }

  /** The worker is gone: every waiting and later call fails with `message`. */
  private fail(message: string, report = true) {
    if (this.dead) return;
    this.dead = message;
    this.crashes.close();
    if (report) this.onProgress?.({ type: 'error', message, fatal: true });
    const p = this.pending;
    this.pending = null;
    p?.reject(new Error(message));
  }
}
