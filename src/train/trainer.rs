//! The fine-tuning loop: ours, async, one visible step at a time (burn-train does not run in wasm).
//!
//! forward → cross-entropy → guard → backward → two AdamW steps (head LR, lower backbone LR) →
//! yield. After each epoch: validation metrics, early stopping with best-weight snapshot,
//! overfitting warning.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Int, Tensor, TensorData, Transaction};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use web_time::Instant;

use super::checkpoint::{self, Checkpoint, Progress};
use super::events::{EpochReport, StopReason, TrainEvent, TrainReport};
use super::guards::{DivergenceGuard, EarlyStopping, Patience, overfitting_warning};
use super::hooks::TrainHooks;
use super::average::{self, AverageReport, EpochAverage};
use super::linear_probe::linear_probe;
use super::mix::choose_mix;
use super::metrics::ConfusionMatrix;
use super::options::TrainOptions;
use super::schedule::WarmupCosine;
use super::top::{ClassifierTop, FeatureSource, TwoRateOptimizer};
use crate::data::{Split, stratified_split};
use crate::error::Error;

/// Train-accuracy lead over validation accuracy that triggers the overfitting warning.
const OVERFIT_GAP: f32 = 0.2;
/// A batch loss this many times the first one counts as divergence.
const EXPLODE_FACTOR: f32 = 20.0;

/// Everything a run reads.
pub struct TrainData<'a, S> {
    pub features: &'a S,
    pub labels: &'a [usize],
    pub classes: usize,
    /// A fixed train/validation split; `None`: stratified split by the options' share and seed.
    pub split: Option<Split>,
}

/// The trained classifier (best weights, perhaps mixed with the pretrained ones; inference mode)
/// and the run's report.
pub struct Trained<M> {
    pub model: M,
    /// The best epoch's weights before the mix, when the kept model is mixed.
    pub unmixed: Option<M>,
    /// The pretrained upper layers with the head fitted alone (`linear_probe`): a logistic
    /// regression on frozen features, what fine-tuning is measured against.
    pub probed: Option<M>,
    pub report: TrainReport,
}

/// A run's checkpoints: what it goes on from, and whether it writes its own.
#[derive(Default)]
pub struct Checkpoints<'a> {
    /// Written into each checkpoint beside the run's state (the host's JSON); `None`: the run
    /// writes none.
    pub context: Option<&'a str>,
    /// Go on from this checkpoint (made by a run with the same options and data).
    pub resume: Option<&'a Checkpoint>,
}

/// Fine-tunes `model` (built on an autodiff device) on cached features.
pub async fn fine_tune<M: ClassifierTop, S: FeatureSource<Input = M::Input>>(
    model: M,
    data: TrainData<'_, S>,
    opts: &TrainOptions,
    hooks: &mut impl TrainHooks,
) -> Result<Trained<M>, Error> {
    fine_tune_with(model, data, opts, hooks, Checkpoints::default()).await
}

/// [`fine_tune`] that writes a checkpoint after each epoch (given a context) and may go on from
/// one: the result is the uninterrupted run's (on the CPU, where dropout masks come from seeds).
pub async fn fine_tune_with<M: ClassifierTop, S: FeatureSource<Input = M::Input>>(
    model: M,
    data: TrainData<'_, S>,
    opts: &TrainOptions,
    hooks: &mut impl TrainHooks,
    checkpoints: Checkpoints<'_>,
) -> Result<Trained<M>, Error> {
    opts.validate().map_err(Error::Options)?;
    let split = data.split.clone().unwrap_or_else(|| stratified_split(data.labels, opts.validation_split as f32, opts.seed));
    if split.train.is_empty() || split.val.is_empty() {
        return Err(Error::Data("too few examples to keep a validation set: add at least 2 per class".into()));
    }
    let device = model.device();
    let smoothing = (opts.label_smoothing > 0.0).then_some(opts.label_smoothing as f32);
    let loss_fn = CrossEntropyLossConfig::new().with_smoothing(smoothing).init(&device);
    let mut optim = TwoRateOptimizer::new(opts.weight_decay as f32);
    let steps_per_epoch = split.train.len().div_ceil(opts.batch_size);
    let schedule = WarmupCosine::new(steps_per_epoch * opts.epochs, opts.warmup_share as f32);
    let mut rng = StdRng::seed_from_u64(opts.seed.wrapping_add(1));
    let mut guard = DivergenceGuard::new(EXPLODE_FACTOR);
    let mut stopping = EarlyStopping::new(opts.patience);

    let mut model = model;
    let mut best = model.clone();
    let mut order = split.train.clone();
    let (mut step, mut first_epoch) = (0, 1);
    let mut report = TrainReport {
        stop_reason: StopReason::Completed,
        best_epoch: 0,
        best_val_accuracy: 0.0,
        message: String::new(),
        warnings: Vec::new(),
        epochs: Vec::new(),
        train_examples: split.train.len(),
        val_examples: split.val.len(),
        linear_probe: None,
        averaged: None,
        fine_tuned_share: 1.0,
        mixes: Vec::new(),
        trials: Vec::new(),
        chosen_trial: 0,
    };
    // LP-FT: the head fitted alone first. A resumed run's weights come from its checkpoint; it
    // probes again (the same head: it is seeded) only to mix with it.
    let (mut probe_cancelled, mut probed) = (false, None);
    if opts.linear_probe && (checkpoints.resume.is_none() || opts.mix_pretrained) {
        match linear_probe(&model, data.features, data.labels, &split, opts, hooks).await? {
            Some((head, probe)) => {
                model = model.with_head(head);
                best = model.clone();
                probed = Some(model.valid());
                report.linear_probe = Some(probe);
            }
            None => probe_cancelled = true,
        }
    }
    // The pretrained upper layers, with the probed head (else the fine-tuned one, at the end).
    let pretrained = opts.mix_pretrained.then(|| model.valid());
    let mut averaging = EpochAverage::new();
    if let Some(checkpoint) = checkpoints.resume {
        let p = &checkpoint.progress;
        if p.epoch >= opts.epochs || (p.report.train_examples, p.report.val_examples) != (split.train.len(), split.val.len()) {
            return Err(Error::Data(format!(
                "the checkpoint (epoch {} of a run on {} + {} examples) does not fit this run ({} epochs on {} + {})",
                p.epoch, p.report.train_examples, p.report.val_examples, opts.epochs, split.train.len(), split.val.len()
            )));
        }
        let average;
        (model, best, average) = checkpoint.restore(model, &mut optim)?;
        averaging = EpochAverage::resumed(average.map(|a| a.valid()), p.averaged_epochs);
        (step, first_epoch, report) = (p.step, p.epoch + 1, p.report.clone());
        guard = DivergenceGuard::resumed(EXPLODE_FACTOR, p.divergence_reference);
        stopping = EarlyStopping::resumed(opts.patience, p.stopping_best, p.stopping_waited);
        crate::ops::dropout::reseed(p.dropout_seed);
        for _ in 0..p.epoch {
            order.shuffle(&mut rng); // the epochs done drew these
        }
        hooks.on_event(&TrainEvent::Resumed { epoch: p.epoch, epochs: report.epochs.clone() });
    }
    if probe_cancelled {
        report.stop_reason = StopReason::Cancelled;
        first_epoch = opts.epochs + 1; // no epoch runs
    }
    'epochs: for epoch in first_epoch..=opts.epochs {
        let started = Instant::now();
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0f64;
        let mut train_confusion = ConfusionMatrix::new(data.classes);
        for (batch_no, batch) in order.chunks(opts.batch_size).enumerate() {
            if hooks.cancelled() {
                report.stop_reason = StopReason::Cancelled;
                break 'epochs;
            }
            let logits = model.forward(data.features.train_batch(batch, epoch_draw(opts.seed, epoch), &device));
            let loss = loss_fn.forward(logits.clone(), labels_tensor(data.labels, batch, &device));
            let [loss_data, pred_data] = read_pair(loss.clone(), logits.argmax(1)).await?;
            let batch_loss = loss_data.iter::<f32>().next().unwrap_or(f32::NAN);
            if let Err(why) = guard.check(batch_loss) {
                report.stop_reason = StopReason::Diverged;
                report.message = format!(
                    "Training diverged at epoch {epoch}, step {}: {why}. The weights were rolled back \
                     to the last good ones. Lower the learning rate (try {:.0e} for the head).",
                    batch_no + 1,
                    opts.learning_rate / 10.0
                );
                break 'epochs;
            }
            loss_sum += batch_loss as f64 * batch.len() as f64;
            for (p, &i) in pred_data.iter::<i64>().zip(batch) {
                train_confusion.add(data.labels[i], p as usize);
            }

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
        let (val_loss, confusion) = evaluate(&model.valid(), &data, &split.val, opts.batch_size).await?;
        let epoch_report = EpochReport {
            epoch,
            train_loss: (loss_sum / order.len() as f64) as f32,
            train_accuracy: train_confusion.accuracy(),
            train_macro_f1: train_confusion.macro_f1(),
            val_loss,
            val_accuracy: confusion.accuracy(),
            val_macro_f1: confusion.macro_f1(),
            val_per_class: confusion.class_scores(),
            val_confusion: confusion,
            learning_rate: opts.learning_rate * schedule.factor(step.saturating_sub(1)),
            head_lr: opts.learning_rate * schedule.factor(step.saturating_sub(1)),
            train_examples_per_sec: order.len() as f32 / train_seconds.max(1e-6),
            seconds: started.elapsed().as_secs_f32(),
        };
        if opts.average_epochs && epoch >= average::FIRST_EPOCH {
            averaging.add(model.valid());
        }
        let verdict = stopping.update(val_loss);
        if verdict == Patience::Improved {
            best = model.clone();
            report.best_epoch = epoch;
            report.best_val_accuracy = epoch_report.val_accuracy;
        }
        let warning = overfitting_warning(epoch_report.train_accuracy, epoch_report.val_accuracy, OVERFIT_GAP);
        hooks.on_event(&TrainEvent::Epoch(epoch_report.clone()));
        report.epochs.push(epoch_report);
        if let Some(message) = warning.filter(|_| report.warnings.is_empty()) {
            hooks.on_event(&TrainEvent::Warning { message: message.clone() });
            report.warnings.push(message);
        }
        if verdict == Patience::Stop {
            report.stop_reason = StopReason::EarlyStopped;
            break;
        }
        if let Some(context) = checkpoints.context.filter(|_| epoch < opts.epochs) {
            let (stopping_best, stopping_waited) = stopping.state();
            let progress = Progress {
                format: checkpoint::FORMAT.into(),
                epoch,
                step,
                divergence_reference: guard.reference(),
                stopping_best,
                stopping_waited,
                dropout_seed: crate::ops::dropout::seed_state(),
                report: report.clone(),
                best_is_current: report.best_epoch == epoch,
                moment_steps: optim.states_by_path(&model).into_iter().map(|(path, m)| (path, m.time)).collect(),
                averaged_epochs: averaging.epochs,
            };
            let bytes = checkpoint::write(&model, &best, averaging.average.as_ref(), &optim, &progress, context).await?;
            hooks.on_checkpoint(epoch, bytes);
        }
        hooks.yield_now().await;
    }
    // Keep the best validated weights; before any completed epoch, the last good ones.
    let kept = if report.best_epoch > 0 || report.stop_reason == StopReason::Diverged { best } else { model };
    let mut kept = kept.valid();
    let mut unmixed = None;
    let finished = matches!(report.stop_reason, StopReason::Completed | StopReason::EarlyStopped);
    let mut best_loss = report.epochs.iter().find(|e| e.epoch == report.best_epoch).map_or(f32::INFINITY, |e| e.val_loss);
    if let Some(average) = averaging.average.take().filter(|_| finished && averaging.epochs >= 2) {
        match evaluate(&average, &data, &split.val, opts.batch_size).await {
            Ok((val_loss, confusion)) => {
                let kept_average = val_loss < best_loss;
                report.averaged = Some(AverageReport { epochs: averaging.epochs, val_loss, val_accuracy: confusion.accuracy(), kept: kept_average });
                if kept_average {
                    (kept, best_loss, report.best_val_accuracy) = (average, val_loss, confusion.accuracy());
                }
            }
            Err(e) => warn(&mut report, hooks, format!("Scoring the epochs' average failed ({e}): kept the best epoch's weights.")),
        }
    }
    // A head-only cut without a probe has nothing pretrained to mix with.
    let nothing_to_mix = report.linear_probe.is_none() && kept.num_params() == kept.head().num_params();
    if let Some(pretrained) = pretrained.filter(|_| report.best_epoch > 0 && finished && !nothing_to_mix) {
        let pretrained = if report.linear_probe.is_some() { pretrained } else { pretrained.with_head(kept.head().clone()) };
        match choose_mix(&kept, best_loss, &pretrained, &data, &split.val, opts.batch_size, hooks).await {
            Ok((mixed, share, tried)) => {
                if share < 1.0 {
                    report.best_val_accuracy = tried.iter().find(|m| m.share == share).map_or(report.best_val_accuracy, |m| m.val_accuracy);
                    unmixed = Some(std::mem::replace(&mut kept, mixed));
                }
                (report.fine_tuned_share, report.mixes) = (share, tried);
            }
            // The trained weights survive a failed mix.
            Err(e) => warn(&mut report, hooks, format!("Mixing with the pretrained weights failed ({e}): kept the fine-tuned ones.")),
        }
    }
    if report.message.is_empty() {
        report.message = summary(&report);
    }
    hooks.on_event(&TrainEvent::Done(report.clone()));
    Ok(Trained { model: kept, unmixed, probed, report })
}

/// Tells the host `message` and keeps it in the report.
/// Which augmented views an epoch trains on (images with `augment`): a function of the seed and
/// the epoch alone, so a resumed run draws what the uninterrupted one drew.
fn epoch_draw(seed: u64, epoch: usize) -> u64 {
    crate::data::augment::splitmix64(seed ^ (epoch as u64).wrapping_mul(0xA24B_AED4_963E_E407))
}

fn warn(report: &mut TrainReport, hooks: &mut impl TrainHooks, message: String) {
    hooks.on_event(&TrainEvent::Warning { message: message.clone() });
    report.warnings.push(message);
}

fn summary(r: &TrainReport) -> String {
    let mixed = if r.fine_tuned_share < 1.0 { format!(", mixed {:.0} % with the pretrained ones", (1.0 - r.fine_tuned_share) * 100.0) } else { String::new() };
    let which = match &r.averaged {
        Some(a) if a.kept => format!("the average of epochs {}–{}", super::average::FIRST_EPOCH, super::average::FIRST_EPOCH + a.epochs - 1),
        _ => format!("epoch {}", r.best_epoch),
    };
    let kept = if r.best_epoch > 0 {
        format!("kept the weights of {which}{mixed} (validation accuracy {:.1}%)", r.best_val_accuracy * 100.0)
    } else {
        "no epoch completed, kept the current weights".to_string()
    };
    match r.stop_reason {
        StopReason::Completed => format!("Training finished after {} epochs; {kept}.", r.epochs.len()),
        StopReason::EarlyStopped => format!(
            "Stopped early after epoch {}: validation loss stopped improving; {kept}.",
            r.epochs.len()
        ),
        StopReason::Cancelled => format!("Cancelled; {kept}."),
        StopReason::Diverged => unreachable!("divergence sets its own message"),
    }
}

/// Loss and confusion matrix of `model` (inference mode) on the examples `indices`.
pub async fn evaluate<M: ClassifierTop, S: FeatureSource<Input = M::Input>>(
    model: &M,
    data: &TrainData<'_, S>,
    indices: &[usize],
    batch_size: usize,
) -> Result<(f32, ConfusionMatrix), Error> {
    let device = model.device();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut confusion = ConfusionMatrix::new(data.classes);
    let mut loss_sum = 0.0f64;
    for batch in indices.chunks(batch_size) {
        let logits = model.forward(data.features.batch(batch, &device));
        let loss = loss_fn.forward(logits.clone(), labels_tensor(data.labels, batch, &device));
        let [loss, preds] = read_pair(loss, logits.argmax(1)).await?;
        loss_sum += loss.iter::<f32>().next().unwrap_or(f32::NAN) as f64 * batch.len() as f64;
        for (p, &i) in preds.iter::<i64>().zip(batch) {
            confusion.add(data.labels[i], p as usize);
        }
    }
    Ok(((loss_sum / indices.len().max(1) as f64) as f32, confusion))
}

/// The labels of `batch` as a tensor on `device`.
pub(super) fn labels_tensor(labels: &[usize], batch: &[usize], device: &burn::tensor::Device) -> Tensor<1, Int> {
    let y: Vec<i64> = batch.iter().map(|&i| labels[i] as i64).collect();
    Tensor::from_data(TensorData::new(y, [batch.len()]), device)
}

/// Reads two tensors in one asynchronous round trip.
pub(super) async fn read_pair(a: Tensor<1>, b: Tensor<2, Int>) -> Result<[TensorData; 2], Error> {
    let data = Transaction::default().register(a).register(b).execute_async().await.map_err(|e| Error::Backend(format!("{e:?}")))?;
    data.try_into().map_err(|_| Error::Backend("a tensor read returned the wrong number of tensors".into()))
}
