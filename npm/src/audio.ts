// Audio for the speech task, on the caller's thread (Web Audio is not available in workers):
// a file or bytes decoded by the browser (`decodeAudioData`: WAV, MP3, Ogg, FLAC, M4A as the browser
// supports), mixed to mono and resampled to Whisper's 16 kHz by an `OfflineAudioContext`.

/** Samples per second Whisper listens at. */
export const SAMPLE_RATE = 16_000;

/** What the speech task takes as audio: a file or its bytes, an `AudioBuffer` (e.g. from a
 * recording), or 16 kHz mono samples. */
export type AudioInput = Blob | ArrayBuffer | Uint8Array | AudioBuffer | Float32Array;

interface AudioContextLike { decodeAudioData(data: ArrayBuffer): Promise<AudioBuffer> }

/** 16 kHz mono samples of `input`, or an Error saying why it is not audio. */
export async function decodeAudio(input: AudioInput): Promise<Float32Array> {
  if (input instanceof Float32Array) return input;
  const buffer = typeof AudioBuffer !== 'undefined' && input instanceof AudioBuffer ? input : await decodeBytes(input as Blob | ArrayBuffer | Uint8Array);
  if (buffer.length === 0) throw new Error('it has no audio samples');
  if (buffer.sampleRate === SAMPLE_RATE && buffer.numberOfChannels === 1) return buffer.getChannelData(0).slice();
  const frames = Math.max(1, Math.round(buffer.duration * SAMPLE_RATE));
  const offline = new OfflineAudioContext(1, frames, SAMPLE_RATE);
  const source = offline.createBufferSource();
  source.buffer = buffer;
  source.connect(offline.destination); // channels are mixed down to the destination's one
  source.start();
  return (await offline.startRendering()).getChannelData(0);
}

async function decodeBytes(input: Blob | ArrayBuffer | Uint8Array): Promise<AudioBuffer> {
  const bytes = input instanceof Blob ? await input.arrayBuffer() : input instanceof Uint8Array ? input.slice().buffer : input.slice(0);
  if (bytes.byteLength === 0) throw new Error('the file is empty');
  // Decoding needs a context; a 1-frame offline one is cheap and works without user gesture.
  const context: AudioContextLike = new OfflineAudioContext(1, 1, SAMPLE_RATE);
  try {
    return await context.decodeAudioData(bytes);
  } catch {
    throw new Error('not audio this browser can decode (WAV, MP3, Ogg, FLAC, M4A)');
  }
}
