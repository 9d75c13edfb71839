//! Image preprocessing: pixels the browser (or the `image` crate) already decoded and resized to
//! 224×224 become the network's input, `(x − 127) / 128`, channels first.

use crate::model::efficientnet::INPUT_SIZE;

/// Bytes per pixel of the accepted layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelLayout {
    Rgb = 3,
    Rgba = 4,
}

/// Converts `count` interleaved 224×224 images into `[count, 3, 224, 224]` floats.
///
/// Returns an error when the byte count does not match.
pub fn preprocess(pixels: &[u8], layout: PixelLayout, count: usize) -> Result<Vec<f32>, String> {
    let plane = INPUT_SIZE * INPUT_SIZE;
    let step = layout as usize;
    if pixels.len() != count * plane * step {
        return Err(format!(
            "expected {count} images of {INPUT_SIZE}x{INPUT_SIZE} {layout:?} ({} bytes), got {} bytes",
            count * plane * step,
            pixels.len()
        ));
    }
    let mut out = vec![0.0f32; count * 3 * plane];
    for (n, image) in pixels.chunks_exact(plane * step).enumerate() {
        let dst = &mut out[n * 3 * plane..(n + 1) * 3 * plane];
        for (p, px) in image.chunks_exact(step).enumerate() {
            for c in 0..3 {
                dst[c * plane + p] = (px[c] as f32 - 127.0) / 128.0;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_moves_channels_first() {
        let plane = INPUT_SIZE * INPUT_SIZE;
        let mut rgba = vec![0u8; plane * 4];
        rgba[0..4].copy_from_slice(&[255, 127, 0, 9]);
        let x = preprocess(&rgba, PixelLayout::Rgba, 1).unwrap();
        assert_eq!((x[0], x[plane], x[2 * plane]), (1.0, 0.0, -127.0 / 128.0));
        assert!(preprocess(&rgba, PixelLayout::Rgb, 1).is_err());
    }
}
