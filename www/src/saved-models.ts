// The page's list of models kept in this browser (IndexedDB, see model-store.ts): keep the current
// model, load one back (switching task when needed), delete one.

import { escape } from './charts';
import { deleteModel, listModels, loadModel, saveModel } from './model-store';
import type { Task } from '../../npm/src/protocol';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export class SavedModels {
  constructor(
    private readonly task: () => Task,
    private readonly classes: () => string[],
    private readonly message: (kind: 'info' | 'warning' | 'error', text: string) => void,
    private readonly importFile: (task: Task, file: Blob) => void,
  ) {}

  /** Keeps the exported bytes of the current model and refreshes the list. */
  async keep(bytes: Uint8Array) {
    const task = this.task();
    const classes = this.classes();
    const name = `${task === 'text' ? 'Text' : 'Image'} model: ${classes.slice(0, 4).join(', ')}${classes.length > 4 ? ', …' : ''}`;
    try {
      await saveModel({ name, task, classes, savedAt: new Date().toISOString(), size: bytes.length, bytes });
      this.message('info', `Kept "${name}" in this browser (${(bytes.length / 1e6).toFixed(1)} MB).`);
    } catch (err) {
      this.message('error', (err as Error).message);
    }
    await this.render();
  }

  async render() {
    const list = $('saved-models');
    try {
      const models = await listModels();
      list.innerHTML = models.length === 0 ? '<li>None yet.</li>' : models.map((m) =>
        `<li data-id="${m.id}">${escape(m.name)} <small>(${m.task}, ${m.classes.length} classes, ${(m.size / 1e6).toFixed(1)} MB, ${escape(new Date(m.savedAt).toLocaleString())})</small>
          <button type="button" data-action="load">Load</button> <button type="button" data-action="delete">Delete</button></li>`).join('');
    } catch (err) {
      list.innerHTML = `<li>${escape((err as Error).message)}</li>`;
    }
  }

  private async onClick(e: Event) {
    const button = (e.target as HTMLElement).closest('button');
    const id = Number(button?.closest('li')?.dataset.id);
    if (!button || !id) return;
    try {
      if (button.dataset.action === 'delete') {
        await deleteModel(id);
      } else {
        const model = await loadModel(id);
        this.importFile(model.task, new Blob([model.bytes as Uint8Array<ArrayBuffer>]));
      }
    } catch (err) {
      this.message('error', (err as Error).message);
    }
    await this.render();
  }

  wire() {
    $('saved-models').addEventListener('click', (e) => void this.onClick(e));
    void this.render();
  }
}
