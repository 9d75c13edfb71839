// What an example's or an input's value becomes before it goes to the worker: checked (a
// TypeError naming the example for anything the task cannot take), page elements drawn into
// pixels now (images.ts), audio decoded to 16 kHz mono on this thread (workers have no Web Audio;
// once per object). Text and encoded images go as they are.

import { type AudioInput, decodeAudio } from './audio';
import { sendableImage } from './images';
import type { ClassifierTask, SentAudio, SentInput } from './protocol';
import type { AudioExample, ExampleOf, ImageExample, InputOf, TextExample } from './types';

export class ExampleInputs<T extends ClassifierTask> {
  constructor(private readonly task: T) {}

  input(ex: ExampleOf<T>): SentInput {
    if ('audio' in ex) return (ex as AudioExample).audio as unknown as SentInput; // decoded before sending
    return ('image' in ex ? (ex as ImageExample).image : (ex as TextExample).text) as SentInput;
  }

  /** Audio: `input` decoded to 16 kHz mono on this thread (workers have no Web Audio), once per
   * input object; an undecodable one carries the reason. */
  async decoded(input: AudioInput): Promise<SentAudio> {
    const known = this.decodedAudio.get(input);
    if (known) return known;
    let sent: SentAudio;
    try {
      sent = { samples: await decodeAudio(input) };
    } catch (err) {
      sent = { samples: new Float32Array(0), error: (err as Error).message };
    }
    this.decodedAudio.set(input, sent);
    return sent;
  }
  private readonly decodedAudio = new WeakMap<object, SentAudio>();

  /** The inputs as the worker takes them (audio: decoded; others as they are). */
  async decodedAll(inputs: SentInput[]): Promise<SentInput[]> {
    if (this.task !== 'audio') return inputs;
    const out: SentInput[] = [];
    for (const input of inputs) out.push(await this.decoded(input as unknown as AudioInput));
    return out;
  }

  /** `ex` checked, with a page element as image drawn now into pixels the worker can take. */
  checked(ex: ExampleOf<T>, i: number): ExampleOf<T> {
    const where = `example ${i + 1}`;
    if (typeof ex !== 'object' || ex === null) throw new TypeError(`${where} is not an object`);
    if (typeof ex.label !== 'string' || ex.label.trim() === '') throw new TypeError(`${where} has no label (a non-empty string)`);
    if (this.task === 'text') {
      if (typeof (ex as TextExample).text !== 'string') throw new TypeError(`${where} has no text (a string)`);
      return ex;
    }
    if (this.task === 'audio') {
      checkAudio((ex as AudioExample).audio, `${where}'s audio`);
      return ex;
    }
    return { ...ex, image: this.sendable((ex as ImageExample).image as InputOf<T>, where) } as ExampleOf<T>;
  }

  /** An input the worker can take (images: see `sendableImage`), or a TypeError naming `where`. */
  sendable(input: InputOf<T>, where: string): SentInput {
    if (this.task === 'text') {
      if (typeof input !== 'string') throw new TypeError(`${where} is not a string`);
      return input;
    }
    if (this.task === 'audio') {
      checkAudio(input as AudioInput, where);
      return input as unknown as SentInput; // decoded before sending
    }
    try {
      return sendableImage(input as never);
    } catch (err) {
      throw new TypeError(`${where}: ${(err as Error).message}`);
    }
  }
}

/** A name for an example in messages: its file's name, its own `name`, or its position. */
export function exampleName(ex: object, i: number): string {
  if ('image' in ex && ex.image instanceof File) return ex.image.name;
  if ('audio' in ex) {
    const { audio, name } = ex as AudioExample;
    return name ?? (audio instanceof File ? audio.name : `clip ${i + 1}`);
  }
  return `example ${i + 1}`;
}

/** Throws a TypeError naming `where` unless `audio` is something `decodeAudio` takes. */
function checkAudio(audio: unknown, where: string) {
  const ok = audio instanceof Blob || audio instanceof ArrayBuffer || audio instanceof Uint8Array || audio instanceof Float32Array
    || (typeof AudioBuffer !== 'undefined' && audio instanceof AudioBuffer);
  if (!ok) throw new TypeError(`${where} is not audio: give a File/Blob, an ArrayBuffer or Uint8Array of a file, an AudioBuffer, or 16 kHz mono samples (Float32Array)`);
}
