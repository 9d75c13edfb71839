//! The encoder's input for a batch of clips on their own frames, not on a 30-s window padded
//! with silence: each clip's log-mel frames, zeros past them (as the convolutions pad a clip
//! alone), and the mask of the positions past each clip's end, so that no clip's encoding
//! depends on the clips it shares a pass with. Audio classes and transcription both encode this
//! way; the pretrained transcriber's own way (the whole window) is [`window`].

use burn::tensor::{Bool, Device, Tensor, TensorData};

use super::{AUDIO_POSITIONS, FRAMES, MELS};
use crate::data::mel::{HOP, LogMel, WINDOW_SAMPLES};

/// Encoder positions that hold a clip of `samples` (16 kHz) rather than the window's padding:
/// one per two mel frames, at least one.
pub fn real_positions(samples: usize) -> usize {
    samples.min(WINDOW_SAMPLES).div_ceil(2 * HOP).clamp(1, AUDIO_POSITIONS)
}

/// A batch of clips' own frames, padded to the longest.
#[derive(Clone, Debug)]
pub struct ClipFrames {
    /// `[clips, mels, 2 · longest]`
    pub mel: Tensor<3>,
    /// `[clips, longest]`, `true` at the positions past each clip's end.
    pub pad: Tensor<2, Bool>,
    /// Each clip's own positions.
    pub positions: Vec<usize>,
}

impl ClipFrames {
    /// The first 30 s of each clip (16 kHz mono).
    pub fn new(mel: &LogMel, clips: &[&[f32]], device: &Device) -> Self {
        let positions: Vec<usize> = clips.iter().map(|c| real_positions(c.len())).collect();
        let longest = positions.iter().copied().max().unwrap_or(1);
        let frames = (2 * longest).min(FRAMES);
        let mut mels = Vec::with_capacity(clips.len() * MELS * frames);
        for (clip, &p) in clips.iter().zip(&positions) {
            let own = (2 * p).min(frames);
            for band in mel.compute(clip).chunks_exact(FRAMES) {
                mels.extend_from_slice(&band[..own]);
                mels.resize(mels.len() + frames - own, 0.0);
            }
        }
        let pad: Vec<bool> = positions.iter().flat_map(|&p| (0..longest).map(move |i| i >= p)).collect();
        Self {
            mel: Tensor::from_data(TensorData::new(mels, [clips.len(), MELS, frames]), device),
            pad: Tensor::from_data(TensorData::new(pad, [clips.len(), longest]), device),
            positions,
        }
    }
}

/// Whisper's own input: the log-mel of each clip's whole 30-s window.
///
/// # Shapes
/// - output: `[clips, mels, 3 000]`
pub fn window(mel: &LogMel, clips: &[&[f32]], device: &Device) -> Tensor<3> {
    let mels: Vec<f32> = clips.iter().flat_map(|a| mel.compute(a)).collect();
    Tensor::from_data(TensorData::new(mels, [clips.len(), MELS, FRAMES]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clip_fills_one_position_per_320_samples() {
        assert_eq!(real_positions(0), 1);
        assert_eq!(real_positions(320), 1);
        assert_eq!(real_positions(321), 2);
        assert_eq!(real_positions(16_000), 50);
        assert_eq!(real_positions(10 * WINDOW_SAMPLES), 1500);
    }
}
