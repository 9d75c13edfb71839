// The webcam: a live preview, frames grabbed as 224×224 JPEG files (centre square, as the engine
// crops), for recording examples into a class or classifying what the camera sees. Frames stay in
// the page; nothing is uploaded.

const SIDE = 224;

export class Webcam {
  private stream: MediaStream | null = null;

  constructor(private readonly video: HTMLVideoElement) {}

  get on(): boolean {
    return this.stream !== null;
  }

  /** Asks for the camera; throws an Error with a message for the user when it cannot start. */
  async start(): Promise<void> {
    if (this.stream) return;
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new Error('This browser gives no camera access here (it needs https or localhost).');
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 320 }, height: { ideal: 240 } }, audio: false });
    } catch (err) {
      const name = (err as DOMException).name;
      throw new Error(name === 'NotAllowedError' ? 'Camera access was denied: allow it in the browser\'s site settings to record examples.'
        : name === 'NotFoundError' ? 'No camera was found.'
        : name === 'NotReadableError' ? 'The camera is in use by another application.'
        : `The camera could not start (${(err as Error).message}).`);
    }
    this.video.srcObject = this.stream;
    await this.video.play();
  }

  stop() {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.video.srcObject = null;
  }

  /** The current frame's centre square at 224×224, as a JPEG file. */
  async frame(): Promise<Blob> {
    const { videoWidth: w, videoHeight: h } = this.video;
    if (!this.stream || w === 0) throw new Error('The camera is not on.');
    const canvas = document.createElement('canvas');
    canvas.width = SIDE;
    canvas.height = SIDE;
    const side = Math.min(w, h);
    canvas.getContext('2d')!.drawImage(this.video, (w - side) / 2, (h - side) / 2, side, side, 0, 0, SIDE, SIDE);
    return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('The frame could not be encoded.'))), 'image/jpeg', 0.92));
  }

  /** `count` frames, `intervalMs` apart (move the object between them for variety). */
  async frames(count: number, intervalMs: number, onFrame: (done: number) => void): Promise<Blob[]> {
    const out: Blob[] = [];
    for (let i = 0; i < count; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, intervalMs));
      out.push(await this.frame());
      onFrame(i + 1);
    }
    return out;
  }
}
