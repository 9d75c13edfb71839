// The audio task's jobs in the worker: sound clips (16 kHz mono, decoded by the package on the
// caller's thread: workers have no Web Audio) with their class names reach the engine a few at a
// time; clips the package could not decode arrive with the reason and are skipped and listed.

import { type Filled, LabelledJobs } from './jobs';
import type { Example, Prediction, SentAudio, SentInput } from './protocol';

/** Clips per engine call while preparing (progress and cancel are checked between calls). */
const CHUNK = 16;

export class AudioJobs extends LabelledJobs {
  protected usable(ex: Example): boolean {
    return !(ex.input as SentAudio).error;
  }

  protected async fill(signal: AbortSignal, progress: (done: number, total: number) => void): Promise<Filled> {
    const skipped: Filled['skipped'] = [];
    let done = 0;
    let truncated = 0;
    for (const holdout of [false, true]) {
      const part = this.examples.filter((ex) => Boolean(ex.holdout) === holdout);
      for (let i = 0; i < part.length; i += CHUNK) {
        await this.ctx.gate.between();
        if (signal.aborted) return { skipped, truncated };
        const chunk = part.slice(i, i + CHUNK);
        const good = chunk.filter((ex) => {
          const why = (ex.input as SentAudio).error;
          if (why) skipped.push({ name: ex.name, reason: why });
          return !why;
        });
        if (good.length > 0) {
          const { audio, lengths } = joined(good.map((ex) => ex.input as SentAudio));
          const labels = new Uint32Array(good.map((ex) => this.classes.indexOf(ex.label)));
          truncated += (await this.engine.addAudio(audio, lengths, labels, holdout) as { truncated: number }).truncated;
        }
        done += chunk.length;
        progress(done, this.examples.length);
      }
    }
    return { skipped, truncated };
  }

  protected async predictBatch(inputs: SentInput[], topK: number): Promise<Prediction[][]> {
    const { audio, lengths } = joined(checked(inputs));
    return this.engine.predictAudio(audio, lengths, topK) as Promise<Prediction[][]>;
  }
}

/** The clips one after the other, with their lengths. */
function joined(clips: SentAudio[]): { audio: Float32Array; lengths: Uint32Array } {
  const lengths = new Uint32Array(clips.map((c) => c.samples.length));
  const audio = new Float32Array(lengths.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const c of clips) { audio.set(c.samples, at); at += c.samples.length; }
  return { audio, lengths };
}

/** The inputs' audio, or an error naming the first that could not be decoded. */
function checked(inputs: SentInput[]): SentAudio[] {
  return inputs.map((input, k) => {
    const clip = input as SentAudio;
    if (clip.error) throw new Error(inputs.length > 1 ? `Clip ${k + 1}: ${clip.error}` : `This clip is ${clip.error}.`);
    return clip;
  });
}
