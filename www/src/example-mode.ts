// What the page's example modes (images, audio) share: keep the fine-tuner's examples in step with
// what the page shows, ask the engine whether they can train, and prepare them shortly after each
// edit (cancelling a preparation that went stale), so Train starts at once.

import type { FineTuner, PrepareSettings, Prepared } from '../../npm/src/index';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
/** Wait this long after an edit before preparing (edits often come in bursts). */
const SETTLE_MS = 400;

/** What the page's modes need from it. */
export interface ModeHost {
  tuner(): FineTuner | null;
  busy(): boolean;
  /** How the settings form says the current task's examples are prepared. */
  preparation(): Omit<PrepareSettings, 'signal'>;
  /** Training readiness may have changed. */
  changed(): void;
  message(kind: 'info' | 'warning' | 'error', text: string): void;
  /** Runs `work` as the page's one long call (busy, cancellable, errors shown). */
  run(work: (signal: AbortSignal) => Promise<void>): Promise<void>;
  /** Cancels a preparation under way (not a training run). */
  cancelPreparation(): void;
}

/** Labelled examples as a mode holds them. */
interface Labelled { label: string }

export abstract class ExampleMode {
  /** The engine's answer for the current examples: why they cannot train (null: they can), or
   * undefined while it is asked. */
  private reason: string | null | undefined = undefined;
  /** The examples changed while the page was busy: prepare again once it is free. */
  private stale = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(protected readonly host: ModeHost, private readonly noun: string) {}

  /** The examples shown, and every class name (empty classes included), in order. */
  protected abstract shown(): { examples: readonly Labelled[]; classes: string[] };

  /** Class names as the engine numbers them. */
  classes(): string[] {
    return this.host.tuner()?.classes() ?? this.shown().classes;
  }

  /** Why Train cannot start, or null. */
  readiness(): string | null {
    return this.reason === undefined ? 'Checking the examples…' : this.reason;
  }

  /** A fresh fine-tuner (task switch, new backend, crash): give it the examples, and prepare
   * them unless told not to (after a second crash). */
  onReady(prepare: boolean) {
    this.sync();
    if (prepare) this.schedule(0);
  }

  /** Prepares the examples for the chosen cut (nothing is redone when they already are); false
   * when they cannot train. */
  async prepared(signal: AbortSignal): Promise<boolean> {
    const tuner = this.host.tuner();
    if (!tuner) return false;
    const result = await tuner.prepare({ ...this.host.preparation(), signal });
    this.show(result);
    return result.readiness === null;
  }

  /** The page is free again: catch up with edits made meanwhile. */
  onIdle() {
    if (this.stale) { this.stale = false; this.schedule(0); }
  }

  /** The fine-tuner's examples become the shown examples. */
  private sync() {
    const tuner = this.host.tuner();
    if (!tuner) return;
    const { examples, classes } = this.shown();
    tuner.clearExamples();
    for (const name of classes) tuner.addClass(name);
    tuner.addExamples(examples as never);
  }

  /** Call after every edit of the examples. */
  protected examplesChanged() {
    const { examples } = this.shown();
    $('data-status').textContent = examples.length ? `${examples.length} ${this.noun} in ${new Set(examples.map((e) => e.label)).size} classes.` : `No ${this.noun} yet.`;
    this.sync();
    this.reason = undefined;
    if (this.host.busy()) {
      this.stale = true;
      this.host.cancelPreparation();
    } else {
      this.schedule(SETTLE_MS);
    }
    this.host.changed();
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), ms);
  }

  /** Asks the engine whether the examples can train, and prepares them when they can. */
  private async check() {
    const tuner = this.host.tuner();
    if (!tuner || this.host.busy()) { this.stale = true; return; }
    try {
      this.reason = await tuner.readiness();
    } catch {
      return; // the fine-tuner was replaced meanwhile
    }
    this.host.changed();
    if (this.reason === null && this.shown().examples.length > 0) await this.host.run(async (signal) => { await this.prepared(signal); });
  }

  private show(result: Prepared) {
    this.renderSkipped(result.skipped);
    this.reason = result.readiness;
    const n = result.counts.reduce((a, b) => a + b, 0);
    $('data-status').textContent = `${n} ${this.noun} ready (features cached: ${(result.cacheBytes / 1e6).toFixed(1)} MB, ${(result.ms / 1000).toFixed(1)} s).`;
    this.host.changed();
  }

  private renderSkipped(skipped: { name: string; reason: string }[]) {
    const box = $<HTMLDetailsElement>('skipped-box');
    box.hidden = skipped.length === 0;
    $('skipped-summary').textContent = `${skipped.length} file(s) skipped`;
    $('skipped-list').replaceChildren(...skipped.map((s) => Object.assign(document.createElement('li'), { textContent: `${s.name}: ${s.reason}` })));
  }
}
