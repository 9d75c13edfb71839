// Image decoding and resizing by the browser (createImageBitmap + OffscreenCanvas): the shorter
// side is scaled to 224 and the centre cropped, as the native CLI does with the `image` crate.

export const SIZE = 224;

/** What an image may be handed over as: an encoded file, or pixels already decoded. */
export type ImageInput = Blob | ImageBitmap | ImageData;

/** 224×224 RGBA bytes of an image; throws with a readable reason when it is not an image. */
export async function decodeImage(input: ImageInput): Promise<Uint8ClampedArray> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(input);
  } catch {
    throw new Error(input instanceof Blob && input.type && !input.type.startsWith('image/')
      ? `not an image (${input.type})`
      : 'not a readable image (corrupt or unsupported format)');
  }
  try {
    const side = Math.min(bitmap.width, bitmap.height);
    if (side === 0) throw new Error('empty image');
    const canvas = new OffscreenCanvas(SIZE, SIZE);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('2D canvas unavailable');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, SIZE, SIZE);
    return ctx.getImageData(0, 0, SIZE, SIZE).data;
  } finally {
    bitmap.close();
  }
}
