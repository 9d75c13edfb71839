// The examples a fine-tuner holds on the caller's thread, with its class list (added explicitly or
// by a first example; sorted by name, as the engine numbers them). Every change bumps `version`,
// so the worker is sent the set again only when it changed.

/** An example with a class name (images and texts alike). */
export interface Labelled { label: string }

export class ExampleSet<E extends Labelled> {
  private list: E[] = [];
  private names: string[] = [];
  /** Bumped on every change. */
  version = 0;

  all(): readonly E[] {
    return this.list;
  }

  /** Class names, sorted: the engine's (and the trained model's) class order. */
  classes(): string[] {
    return [...this.names].sort();
  }

  add(examples: readonly E[]): number {
    this.list.push(...examples);
    for (const ex of examples) this.addName(ex.label);
    this.version += 1;
    return this.list.length;
  }

  /** A class without examples yet; false when it exists. */
  addClass(name: string): boolean {
    if (this.names.includes(name)) return false;
    this.addName(name);
    this.version += 1;
    return true;
  }

  /** Removes the class and its examples; how many examples went. */
  removeClass(name: string): number {
    const before = this.list.length;
    this.list = this.list.filter((ex) => ex.label !== name);
    this.names = this.names.filter((n) => n !== name);
    this.version += 1;
    return before - this.list.length;
  }

  /** Relabels `from`'s examples as `to` (merged into `to` when it exists); false without `from`. */
  renameClass(from: string, to: string): boolean {
    if (!this.names.includes(from)) return false;
    this.list = this.list.map((ex) => (ex.label === from ? { ...ex, label: to } : ex));
    this.names = this.names.includes(to) ? this.names.filter((n) => n !== from) : this.names.map((n) => (n === from ? to : n));
    this.version += 1;
    return true;
  }

  /** Removes the examples `remove` picks (classes stay); how many went. */
  remove(remove: (example: E, index: number) => boolean): number {
    const before = this.list.length;
    this.list = this.list.filter((ex, i) => !remove(ex, i));
    this.version += 1;
    return before - this.list.length;
  }

  clear() {
    this.list = [];
    this.names = [];
    this.version += 1;
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(this.names.map((n) => [n, 0]));
    for (const ex of this.list) counts[ex.label] += 1;
    return counts;
  }

  private addName(name: string) {
    if (!this.names.includes(name)) this.names.push(name);
  }
}
