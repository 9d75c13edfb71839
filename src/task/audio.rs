//! The audio task: sound classes on Whisper tiny.en's encoder (Teachable Machine's audio, with
//! files). Inputs are 16 kHz mono clips (up to 30 s: the encoder's window); each runs through the
//! frozen encoder on its own frames, and the cache keeps the encoder's output per frame (or, with
//! nothing unfrozen, its mean) in f16.

use burn::tensor::Device;

use super::{AddReport, Preparation, Task, read_f32};
use crate::data::TokenCache;
use crate::data::mel::{LogMel, SAMPLE_RATE, WINDOW_SAMPLES};
use crate::error::Error;
use crate::model::Unfreeze;
use crate::model::sequence::SequenceBatch;
use crate::model::whisper::{AudioClassifier, AudioClassifierConfig, AudioTrunk, ClipFrames, D, WhisperWeights, check_encoder_cut};
use crate::train::TrainOptions;

/// Clips per encoder call (an encoder pass holds ~60 MB of activations per clip).
const ENCODE_BATCH: usize = 4;

/// Clips of 16 kHz mono audio, one after the other in `audio`; clip `i` has `lengths[i]` samples.
#[derive(Clone, Copy, Debug)]
pub struct AudioClips<'a> {
    pub audio: &'a [f32],
    pub lengths: &'a [usize],
}

impl<'a> AudioClips<'a> {
    /// Each clip's samples, or why the clips cannot be used (naming the clip).
    pub fn split(&self) -> Result<Vec<&'a [f32]>, Error> {
        if self.lengths.iter().sum::<usize>() != self.audio.len() {
            return Err(Error::Data(format!("the clips' lengths add up to {} samples, not {}", self.lengths.iter().sum::<usize>(), self.audio.len())));
        }
        let mut at = 0;
        let mut clips = Vec::with_capacity(self.lengths.len());
        for (i, &len) in self.lengths.iter().enumerate() {
            let clip = &self.audio[at..at + len];
            at += len;
            if clip.is_empty() {
                return Err(Error::Data(format!("clip {} has no audio samples", i + 1)));
            }
            if clip.iter().any(|v| !v.is_finite()) {
                return Err(Error::Data(format!("clip {}: its samples are not numbers", i + 1)));
            }
            clips.push(clip);
        }
        Ok(clips)
    }
}

/// Whisper tiny.en's pretrained weights and its log-mel front end.
pub struct AudioTask {
    pub weights: WhisperWeights,
    pub mel: LogMel,
}

impl AudioTask {
    pub fn new(weights: WhisperWeights) -> Self {
        let mel = LogMel::new(&weights.mel_filters);
        Self { weights, mel }
    }
}

impl Task for AudioTask {
    const NAME: &'static str = "audio";
    const BASE_MODEL: &'static str = "whisper-tiny.en";
    const LAYERS: &'static str = "encoder layers";
    const NO_EXAMPLES: &'static str = "No examples yet: record a few clips for each class, or drop a folder with one subfolder per class.";
    type Inputs<'a> = AudioClips<'a>;
    /// Clips are sorted by length within a pass and run 4 at a time (`ENCODE_BATCH`).
    const PASS: usize = 256;
    type Trunk = AudioTrunk;
    type Top = AudioClassifier;
    type Cache = TokenCache;

    fn check(prep: &Preparation) -> Result<(), String> {
        check_encoder_cut(prep.unfreeze)
    }

    fn count(inputs: AudioClips<'_>) -> usize {
        inputs.lengths.len()
    }

    fn validate(inputs: AudioClips<'_>) -> Result<(), Error> {
        inputs.split().map(|_| ())
    }

    fn slice<'a>(inputs: Self::Inputs<'a>, range: std::ops::Range<usize>) -> Self::Inputs<'a> {
        if inputs.lengths.iter().sum::<usize>() != inputs.audio.len() {
            return inputs;
        }
        let start: usize = inputs.lengths[..range.start].iter().sum();
        let len: usize = inputs.lengths[range.clone()].iter().sum();
        AudioClips { audio: &inputs.audio[start..start + len], lengths: &inputs.lengths[range] }
    }

    fn hashes(inputs: AudioClips<'_>) -> Vec<u64> {
        inputs.split().map(|clips| clips.iter().map(|c| super::resume::samples_hash(c)).collect()).unwrap_or_default()
    }

    fn trunk(&self, prep: &Preparation, device: &Device) -> AudioTrunk {
        AudioClassifierConfig { classes: 0, unfreeze: prep.unfreeze, dropout: 0.0 }.trunk(&self.weights, device)
    }

    fn empty_cache(&self, _: &Preparation) -> TokenCache {
        TokenCache::new(D)
    }

    /// Clips over 30 s are cut to their first 30 s (counted as `truncated`); silence is a sound
    /// like any other (a "background" class).
    async fn encode(&self, trunk: &AudioTrunk, _: &Preparation, inputs: Self::Inputs<'_>, cache: &mut TokenCache, device: &Device) -> Result<AddReport, Error> {
        let clips = inputs.split()?;
        // Clips of similar length share a pass (little padding); the cache keeps input order.
        let mut order: Vec<usize> = (0..clips.len()).collect();
        order.sort_by_key(|&i| clips[i].len());
        let mut features = vec![Vec::new(); clips.len()];
        for chunk in order.chunks(ENCODE_BATCH) {
            let audio: Vec<&[f32]> = chunk.iter().map(|&i| clips[i]).collect();
            let ClipFrames { mel, pad, positions: real } = ClipFrames::new(&self.mel, &audio, device);
            let out = trunk.forward(mel, pad);
            let len = out.dims()[1];
            let values = read_f32(out).await?;
            for (b, (&i, &r)) in chunk.iter().zip(&real).enumerate() {
                let keep = if trunk.pool { 1 } else { r };
                features[i] = values[b * len * D..(b * len + keep) * D].to_vec();
            }
        }
        features.iter().for_each(|f| cache.push(f));
        Ok(AddReport { added: clips.len(), truncated: clips.iter().filter(|c| c.len() > WINDOW_SAMPLES).count(), tokens: 0 })
    }

    fn top(&self, classes: usize, prep: &Preparation, dropout: f64, device: &Device) -> AudioClassifier {
        AudioClassifierConfig { classes, unfreeze: prep.unfreeze, dropout }.init(&self.weights, device)
    }

    fn preprocessing(_: &Preparation) -> String {
        format!("{SAMPLE_RATE} Hz mono, the first 30 s, 80-bin log-mel (Whisper); encoder output mean-pooled over the clip's own frames")
    }

    /// The head alone on the pooled encoder output: each clip caches 384 numbers and an epoch
    /// takes milliseconds. Unfrozen encoder layers run over every frame of every clip each epoch.
    fn default_unfreeze() -> Unfreeze {
        Unfreeze::Head
    }

    /// A head on fixed features learns fast: a higher rate than the other tasks' (1e-3 reached
    /// 56 % on the benchmark's held-out clips in 20 epochs, 1e-2 75 %, 3e-2 69 %).
    fn train_defaults() -> TrainOptions {
        TrainOptions { epochs: 20, batch_size: 16, learning_rate: 1e-2, dropout: crate::model::whisper::DROPOUT, ..TrainOptions::default() }
    }
}

crate::trainable_top!(AudioClassifier, SequenceBatch);
