// The page's list of models kept in this browser (the package's IndexedDB store): keep the
// current model (`keep`), load one back (switching task when needed), delete one.

import { escape } from './charts';
import { type ClassifierTask as Task, type FineTuner, listKept } from '../../npm/src/index';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export class SavedModels {
  constructor(
    private readonly tuner: () => FineTuner | null,
    private readonly classes: () => string[],
    private readonly message: (kind: 'info' | 'warning' | 'error', text: string) => void,
    private readonly load: (task: Task, name: string) => void,
  ) {}

  /** Keeps the current model under a name saying what it is, and refreshes the list. */
  async keep() {
    const tuner = this.tuner();
    if (!tuner) return;
    const classes = this.classes();
    const name = `${tuner.task === 'text' ? 'Text' : 'Image'} model: ${classes.slice(0, 4).join(', ')}${classes.length > 4 ? ', …' : ''} (${new Date().toLocaleString()})`;
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
        `<li data-name="${escape(m.name)}" data-task="${m.task}">${escape(m.name)} <small>(${m.task}, ${m.classes.length} classes, ${(m.size / 1e6).toFixed(1)} MB)</small>
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
      else this.load(item.dataset.task as Task, name);
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
