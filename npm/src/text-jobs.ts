// The text task inside the worker: streams a CSV/TSV/JSONL file into the engine's table, builds
// the labelled texts of the chosen columns, caches the frozen layers' outputs (only when training
// asks for it: a 50 MB file costs nothing until then), trains and classifies typed text.

import type { TextEngine, TextTable } from '../pkg/burn_finetune.js';
import { engineModule } from './engine-module';
import type { PauseGate } from './pause-gate';
import type { BackendPreference, FromWorker, TableSummary, TextDatasetSummary, TextPrepareOptions, TrainOptions, Unfreeze } from './protocol';

/** Texts per engine call while preparing (progress and cancel are checked between calls). */
const CHUNK = 64;
/** Report reading progress every this many bytes. */
const PROGRESS_BYTES = 2 * 1024 * 1024;

export class TextJobs {
  private table: TextTable | null = null;
  /** The texts of the chosen columns were cached with these options (null: not cached). */
  private prepared: TextPrepareOptions | null = null;

  private constructor(
    readonly engine: TextEngine,
    private readonly post: (m: FromWorker) => void,
    private readonly memoryBytes: () => number,
    private readonly gate: PauseGate,
  ) {}

  static async create(weights: Uint8Array, name: string, tokenizer: Uint8Array, backend: BackendPreference,
    adapter: unknown, post: (m: FromWorker) => void, memoryBytes: () => number, gate: PauseGate): Promise<TextJobs> {
    return new TextJobs(await engineModule().TextEngine.create(weights, name, tokenizer, backend, adapter), post, memoryBytes, gate);
  }

  /** Streams `file` through the parser chunk by chunk; the file is never one buffer. */
  async loadTable(file: Blob, name: string) {
    const started = performance.now();
    this.table?.free();
    this.table = null;
    this.prepared = null;
    const reader = file.stream().getReader();
    let table: TextTable | null = null;
    let bytes = 0;
    let reported = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (table) table.push(value);
      else table = new (engineModule().TextTable)(name, value);
      bytes += value.length;
      if (bytes - reported >= PROGRESS_BYTES) {
        reported = bytes;
        this.post({ type: 'table-progress', bytes, total: file.size, rows: table.rowsRead() });
      }
    }
    table ??= new (engineModule().TextTable)(name, new Uint8Array());
    const summary = table.finish() as TableSummary;
    this.table = table;
    this.post({ type: 'table', summary, ms: performance.now() - started });
  }

  /** Labelled texts given directly (the package's `addExamples`) instead of a file. */
  useExamples(texts: string[], labels: string[]) {
    this.table?.free();
    this.table = engineModule().TextTable.fromExamples(texts, labels);
    this.chooseColumns(0, 1, 0);
  }

  chooseColumns(text: number, label: number, limitPerClass: number) {
    const table = this.requireTable();
    this.prepared = null;
    const summary = table.chooseColumns(text, label, limitPerClass) as TextDatasetSummary;
    this.post({ type: 'text-dataset', summary });
  }

  /** Tokenizes and caches the chosen texts for `unfreeze`/`maxLength`, reporting progress. */
  private async prepare(unfreeze: Unfreeze, maxLength: number, signal: AbortSignal): Promise<boolean> {
    const table = this.requireTable();
    const started = performance.now();
    this.prepared = null;
    this.engine.reset(table.classes(), unfreeze, maxLength);
    const total = table.examples();
    let truncated = 0;
    for (let start = 0; start < total; start += CHUNK) {
      if (signal.aborted) break;
      const added = await this.engine.addFromTable(table, start, start + CHUNK) as { truncated: number };
      truncated += added.truncated;
      const done = Math.min(total, start + CHUNK);
      const seconds = (performance.now() - started) / 1000;
      this.post({ type: 'progress', event: { type: 'caching', done, total, examplesPerSec: done / Math.max(seconds, 1e-3) } });
      await this.gate.between();
    }
    if (!signal.aborted) this.prepared = { unfreeze, maxLength };
    this.post({
      type: 'prepared',
      cancelled: signal.aborted,
      counts: Array.from(this.engine.classCounts()),
      skipped: [],
      readiness: signal.aborted ? 'Preparation was cancelled: train again to prepare the texts.' : (this.engine.readiness() ?? null),
      cacheBytes: this.engine.cacheBytes(),
      ms: performance.now() - started,
      wasmMemoryBytes: this.memoryBytes(),
      truncated,
    });
    return !signal.aborted;
  }

  async train(options: TrainOptions, maxLength: number, signal: AbortSignal) {
    const unfreeze = options.unfreeze ?? 2;
    const p = this.prepared;
    if (!p || p.unfreeze !== unfreeze || p.maxLength !== maxLength) {
      if (!(await this.prepare(unfreeze, maxLength, signal))) return;
    }
    const readiness = this.engine.readiness();
    if (readiness) throw new Error(readiness);
    const report = await this.engine.train({ ...options, unfreeze }, (event: unknown) => this.post({ type: 'progress', event: event as never }), signal, this.gate.between);
    this.post({ type: 'trained', report, wasmMemoryBytes: this.memoryBytes() });
  }

  tokenStats(maxLength: number) {
    const started = performance.now();
    const stats = this.engine.tokenStats(this.requireTable(), maxLength) as { texts: number; tokens: number; truncated: number };
    this.post({ type: 'token-stats', ...stats, ms: performance.now() - started });
  }

  async predict(texts: string[], topK: number) {
    this.post({ type: 'prediction', results: await this.engine.predict(texts, topK) });
  }

  private requireTable(): TextTable {
    if (!this.table) throw new Error('No text file loaded yet: drop a CSV, TSV or JSON Lines file.');
    return this.table;
  }
}
