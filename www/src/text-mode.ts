// The page's text mode: a CSV/TSV/JSONL file goes to the fine-tuner (`loadTable`: streamed into
// its worker, never parsed on this thread), the columns come back with a guess for text and label,
// the user can change them (`chooseColumns`), and the per-class counts and skipped rows are shown.

import { escape } from './charts';
import { dropZone } from './files';
import type { ModeHost } from './example-mode';
import type { TableSummary, TextDatasetSummary } from '../../npm/src/index';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SAMPLE_URL = './movie-reviews.csv';

export class TextMode {
  private file: Blob | null = null;
  private name = '';
  private table: TableSummary | null = null;
  private dataset: TextDatasetSummary | null = null;
  /** The engine's last refusal of this file or these columns. */
  private error: string | null = null;

  constructor(private readonly host: ModeHost) {}

  /** Why training cannot start from the text side, or null. */
  readiness(): string | null {
    if (!this.dataset) {
      if (this.error) return this.error;
      if (this.table?.guess.problem) return 'Choose the text and label columns.';
      return this.file ? 'Reading the file…' : 'No texts yet: drop a CSV, TSV or JSON Lines file.';
    }
    return this.dataset.readiness;
  }

  classes(): string[] {
    return this.dataset?.classes ?? [];
  }

  /** Prepares the chosen texts (tokenized, frozen layers cached) for the chosen cut and length;
   * false when they cannot train. */
  async prepared(signal: AbortSignal): Promise<boolean> {
    const tuner = this.host.tuner();
    if (!tuner) return false;
    const r = await tuner.prepare({ ...this.host.preparation(), signal });
    const cut = r.truncated ? `; ${r.truncated} long text(s) cut to the max length` : '';
    $('data-status').textContent = `${r.counts.reduce((a, b) => a + b, 0)} texts ready (frozen layers cached: ${(r.cacheBytes / 1e6).toFixed(1)} MB, ${(r.ms / 1000).toFixed(1)} s${cut}).`;
    if (r.readiness) this.host.message('error', r.readiness);
    return r.readiness === null;
  }

  async load(file: Blob, name: string) {
    this.file = file;
    this.name = name;
    this.table = null;
    this.dataset = null;
    this.error = null;
    $('columns').hidden = true;
    $('class-table').innerHTML = '';
    this.renderSkipped([], 0);
    $('data-status').textContent = `Reading ${name}…`;
    this.host.changed();
    const tuner = this.host.tuner();
    if (!tuner) return;
    const started = performance.now();
    try {
      this.onTable(await tuner.loadTable(file, name), performance.now() - started);
    } catch (err) {
      this.failed((err as Error).message);
    }
  }

  /** A fresh fine-tuner (task switch, new backend, crash): read the same file again. */
  onReady() {
    if (this.file) void this.load(this.file, this.name);
  }

  onReading(event: { bytes: number; total: number; rows: number }) {
    $<HTMLProgressElement>('progress').value = event.bytes / Math.max(event.total, 1);
    $('data-status').textContent = `Reading ${this.name}: ${(event.bytes / 1e6).toFixed(1)} of ${(event.total / 1e6).toFixed(1)} MB, ${event.rows} rows…`;
  }

  /** The engine refused the file or the columns: Train says why until the user changes them. */
  private failed(message: string) {
    this.host.message('error', message);
    this.error = message;
    this.host.changed();
  }

  private onTable(t: TableSummary, ms: number) {
    this.table = t;
    $<HTMLProgressElement>('progress').value = 1;
    const options = t.columns.map((c, i) => `<option value="${i}">${escape(c || `(column ${i + 1})`)}</option>`).join('');
    for (const [id, guess] of [['text-column', t.guess.text], ['label-column', t.guess.label]] as const) {
      const select = $<HTMLSelectElement>(id);
      select.innerHTML = `<option value="">choose…</option>${options}`;
      select.value = guess === null ? '' : String(guess);
    }
    $('columns').hidden = false;
    $('data-status').textContent = `${this.name}: ${t.rows} rows, ${t.columns.length} columns (${t.format.toUpperCase()}), read in ${(ms / 1000).toFixed(1)} s.`;
    this.renderSkipped(t.skipped, t.skippedTotal);
    if (t.guess.problem) this.host.message('warning', t.guess.problem);
    void this.choose();
  }

  /** Uses the chosen columns (when both are chosen). */
  private async choose() {
    const text = $<HTMLSelectElement>('text-column').value;
    const label = $<HTMLSelectElement>('label-column').value;
    this.dataset = null;
    this.error = null;
    this.host.changed();
    const tuner = this.host.tuner();
    if (text === '' || label === '' || !this.table || !tuner) return;
    const limitPerClass = Math.max(0, Math.floor(Number($<HTMLInputElement>('limit-per-class').value) || 0));
    try {
      this.onDataset(await tuner.chooseColumns({ text: Number(text), label: Number(label), limitPerClass }));
    } catch (err) {
      this.failed((err as Error).message);
    }
  }

  private onDataset(d: TextDatasetSummary) {
    this.dataset = d;
    $('class-table').innerHTML = `<tr><th scope="col">class</th><th scope="col">texts</th></tr>` +
      d.classes.map((c, i) => `<tr><td>${escape(c)}</td><td>${d.counts[i]}</td></tr>`).join('');
    const empty = d.emptyTexts > 0 ? ` ${d.emptyTexts} empty text(s) skipped.` : '';
    $('data-status').textContent = `${d.examples} texts in ${d.classes.length} classes.${empty}`;
    this.renderSkipped(d.skipped, d.skippedTotal);
    this.host.changed();
  }

  private renderSkipped(rows: { line: number; reason: string }[], total: number) {
    const box = $<HTMLDetailsElement>('skipped-box');
    box.hidden = total === 0;
    $('skipped-summary').textContent = `${total} row(s) skipped${total > rows.length ? ` (first ${rows.length} listed)` : ''}`;
    $('skipped-list').innerHTML = rows.map((r) => `<li>line ${r.line}: ${escape(r.reason)}</li>`).join('');
  }

  wire() {
    dropZone($('text-dropzone'), (data) => { if (data.files[0]) void this.load(data.files[0], data.files[0].name); });
    $<HTMLInputElement>('text-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      if (f) void this.load(f, f.name);
      input.value = ''; // picking the same (corrected) file again reads it again
    });
    $('text-sample-button').addEventListener('click', async () => {
      try {
        const response = await fetch(SAMPLE_URL);
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        await this.load(await response.blob(), 'movie-reviews.csv');
      } catch (err) {
        this.host.message('error', `The sample could not load: ${err}`);
      }
    });
    for (const id of ['text-column', 'label-column', 'limit-per-class']) $(id).addEventListener('change', () => void this.choose());
  }
}
