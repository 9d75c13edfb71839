// The page's image mode: examples from a dropped folder tree, the folder picker, the sample or the
// webcam, shown as class cards (image-classes.ts). Keeps the worker's feature cache in step with
// them: prepares again shortly after each edit, cancelling a preparation that went stale. Also
// classifies a dropped image or what the webcam sees.

import { dropZone, filesFromDrop, filesFromInput, readiness, toExamples, classCounts } from './files';
import { ImageClasses } from './image-classes';
import type { Example, FromWorker, Skipped, ToWorker, Unfreeze } from '../../npm/src/protocol';
import { Webcam } from './webcam';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
/** Wait this long after an edit before preparing (edits often come in bursts). */
const SETTLE_MS = 400;

/** What the image mode needs from the page. */
export interface ImageHost {
  send(m: ToWorker): void;
  engineReady(): boolean;
  busy(): boolean;
  setBusy(busy: boolean): void;
  /** Training readiness may have changed. */
  changed(): void;
  unfreeze(): Unfreeze;
  message(kind: 'info' | 'warning' | 'error', text: string): void;
}

export class ImageMode {
  readonly classes: ImageClasses;
  private readonly webcam = new Webcam($<HTMLVideoElement>('webcam-video'));
  /** The worker's feature cache: it holds exactly these examples ('ready'), is being filled
   * ('preparing'), or holds nothing usable ('none'). */
  private cache: 'none' | 'preparing' | 'ready' = 'none';
  /** With a ready cache: why these examples cannot train (the engine's check), or null. */
  private reason: string | null = null;
  /** Runs once the preparation under way succeeds (Train was pressed before the cache was ready). */
  private then: (() => void) | null = null;
  /** The examples changed while the worker was busy: prepare again once it is free. */
  private stale = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private live = false;
  private nextClass = 1;

  constructor(private readonly host: ImageHost) {
    this.classes = new ImageClasses($('image-classes'), () => this.examplesChanged(), host.message, (label) => void this.record(label));
  }

  get examples(): Example[] {
    return this.classes.examples;
  }

  /** Class names as the engine numbers them (the order given to `prepare`). */
  names(): string[] {
    return [...classCounts(this.examples).keys()];
  }

  /** Why Train cannot start, or null (an unprepared cache is prepared when Train is pressed). */
  readiness(): string | null {
    const counts = new Map(this.classes.classes().map((c) => [c, 0]));
    for (const [c, n] of classCounts(this.examples)) counts.set(c, n);
    return readiness(counts) ?? (this.cache === 'ready' ? this.reason : null);
  }

  /** Runs `train` once the examples are cached, preparing them first when needed. */
  whenPrepared(train: () => void) {
    if (this.cache === 'ready') { train(); return; }
    clearTimeout(this.timer);
    this.then = train;
    this.prepare();
  }

  /** A fresh engine (task switch, new backend, crash): its cache is empty. */
  onReady() {
    this.cache = 'none';
    this.then = null;
    if (this.examples.length > 0) this.schedule(0);
  }

  onPrepared(msg: Extract<FromWorker, { type: 'prepared' }>) {
    const mine = this.cache === 'preparing';
    this.renderSkipped(msg.skipped);
    if (msg.cancelled || this.stale) {
      this.cache = 'none'; // a stale preparation is redone once the worker is free (onIdle)
    } else {
      this.cache = 'ready';
      this.reason = msg.readiness;
      $('data-status').textContent = `${msg.counts.reduce((a, b) => a + b, 0)} images ready (features cached: ${(msg.cacheBytes / 1e6).toFixed(1)} MB, ${(msg.ms / 1000).toFixed(1)} s).`;
    }
    if (mine) {
      const then = this.cache === 'ready' && this.reason === null ? this.then : null;
      this.then = null;
      this.host.setBusy(false);
      then?.();
    }
    this.host.changed();
  }

  /** Training (or a failed call) ended: catch up with edits made meanwhile. */
  onIdle() {
    if (this.stale) { this.stale = false; this.schedule(0); }
  }

  /** A prediction was shown: in live mode, classify the next frame. */
  onPrediction() {
    if (this.live) setTimeout(() => void this.classifyFrame(), 100);
  }

  private examplesChanged() {
    const counts = classCounts(this.examples);
    $('data-status').textContent = this.examples.length ? `${this.examples.length} images in ${counts.size} classes.` : 'No images yet.';
    if (this.cache === 'preparing') { this.stale = true; this.then = null; this.host.send({ type: 'cancel' }); }
    else if (this.host.busy()) { this.stale = true; this.cache = 'none'; }
    else { this.cache = 'none'; this.schedule(SETTLE_MS); }
    this.host.changed();
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.prepare(), ms);
  }

  private prepare() {
    if (!this.host.engineReady() || this.host.busy() || this.readiness() !== null) { this.then = null; return; }
    this.cache = 'preparing';
    this.host.setBusy(true);
    this.host.send({ type: 'prepare', examples: this.examples, classes: this.names(), unfreeze: this.host.unfreeze() });
  }

  private renderSkipped(skipped: Skipped[]) {
    const box = $<HTMLDetailsElement>('skipped-box');
    box.hidden = skipped.length === 0;
    $('skipped-summary').textContent = `${skipped.length} file(s) skipped`;
    $('skipped-list').replaceChildren(...skipped.map((s) => Object.assign(document.createElement('li'), { textContent: `${s.name}: ${s.reason}` })));
  }

  private async loadSample() {
    $('data-status').textContent = 'Loading the sample…';
    const manifest = await (await fetch('./sample/manifest.json')).json() as { files: { path: string; label: string }[] };
    this.classes.set(await Promise.all(manifest.files.map(async (f) => ({
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
    this.classes.camera = this.webcam.on;
    this.classes.render();
  }

  /** Records 10 webcam frames into `label`. */
  private async record(label: string) {
    try {
      const frames = await this.webcam.frames(10, 150, (n) => { $('webcam-status').textContent = `Recording into ${label}: ${n}/10`; });
      const stamp = Date.now();
      this.classes.add(frames.map((image, i) => ({ image, name: `webcam-${stamp}-${i + 1}.jpg`, label })));
      $('webcam-status').textContent = `Added 10 frames to ${label}.`;
    } catch (err) {
      this.host.message('error', (err as Error).message);
    }
  }

  private async classifyFrame() {
    try {
      this.host.send({ type: 'predict', inputs: [await this.webcam.frame()], topK: 3 });
    } catch (err) {
      this.live = false;
      this.host.message('error', (err as Error).message);
    }
  }

  wire() {
    dropZone($('dropzone'), async (data) => this.classes.set(toExamples(await filesFromDrop(data.items))));
    $<HTMLInputElement>('folder-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      if (input.files) this.classes.set(toExamples(filesFromInput(input.files)));
      input.value = '';
    });
    $('sample-button').addEventListener('click', () => this.loadSample().catch((err) => this.host.message('error', `Sample could not load: ${err}`)));
    $('webcam-button').addEventListener('click', () => void this.toggleCamera());
    $('add-class-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $<HTMLInputElement>('new-class');
      if (this.classes.addClass(input.value || `Class ${this.nextClass}`)) { input.value = ''; this.nextClass += 1; }
    });
    $('classify-frame').addEventListener('click', () => void this.classifyFrame());
    $<HTMLInputElement>('classify-live').addEventListener('change', (e) => {
      this.live = (e.target as HTMLInputElement).checked;
      if (this.live) void this.classifyFrame();
    });
    const classify = (blob: Blob) => this.host.send({ type: 'predict', inputs: [blob], topK: 3 });
    $<HTMLInputElement>('predict-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      if (f) classify(f);
      input.value = ''; // choosing the same image again classifies it again
    });
    dropZone($('predict-drop'), (data) => { if (data.files[0]) classify(data.files[0]); });
  }
}
