// The image task's jobs in the worker: the examples are images (files, bitmaps or pixels) decoded
// here in batches — createImageBitmap + OffscreenCanvas, see images.ts — and sent to the engine as
// 224×224 RGBA; undecodable ones are skipped and listed.

import { BATCH, type Filled, LabelledJobs } from './jobs';
import { decodeImage, SIZE, type SentImage } from './images';
import type { Example, Prediction, SentInput } from './protocol';

export class ImageJobs extends LabelledJobs {
  protected async fill(signal: AbortSignal, progress: (done: number, total: number) => void): Promise<Filled> {
    const skipped: Filled['skipped'] = [];
    // Training examples first, then fixed validation ones: each batch shares one `holdout` flag.
    const batches: Example[][] = [];
    for (const group of [this.examples.filter((ex) => !ex.holdout), this.examples.filter((ex) => ex.holdout)]) {
      for (let i = 0; i < group.length; i += BATCH) batches.push(group.slice(i, i + BATCH));
    }
    let done = 0;
    for (const batch of batches) {
      await this.ctx.gate.between();
      if (signal.aborted) break;
      const pixels: Uint8ClampedArray[] = [];
      const labels: number[] = [];
      for (const ex of batch) {
        try {
          pixels.push(await decodeImage(ex.input as SentImage));
          labels.push(this.classes.indexOf(ex.label));
        } catch (err) {
          skipped.push({ name: ex.name, reason: (err as Error).message });
        }
      }
      if (labels.length > 0) await this.engine.addImages(joined(pixels), new Uint32Array(labels), Boolean(batch[0].holdout));
      done += batch.length;
      progress(done, this.examples.length);
    }
    return { skipped, truncated: 0 };
  }

  protected async predictBatch(inputs: SentInput[], topK: number): Promise<Prediction[][]> {
    return this.engine.predictImages(await decodeAll(inputs), inputs.length, topK) as Promise<Prediction[][]>;
  }
}

/** The images one after the other. */
function joined(pixels: Uint8ClampedArray[]): Uint8Array {
  const out = new Uint8Array(pixels.length * SIZE * SIZE * 4);
  pixels.forEach((p, k) => out.set(p, k * SIZE * SIZE * 4));
  return out;
}

/** Decodes every input, or fails naming the one that could not be decoded. */
async function decodeAll(inputs: SentInput[]): Promise<Uint8Array> {
  const pixels: Uint8ClampedArray[] = [];
  for (const [k, input] of inputs.entries()) {
    try {
      pixels.push(await decodeImage(input as SentImage));
    } catch (err) {
      throw new Error(inputs.length > 1 ? `Image ${k + 1}: ${(err as Error).message}` : `This image is ${(err as Error).message}.`);
    }
  }
  return joined(pixels);
}
