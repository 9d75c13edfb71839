// The page's text mode: a CSV/TSV/JSONL file goes to the worker (streamed there, never parsed on
// this thread), the columns come back with a guess for text and label, the user can change them,
// and the per-class counts and skipped rows are shown.

import { escape } from './charts';
import { dropZone, readiness } from './files';
import type { FromWorker, TableSummary, TextDatasetSummary, ToWorker } from '../../npm/src/protocol';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SAMPLE_URL = './movie-reviews.csv';

export class TextMode {
  private file: Blob | null = null;
  private name = '';
  private table: TableSummary | null = null;
  dataset: TextDatasetSummary | null = null;
  /** The engine's last refusal of this file or these columns. */
  private error: string | null = null;

  constructor(
    private readonly send: (m: ToWorker) => void,
    private readonly changed: () => void,
    private readonly message: (kind: 'info' | 'warning' | 'error', text: string) => void,
  ) {}

  /** Why training cannot start from the text side, or null. */
  readiness(): string | null {
    if (!this.dataset) {
      if (this.error) return this.error;
      if (this.table?.guess.problem) return 'Choose the text and label columns.';
      return this.file ? 'Reading the file…' : 'No texts yet: drop a CSV, TSV or JSON Lines file.';
    }
    return readiness(new Map(this.dataset.classes.map((c, i) => [c, this.dataset!.counts[i]])));
  }

  /** The worker refused the file or the columns: Train says why until the user changes them. */
  failed(message: string) {
    if (!this.dataset) {
      this.error = message;
      this.changed();
    }
  }

  classes(): string[] {
    return this.dataset?.classes ?? [];
  }

  load(file: Blob, name: string) {
    this.file = file;
    this.name = name;
    this.table = null;
    this.dataset = null;
    this.error = null;
    $('columns').hidden = true;
    $('class-table').innerHTML = '';
    this.renderSkipped([], 0);
    $('data-status').textContent = `Reading ${name}…`;
    this.send({ type: 'load-table', file, name });
    this.changed();
  }

  /** After a worker restart: read the same file again. */
  reload() {
    if (this.file) this.load(this.file, this.name);
  }

  /** Handles the text messages; false for the others. */
  onMessage(msg: FromWorker): boolean {
    switch (msg.type) {
      case 'table-progress':
        $<HTMLProgressElement>('progress').value = msg.bytes / Math.max(msg.total, 1);
        $('data-status').textContent = `Reading ${this.name}: ${(msg.bytes / 1e6).toFixed(1)} of ${(msg.total / 1e6).toFixed(1)} MB, ${msg.rows} rows…`;
        return true;
      case 'table':
        this.onTable(msg.summary, msg.ms);
        return true;
      case 'text-dataset':
        this.onDataset(msg.summary);
        return true;
      default:
        return false;
    }
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
    if (t.guess.problem) this.message('warning', t.guess.problem);
    this.choose();
  }

  /** Sends the chosen columns (when both are chosen). */
  choose() {
    const text = $<HTMLSelectElement>('text-column').value;
    const label = $<HTMLSelectElement>('label-column').value;
    this.dataset = null;
    this.error = null;
    this.changed();
    if (text === '' || label === '' || !this.table) return;
    const limitPerClass = Math.max(0, Math.floor(Number($<HTMLInputElement>('limit-per-class').value) || 0));
    this.send({ type: 'choose-columns', text: Number(text), label: Number(label), limitPerClass });
  }

  private onDataset(d: TextDatasetSummary) {
    this.dataset = d;
    $('class-table').innerHTML = `<tr><th scope="col">class</th><th scope="col">texts</th></tr>` +
      d.classes.map((c, i) => `<tr><td>${escape(c)}</td><td>${d.counts[i]}</td></tr>`).join('');
    const empty = d.emptyTexts > 0 ? ` ${d.emptyTexts} empty text(s) skipped.` : '';
    $('data-status').textContent = `${d.examples} texts in ${d.classes.length} classes.${empty}`;
    this.renderSkipped(d.skipped, d.skippedTotal);
    this.changed();
  }

  private renderSkipped(rows: { line: number; reason: string }[], total: number) {
    const box = $<HTMLDetailsElement>('skipped-box');
    box.hidden = total === 0;
    $('skipped-summary').textContent = `${total} row(s) skipped${total > rows.length ? ` (first ${rows.length} listed)` : ''}`;
    $('skipped-list').innerHTML = rows.map((r) => `<li>line ${r.line}: ${escape(r.reason)}</li>`).join('');
  }

  wire() {
    dropZone($('text-dropzone'), (data) => { if (data.files[0]) this.load(data.files[0], data.files[0].name); });
    $<HTMLInputElement>('text-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      if (f) this.load(f, f.name);
      input.value = ''; // picking the same (corrected) file again reads it again
    });
    $('text-sample-button').addEventListener('click', async () => {
      try {
        const response = await fetch(SAMPLE_URL);
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        this.load(await response.blob(), 'movie-reviews.csv');
      } catch (err) {
        this.message('error', `The sample could not load: ${err}`);
      }
    });
    for (const id of ['text-column', 'label-column', 'limit-per-class']) $(id).addEventListener('change', () => this.choose());
  }
}
