// The image examples on the page, one card per class: its count and thumbnails, and the edits a
// user expects — add images to a class (picker or drop on its card), remove an example, remove a
// class, rename a class, add a class to fill from the webcam. Every edit calls `onChange`; the page
// then prepares the examples again.

import { classCounts, type NamedImage } from './files';

/** Thumbnails shown per class (the rest are counted). */
const SHOWN = 12;
/** Class cards drawn (the rest are counted): a folder of thousands of folders stays usable. */
const CARDS = 200;
/** The engine's limit (src/data/mod.rs `MAX_CLASSES`). */
export const MAX_CLASSES = 1000;

export class ImageClasses {
  examples: NamedImage[] = [];
  /** Classes without examples yet, made to be filled from the webcam. */
  private empty: string[] = [];
  private readonly urls = new Map<NamedImage['image'], string>();
  /** Whether the webcam is on (cards then offer to record frames). */
  camera = false;
  /** The class the shared file picker adds to. */
  private picking = '';

  constructor(
    private readonly list: HTMLElement,
    private readonly onChange: () => void,
    private readonly message: (kind: 'info' | 'warning' | 'error', text: string) => void,
    private readonly record: (label: string) => void,
  ) {
    list.addEventListener('click', (e) => this.onClick(e));
    list.addEventListener('keydown', (e) => this.onKey(e));
    list.addEventListener('dragover', (e) => {
      const card = (e.target as HTMLElement).closest('.class-card');
      if (card) { e.preventDefault(); e.stopPropagation(); card.classList.add('over'); }
    });
    list.addEventListener('dragleave', (e) => (e.target as HTMLElement).closest('.class-card')?.classList.remove('over'));
    list.addEventListener('drop', (e) => {
      const card = (e.target as HTMLElement).closest<HTMLElement>('.class-card');
      if (!card || !e.dataTransfer) return;
      e.preventDefault();
      e.stopPropagation();
      card.classList.remove('over');
      this.addFiles(card.dataset.label!, e.dataTransfer.files);
    });
    const picker = document.getElementById('class-files-input') as HTMLInputElement;
    picker.addEventListener('change', () => {
      if (picker.files) this.addFiles(this.picking, picker.files);
      picker.value = '';
    });
  }

  /** Adds image files (dropped on a card or picked for it) to class `label`. */
  addFiles(label: string, files: FileList) {
    const images = Array.from(files).filter((f) => f.size > 0);
    if (images.length === 0) return;
    this.add(images.map((file) => ({ image: file, name: `${label}/${file.name}`, label })));
  }

  /** Class names in order: those with examples, then the empty ones. */
  classes(): string[] {
    return [...classCounts(this.examples).keys(), ...this.empty];
  }

  /** Replaces every example (a new drop or the sample). */
  set(examples: NamedImage[]) {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
    this.examples = examples;
    this.empty = [];
    this.changed();
  }

  add(examples: NamedImage[]) {
    this.examples.push(...examples);
    this.empty = this.empty.filter((c) => !examples.some((ex) => ex.label === c));
    this.changed();
  }

  /** A new, empty class; returns false (with a message) when the name is taken or blank. */
  addClass(name: string): boolean {
    const label = name.trim();
    if (!this.nameFree(label)) return false;
    this.empty.push(label);
    this.changed();
    return true;
  }

  render() {
    const byClass = new Map<string, { ex: NamedImage; index: number }[]>();
    this.examples.forEach((ex, index) => {
      const mine = byClass.get(ex.label);
      if (mine) mine.push({ ex, index }); else byClass.set(ex.label, [{ ex, index }]);
    });
    const classes = this.classes();
    const cards = classes.slice(0, CARDS).map((label) => this.card(label, byClass.get(label) ?? []));
    if (classes.length > CARDS) {
      cards.push(el('li', 'more-classes', `… and ${classes.length - CARDS} more classes (${classes.length} in all; at most ${MAX_CLASSES} can be fine-tuned).`));
    }
    this.list.replaceChildren(...cards);
  }

  private card(label: string, mine: { ex: NamedImage; index: number }[]): HTMLElement {
    const count = mine.length;
    const li = el('li', 'class-card');
    li.dataset.label = label;
    const head = el('div', 'class-head');
    const name = el('strong', 'class-name', label);
    head.append(name, el('span', 'class-count', `${count} image${count === 1 ? '' : 's'}`));
    const buttons = el('div', 'class-actions');
    buttons.append(button('add-files', 'Add images…', `Add images to ${label}`), button('rename', `Rename`, `Rename class ${label}`), button('remove-class', 'Remove', `Remove class ${label} and its ${count} images`));
    if (this.camera) buttons.append(button('record', 'Record 10 frames', `Record 10 webcam frames into ${label}`));
    head.append(buttons);
    const thumbs = el('div', 'thumbs');
    for (const { ex, index } of mine.slice(0, SHOWN)) {
      const figure = el('figure', 'thumb');
      const img = document.createElement('img');
      img.src = this.url(ex);
      img.alt = ex.name;
      img.loading = 'lazy';
      const remove = button('remove-example', '×', `Remove ${ex.name}`);
      remove.dataset.index = String(index);
      figure.append(img, remove);
      thumbs.append(figure);
    }
    if (mine.length > SHOWN) thumbs.append(el('span', 'more', `+${mine.length - SHOWN} more`));
    li.append(head, thumbs);
    return li;
  }

  private onClick(e: Event) {
    const target = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
    const label = target?.closest<HTMLElement>('.class-card')?.dataset.label;
    if (!target || label === undefined) return;
    switch (target.dataset.action) {
      case 'remove-example': {
        const [gone] = this.examples.splice(Number(target.dataset.index), 1);
        this.forget(gone);
        if (!this.examples.some((ex) => ex.label === label)) this.empty.push(label);
        this.changed();
        break;
      }
      case 'remove-class':
        this.examples.filter((ex) => ex.label === label).forEach((ex) => this.forget(ex));
        this.examples = this.examples.filter((ex) => ex.label !== label);
        this.empty = this.empty.filter((c) => c !== label);
        this.changed();
        break;
      case 'rename':
        this.startRename(target.closest<HTMLElement>('.class-card')!, label);
        break;
      case 'record':
        this.record(label);
        break;
      case 'add-files':
        this.picking = label;
        document.getElementById('class-files-input')!.click();
        break;
    }
  }

  /** Replaces the class name with a text field: Enter renames, Escape keeps the name. */
  private startRename(card: HTMLElement, label: string) {
    const input = document.createElement('input');
    input.value = label;
    input.className = 'rename-input';
    input.setAttribute('aria-label', `New name for class ${label}`);
    card.querySelector('.class-name')!.replaceWith(input);
    input.focus();
    input.select();
    input.addEventListener('blur', () => this.render());
  }

  private onKey(e: KeyboardEvent) {
    const input = e.target as HTMLInputElement;
    if (!input.classList.contains('rename-input')) return;
    const label = input.closest<HTMLElement>('.class-card')!.dataset.label!;
    if (e.key === 'Escape') this.render();
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const to = input.value.trim();
    if (to === label) { this.render(); return; }
    if (!this.nameFree(to)) return;
    for (const ex of this.examples) if (ex.label === label) ex.label = to;
    this.empty = this.empty.map((c) => (c === label ? to : c));
    this.changed();
  }

  private nameFree(name: string): boolean {
    if (!name) { this.message('error', 'A class needs a name.'); return false; }
    if (this.classes().includes(name)) { this.message('error', `There is already a class named "${name}".`); return false; }
    return true;
  }

  private url(ex: NamedImage): string {
    let url = this.urls.get(ex.image);
    if (!url) {
      url = ex.image instanceof Blob ? URL.createObjectURL(ex.image) : '';
      this.urls.set(ex.image, url);
    }
    return url;
  }

  private forget(ex: NamedImage | undefined) {
    const url = ex && this.urls.get(ex.image);
    if (url) URL.revokeObjectURL(url);
    if (ex) this.urls.delete(ex.image);
  }

  private changed() {
    this.render();
    this.onChange();
  }
}

function el(tag: string, className: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(action: string, text: string, label: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.action = action;
  b.textContent = text;
  b.setAttribute('aria-label', label);
  return b;
}
