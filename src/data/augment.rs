//! Image augmentation that fits the feature cache: each image also gets a few randomly altered
//! *views* at preparation, the frozen trunk runs once on each, and every training epoch draws one
//! of them per image (`FeatureCache::train_batch`). Validation, prediction and export see only the
//! original.
//!
//! A view is torchvision's classic recipe, mild enough for small data: a random crop of 60–100 %
//! of the area at an aspect ratio of 3/4 to 4/3, resized back to 224×224 (bilinear); a horizontal
//! mirror with probability ½ unless flips are off (text, digits and arrows change meaning when
//! mirrored); brightness, saturation and contrast each scaled by a factor in 0.8–1.2. The inputs
//! are already 224×224 (the browser or the CLI resized them), so crop, resize and mirror are one
//! bilinear resampling pass written here rather than three passes through an image library.
//!
//! A view depends only on the image's bytes and its view number, so it is the same whatever batch
//! or call the image came in (resume compares content hashes; the cache is rebuilt identically).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::image::PixelLayout;
use crate::model::efficientnet::INPUT_SIZE;

/// The most augmented views per image (each costs a trunk pass and a cache row).
pub const MAX_VIEWS: usize = 8;

/// How one view alters its image, drawn from the view's seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewParams {
    /// The crop in source pixels: left, top, width, height.
    pub crop: [f32; 4],
    pub mirror: bool,
    pub brightness: f32,
    pub saturation: f32,
    pub contrast: f32,
}

impl ViewParams {
    /// The view drawn from `seed` (flips only when `flip`).
    pub fn draw(seed: u64, flip: bool) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let side = INPUT_SIZE as f32;
        let area = rng.random_range(0.6f32..=1.0) * side * side;
        let aspect = rng.random_range((0.75f32).ln()..=(4.0f32 / 3.0).ln()).exp();
        let w = (area * aspect).sqrt().min(side);
        let h = (area / aspect).sqrt().min(side);
        let left = rng.random_range(0.0..=side - w);
        let top = rng.random_range(0.0..=side - h);
        let mirror = rng.random_bool(0.5) && flip;
        let mut factor = || rng.random_range(0.8f32..=1.2);
        Self { crop: [left, top, w, h], mirror, brightness: factor(), saturation: factor(), contrast: factor() }
    }

    /// The identity: the original image.
    pub fn identity() -> Self {
        let side = INPUT_SIZE as f32;
        Self { crop: [0.0, 0.0, side, side], mirror: false, brightness: 1.0, saturation: 1.0, contrast: 1.0 }
    }
}

/// The seed of view `view` (1, 2, …) of the image whose content hash is `image_hash`.
pub fn view_seed(image_hash: u64, view: usize) -> u64 {
    splitmix64(image_hash ^ (view as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// SplitMix64's finaliser: a well-spread 64-bit hash of `x`.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Writes the view `params` of one 224×224 `image` (interleaved `layout`) into `out` as the
/// network's input: `[3, 224, 224]`, `(x − 127) / 128`, as [`super::preprocess`] does.
pub fn write_view(image: &[u8], layout: PixelLayout, params: &ViewParams, out: &mut [f32]) {
    let (s, step) = (INPUT_SIZE, layout as usize);
    let plane = s * s;
    assert_eq!((image.len(), out.len()), (plane * step, 3 * plane), "a 224x224 image and its [3, 224, 224] input");
    let [left, top, w, h] = params.crop;
    let (sx, sy) = (w / s as f32, h / s as f32);
    let at = |x: usize, y: usize, c: usize| image[(y * s + x) * step + c] as f32;
    let mut grey_sum = 0.0f64;
    for oy in 0..s {
        let fy = (top + (oy as f32 + 0.5) * sy - 0.5).clamp(0.0, (s - 1) as f32);
        let (y0, ty) = (fy as usize, fy.fract());
        let y1 = (y0 + 1).min(s - 1);
        for ox in 0..s {
            let col = if params.mirror { s - 1 - ox } else { ox };
            let fx = (left + (col as f32 + 0.5) * sx - 0.5).clamp(0.0, (s - 1) as f32);
            let (x0, tx) = (fx as usize, fx.fract());
            let x1 = (x0 + 1).min(s - 1);
            let mut rgb = [0.0f32; 3];
            for (c, v) in rgb.iter_mut().enumerate() {
                let top_row = at(x0, y0, c) * (1.0 - tx) + at(x1, y0, c) * tx;
                let bottom_row = at(x0, y1, c) * (1.0 - tx) + at(x1, y1, c) * tx;
                *v = (top_row * (1.0 - ty) + bottom_row * ty) * params.brightness;
            }
            let grey = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
            let p = oy * s + ox;
            for (c, v) in rgb.iter().enumerate() {
                out[c * plane + p] = (grey + params.saturation * (v - grey)).clamp(0.0, 255.0);
            }
            grey_sum += grey as f64;
        }
    }
    // Contrast about the view's mean grey level, then the network's scaling.
    let mean = (grey_sum / plane as f64) as f32;
    for v in out.iter_mut() {
        *v = ((mean + params.contrast * (*v - mean)).clamp(0.0, 255.0) - 127.0) / 128.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::preprocess;

    fn gradient_image() -> Vec<u8> {
        let s = INPUT_SIZE;
        (0..s * s).flat_map(|p| [(p % s) as u8, (p / s) as u8, 100]).collect()
    }

    #[test]
    fn the_identity_view_is_the_plain_input() {
        let image = gradient_image();
        let mut out = vec![0.0; 3 * INPUT_SIZE * INPUT_SIZE];
        write_view(&image, PixelLayout::Rgb, &ViewParams::identity(), &mut out);
        let plain = preprocess(&image, PixelLayout::Rgb, 1).unwrap();
        let worst = out.iter().zip(&plain).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "identity view differs by {worst}");
    }

    #[test]
    fn a_mirrored_view_reverses_each_row() {
        let image = gradient_image();
        let s = INPUT_SIZE;
        let mut out = vec![0.0; 3 * s * s];
        write_view(&image, PixelLayout::Rgb, &ViewParams { mirror: true, ..ViewParams::identity() }, &mut out);
        // Red is the column: the first output column holds the last source column.
        assert_eq!(out[0], (223.0 - 127.0) / 128.0);
        assert_eq!(out[s - 1], (0.0 - 127.0) / 128.0);
        // Green (the row) is untouched.
        assert_eq!(out[s * s + 5 * s + 9], (5.0 - 127.0) / 128.0);
    }

    #[test]
    fn views_are_seeded_varied_and_within_bounds() {
        let views: Vec<ViewParams> = (1..=200).map(|v| ViewParams::draw(view_seed(42, v), true)).collect();
        assert_eq!(views[0], ViewParams::draw(view_seed(42, 1), true), "same seed, same view");
        assert_ne!(views[0], views[1]);
        let side = INPUT_SIZE as f32;
        for v in &views {
            let [l, t, w, h] = v.crop;
            assert!(l >= 0.0 && t >= 0.0 && l + w <= side + 1e-3 && t + h <= side + 1e-3, "{v:?}");
            assert!(w * h >= 0.6 * side * side * 0.99 || w == side || h == side, "{v:?}");
            assert!([v.brightness, v.saturation, v.contrast].iter().all(|f| (0.8..=1.2).contains(f)));
        }
        let mirrored = views.iter().filter(|v| v.mirror).count();
        assert!((60..=140).contains(&mirrored), "{mirrored} of 200 mirrored");
        assert!((1..=200).all(|v| !ViewParams::draw(view_seed(42, v), false).mirror), "flips off: never mirrored");
    }
}
