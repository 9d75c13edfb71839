// The page's image mode: examples from a dropped folder tree, the folder picker, the sample or the
// webcam, shown as class cards (image-classes.ts). Keeps the fine-tuner's examples in step with
// them and prepares them shortly after each edit (cancelling a preparation that went stale), so
// Train starts at once. Also classifies a dropped image or what the webcam sees.

import type { FineTuner, Prepared } from '../../npm/src/index';
import { dropZone, filesFromDrop, filesFromInput, type NamedImage, toExamples } from './files';
import { ImageClasses } from './image-classes';
import { Webcam } from './webcam';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
/** Wait this long after an edit before preparing (edits often come in bursts). */
const SETTLE_MS = 400;

/** What the page's modes need from it. */
export interface ModeHost {
  tuner(): FineTuner | null;
  busy(): boolean;
  unfreeze(): 'head' | number;
  maxLength(): number | undefined;
  /** Training readiness may have changed. */
  changed(): void;
  message(kind: 'info' | 'warning' | 'error', text: string): void;
  /** Runs `work` as the page's one long call (busy, cancellable, errors shown). */
  run(work: (signal: AbortSignal) => Promise<void>): Promise<void>;
  /** Cancels a preparation under way (not a training run). */
  cancelPreparation(): void;
}

export class ImageMode {
  readonly cards: ImageClasses;
  private readonly webcam = new Webcam($<HTMLVideoElement>('webcam-video'));
  /** The engine's answer for the current examples: why they cannot train (null: they can), or
   * undefined while it is asked. */
  private reason: string | null | undefined = undefined;
  /** The examples changed while the page was busy: prepare again once it is free. */
  private stale = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private live = false;
  private nextClass = 1;

  constructor(private readonly host: ModeHost) {
    this.cards = new ImageClasses($('image-classes'), () => this.examplesChanged(), host.message, (label) => void this.record(label));
  }

  /** Class names as the engine numbers them (the order the classes were added in). */
  classes(): string[] {
    return this.host.tuner()?.classes() ?? this.cards.classes();
  }

  /** Why Train cannot start, or null. */
  readiness(): string | null {
    return this.reason === undefined ? 'Checking the examples…' : this.reason;
  }

  /** A fresh fine-tuner (task switch, new backend, crash): give it the examples. */
  onReady() {
    this.sync();
    this.schedule(0);
  }

  /** Prepares the examples for the chosen cut (nothing is redone when they already are); false
   * when they cannot train. */
  async prepared(signal: AbortSignal): Promise<boolean> {
    const tuner = this.host.tuner();
    if (!tuner) return false;
    const result = await tuner.prepare({ unfreeze: this.host.unfreeze(), signal });
    this.show(result);
    return result.readiness === null;
  }

  /** The page is free again: catch up with edits made meanwhile. */
  onIdle() {
    if (this.stale) { this.stale = false; this.schedule(0); }
  }

  /** The fine-tuner's examples become the cards' examples. */
  private sync() {
    const tuner = this.host.tuner();
    if (!tuner) return;
    tuner.clearExamples();
    for (const name of this.cards.classes()) tuner.addClass(name);
    tuner.addExamples(this.cards.examples);
  }

  private examplesChanged() {
    const count = this.cards.examples.length;
    $('data-status').textContent = count ? `${count} images in ${new Set(this.cards.examples.map((e) => e.label)).size} classes.` : 'No images yet.';
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
    if (this.reason === null && this.cards.examples.length > 0) await this.host.run(async (signal) => { await this.prepared(signal); });
  }

  private show(result: Prepared) {
    this.renderSkipped(result.skipped);
    this.reason = result.readiness;
    const n = result.counts.reduce((a, b) => a + b, 0);
    $('data-status').textContent = `${n} images ready (features cached: ${(result.cacheBytes / 1e6).toFixed(1)} MB, ${(result.ms / 1000).toFixed(1)} s).`;
    this.host.changed();
  }

  private renderSkipped(skipped: { name: string; reason: string }[]) {
    const box = $<HTMLDetailsElement>('skipped-box');
    box.hidden = skipped.length === 0;
    $('skipped-summary').textContent = `${skipped.length} file(s) skipped`;
    $('skipped-list').replaceChildren(...skipped.map((s) => Object.assign(document.createElement('li'), { textContent: `${s.name}: ${s.reason}` })));
  }

  private async loadSample() {
    $('data-status').textContent = 'Loading the sample…';
    const manifest = await (await fetch('./sample/manifest.json')).json() as { files: { path: string; label: string }[] };
    this.cards.set(await Promise.all(manifest.files.map(async (f): Promise<NamedImage> => ({
      image: await (await fetch(`./sample/${f.path}`)).blob(), name: f.path, label: f.label,
    }))));
  }

  private async toggleCamera() {
    const button = $<HTMLButtonElement>('webcam-button');
    try {
      if (this.webcam.on) this.webcam.stop();
      else await this.webcam.start();
    } catch (err) {
      this.host.message('error', (err as Error).message);
    }
    this.live = this.live && this.webcam.on;
    button.textContent = this.webcam.on ? 'Turn the webcam off' : 'Turn the webcam on';
    button.setAttribute('aria-pressed', String(this.webcam.on));
    $('webcam-box').hidden = !this.webcam.on;
    $('webcam-predict').hidden = !this.webcam.on;
    this.cards.camera = this.webcam.on;
    this.cards.render();
  }

  /** Records 10 webcam frames into `label`. */
  private async record(label: string) {
    try {
      const frames = await this.webcam.frames(10, 150, (n) => { $('webcam-status').textContent = `Recording into ${label}: ${n}/10`; });
      const stamp = Date.now();
      this.cards.add(frames.map((image, i) => ({ image, name: `webcam-${stamp}-${i + 1}.jpg`, label })));
      $('webcam-status').textContent = `Added 10 frames to ${label}.`;
    } catch (err) {
      this.host.message('error', (err as Error).message);
    }
  }

  /** Classifies the webcam's current frame; in live mode, the next one after it. */
  private async classifyFrame(classify: (input: Blob) => Promise<void>) {
    try {
      await classify(await this.webcam.frame());
      if (this.live) setTimeout(() => void this.classifyFrame(classify), 100);
    } catch (err) {
      this.live = false;
      this.host.message('error', (err as Error).message);
    }
  }

  wire(classify: (input: Blob) => Promise<void>) {
    dropZone($('dropzone'), async (data) => this.cards.set(toExamples(await filesFromDrop(data.items))));
    $<HTMLInputElement>('folder-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      if (input.files) this.cards.set(toExamples(filesFromInput(input.files)));
      input.value = '';
    });
    $('sample-button').addEventListener('click', () => this.loadSample().catch((err) => this.host.message('error', `Sample could not load: ${err}`)));
    $('webcam-button').addEventListener('click', () => void this.toggleCamera());
    $('add-class-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $<HTMLInputElement>('new-class');
      if (this.cards.addClass(input.value || `Class ${this.nextClass}`)) { input.value = ''; this.nextClass += 1; }
    });
    $('classify-frame').addEventListener('click', () => void this.classifyFrame(classify));
    $<HTMLInputElement>('classify-live').addEventListener('change', (e) => {
      this.live = (e.target as HTMLInputElement).checked;
      if (this.live) void this.classifyFrame(classify);
    });
    $<HTMLInputElement>('predict-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      if (f) void classify(f);
      input.value = ''; // choosing the same image again classifies it again
    });
    dropZone($('predict-drop'), (data) => { if (data.files[0]) void classify(data.files[0]); });
  }
}
