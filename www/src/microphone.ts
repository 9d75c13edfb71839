// Short recordings from the microphone (MediaRecorder): the audio mode records a few seconds per
// click, into a class or to classify.

/** Records `ms` milliseconds from the microphone; the Blob is what the browser encodes (WebM/Opus
 * in Chromium), which the package decodes like any file. */
export async function recordClip(ms: number): Promise<Blob> {
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    throw new Error(`The microphone is not available: ${(err as Error).message}`);
  }
  return new Promise((resolve, reject) => {
    const chunks: Blob[] = [];
    const recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (e) => { if (e.data.size > 0) chunks.push(e.data); };
    recorder.onerror = () => { stream.getTracks().forEach((t) => t.stop()); reject(new Error('The recording failed.')); };
    recorder.onstop = () => {
      stream.getTracks().forEach((t) => t.stop());
      resolve(new Blob(chunks, { type: recorder.mimeType }));
    };
    recorder.start();
    setTimeout(() => recorder.stop(), ms);
  });
}
