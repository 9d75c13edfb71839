// Image decoding and resizing by the browser (createImageBitmap + OffscreenCanvas): the shorter
// side is scaled to 224 and the centre cropped, as the native CLI does with the `image` crate.
// Page elements (img, canvas, video, OffscreenCanvas) cannot be sent to the worker: they are
// drawn the same way on the page, at once (a video's current frame), into 224×224 pixels.

export const SIZE = 224;

/** What an image may be handed over as: an encoded file, decoded pixels, or a page element (a
 * video gives its current frame). */
export type ImageInput = Blob | ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement | HTMLVideoElement | OffscreenCanvas;
/** What the worker receives (structured-cloneable). */
export type SentImage = Blob | ImageBitmap | ImageData;

const has = (name: string) => typeof (globalThis as Record<string, unknown>)[name] === 'function';
const isA = (input: unknown, name: string) => has(name) && input instanceof ((globalThis as unknown as Record<string, new () => unknown>)[name]);

/** Draws the centre square of `source` (`width` × `height`) scaled to 224×224 and returns its RGBA pixels. */
function centreSquare(source: CanvasImageSource, width: number, height: number): ImageData {
  const side = Math.min(width, height);
  if (side === 0) throw new Error('empty image');
  const canvas = new OffscreenCanvas(SIZE, SIZE);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('2D canvas unavailable');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, SIZE, SIZE);
  return ctx.getImageData(0, 0, SIZE, SIZE);
}

/**
 * What the worker can take for `input`: Blobs, bitmaps and pixels as they are; a page element
 * drawn now into 224×224 pixels. Throws with a readable reason for anything else, an image that
 * has not loaded, a video without a frame yet, or a cross-origin image the page may not read.
 */
export function sendableImage(input: unknown): SentImage {
  if (isA(input, 'Blob') || isA(input, 'ImageBitmap') || isA(input, 'ImageData')) return input as SentImage;
  let size: [number, number];
  if (isA(input, 'HTMLImageElement')) {
    const img = input as HTMLImageElement;
    if (!img.complete || img.naturalWidth === 0) throw new TypeError('the <img> has not loaded (or is broken): wait for its load event');
    size = [img.naturalWidth, img.naturalHeight];
  } else if (isA(input, 'HTMLVideoElement')) {
    const video = input as HTMLVideoElement;
    if (video.readyState < 2) throw new TypeError('the <video> has no frame yet: wait for its loadeddata event');
    size = [video.videoWidth, video.videoHeight];
  } else if (isA(input, 'HTMLCanvasElement') || isA(input, 'OffscreenCanvas')) {
    const canvas = input as HTMLCanvasElement | OffscreenCanvas;
    size = [canvas.width, canvas.height];
  } else {
    throw new TypeError('not an image (a Blob/File, ImageBitmap, ImageData, <img>, <canvas>, <video> or OffscreenCanvas)');
  }
  try {
    return centreSquare(input as CanvasImageSource, ...size);
  } catch (err) {
    if ((err as DOMException).name === 'SecurityError') {
      throw new TypeError('a cross-origin image this page may not read: serve it with CORS (Access-Control-Allow-Origin) and set crossOrigin="anonymous" on the <img>');
    }
    throw err;
  }
}

/** 224×224 RGBA bytes of an image; throws with a readable reason when it is not an image. */
export async function decodeImage(input: SentImage): Promise<Uint8ClampedArray> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(input);
  } catch {
    throw new Error(input instanceof Blob && input.type && !input.type.startsWith('image/')
      ? `not an image (${input.type})`
      : 'not a readable image (corrupt or unsupported format)');
  }
  try {
    return centreSquare(bitmap, bitmap.width, bitmap.height).data;
  } finally {
    bitmap.close();
  }
}
