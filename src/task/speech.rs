//! The speech task: adapting Whisper tiny.en's transcripts to the user's recordings. Not a
//! classifier, so not a [`super::Task`]: its examples are (clip, transcript) pairs, its top is
//! decoder layers trained by teacher forcing ([`crate::train::fine_tune_transcriber`]), and its
//! output is text. The rest follows the other tasks: a frozen trunk run once per clip (the encoder
//! and the decoder layers below the cut), cached; validation-only examples or a seeded split;
//! export of the trained layers only.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::model_file::{FORMAT, ModelInfo, check_base_model, export_model, load_params, read_info};
use super::{Preparation, read_f32};
use crate::data::mel::{LogMel, SAMPLE_RATE, WINDOW_SAMPLES};
use crate::data::{SpeechCache, Split, TranscriptTokenizer, stratified_split};
use crate::error::Error;
use crate::model::Unfreeze;
use crate::model::whisper::frames::window;
use crate::model::whisper::{
    AUDIO_POSITIONS, AudioEncoder, ClipFrames, D, DECODER_LAYERS, DecoderLayer, EncodedAudio, GreedyDecoder, MAX_TRANSCRIPT_TOKENS, Suppression, TokenEmbedding, normalize,
    WhisperTop, WhisperTopConfig, WhisperWeights, check_unfreeze, tokens,
};
use crate::train::{SpeechReport, TrainHooks, TrainOptions, TranscriptionData, fine_tune_transcriber};

mod baseline;
mod clips;

pub use clips::{Clip, SkippedClip, SpeechAddReport, check_audio, readiness};
use baseline::ZeroShot;
use clips::SILENCE;

pub const NAME: &str = "speech";
pub const BASE_MODEL: &str = "whisper-tiny.en";
/// Clips encoded per encoder call (an encoder pass holds ~60 MB of activations per clip).
const ENCODE_BATCH: usize = 4;

/// Whisper tiny.en with its tokenizer, suppressed tokens and mel filterbank.
pub struct SpeechTask {
    pub weights: WhisperWeights,
    pub tokenizer: TranscriptTokenizer,
    pub suppression: Suppression,
    pub mel: LogMel,
}

impl SpeechTask {
    pub fn new(weights: WhisperWeights, tokenizer: TranscriptTokenizer, suppression: Suppression) -> Self {
        let mel = LogMel::new(&weights.mel_filters);
        Self { weights, tokenizer, suppression, mel }
    }
}

/// The fine-tuned layers, with the cut they were trained at and how they hear audio.
struct Trained {
    top: WhisperTop,
    /// The best epoch's weights before the mix with the pretrained ones (`None`: imported).
    unmixed: Option<WhisperTop>,
    layers: usize,
    /// Trained on the clips' own frames; `false`: the pretrained layers kept (no epoch beat them),
    /// which hear 30-s windows.
    own_frames: bool,
}

pub struct SpeechFineTuner {
    task: SpeechTask,
    device: Device,
    /// Decoder layers that train (the cut).
    layers: usize,
    encoder: AudioEncoder,
    embedding: TokenEmbedding,
    /// The frozen decoder layers below the cut.
    lower: Vec<DecoderLayer>,
    /// The pretrained decoder layers above the cut and final norm (zero-shot transcripts).
    pretrained: (Vec<DecoderLayer>, burn::nn::LayerNorm),
    cache: SpeechCache,
    references: Vec<String>,
    holdout: Vec<bool>,
    /// Whether the cache holds the encoder on each clip's own frames (see [`Self::hear_own_frames`]).
    own_frames: bool,
    /// With own frames: each clip's audio (16-bit), for the pretrained transcriber's 30-s windows.
    recordings: Vec<Vec<i16>>,
    /// Each clip's zero-shot transcript, once computed.
    zero_shot: Vec<Option<ZeroShot>>,
    trained: Option<Trained>,
}

/// The decoder layers a preparation trains (`unfreeze`: 1 to 4; "head" has nothing to train here).
fn layers_of(prep: &Preparation) -> Result<usize, String> {
    check_unfreeze(prep.unfreeze)?;
    match prep.unfreeze {
        Unfreeze::Head => Err(format!("transcription trains decoder layers: unfreeze 1 to {DECODER_LAYERS} of them (2 is the default)")),
        Unfreeze::Blocks(k) => Ok(k),
    }
}

impl SpeechFineTuner {
    /// `device` is a plain (non-autodiff) device; training uses its autodiff twin. Trains the top
    /// 2 decoder layers until [`Self::reset`] says otherwise.
    pub fn new(task: SpeechTask, device: Device) -> Self {
        let layers = 2;
        Self {
            encoder: task.weights.encoder(&device),
            embedding: task.weights.embedding(&device),
            lower: task.weights.decoder_layers(0..DECODER_LAYERS - layers, 0.0, &device),
            pretrained: (task.weights.decoder_layers(DECODER_LAYERS - layers..DECODER_LAYERS, 0.0, &device), task.weights.decoder_norm(&device)),
            task,
            device,
            layers,
            cache: SpeechCache::default(),
            references: Vec::new(),
            holdout: Vec::new(),
            own_frames: false,
            recordings: Vec::new(),
            zero_shot: Vec::new(),
            trained: None,
        }
    }

    /// Starts a new set of clips, prepared for the cut `prep.unfreeze`. A trained model is kept.
    pub fn reset(&mut self, prep: Preparation) -> Result<(), Error> {
        prep.check_augment(false, "speech").map_err(Error::Options)?;
        let layers = layers_of(&prep).map_err(Error::Options)?;
        if layers != self.layers {
            self.lower = self.task.weights.decoder_layers(0..DECODER_LAYERS - layers, 0.0, &self.device);
            self.pretrained.0 = self.task.weights.decoder_layers(DECODER_LAYERS - layers..DECODER_LAYERS, 0.0, &self.device);
            self.layers = layers;
        }
        self.clear();
        Ok(())
    }

    fn clear(&mut self) {
        self.cache = SpeechCache::default();
        self.references.clear();
        self.holdout.clear();
        self.recordings.clear();
        self.zero_shot.clear();
    }

    /// Caches (and fine-tunes on) the encoder over each clip's own frames instead of its 30-s
    /// window; drops the clips held. Measured on the benchmark (docs/benchmarks.md): 20× faster
    /// caching and 2× faster training, but worse transcripts — Whisper hears 30-s windows, and two
    /// decoder layers do not fully relearn to hear less — so it is off by default.
    pub fn hear_own_frames(&mut self, on: bool) {
        self.own_frames = on;
        self.clear();
    }

    pub fn task(&self) -> &SpeechTask {
        &self.task
    }

    /// The preparation of the current clips (the cut; there is no maximum length).
    pub fn preparation(&self) -> Preparation {
        Preparation { unfreeze: Unfreeze::Blocks(self.layers), ..Preparation::default() }
    }

    pub fn clips(&self) -> usize {
        self.references.len()
    }

    pub fn cache_bytes(&self) -> usize {
        use crate::train::FeatureSource;
        self.cache.bytes()
    }

    /// Checks each clip, runs the frozen encoder and lower decoder layers on the good ones and
    /// caches their outputs. Bad clips (no audio, silent, over 30 s, no transcript, too many
    /// tokens) are skipped and listed; the others are kept. `holdout`: validation-only clips.
    pub async fn add(&mut self, clips: &[Clip<'_>], holdout: bool) -> Result<SpeechAddReport, Error> {
        let mut report = SpeechAddReport::default();
        let mut good = Vec::new();
        for (index, clip) in clips.iter().enumerate() {
            let checked = check_audio(clip.audio).and_then(|()| {
                if clip.text.trim().is_empty() {
                    Err("it has no transcript".to_string())
                } else {
                    self.task.tokenizer.encode(clip.text)
                }
            });
            match checked {
                Ok(ids) => good.push((clip, ids)),
                Err(reason) => report.skipped.push(SkippedClip { index, reason }),
            }
        }
        // Clips of similar length share a pass (little padding); the cache keeps their order.
        let mut order: Vec<usize> = (0..good.len()).collect();
        order.sort_by_key(|&i| good[i].0.audio.len());
        let mut features = vec![(Vec::new(), Vec::new()); good.len()];
        for chunk in order.chunks(ENCODE_BATCH) {
            let audio: Vec<&[f32]> = chunk.iter().map(|&i| good[i].0.audio).collect();
            let (encoded, positions) = if self.own_frames { self.encode(&audio) } else { (self.encode_window(&audio), vec![AUDIO_POSITIONS; audio.len()]) };
            let ids: Vec<&[u32]> = chunk.iter().map(|&i| good[i].1.as_slice()).collect();
            let hidden = self.lower_hidden(&ids, &encoded);
            let longest = encoded.states.dims()[1];
            let audio_values = read_f32(encoded.states).await?;
            let hidden_values = read_f32(hidden).await?;
            let len = hidden_values.len() / chunk.len() / D;
            for (b, (&i, &p)) in chunk.iter().zip(&positions).enumerate() {
                let rows = (good[i].1.len() + tokens::PROMPT.len()) * D;
                features[i] = (audio_values[b * longest * D..(b * longest + p) * D].to_vec(), hidden_values[b * len * D..b * len * D + rows].to_vec());
            }
        }
        for ((clip, ids), (audio, hidden)) in good.into_iter().zip(features) {
            self.cache.push(&audio, hidden, ids.clone());
            self.references.push(clip.text.trim().to_string());
            self.holdout.push(holdout);
            if self.own_frames {
                self.recordings.push(clip.audio.iter().map(|&v| (v.clamp(-1.0, 1.0) * 32767.0).round() as i16).collect());
            }
            self.zero_shot.push(None);
            report.added += 1;
            report.tokens += ids.len();
            report.seconds += clip.audio.len() as f32 / SAMPLE_RATE as f32;
        }
        Ok(report)
    }

    /// The encoder output of each clip's own frames (its first 30 s), as fine-tuned transcribers
    /// hear them, and each clip's positions.
    fn encode(&self, clips: &[&[f32]]) -> (EncodedAudio, Vec<usize>) {
        let frames = ClipFrames::new(&self.task.mel, clips, &self.device);
        let states = normalize(&self.encoder.norm, self.encoder.hidden_masked(frames.mel, frames.pad.clone()));
        (EncodedAudio { states, pad: Some(frames.pad) }, frames.positions)
    }

    /// The encoder output of each clip's 30-s window, as the pretrained transcriber hears it.
    fn encode_window(&self, clips: &[&[f32]]) -> EncodedAudio {
        EncodedAudio::whole(self.encoder.forward(window(&self.task.mel, clips, &self.device)))
    }

    /// The decoder input (prompt + transcript) of each clip, padded to the longest with
    /// `<|endoftext|>`.
    fn decoder_input(&self, transcripts: &[&[u32]]) -> Tensor<2, Int> {
        let len = transcripts.iter().map(|t| t.len()).max().unwrap_or(0) + tokens::PROMPT.len();
        let ids: Vec<i64> = transcripts
            .iter()
            .flat_map(|t| {
                let mut row: Vec<i64> = tokens::PROMPT.iter().chain(t.iter()).map(|&x| x as i64).collect();
                row.resize(len, tokens::END_OF_TEXT as i64);
                row
            })
            .collect();
        Tensor::<2, Int>::from_data(TensorData::new(ids, [transcripts.len(), len]), &self.device)
    }

    /// The frozen decoder part (embedding + lower layers) on each clip's decoder input.
    ///
    /// # Shapes
    /// - audio: `[clips, positions, d]`
    /// - output: `[clips, longest input, d]`
    fn lower_hidden(&self, transcripts: &[&[u32]], audio: &EncodedAudio) -> Tensor<3> {
        let mut x = self.embedding.embed(self.decoder_input(transcripts), 0);
        for layer in &self.lower {
            x = layer.forward(x, audio);
        }
        x
    }

    /// Why training cannot start yet, if it cannot.
    pub fn readiness(&self) -> Result<(), String> {
        readiness(self.references.len(), self.holdout.iter().filter(|&&h| h).count())
    }

    /// Fine-tunes the top decoder layers on the cached clips. On error the previous model is kept.
    pub async fn train(&mut self, opts: &TrainOptions, hooks: &mut impl TrainHooks) -> Result<SpeechReport, Error> {
        self.readiness().map_err(Error::Data)?;
        if opts.linear_probe {
            return Err(Error::Options("linearProbe: a transcriber has no new head to fit first (its output is the pretrained token embedding); it is for classifiers".into()));
        }
        if opts.auto {
            return Err(Error::Options("auto: classifiers only in this version (each trial of a transcriber is a full run of validation decoding)".into()));
        }
        if opts.backbone_learning_rate == 0.0 {
            return Err(Error::Options("backboneLearningRate 0 would train nothing here: the decoder layers are what a transcriber fine-tunes".into()));
        }
        if opts.average_epochs {
            return Err(Error::Options("averageEpochs: classifiers only in this version (a transcriber keeps its best epoch by WER)".into()));
        }
        if opts.label_smoothing > 0.0 {
            return Err(Error::Options("labelSmoothing: classifiers only in this version (a transcriber trains on plain token cross-entropy)".into()));
        }
        let autodiff = self.device.clone().autodiff();
        autodiff.seed(opts.seed);
        crate::ops::dropout::reseed(opts.seed);
        let top = WhisperTopConfig { layers: self.layers, dropout: opts.dropout }.init(&self.task.weights, &autodiff);
        let split = if self.holdout.contains(&true) {
            Split { train: (0..self.holdout.len()).filter(|&i| !self.holdout[i]).collect(), val: (0..self.holdout.len()).filter(|&i| self.holdout[i]).collect() }
        } else {
            stratified_split(&vec![0; self.references.len()], opts.validation_split as f32, opts.seed)
        };
        let baseline = self.zero_shot(&split.val, hooks).await?;
        let data = TranscriptionData {
            baseline,
            cache: &self.cache,
            references: &self.references,
            split,
            lower: &self.lower,
            suppression: &self.task.suppression,
            tokenizer: &self.task.tokenizer,
            device: self.device.clone(),
        };
        let trained = fine_tune_transcriber(top, data, opts, hooks).await?;
        self.trained = Some(Trained { top: trained.model, unmixed: Some(trained.unmixed), layers: self.layers, own_frames: self.own_frames && trained.report.best_epoch > 0 });
        Ok(trained.report)
    }

    /// Mixes the last run's best weights with the pretrained ones again: `share` of the
    /// fine-tuned (1: unmixed), whatever the run chose (`bench_speech --shares` compares them).
    pub fn remix(&mut self, share: f32) -> Result<(), Error> {
        let trained = self.trained.as_mut().ok_or(Error::NotTrained)?;
        let unmixed = trained.unmixed.as_ref().ok_or_else(|| Error::Options("an imported model has no unmixed weights to mix again".into()))?;
        if !(0.0..=1.0).contains(&share) {
            return Err(Error::Options(format!("the fine-tuned share must be in [0, 1], got {share}")));
        }
        if trained.layers != self.layers {
            return Err(Error::Options("the cut changed since training: train again to mix".into()));
        }
        trained.top = unmixed.mixed_with(&self.pretrained.0, &self.pretrained.1, share);
        Ok(())
    }

    /// Whether a fine-tuned model exists (trained or imported).
    pub fn is_trained(&self) -> bool {
        self.trained.is_some()
    }

    /// The transcript of a recording of any length (16 kHz mono), in consecutive 30-s windows;
    /// `fine_tuned`: with the fine-tuned layers (else the pretrained model). `on_window(done,
    /// total)` after each window.
    pub async fn transcribe(&self, audio: &[f32], fine_tuned: bool, mut on_window: impl FnMut(usize, usize)) -> Result<String, Error> {
        if audio.is_empty() {
            return Err(Error::Data("the recording has no audio samples".into()));
        }
        let ((upper, norm), layers, own_frames) = match (&self.trained, fine_tuned) {
            (Some(t), true) => ((&t.top.upper, &t.top.norm), t.layers, t.own_frames),
            (None, true) => return Err(Error::NotTrained),
            (_, false) => ((&self.pretrained.0, &self.pretrained.1), self.layers, false),
        };
        let rebuilt;
        let lower = if layers == self.layers {
            &self.lower
        } else {
            rebuilt = self.task.weights.decoder_layers(0..DECODER_LAYERS - layers, 0.0, &self.device);
            &rebuilt
        };
        let decoder = GreedyDecoder { embedding: &self.embedding, layers: lower.iter().chain(upper).collect(), norm, suppression: &self.task.suppression };
        let windows: Vec<&[f32]> = audio.chunks(WINDOW_SAMPLES).collect();
        let mut text = Vec::new();
        for (i, window) in windows.iter().enumerate() {
            if window.iter().all(|v| v.abs() < SILENCE) {
                on_window(i + 1, windows.len());
                continue;
            }
            let audio = if own_frames { self.encode(&[window]).0 } else { self.encode_window(&[window]) };
            let ids = decoder.transcribe(&audio, MAX_TRANSCRIPT_TOKENS).await?;
            text.push(self.task.tokenizer.decode(&ids[0]).map_err(Error::Data)?);
            on_window(i + 1, windows.len());
        }
        Ok(text.join(" ").trim().to_string())
    }

    /// The last fine-tuned model as one file: the trained decoder layers and final norm.
    pub async fn export_model(&self) -> Result<Vec<u8>, Error> {
        let trained = self.trained.as_ref().ok_or(Error::NotTrained)?;
        export_model(&TrainedLayers { upper: trained.top.upper.clone(), norm: trained.top.norm.clone() }, &model_info(trained.layers, trained.own_frames)).await
    }

    /// Loads a file made by [`Self::export_model`]; other files are refused with the reason and the
    /// current model is kept.
    pub fn import_model(&mut self, bytes: &[u8]) -> Result<ModelInfo, Error> {
        let info = read_info(bytes)?;
        check_base_model(&info, BASE_MODEL, NAME)?;
        let layers = layers_of(&Preparation { unfreeze: info.unfreeze, ..Preparation::default() }).map_err(Error::Data)?;
        let own_frames = match info.preprocessing.as_str() {
            OWN_FRAMES => true,
            WINDOWS => false,
            other => return Err(Error::Data(format!("this model prepares audio as \"{other}\", which this version does not know: export it again"))),
        };
        let mut top = WhisperTopConfig { layers, dropout: 0.0 }.init(&self.task.weights, &self.device);
        let loaded = load_params(TrainedLayers { upper: top.upper, norm: top.norm }, bytes)?;
        (top.upper, top.norm) = (loaded.upper, loaded.norm);
        self.trained = Some(Trained { top: top.no_grad(), unmixed: None, layers, own_frames });
        Ok(info)
    }
}

/// What an exported speech model stores: the trained decoder layers and the final norm (the
/// embedding is the pretrained one).
#[derive(Module, Debug)]
struct TrainedLayers {
    upper: Vec<DecoderLayer>,
    norm: burn::nn::LayerNorm,
}

/// How a fine-tuned transcriber hears audio (its file's `preprocessing`).
const OWN_FRAMES: &str = "16 kHz mono, 80-bin log-mel (Whisper); the encoder on each 30-s window's own frames";
/// How the pretrained one does (and models kept or exported before training on own frames).
const WINDOWS: &str = "16 kHz mono, 30-s windows, 80-bin log-mel (Whisper)";

fn model_info(layers: usize, own_frames: bool) -> ModelInfo {
    ModelInfo {
        format: FORMAT.into(),
        base_model: BASE_MODEL.into(),
        task: NAME.into(),
        classes: Vec::new(),
        unfreeze: Unfreeze::Blocks(layers),
        max_length: None,
        preprocessing: if own_frames { OWN_FRAMES } else { WINDOWS }.into(),
    }
}

/// The speech task's training defaults: the decoder layers are pretrained (a low rate), a few
/// epochs suffice on a few hundred clips. No mix with the pretrained weights: a small validation
/// split does not see what it buys (docs/benchmarks.md, "Speech").
pub fn train_defaults() -> TrainOptions {
    TrainOptions { epochs: 5, batch_size: 16, learning_rate: 1e-4, backbone_learning_rate: 1e-4, dropout: crate::model::whisper::DROPOUT, ..TrainOptions::default() }
}
