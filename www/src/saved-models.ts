// The fine-tuned model's files on the page: export (a download), import, and the models kept in
// this browser (the package's IndexedDB store): keep the current model, load one back (switching
// task when needed), delete one.

import { escape } from './charts';
import { type ClassifierTask as Task, type FineTuner, listKept, type ModelInfo } from '../../npm/src/index';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const KINDS: Record<Task, string> = { image: 'Image', text: 'Text', audio: 'Sound' };

/** Saves `bytes` as a file through the browser's download (nothing is uploaded). */
function download(bytes: Uint8Array, name: string) {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export class SavedModels {
  constructor(
    private readonly tuner: () => FineTuner | null,
    private readonly classes: () => string[],
    private readonly message: (kind: 'info' | 'warning' | 'error', text: string) => void,
    private readonly load: (task: Task | 'speech', name: string) => void,
    /** A model was imported (a file or a kept one): its class names. */
    private readonly imported: (classes: string[]) => void,
  ) {}

  /** Imports a model (a file, or a kept one) and says what it is. */
  async importModel(load: () => Promise<ModelInfo>) {
    try {
      const info = await load();
      this.imported(info.classes);
      this.message('info', `Imported a model fine-tuned from ${info.baseModel} for ${info.classes.length} classes (${info.classes.join(', ')}); trained layers: ${info.unfreeze === 'head' ? 'head only' : `head + last ${info.unfreeze}`}.`);
    } catch (err) {
      this.message('error', (err as Error).message);
    }
  }

  /** Keeps the current model under a name saying what it is, and refreshes the list. */
  async keep() {
    const tuner = this.tuner();
    if (!tuner) return;
    const classes = this.classes();
    const name = `${KINDS[tuner.task]} model: ${classes.slice(0, 4).join(', ')}${classes.length > 4 ? ', …' : ''} (${new Date().toLocaleString()})`;
    try {
      const kept = await tuner.keep(name);
      this.message('info', `Kept "${name}" in this browser (${(kept.size / 1e6).toFixed(1)} MB).`);
    } catch (err) {
      this.message('error', (err as Error).message);
    }
    await this.render();
  }

  async render() {
    const list = $('saved-models');
    try {
      const models = await listKept();
      list.innerHTML = models.length === 0 ? '<li>None yet.</li>' : models.map((m) =>
        `<li data-name="${escape(m.name)}" data-task="${m.task}">${escape(m.name)} <small>(${m.task}${m.task === 'speech' ? '' : `, ${m.classes.length} classes`}, ${(m.size / 1e6).toFixed(1)} MB)</small>
          <button type="button" data-action="load">Load</button> <button type="button" data-action="delete">Delete</button></li>`).join('');
    } catch (err) {
      list.innerHTML = `<li>${escape((err as Error).message)}</li>`;
    }
  }

  private async onClick(e: Event) {
    const button = (e.target as HTMLElement).closest('button');
    const item = button?.closest('li');
    const name = item?.dataset.name;
    if (!button || !item || name === undefined) return;
    try {
      if (button.dataset.action === 'delete') await this.tuner()?.deleteKept(name);
      else this.load(item.dataset.task as Task | 'speech', name);
    } catch (err) {
      this.message('error', (err as Error).message);
    }
    await this.render();
  }

  wire() {
    $('export-button').addEventListener('click', async () => {
      const tuner = this.tuner();
      try {
        if (tuner) download(await tuner.export(), `finetuned-${tuner.task}.safetensors`);
      } catch (err) {
        this.message('error', (err as Error).message);
      }
    });
    $('keep-button').addEventListener('click', () => void this.keep());
    $<HTMLInputElement>('import-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      const tuner = this.tuner();
      if (f && tuner) void this.importModel(() => tuner.importModel(f));
      input.value = '';
    });
    $('saved-models').addEventListener('click', (e) => void this.onClick(e));
    void this.render();
  }
}
