// The speech task's jobs in the worker: clips (16 kHz mono, decoded by the package on the page's
// thread) with their transcripts reach the engine a few at a time (progress and cancel are checked
// between calls); recordings are transcribed window by window. Not a classifier: no classes, no
// predict/evaluate (transcribe instead).

import { type Filled, Jobs } from './jobs';
import type { EngineEvaluation, Example, Prediction, SentAudio, SentInput, Skipped } from './protocol';

/** Clips per engine call while preparing (an encoder pass holds ~60 MB per clip). */
const CHUNK = 4;

export class SpeechJobs extends Jobs {
  private examples: Example[] = [];

  protected classNames(): string[] {
    return [];
  }

  protected counts(): number[] {
    return [this.examples.length];
  }

  setExamples(examples: Example[]) {
    this.examples = examples;
    this.changed();
  }

  protected async fill(signal: AbortSignal, progress: (done: number, total: number) => void): Promise<Filled> {
    const skipped: Skipped[] = [];
    const total = this.examples.length;
    for (const holdout of [false, true]) {
      const part = this.examples.filter((ex) => Boolean(ex.holdout) === holdout);
      for (let i = 0; i < part.length; i += CHUNK) {
        if (signal.aborted) break;
        await this.ctx.gate.between();
        const chunk = part.slice(i, i + CHUNK);
        const lengths = chunk.map((ex) => (ex.input as SentAudio).samples.length);
        const audio = new Float32Array(lengths.reduce((a, b) => a + b, 0));
        let at = 0;
        for (const ex of chunk) { audio.set((ex.input as SentAudio).samples, at); at += (ex.input as SentAudio).samples.length; }
        const report = await this.engine.addClips(audio, new Uint32Array(lengths), chunk.map((ex) => ex.text ?? ''), holdout) as { skipped: { index: number; reason: string }[] };
        for (const s of report.skipped) skipped.push({ name: chunk[s.index].name, reason: s.reason });
        progress(Math.min(total, skipped.length + this.engine.classCounts()[0]), total);
      }
    }
    return { skipped, truncated: 0 };
  }

  protected predictBatch(): Promise<Prediction[][]> {
    return Promise.reject(new Error('The speech task transcribes: use transcribe().'));
  }

  evaluate(_inputs: SentInput[], _labels: string[]): Promise<EngineEvaluation> {
    return Promise.reject(new Error('The speech task transcribes: use transcribe().'));
  }

  /** The transcript of `audio` (16 kHz mono), posting `transcribe-progress` per 30-s window. */
  async transcribe(audio: Float32Array, fineTuned: boolean): Promise<string> {
    return await this.engine.transcribe(audio, fineTuned, (done: number, total: number) => this.ctx.post({ type: 'transcribe-progress', done, total })) as string;
  }
}
