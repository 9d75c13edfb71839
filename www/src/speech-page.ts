// The page's speech mode: a client of the package's `SpeechFineTuner`. Clips come from a dropped
// or picked folder (`x.wav` + `x.txt`), a recording with its WebVTT/SRT subtitles, the sample (the
// Asterisk prompts), or the microphone with a typed transcript. Training shows the loss and the
// validation word error rate per epoch with sample transcripts; "Try it" shows the pretrained and
// the fine-tuned transcript of a recording side by side.

import { Curves, escape } from './charts';
import { dropZone, filesFromDrop, filesFromInput, type PathFile } from './files';
import {
  type BackendPreference, createFineTuner, type ModelInfo, type SpeechEpochReport, type SpeechExample, type SpeechFineTuner,
} from '../../npm/src/index';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const AUDIO = /\.(wav|mp3|ogg|oga|opus|flac|m4a|aac|webm)$/i;
const SUBTITLES = /\.(vtt|srt)$/i;
const stem = (path: string) => path.replace(/\.[^./]+$/, '');

/** One clip in the list: the example and where it came from. */
type Clip = SpeechExample & { name: string };

export class SpeechPage {
  private tuner: SpeechFineTuner | null = null;
  private clips: Clip[] = [];
  private abort: AbortController | null = null;
  private generation = 0;
  private recorder: MediaRecorder | null = null;
  private recorded: Blob | null = null;
  private readonly curves: { loss: Curves; wer: Curves };
  private epochs: SpeechEpochReport[] = [];
  private trained = false;
  /** A kept speech model to load once the fine-tuner is ready. */
  private pendingKept: string | null = null;

  constructor() {
    this.curves = { loss: new Curves($('speech-loss-chart'), 'token loss'), wer: new Curves($('speech-wer-chart'), 'word error rate (%)') };
  }

  /** Starts a fine-tuner on `backend` (the previous one, if any, is stopped). */
  async start(backend: BackendPreference) {
    this.stop();
    const generation = ++this.generation;
    this.status('Loading Whisper tiny.en…');
    try {
      const tuner = await createFineTuner({
        task: 'speech', backend, modelUrl: './whisper-tiny-en/model.safetensors',
        onProgress: (e) => {
          if (generation !== this.generation) return;
          if (e.type === 'caching') this.progress(`Encoding clips: ${e.done} / ${e.total} (${e.examplesPerSec.toFixed(2)} clips/s)`, e.done / Math.max(1, e.total));
          if (e.type === 'baseline') this.progress(`Transcribing the validation clips with the pretrained model (what fine-tuning must beat): ${e.done} / ${e.total}`, e.done / Math.max(1, e.total));
          if (e.type === 'mix') this.progress(`Mixing with the pretrained weights (keeps what it knew): ${Math.round(e.mix.share * 100)} % fine-tuned, validation WER ${(e.mix.valWer * 100).toFixed(1)} %`, e.done / e.total);
          if (e.type === 'step') this.progress(`Epoch ${e.epoch}, step ${e.step} / ${e.stepsPerEpoch}: loss ${e.loss.toFixed(3)}`, e.step / e.stepsPerEpoch);
          if (e.type === 'warning') this.message('warning', e.message);
          if (e.type === 'error' && e.fatal) { this.message('error', `${e.message}`); void this.start(backend); }
        },
      });
      if (generation !== this.generation) { tuner.dispose(); return; }
      this.tuner = tuner;
      $('speech-status').dataset.kind = tuner.backend.kind;
      this.status(`Whisper tiny.en ready (${tuner.backend.reason}).`);
      this.tuner.addExamples(this.clips);
      this.update();
      if (this.pendingKept !== null) this.loadKept(this.pendingKept);
    } catch (err) {
      if (generation === this.generation) this.status(`The engine could not start: ${(err as Error).message}`);
    }
  }

  stop() {
    this.generation += 1;
    this.abort?.abort();
    this.tuner?.dispose();
    this.tuner = null;
    this.trained = false;
    delete $('speech-status').dataset.kind;
  }

  wire() {
    dropZone($('speech-drop'), (data) => void filesFromDrop(data.items).then((files) => this.addFiles(files)));
    $<HTMLInputElement>('speech-folder-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      if (input.files) void this.addFiles(filesFromInput(input.files));
      input.value = '';
    });
    $('speech-sample-button').addEventListener('click', () => void this.addSample());
    $('speech-record-button').addEventListener('click', () => void this.toggleRecording());
    $('speech-add-recording').addEventListener('click', () => this.addRecorded());
    $('speech-train-button').addEventListener('click', () => void this.train());
    $('speech-cancel-button').addEventListener('click', () => this.abort?.abort());
    $<HTMLInputElement>('speech-try-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const file = input.files?.[0];
      if (file) void this.tryIt(file);
      input.value = '';
    });
    $('speech-export-button').addEventListener('click', () => void this.exportModel());
    $('speech-keep-button').addEventListener('click', () => void this.keep());
    $<HTMLInputElement>('speech-import-input').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const file = input.files?.[0];
      if (file) void this.importModel(file);
      input.value = '';
    });
    $('speech-clips').addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-remove]');
      if (!button) return;
      const index = Number(button.dataset.remove);
      this.clips.splice(index, 1);
      this.tuner?.removeExamples((_, i) => i === index);
      this.update();
    });
  }

  /** Clips from dropped or picked files: audio with a `.txt` of the same name, or a recording
   * with a `.vtt`/`.srt` of the same name; anything else is listed. */
  private async addFiles(files: PathFile[]) {
    const visible = files.filter(({ path }) => !path.split('/').some((p) => p.startsWith('.')));
    const byStem = new Map<string, { audio?: PathFile; text?: PathFile; subtitles?: PathFile }>();
    const skipped: string[] = [];
    for (const f of visible) {
      const entry = byStem.get(stem(f.path)) ?? {};
      if (AUDIO.test(f.path)) entry.audio = f;
      else if (/\.txt$/i.test(f.path)) entry.text = f;
      else if (SUBTITLES.test(f.path)) entry.subtitles = f;
      else { skipped.push(`${f.path}: not an audio file, a transcript (.txt) or subtitles (.vtt, .srt)`); continue; }
      byStem.set(stem(f.path), entry);
    }
    const added: Clip[] = [];
    for (const [name, { audio, text, subtitles }] of byStem) {
      if (audio && subtitles) {
        if (!this.tuner) { skipped.push(`${audio.path}: the engine is still loading; drop it again in a moment`); continue; }
        try {
          const cut = await this.tuner.cutRecording(audio.file, subtitles.file, { name: audio.path });
          added.push(...cut.examples.map((ex) => ({ ...ex, name: ex.name ?? audio.path })));
          skipped.push(...cut.skipped.map((s) => `${subtitles.path}${s.line ? ` line ${s.line}` : ''}: ${s.reason}`));
          this.message('info', `${audio.path}: ${cut.examples.length} clip(s) cut at the subtitles' cues.`);
        } catch (err) {
          skipped.push(`${audio.path}: ${(err as Error).message}`);
        }
      } else if (audio && text) added.push({ audio: audio.file, text: (await text.file.text()).trim(), name: audio.path });
      else if (audio) skipped.push(`${audio.path}: no transcript beside it (${name}.txt) or subtitles (${name}.vtt)`);
      else skipped.push(`${(text ?? subtitles)!.path}: no recording of that name beside it`);
    }
    this.add(added);
    this.renderSkipped(skipped);
  }

  /** The Asterisk prompts (numbers, letters, voicemail and conference prompts): 120 of them. */
  private async addSample() {
    const rows = parseManifest(await (await fetch('./asterisk/manifest.csv')).text()).filter((_, i) => i % 4 === 0).slice(0, 120);
    const clips = await Promise.all(rows.map(async ({ file, text }) => ({ audio: await (await fetch(`./asterisk/${file}`)).blob(), text, name: file })));
    this.add(clips);
  }

  private add(clips: Clip[]) {
    if (clips.length === 0) return;
    this.clips.push(...clips);
    this.tuner?.addExamples(clips);
    this.update();
  }

  private async toggleRecording() {
    const button = $<HTMLButtonElement>('speech-record-button');
    if (this.recorder) { this.recorder.stop(); return; }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const chunks: Blob[] = [];
      const recorder = new MediaRecorder(stream);
      recorder.ondataavailable = (e) => chunks.push(e.data);
      recorder.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        this.recorded = new Blob(chunks, { type: recorder.mimeType });
        this.recorder = null;
        button.textContent = 'Record a clip';
        button.setAttribute('aria-pressed', 'false');
        $('speech-record-status').textContent = 'Recorded: type what you said, then add it.';
        $<HTMLButtonElement>('speech-add-recording').disabled = false;
      };
      recorder.start();
      this.recorder = recorder;
      button.textContent = 'Stop recording';
      button.setAttribute('aria-pressed', 'true');
      $('speech-record-status').textContent = 'Recording… (at most 30 s)';
      setTimeout(() => { if (this.recorder === recorder) recorder.stop(); }, 30_000);
    } catch (err) {
      this.message('error', `The microphone is not available: ${(err as Error).message}`);
    }
  }

  private addRecorded() {
    const text = $<HTMLInputElement>('speech-transcript').value.trim();
    if (!this.recorded) return;
    if (!text) { this.message('error', 'Type what you said in the recording first.'); return; }
    this.add([{ audio: this.recorded, text, name: `recording ${this.clips.length + 1}` }]);
    this.recorded = null;
    $<HTMLInputElement>('speech-transcript').value = '';
    $<HTMLButtonElement>('speech-add-recording').disabled = true;
    $('speech-record-status').textContent = '';
  }

  private async train() {
    const tuner = this.tuner;
    if (!tuner) return;
    this.abort = new AbortController();
    this.epochs = [];
    this.drawCurves();
    this.setBusy(true);
    try {
      const unfreeze = Number($<HTMLSelectElement>('speech-unfreeze').value);
      const epochs = Number($<HTMLInputElement>('speech-epochs').value) || undefined;
      const mixPretrained = $<HTMLInputElement>('speech-mix').checked;
      const result = await tuner.train({ unfreeze, epochs, mixPretrained, signal: this.abort.signal, onEpochEnd: (e) => { this.epochs.push(e); this.drawCurves(); this.showSamples(e); } });
      this.trained = true;
      this.message(result.bestEpoch > 0 ? 'info' : 'warning', result.message);
      this.renderSkipped(result.skipped.map((s) => `${s.name}: ${s.reason}`));
    } catch (err) {
      this.message('error', (err as Error).message);
    } finally {
      this.setBusy(false);
    }
  }

  private async tryIt(file: File) {
    const tuner = this.tuner;
    if (!tuner) return;
    const out = $('speech-try-output');
    out.innerHTML = `<p>Transcribing ${escape(file.name)}…</p>`;
    try {
      const progress = (done: number, total: number) => this.progress(`Transcribing: window ${done} / ${total}`, done / total);
      const before = await tuner.transcribe(file, { fineTuned: false, onProgress: progress });
      const after = this.trained ? await tuner.transcribe(file, { fineTuned: true, onProgress: progress }) : null;
      out.innerHTML = `<div class="transcripts"><div><h4>Pretrained</h4><p data-transcript="pretrained">${escape(before)}</p></div>`
        + `<div><h4>Fine-tuned</h4><p data-transcript="fine-tuned">${after === null ? 'Train first to compare.' : escape(after)}</p></div></div>`;
    } catch (err) {
      out.innerHTML = '';
      this.message('error', (err as Error).message);
    }
  }

  private async exportModel() {
    if (!this.tuner) return;
    const bytes = await this.tuner.export();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes.slice()], { type: 'application/octet-stream' }));
    a.download = 'whisper-fine-tuned.safetensors';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  private async keep() {
    if (!this.tuner) return;
    const name = `speech model ${new Date().toLocaleString()}`;
    try {
      await this.tuner.keep(name);
      this.message('info', `Kept in this browser as “${name}”.`);
    } catch (err) {
      this.message('error', (err as Error).message);
    }
  }

  /** Loads a speech model kept in this browser (now, or once the fine-tuner is ready). */
  loadKept(name: string) {
    this.pendingKept = name;
    const tuner = this.tuner;
    if (!tuner) return;
    this.pendingKept = null;
    void this.importModel(() => tuner.loadKept(name));
  }

  private async importModel(file: File | (() => Promise<ModelInfo>)) {
    const tuner = this.tuner;
    if (!tuner) return;
    try {
      const info = await (typeof file === 'function' ? file() : tuner.importModel(file));
      this.trained = true;
      this.update();
      this.message('info', `Imported a fine-tuned ${info.baseModel} (${info.unfreeze} decoder layers).`);
    } catch (err) {
      this.message('error', (err as Error).message);
    }
  }

  private update() {
    const list = $('speech-clips');
    list.innerHTML = this.clips.slice(0, 500).map((c, i) => `<li><span class="clip-name">${escape(c.name)}</span> `
      + `<q>${escape(c.text)}</q> <button type="button" data-remove="${i}" aria-label="Remove ${escape(c.name)}">Remove</button></li>`).join('');
    const more = this.clips.length > 500 ? ` (the first 500 are listed)` : '';
    $('speech-data-status').textContent = `${this.clips.length} clip(s)${more}.`;
    const ready = this.clips.length >= 4 && this.tuner !== null;
    $<HTMLButtonElement>('speech-train-button').disabled = !ready || this.abort !== null;
    $('speech-train-reason').textContent = this.clips.length < 4 ? 'Add at least 4 clips with their transcripts.' : '';
    for (const id of ['speech-export-button', 'speech-keep-button']) $<HTMLButtonElement>(id).disabled = !this.trained;
  }

  private setBusy(busy: boolean) {
    if (!busy) this.abort = null;
    $<HTMLButtonElement>('speech-cancel-button').disabled = !busy;
    this.update();
    $<HTMLButtonElement>('speech-train-button').disabled = busy || this.clips.length < 4;
  }

  private drawCurves() {
    this.curves.loss.set(this.epochs.map((e) => e.trainLoss), this.epochs.map((e) => e.valLoss));
    this.curves.wer.set(this.epochs.map(() => NaN), this.epochs.map((e) => e.valWer * 100));
  }

  private showSamples(e: SpeechEpochReport) {
    $('speech-samples').innerHTML = `<caption>Validation clips after epoch ${e.epoch} (WER ${(e.valWer * 100).toFixed(1)} %)</caption>`
      + '<tr><th scope="col">said</th><th scope="col">heard</th></tr>'
      + e.samples.map((s) => `<tr><td>${escape(s.reference)}</td><td>${escape(s.transcript)}</td></tr>`).join('');
  }

  private renderSkipped(items: string[]) {
    $('speech-skipped').hidden = items.length === 0;
    $('speech-skipped-summary').textContent = `${items.length} item(s) not used`;
    $('speech-skipped-list').innerHTML = items.map((s) => `<li>${escape(s)}</li>`).join('');
  }

  private status(text: string) {
    $('speech-status').textContent = text;
  }

  private progress(text: string, share: number) {
    $('speech-progress-text').textContent = text;
    $<HTMLProgressElement>('speech-progress').value = Math.max(0, Math.min(1, share));
  }

  private message(kind: 'info' | 'warning' | 'error', text: string) {
    const p = document.createElement('p');
    p.className = kind;
    p.textContent = text;
    $('speech-messages').prepend(p);
  }
}

/** The rows of a `file,text` CSV (RFC 4180 quotes), header skipped. */
export function parseManifest(csv: string): { file: string; text: string }[] {
  const rows: { file: string; text: string }[] = [];
  for (const line of csv.split(/\r?\n/).slice(1)) {
    if (!line.trim()) continue;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quoted && c === '"' && line[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) { fields.push(field); field = ''; } else field += c;
    }
    fields.push(field);
    if (fields.length >= 2) rows.push({ file: fields[0], text: fields.slice(1).join(',') });
  }
  return rows;
}
