//! The transcription fine-tuning loop (speech): the classification loop's guard rails on a
//! sequence objective.
//!
//! forward (teacher forcing) → token cross-entropy → guard → backward → two AdamW steps (the final
//! norm at the head's rate, the decoder layers at the backbone's) → yield. Before training and after
//! each epoch: validation token loss and word error rate of greedy transcripts. The kept weights
//! are those of the epoch with the lowest validation WER — epoch 0 (the pretrained model) when
//! fine-tuning never beat it — so fine-tuning never leaves a worse transcriber than it found. Then
//! (`mix_pretrained`) a few mixes of those weights with the pretrained ones are scored the same way
//! and the best is kept (WiSE-FT: as good in domain, more robust outside it).

use burn::module::Module;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use web_time::Instant;

use super::events::{MixReport, SpeechEpochReport, SpeechReport, StopReason, TrainEvent, TranscriptSample};
use super::guards::{DivergenceGuard, EarlyStopping, Patience};
use super::hooks::TrainHooks;
use super::mix::SHARES;
use super::options::TrainOptions;
use super::schedule::WarmupCosine;
use super::top::{FeatureSource, TrainableTop, TwoRateOptimizer};
use super::wer::WordErrors;
use crate::data::{SpeechCache, Split, TranscriptTokenizer};
use crate::error::Error;
use crate::model::whisper::{DecoderLayer, GreedyDecoder, MAX_TRANSCRIPT_TOKENS, Suppression, TranscriptBatch, WhisperTop};

/// A batch loss this many times the first one counts as divergence.
const EXPLODE_FACTOR: f32 = 20.0;
/// Validation loss this much above its best, while the training loss fell, warns of overfitting.
const OVERFIT_RISE: f32 = 1.25;
/// Validation transcripts shown per epoch.
const SAMPLES: usize = 3;

/// The pretrained transcriber's validation scores, as it hears audio (30-s windows): what
/// fine-tuning must beat.
#[derive(Clone, Copy, Debug, Default)]
pub struct Baseline {
    pub errors: WordErrors,
    /// Cross-entropy summed over the counted tokens, and their number.
    pub loss_sum: f64,
    pub counted: usize,
}

impl Baseline {
    pub fn loss(&self) -> f32 {
        (self.loss_sum / self.counted.max(1) as f64) as f32
    }
}

/// Everything a run reads besides the top.
pub struct TranscriptionData<'a> {
    /// The pretrained transcriber on the validation clips (epoch 0).
    pub baseline: Baseline,
    pub cache: &'a SpeechCache,
    /// The user's transcript of each cached clip (WER references).
    pub references: &'a [String],
    pub split: Split,
    /// Greedy decoding's other parts: the frozen decoder layers below the cut (on `device`).
    pub lower: &'a [DecoderLayer],
    pub suppression: &'a Suppression,
    pub tokenizer: &'a TranscriptTokenizer,
    /// The plain device validation runs on.
    pub device: Device,
}

/// The fine-tuned top (best weights, perhaps mixed; inference mode) and the run's report.
pub struct TrainedTranscriber {
    pub model: WhisperTop,
    /// The best epoch's weights before any mix.
    pub unmixed: WhisperTop,
    pub report: SpeechReport,
}

/// Mean cross-entropy of the counted positions.
///
/// # Shapes
/// - logits: `[counted, vocab]`; batch targets: `[counted]`
fn token_loss(logits: Tensor<2>, batch: &TranscriptBatch) -> Tensor<1> {
    let rows = logits.dims()[0];
    -log_softmax(logits, 1).gather(1, batch.targets.clone().reshape([rows, 1])).mean()
}

async fn read_scalar(t: Tensor<1>) -> Result<f32, Error> {
    Ok(crate::task::read_f32(t).await?.first().copied().unwrap_or(f32::NAN))
}

/// Validation token loss, WER and the first transcripts of `top` (inference mode) on `indices`.
pub async fn validate(top: &WhisperTop, data: &TranscriptionData<'_>, indices: &[usize], batch_size: usize) -> Result<(f32, WordErrors, Vec<TranscriptSample>), Error> {
    let decoder = GreedyDecoder { embedding: &top.embedding, layers: data.lower.iter().chain(&top.upper).collect(), norm: &top.norm, suppression: data.suppression };
    let (mut loss_sum, mut weight) = (0.0f64, 0usize);
    let mut errors = WordErrors::default();
    let mut samples = Vec::new();
    for batch in indices.chunks(batch_size) {
        let input = data.cache.batch(batch, &data.device);
        let counted: usize = batch.iter().map(|&i| data.cache.transcript(i).len() + 1).sum();
        let audio = input.audio.clone();
        loss_sum += read_scalar(token_loss(top.forward(input.clone()), &input)).await? as f64 * counted as f64;
        weight += counted;
        let longest = batch.iter().map(|&i| data.cache.transcript(i).len()).max().unwrap_or(0);
        let hypotheses = decoder.transcribe(&audio, (longest * 2 + 10).min(MAX_TRANSCRIPT_TOKENS)).await?;
        for (&i, tokens) in batch.iter().zip(&hypotheses) {
            let text = data.tokenizer.decode(tokens).map_err(Error::Data)?;
            errors.add(&data.references[i], &text);
            if samples.len() < SAMPLES {
                samples.push(TranscriptSample { reference: data.references[i].clone(), transcript: text });
            }
        }
    }
    Ok(((loss_sum / weight.max(1) as f64) as f32, errors, samples))
}

/// Fine-tunes `top` (built on an autodiff device) on the cached clips.
pub async fn fine_tune_transcriber(top: WhisperTop, data: TranscriptionData<'_>, opts: &TrainOptions, hooks: &mut impl TrainHooks) -> Result<TrainedTranscriber, Error> {
    opts.validate().map_err(Error::Options)?;
    let split = data.split.clone();
    if split.train.is_empty() || split.val.is_empty() {
        return Err(Error::Data("too few clips to keep a validation set: add at least 2".into()));
    }
    let device = top.device();
    let mut optim = TwoRateOptimizer::new(opts.weight_decay as f32);
    let steps_per_epoch = split.train.len().div_ceil(opts.batch_size);
    let schedule = WarmupCosine::new(steps_per_epoch * opts.epochs, opts.warmup_share as f32);
    let mut rng = StdRng::seed_from_u64(opts.seed.wrapping_add(1));
    let mut guard = DivergenceGuard::new(EXPLODE_FACTOR);
    let mut stopping = EarlyStopping::new(opts.patience);

    let (zero_shot_loss, zero_shot) = (data.baseline.loss(), data.baseline.errors);
    stopping.update(zero_shot.rate());
    let pretrained = opts.mix_pretrained.then(|| top.valid());
    let mut model = top;
    let mut best = model.clone();
    let mut report = SpeechReport {
        stop_reason: StopReason::Completed,
        best_epoch: 0,
        zero_shot_val_wer: zero_shot.rate(),
        zero_shot_val_loss: zero_shot_loss,
        best_val_wer: zero_shot.rate(),
        fine_tuned_share: 1.0,
        mixes: Vec::new(),
        message: String::new(),
        warnings: Vec::new(),
        epochs: Vec::new(),
        train_examples: split.train.len(),
        val_examples: split.val.len(),
    };
    let mut best_val_loss = (zero_shot_loss, 0usize);
    let mut order = split.train.clone();
    let mut step = 0;
    'epochs: for epoch in 1..=opts.epochs {
        let started = Instant::now();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut counted_sum) = (0.0f64, 0usize);
        for (batch_no, batch) in order.chunks(opts.batch_size).enumerate() {
            if hooks.cancelled() {
                report.stop_reason = StopReason::Cancelled;
                break 'epochs;
            }
            let input = data.cache.batch(batch, &device);
            let loss = token_loss(model.forward(input.clone()), &input);
            let batch_loss = read_scalar(loss.clone()).await?;
            if let Err(why) = guard.check(batch_loss) {
                report.stop_reason = StopReason::Diverged;
                report.message = format!(
                    "Training diverged at epoch {epoch}, step {}: {why}. The weights were rolled back \
                     to the last good ones. Lower the learning rate (try {:.0e} for the decoder layers).",
                    batch_no + 1,
                    opts.backbone_learning_rate / 10.0
                );
                break 'epochs;
            }
            let counted: usize = batch.iter().map(|&i| data.cache.transcript(i).len() + 1).sum();
            loss_sum += batch_loss as f64 * counted as f64;
            counted_sum += counted;
            let mut grads = loss.backward();
            let factor = schedule.factor(step);
            model = model.step(&mut grads, &mut optim, opts.learning_rate * factor, opts.backbone_learning_rate * factor);
            step += 1;
            let seen = (batch_no * opts.batch_size + batch.len()) as f32;
            hooks.on_event(&TrainEvent::Step {
                epoch,
                step: batch_no + 1,
                steps_per_epoch,
                loss: batch_loss,
                examples_per_sec: seen / started.elapsed().as_secs_f32().max(1e-6),
            });
            hooks.yield_now().await;
        }
        let train_seconds = started.elapsed().as_secs_f32();
        let valid = model.valid();
        let (val_loss, errors, samples) = validate(&valid, &data, &split.val, opts.batch_size).await?;
        let epoch_report = SpeechEpochReport {
            epoch,
            train_loss: (loss_sum / counted_sum.max(1) as f64) as f32,
            val_loss,
            val_wer: errors.rate(),
            val_word_errors: errors.edits,
            val_words: errors.words,
            samples,
            learning_rate: opts.learning_rate * schedule.factor(step.saturating_sub(1)),
            backbone_learning_rate: opts.backbone_learning_rate * schedule.factor(step.saturating_sub(1)),
            train_examples_per_sec: order.len() as f32 / train_seconds.max(1e-6),
            seconds: started.elapsed().as_secs_f32(),
        };
        let verdict = stopping.update(epoch_report.val_wer);
        if verdict == Patience::Improved {
            best = model.clone();
            report.best_epoch = epoch;
            report.best_val_wer = epoch_report.val_wer;
        }
        let rose = val_loss > OVERFIT_RISE * best_val_loss.0 && epoch_report.train_loss < val_loss;
        if val_loss < best_val_loss.0 {
            best_val_loss = (val_loss, epoch);
        }
        hooks.on_event(&TrainEvent::SpeechEpoch(epoch_report.clone()));
        report.epochs.push(epoch_report);
        if rose && report.warnings.is_empty() {
            let message = format!(
                "Overfitting: validation loss rose to {val_loss:.3} from {:.3} (epoch {}) while the training loss fell. \
                 Add more recordings, train fewer decoder layers, or train fewer epochs.",
                best_val_loss.0, best_val_loss.1
            );
            hooks.on_event(&TrainEvent::Warning { message: message.clone() });
            report.warnings.push(message);
        }
        if verdict == Patience::Stop {
            report.stop_reason = StopReason::EarlyStopped;
            break;
        }
        hooks.yield_now().await;
    }
    // The best validated weights: the pretrained ones until an epoch beats them; then perhaps a
    // mix of both.
    let unmixed = best.valid();
    let mut kept = unmixed.clone();
    if let Some(pretrained) = pretrained.filter(|_| report.best_epoch > 0 && report.stop_reason != StopReason::Cancelled) {
        match choose_mix(&unmixed, report.best_val_wer, &pretrained, &data, &split.val, opts.batch_size, hooks).await {
            Ok(mix) => {
                kept = mix.top;
                (report.fine_tuned_share, report.best_val_wer, report.mixes) = (mix.share, mix.val_wer, mix.tried);
            }
            Err(e) => {
                // The trained weights survive a failed mix.
                let message = format!("Mixing with the pretrained weights failed ({e}): kept the fine-tuned ones.");
                hooks.on_event(&TrainEvent::Warning { message: message.clone() });
                report.warnings.push(message);
            }
        }
    }
    if report.message.is_empty() {
        report.message = summary(&report);
    }
    hooks.on_event(&TrainEvent::SpeechDone(report.clone()));
    Ok(TrainedTranscriber { model: kept, unmixed, report })
}

/// The mix [`choose_mix`] kept, and every mix it scored.
struct ChosenMix {
    top: WhisperTop,
    /// Of the fine-tuned weights (1: unmixed).
    share: f32,
    val_wer: f32,
    tried: Vec<MixReport>,
}

/// The mix of `fine_tuned` (validation WER `fine_tuned_wer`) and `pretrained` with the lowest
/// validation WER ([`SHARES`]; on a tie the one with more of the pretrained weights: it scores the
/// same and knows more).
async fn choose_mix(
    fine_tuned: &WhisperTop,
    fine_tuned_wer: f32,
    pretrained: &WhisperTop,
    data: &TranscriptionData<'_>,
    val: &[usize],
    batch_size: usize,
    hooks: &mut impl TrainHooks,
) -> Result<ChosenMix, Error> {
    let mut kept = ChosenMix { top: fine_tuned.clone(), share: 1.0, val_wer: fine_tuned_wer, tried: Vec::new() };
    for (done, &share) in SHARES.iter().enumerate() {
        if hooks.cancelled() {
            break;
        }
        let mixed = fine_tuned.mixed_with(&pretrained.upper, &pretrained.norm, share);
        let (val_loss, errors, _) = validate(&mixed, data, val, batch_size).await?;
        let mix = MixReport { share, val_wer: errors.rate(), val_loss };
        hooks.on_event(&TrainEvent::Mix { mix: mix.clone(), done: done + 1, total: SHARES.len() });
        kept.tried.push(mix);
        if errors.rate() <= kept.val_wer {
            (kept.top, kept.share, kept.val_wer) = (mixed, share, errors.rate());
        }
        hooks.yield_now().await;
    }
    Ok(kept)
}

fn summary(r: &SpeechReport) -> String {
    let pct = |x: f32| x * 100.0;
    let mixed = if r.fine_tuned_share < 1.0 { format!(", mixed {:.0} % with the pretrained ones", (1.0 - r.fine_tuned_share) * 100.0) } else { String::new() };
    let kept = if r.best_epoch > 0 {
        format!("kept the weights of epoch {}{mixed} (validation WER {:.1}%, {:.1}% before fine-tuning)", r.best_epoch, pct(r.best_val_wer), pct(r.zero_shot_val_wer))
    } else {
        format!("no epoch beat the pretrained model's validation WER ({:.1}%): kept its weights", pct(r.zero_shot_val_wer))
    };
    match r.stop_reason {
        StopReason::Completed => format!("Training finished after {} epochs; {kept}.", r.epochs.len()),
        StopReason::EarlyStopped => format!("Stopped early after epoch {}: validation WER stopped improving; {kept}.", r.epochs.len()),
        StopReason::Cancelled => format!("Cancelled; {kept}."),
        StopReason::Diverged => unreachable!("divergence sets its own message"),
    }
}
