//! Whisper's log-mel front end, as openai-whisper's `log_mel_spectrogram` computes it for one
//! 30-s window: 16 kHz mono padded or cut to 480 000 samples, centred frames of 400 samples
//! (reflect padding at both ends) every 160 under a periodic Hann window, |FFT|² (the last frame
//! dropped: 3 000 frames), 80 mel filters (the model's own filterbank), log10 clamped at 1e-10,
//! floored at the window's maximum − 8, then `(x + 4) / 4`.
//!
//! The FFT is `realfft`'s, in f64 (the floor reaches 10⁻⁸ of the peak power, below f32's
//! resolution of a frame's spectrum). Frames past the end of a short clip are silent: their
//! spectrum is not computed.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Samples per second Whisper listens at.
pub const SAMPLE_RATE: u32 = 16_000;
pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
/// Frequency bins of one frame's spectrum (the filterbank's width).
pub const FILTER_BINS: usize = N_FFT / 2 + 1;
/// Samples in one 30-s window.
pub const WINDOW_SAMPLES: usize = 480_000;
/// Mel frames of one window.
pub const FRAMES: usize = WINDOW_SAMPLES / HOP;

/// The log-mel transform with its filterbank and FFT plan.
pub struct LogMel {
    /// Per mel band: the first non-zero bin and the weights from there.
    bands: Vec<(usize, Vec<f64>)>,
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl LogMel {
    /// `filters`: `[mels, FILTER_BINS]`, row-major (openai-whisper's `mel_filters.npz`).
    pub fn new(filters: &[f32]) -> Self {
        assert_eq!(filters.len() % FILTER_BINS, 0, "a mel filterbank is [mels, {FILTER_BINS}]");
        let bands = filters
            .chunks_exact(FILTER_BINS)
            .map(|row| {
                let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
                let last = row.iter().rposition(|&w| w != 0.0).map_or(first, |i| i + 1);
                (first, row[first..last].iter().map(|&w| w as f64).collect())
            })
            .collect();
        let window = (0..N_FFT).map(|n| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64).cos()).collect();
        Self { bands, window, fft: RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT) }
    }

    pub fn mels(&self) -> usize {
        self.bands.len()
    }

    /// The log-mel spectrogram of the first 30 s of `audio` (16 kHz mono, in [−1, 1]).
    ///
    /// # Shapes
    /// - output: `[mels, FRAMES]`, row-major
    pub fn compute(&self, audio: &[f32]) -> Vec<f32> {
        let len = audio.len().min(WINDOW_SAMPLES);
        let pad = N_FFT / 2;
        // Sample `i` of the reflect-padded window (`i` counts from the padding's start).
        let sample = |i: usize| -> f64 {
            let j = if i < pad {
                pad - i
            } else if i - pad >= WINDOW_SAMPLES {
                2 * (WINDOW_SAMPLES - 1) - (i - pad)
            } else {
                i - pad
            };
            if j < len { audio[j] as f64 } else { 0.0 }
        };
        let mut log = vec![(1e-10f64).log10(); self.mels() * FRAMES];
        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut power = vec![0.0f64; FILTER_BINS];
        // Frames whose samples (or their reflection at the start) reach the clip.
        let audible = ((len + pad).div_ceil(HOP) + 1).min(FRAMES);
        for t in 0..audible {
            for (n, x) in frame.iter_mut().enumerate() {
                *x = sample(t * HOP + n) * self.window[n];
            }
            self.fft.process(&mut frame, &mut spectrum).expect("buffers from the plan");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            for (m, (first, weights)) in self.bands.iter().enumerate() {
                let energy: f64 = weights.iter().zip(&power[*first..]).map(|(w, p)| w * p).sum();
                log[m * FRAMES + t] = energy.max(1e-10).log10();
            }
        }
        let floor = log.iter().copied().fold(f64::NEG_INFINITY, f64::max) - 8.0;
        log.into_iter().map(|v| ((v.max(floor) + 4.0) / 4.0) as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A filterbank with one band per bin range, to check the framing by hand.
    fn identity_bands() -> Vec<f32> {
        let mut f = vec![0.0; 2 * FILTER_BINS];
        f[10] = 1.0; // band 0: bin 10 (400 Hz)
        f[FILTER_BINS + 50] = 1.0; // band 1: bin 50 (2 kHz)
        f
    }

    #[test]
    fn a_tone_lights_its_band_where_it_plays() {
        let mel = LogMel::new(&identity_bands());
        // 1 s of 400 Hz, then silence.
        let tone: Vec<f32> = (0..16_000).map(|i| (2.0 * std::f32::consts::PI * 400.0 * i as f32 / 16_000.0).sin() * 0.5).collect();
        let out = mel.compute(&tone);
        assert_eq!(out.len(), 2 * FRAMES);
        let (band0, band1) = out.split_at(FRAMES);
        let max = band0.iter().copied().fold(f32::MIN, f32::max);
        assert!((band0[50] - max).abs() < 0.1, "the tone's band peaks while it plays: {} vs {max}", band0[50]);
        assert!(band1[50] < band0[50] - 1.0, "another band stays low: {} vs {}", band1[50], band0[50]);
        let floor = max - 2.0; // (max − 8) / 4 in the output's units
        assert!((band0[500] - floor).abs() < 1e-5, "silence sits on the floor: {} vs {floor}", band0[500]);
    }

    #[test]
    fn longer_audio_is_cut_to_thirty_seconds() {
        let mel = LogMel::new(&identity_bands());
        let noise: Vec<f32> = (0..WINDOW_SAMPLES + 16_000).map(|i| ((i * 7919 % 1000) as f32 / 1000.0) - 0.5).collect();
        assert_eq!(mel.compute(&noise), mel.compute(&noise[..WINDOW_SAMPLES]));
    }
}
