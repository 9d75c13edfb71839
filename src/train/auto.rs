//! The automatic mode (`auto`): for users who do not know what to unfreeze or which learning
//! rate to give. It runs a few configurations on the same cached features, split and seed —
//! the head alone on the pretrained layers (fitted first, then trained with the upper layers
//! kept as they are), and head + upper layers at the given learning rates, three times lower and
//! three times higher — scores each trained model on the validation split, and keeps the one
//! with the lowest validation loss. A run is deterministic on the CPU, so the kept trial *is* its
//! configuration retrained. Costs about as many runs as trials (4). Checkpoints are not written.

use serde::{Deserialize, Serialize};
use web_time::Instant;

use super::events::{StopReason, TrainEvent, TrainReport};
use super::hooks::TrainHooks;
use super::options::TrainOptions;
use super::top::{ClassifierTop, FeatureSource};
use super::trainer::{TrainData, Trained, evaluate, fine_tune};
use crate::data::stratified_split;
use crate::error::Error;

/// One configuration the automatic mode tried and how it scored on the validation split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrialReport {
    /// What it trained, in words ("head only", "head + upper layers").
    pub name: String,
    /// Whether the upper layers trained (else only the head did).
    pub upper_layers_train: bool,
    pub learning_rate: f64,
    /// 0 when the upper layers stayed as they were.
    pub backbone_learning_rate: f64,
    pub stop_reason: StopReason,
    pub best_epoch: usize,
    /// The kept model's loss and accuracy on the validation split.
    pub val_loss: f32,
    pub val_accuracy: f32,
    pub seconds: f32,
}

/// The configurations tried, over `opts`: (name, upper layers train, head rate, backbone rate).
pub fn trials(opts: &TrainOptions) -> Vec<(String, bool, f64, f64)> {
    let (head, backbone) = (opts.learning_rate, opts.backbone_learning_rate);
    let mut out = vec![("head only".to_string(), false, head, 0.0)];
    for scale in [1.0, 1.0 / 3.0, 3.0] {
        out.push((format!("head + upper layers, rates {:.0e} / {:.0e}", head * scale, backbone * scale), true, head * scale, backbone * scale));
    }
    out
}

/// Trains each of [`trials`] with a fresh top from `new_top` (seeded the same) and returns the
/// one with the lowest validation loss, its report listing every trial. A cancel ends the
/// search; the best trial so far (the cancelled one's best weights included) is kept.
pub async fn fine_tune_auto<M: ClassifierTop, S: FeatureSource<Input = M::Input>>(
    mut new_top: impl FnMut() -> M,
    data: TrainData<'_, S>,
    opts: &TrainOptions,
    hooks: &mut impl TrainHooks,
) -> Result<Trained<M>, Error> {
    opts.validate().map_err(Error::Options)?;
    let split = data.split.clone().unwrap_or_else(|| stratified_split(data.labels, opts.validation_split as f32, opts.seed));
    let configs = trials(opts);
    let mut reports = Vec::new();
    let mut best: Option<(usize, f32, Trained<M>)> = None;
    for (n, (name, upper, head, backbone)) in configs.iter().enumerate() {
        hooks.on_event(&TrainEvent::Trial { trial: n + 1, trials: configs.len(), name: name.clone() });
        let started = Instant::now();
        let trial_opts = TrainOptions {
            learning_rate: *head,
            backbone_learning_rate: *backbone,
            linear_probe: opts.linear_probe || !upper,
            ..opts.clone()
        };
        let trial_data = TrainData { features: data.features, labels: data.labels, classes: data.classes, split: Some(split.clone()) };
        let trained = fine_tune(new_top(), trial_data, &trial_opts, hooks).await?;
        let scored = TrainData { features: data.features, labels: data.labels, classes: data.classes, split: None };
        let (val_loss, confusion) = evaluate(&trained.model, &scored, &split.val, 64).await?;
        let report = TrialReport {
            name: name.clone(),
            upper_layers_train: *upper,
            learning_rate: *head,
            backbone_learning_rate: *backbone,
            stop_reason: trained.report.stop_reason,
            best_epoch: trained.report.best_epoch,
            val_loss,
            val_accuracy: confusion.accuracy(),
            seconds: started.elapsed().as_secs_f32(),
        };
        hooks.on_event(&TrainEvent::TrialDone { trial: n + 1, trials: configs.len(), report: report.clone() });
        reports.push(report);
        let cancelled = trained.report.stop_reason == StopReason::Cancelled;
        // A diverged trial was rolled back to its last good weights: not a candidate.
        let usable = trained.report.stop_reason != StopReason::Diverged && val_loss.is_finite();
        if usable && best.as_ref().is_none_or(|(_, loss, _)| val_loss < *loss) {
            best = Some((n, val_loss, trained));
        } else if best.is_none() && n + 1 == configs.len() {
            best = Some((n, val_loss, trained)); // every trial diverged: the last one's message stands
        }
        if cancelled {
            break;
        }
    }
    let (chosen, _, mut kept) = best.ok_or_else(|| Error::Data("the automatic mode was cancelled before its first trial".into()))?;
    let cancelled = reports.last().is_some_and(|r| r.stop_reason == StopReason::Cancelled);
    let report = &mut kept.report;
    report.message = format!(
        "Automatic: {} of {} configurations tried; kept \"{}\" (validation loss {:.3}, accuracy {:.1} %). {}",
        reports.len(),
        configs.len(),
        reports[chosen].name,
        reports[chosen].val_loss,
        reports[chosen].val_accuracy * 100.0,
        report.message
    );
    if cancelled {
        report.stop_reason = StopReason::Cancelled;
    }
    report.trials = reports;
    report.chosen_trial = chosen + 1;
    Ok(kept)
}

/// The report of a run made by the automatic mode, as the trials are listed (for the CLI).
pub fn describe(report: &TrainReport) -> Vec<String> {
    report
        .trials
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mark = if i + 1 == report.chosen_trial { "kept" } else { "    " };
            format!("{mark} {}: validation loss {:.3}, accuracy {:.1} %, best epoch {}, {:.0} s", t.name, t.val_loss, t.val_accuracy * 100.0, t.best_epoch, t.seconds)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_the_head_alone_and_three_rates_around_the_given_ones() {
        let t = trials(&TrainOptions { learning_rate: 3e-3, backbone_learning_rate: 3e-4, ..TrainOptions::default() });
        assert_eq!(t.len(), 4);
        assert_eq!((t[0].1, t[0].3), (false, 0.0), "head only: the upper layers keep their weights");
        let rates: Vec<(f64, f64)> = t[1..].iter().map(|c| (c.2, c.3)).collect();
        for (got, want) in rates.iter().zip([(3e-3, 3e-4), (1e-3, 1e-4), (9e-3, 9e-4)]) {
            assert!((got.0 / want.0 - 1.0).abs() < 1e-9 && (got.1 / want.1 - 1.0).abs() < 1e-9, "{got:?} != {want:?}");
        }
        assert!(t[1..].iter().all(|c| c.1));
    }
}
