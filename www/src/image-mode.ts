// The page's image mode: examples from a dropped folder tree, the folder picker, the sample or the
// webcam, shown as class cards (image-classes.ts), prepared shortly after each edit
// (example-mode.ts). Also classifies a dropped image or what the webcam sees.

import { dropZone, filesFromDrop, filesFromInput, type NamedImage, toExamples } from './files';
import { ExampleMode, type ModeHost } from './example-mode';
import { ImageClasses } from './image-classes';
import { Webcam } from './webcam';

export type { ModeHost } from './example-mode';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export class ImageMode extends ExampleMode {
  readonly cards: ImageClasses;
  private readonly webcam = new Webcam($<HTMLVideoElement>('webcam-video'));
  private live = false;
  private nextClass = 1;

  constructor(host: ModeHost) {
    super(host, 'images');
    this.cards = new ImageClasses($('image-classes'), () => this.examplesChanged(), host.message, (label) => void this.record(label));
  }

  protected shown() {
    return { examples: this.cards.examples, classes: this.cards.classes() };
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
