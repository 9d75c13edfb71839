// The page's list of models kept in this browser (the package's IndexedDB store,
// npm/src/kept-models.ts): keep the current model, load one back (switching task when needed),
// delete one.

import { escape } from './charts';
import { deleteKept, keepModel, listKept, loadKept } from '../../npm/src/kept-models';
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
    const keptAt = new Date();
    const name = `${task === 'text' ? 'Text' : 'Image'} model: ${classes.slice(0, 4).join(', ')}${classes.length > 4 ? ', …' : ''} (${keptAt.toLocaleString()})`;
    try {
      await keepModel({ name, task, classes, keptAt: keptAt.toISOString(), size: bytes.length, bytes });
      this.message('info', `Kept "${name}" in this browser (${(bytes.length / 1e6).toFixed(1)} MB).`);
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
        `<li data-name="${escape(m.name)}">${escape(m.name)} <small>(${m.task}, ${m.classes.length} classes, ${(m.size / 1e6).toFixed(1)} MB)</small>
          <button type="button" data-action="load">Load</button> <button type="button" data-action="delete">Delete</button></li>`).join('');
    } catch (err) {
      list.innerHTML = `<li>${escape((err as Error).message)}</li>`;
    }
  }

  private async onClick(e: Event) {
    const button = (e.target as HTMLElement).closest('button');
    const name = button?.closest('li')?.dataset.name;
    if (!button || name === undefined) return;
    try {
      if (button.dataset.action === 'delete') {
        await deleteKept(name);
      } else {
        const model = await loadKept(name);
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
