//! What the speech task takes in: clips with transcripts, the checks each clip passes, and what
//! adding them did.

use serde::Serialize;

use crate::data::mel::{SAMPLE_RATE, WINDOW_SAMPLES};

/// Below this peak level (−80 dBFS) a clip counts as silent.
pub(super) const SILENCE: f32 = 1e-4;

/// One training example: 16 kHz mono audio (at most 30 s) and what is said in it.
#[derive(Clone, Copy, Debug)]
pub struct Clip<'a> {
    pub audio: &'a [f32],
    pub text: &'a str,
}

/// A clip that was not added, and why.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SkippedClip {
    /// Its position in the call's clips.
    pub index: usize,
    pub reason: String,
}

/// What adding clips did.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SpeechAddReport {
    pub added: usize,
    pub skipped: Vec<SkippedClip>,
    /// Transcript tokens of the added clips.
    pub tokens: usize,
    pub seconds: f32,
}

/// Why `audio` cannot be a training clip, if it cannot.
pub fn check_audio(audio: &[f32]) -> Result<(), String> {
    if audio.is_empty() {
        return Err("it has no audio samples".into());
    }
    if audio.len() > WINDOW_SAMPLES {
        return Err(format!(
            "it is {:.1} s long; Whisper hears 30 s at a time: cut it, or give the recording with its subtitles",
            audio.len() as f32 / SAMPLE_RATE as f32
        ));
    }
    if audio.iter().any(|v| !v.is_finite()) {
        return Err("its samples are not numbers".into());
    }
    if audio.iter().all(|v| v.abs() < SILENCE) {
        return Err("it is silent".into());
    }
    Ok(())
}

/// Why `clips` clips (`holdout` of them validation-only) cannot train yet, if they cannot.
pub fn readiness(clips: usize, holdout: usize) -> Result<(), String> {
    match clips {
        0 => Err("Add recordings with their transcripts first.".into()),
        n if n < 4 => Err(format!("{n} clip(s) so far: add at least 4 (some are kept aside to measure the word error rate).")),
        n if holdout > 0 && holdout == n => Err("Every clip is marked for validation: add some to train on.".into()),
        _ => Ok(()),
    }
}
