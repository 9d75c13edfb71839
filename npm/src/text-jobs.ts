// The text task's jobs in the worker: the examples are a CSV/TSV/JSONL file streamed into the
// engine's table chunk by chunk (the file is never one buffer, the page thread never parses) and
// its chosen columns, or texts given directly. Nothing heavy happens until they are prepared: a
// 50 MB file costs nothing until then.

import type { TextTable } from '../pkg/burn_finetune.js';
import { engineModule } from './engine-module';
import { type Filled, Jobs } from './jobs';
import type { Example, Prediction, SentInput, TableSummary, TextDatasetSummary } from './protocol';

/** Texts per engine call while preparing (progress and cancel are checked between calls). */
const CHUNK = 64;
/** Report reading progress every this many bytes. */
const PROGRESS_BYTES = 2 * 1024 * 1024;

export class TextJobs extends Jobs {
  private table: TextTable | null = null;
  private dataset: TextDatasetSummary | null = null;

  /** Streams `file` through the parser chunk by chunk; it replaces the examples. */
  async loadTable(file: Blob, name: string) {
    const started = performance.now();
    this.table?.free();
    this.table = null;
    this.dataset = null;
    this.changed();
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
        this.ctx.post({ type: 'table-progress', bytes, total: file.size, rows: table.rowsRead() });
      }
    }
    table ??= new (engineModule().TextTable)(name, new Uint8Array());
    const summary = table.finish() as TableSummary;
    this.table = table;
    this.ctx.post({ type: 'table', summary, ms: performance.now() - started });
  }

  /** Labelled texts given directly instead of a file. */
  setExamples(examples: Example[]) {
    this.table?.free();
    this.table = engineModule().TextTable.fromExamples(examples.map((ex) => ex.input as string), examples.map((ex) => ex.label));
    this.chooseColumns(0, 1, 0);
  }

  chooseColumns(text: number, label: number, limitPerClass: number) {
    const table = this.requireTable();
    this.changed();
    this.dataset = null;
    const chosen = table.chooseColumns(text, label, limitPerClass) as Omit<TextDatasetSummary, 'readiness'>;
    this.dataset = { ...chosen, readiness: this.engine.readinessOf(chosen.classes, new Uint32Array(chosen.counts)) ?? null };
    this.ctx.post({ type: 'text-dataset', summary: this.dataset });
  }

  tokenStats(maxLength: number) {
    const started = performance.now();
    const stats = this.engine.tokenStats(this.requireTable(), maxLength) as { texts: number; tokens: number; truncated: number };
    this.ctx.post({ type: 'token-stats', ...stats, ms: performance.now() - started });
  }

  protected classNames(): string[] {
    return this.dataset?.classes ?? [];
  }

  protected counts(): number[] {
    return this.dataset?.counts ?? [];
  }

  protected async fill(signal: AbortSignal, progress: (done: number, total: number) => void): Promise<Filled> {
    const table = this.requireTable();
    const total = table.examples();
    let truncated = 0;
    for (let start = 0; start < total; start += CHUNK) {
      if (signal.aborted) break;
      const added = await this.engine.addFromTable(table, start, start + CHUNK) as { truncated: number };
      truncated += added.truncated;
      progress(Math.min(total, start + CHUNK), total);
      await this.ctx.gate.between();
    }
    return { skipped: [], truncated };
  }

  protected async predictBatch(inputs: SentInput[], topK: number): Promise<Prediction[][]> {
    return this.engine.predictTexts(texts(inputs), topK) as Promise<Prediction[][]>;
  }

  private requireTable(): TextTable {
    if (!this.table) throw new Error('No texts yet: drop a CSV, TSV or JSON Lines file, or add examples.');
    return this.table;
  }
}

function texts(inputs: SentInput[]): string[] {
  return inputs.map((t, i) => {
    if (typeof t !== 'string') throw new TypeError(`input ${i + 1} is not a string`);
    return t;
  });
}
