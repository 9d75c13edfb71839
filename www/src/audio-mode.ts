// The page's audio mode (sound classes on Whisper's encoder): clips from a dropped or picked folder
// tree (one subfolder per class), the sample (Asterisk prompts: numbers, letters, the NATO
// alphabet) or the microphone, a few seconds per click into a class. The class list shows each
// class's clips with a player; preparation follows each edit (example-mode.ts). Also classifies a
// recording or a dropped clip.

import type { AudioExample } from '../../npm/src/index';
import { ExampleMode, type ModeHost } from './example-mode';
import { dropZone, filesFromDrop, filesFromInput, type PathFile, toExamples } from './files';
import { recordClip } from './microphone';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const AUDIO = /\.(wav|mp3|ogg|oga|opus|flac|m4a|aac|webm)$/i;
/** Length of one microphone recording. */
const RECORD_MS = 2000;
/** Clips per class of the sample. */
const SAMPLE_PER_CLASS = 20;
/** Players shown per class (the rest are counted). */
const SHOWN = 6;

type Clip = AudioExample & { name: string };

export class AudioMode extends ExampleMode {
  private clips: Clip[] = [];
  /** Classes without clips yet (to record into). */
  private empty: string[] = [];
  private readonly urls = new Map<Clip, string>();
  private nextClass = 1;

  constructor(host: ModeHost) {
    super(host, 'clips');
  }

  protected shown() {
    const withClips = [...new Set(this.clips.map((c) => c.label))];
    return { examples: this.clips, classes: [...withClips, ...this.empty.filter((c) => !withClips.includes(c))] };
  }

  /** Replaces every clip (a new drop or the sample). */
  private set(clips: Clip[]) {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
    this.clips = clips;
    this.empty = [];
    this.edited();
  }

  private add(clips: Clip[]) {
    this.clips.push(...clips);
    this.edited();
  }

  private edited() {
    this.render();
    this.examplesChanged();
  }

  private fromFiles(files: PathFile[]): Clip[] {
    const audio = files.filter((f) => AUDIO.test(f.path));
    const ignored = files.length - audio.length;
    if (ignored > 0) this.host.message('warning', `${ignored} file(s) are not audio by their name and were left out.`);
    return toExamples(audio).map(({ image, name, label }) => ({ audio: image as File, name, label }));
  }

  private async loadSample() {
    $('data-status').textContent = 'Loading the sample…';
    const rows = (await (await fetch('./asterisk/manifest.csv')).text()).split('\n').slice(1).map((l) => l.split(',')[0]);
    const picked = ['digits', 'letters', 'phonetic'].flatMap((label) => rows.filter((f) => f.startsWith(`${label}/`)).slice(0, SAMPLE_PER_CLASS));
    this.set(await Promise.all(picked.map(async (path): Promise<Clip> => ({
      audio: await (await fetch(`./asterisk/${path}`)).blob(), name: path, label: path.split('/')[0],
    }))));
  }

  private async record(label: string) {
    const status = $('audio-record-status');
    try {
      status.textContent = `Recording ${RECORD_MS / 1000} s into ${label}…`;
      const audio = await recordClip(RECORD_MS);
      const n = this.clips.filter((c) => c.label === label).length + 1;
      this.empty = this.empty.filter((c) => c !== label);
      this.add([{ audio, name: `${label}/recording-${n}`, label }]);
      status.textContent = `Added a recording to ${label}.`;
    } catch (err) {
      status.textContent = '';
      this.host.message('error', (err as Error).message);
    }
  }

  private render() {
    const list = $('audio-classes');
    const { classes } = this.shown();
    list.replaceChildren(...classes.map((label) => {
      const clips = this.clips.filter((c) => c.label === label);
      const li = document.createElement('li');
      li.className = 'audio-class';
      li.dataset.label = label;
      const title = document.createElement('h3');
      title.textContent = `${label} (${clips.length})`;
      const record = button(`Record ${RECORD_MS / 1000} s`, () => void this.record(label));
      record.setAttribute('aria-label', `Record ${RECORD_MS / 1000} s into ${label}`);
      const remove = button('Remove class', () => {
        this.clips = this.clips.filter((c) => c.label !== label);
        this.empty = this.empty.filter((c) => c !== label);
        this.edited();
      });
      remove.setAttribute('aria-label', `Remove class ${label}`);
      const players = clips.slice(0, SHOWN).map((clip) => {
        const audio = document.createElement('audio');
        audio.controls = true;
        audio.src = this.url(clip);
        audio.title = clip.name;
        audio.setAttribute('aria-label', clip.name);
        return audio;
      });
      const more = clips.length > SHOWN ? [Object.assign(document.createElement('span'), { textContent: `and ${clips.length - SHOWN} more` })] : [];
      li.append(title, record, remove, ...players, ...more);
      return li;
    }));
  }

  private url(clip: Clip): string {
    let url = this.urls.get(clip);
    if (!url) {
      url = URL.createObjectURL(clip.audio instanceof Blob ? clip.audio : new Blob([]));
      this.urls.set(clip, url);
    }
    return url;
  }

  wire(classify: (input: Blob) => Promise<void>) {
    dropZone($('audio-dropzone'), async (data) => this.set(this.fromFiles(await filesFromDrop(data.items))));
    $<HTMLInputElement>('audio-folder-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      if (input.files) this.set(this.fromFiles(filesFromInput(input.files)));
      input.value = '';
    });
    $('audio-sample-button').addEventListener('click', () => this.loadSample().catch((err) => this.host.message('error', `Sample could not load: ${err}`)));
    $('audio-add-class-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $<HTMLInputElement>('audio-new-class');
      const name = input.value.trim() || `Sound ${this.nextClass}`;
      if (this.shown().classes.includes(name)) { this.host.message('warning', `There is a class '${name}' already.`); return; }
      this.empty.push(name);
      this.nextClass += 1;
      input.value = '';
      this.edited();
    });
    $('audio-predict-record').addEventListener('click', async () => {
      try {
        $('audio-record-status').textContent = `Listening for ${RECORD_MS / 1000} s…`;
        const clip = await recordClip(RECORD_MS);
        $('audio-record-status').textContent = '';
        await classify(clip);
      } catch (err) {
        this.host.message('error', (err as Error).message);
      }
    });
    $<HTMLInputElement>('audio-predict-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      if (f) void classify(f);
      input.value = '';
    });
  }
}

function button(text: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}
