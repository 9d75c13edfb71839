//! Fine-tuning that keeps what the model knew: the head fitted alone first (LP-FT) and the
//! fine-tuned weights mixed with the pretrained ones (WiSE-FT), for classifiers. Small synthetic
//! features keep these fast; `bench_transfer` measures what they are for.

mod common;

use burn::tensor::Device;
use burn_finetune::data::{FeatureCache, Split};
use burn_finetune::model::{EfficientNetClassifierConfig, Unfreeze, feature_shape};
use burn_finetune::train::{CollectEvents, StopReason, TrainData, TrainEvent, TrainOptions, fine_tune, trainer::evaluate};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use common::params;

/// `per_class` examples of `classes` classes whose features carry a class signal of `signal`.
fn synthetic(unfreeze: Unfreeze, classes: usize, per_class: usize, signal: f32, seed: u64) -> (FeatureCache, Vec<usize>) {
    let mut cache = FeatureCache::new(feature_shape(unfreeze));
    let mut rng = StdRng::seed_from_u64(seed);
    let n = cache.row_len();
    let mut labels = Vec::new();
    for i in 0..classes * per_class {
        let label = i % classes;
        let row: Vec<f32> = (0..n).map(|j| rng.random_range(0.0..1.0) + if j % classes == label { signal } else { 0.0 }).collect();
        cache.push(&row);
        labels.push(label);
    }
    (cache, labels)
}

/// The device's random generator (a fresh head's initialisation) is one per process: the tests
/// take turns, so that each run starts from the head its seed gives.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A fresh classifier whose head comes from `seed`.
fn classifier(weights: &burn_finetune::model::EfficientNetWeights, classes: usize, unfreeze: Unfreeze, seed: u64) -> burn_finetune::model::EfficientNetClassifier {
    let device = Device::flex().autodiff();
    device.seed(seed);
    EfficientNetClassifierConfig { classes, unfreeze, dropout: 0.0 }.init(weights, &device)
}

fn opts() -> TrainOptions {
    TrainOptions { epochs: 2, batch_size: 8, validation_split: 0.25, dropout: 0.0, ..TrainOptions::default() }
}

#[test]
fn the_probed_head_starts_fine_tuning_where_a_fresh_head_cannot() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let weights = common::weights();
    let unfreeze = Unfreeze::Head;
    let (cache, labels) = synthetic(unfreeze, 3, 20, 0.3, 1);
    let run = |linear_probe: bool| {
        let model = classifier(&weights, 3, unfreeze, 0);
        let data = TrainData { features: &cache, labels: &labels, classes: 3, split: None };
        let mut hooks = CollectEvents::default();
        let o = TrainOptions { linear_probe, epochs: 1, ..opts() };
        let trained = futures_lite::future::block_on(fine_tune(model, data, &o, &mut hooks)).unwrap();
        (trained, hooks.events)
    };
    let (fresh, fresh_events) = run(false);
    let (probed, events) = run(true);
    assert!(fresh.report.linear_probe.is_none() && fresh.probed.is_none());
    assert!(!fresh_events.iter().any(|e| matches!(e, TrainEvent::LinearProbeEpoch { .. })));

    let probe = probed.report.linear_probe.clone().expect("a probe report");
    assert!(probe.best_epoch >= 1 && probe.best_epoch <= probe.epochs, "{probe:?}");
    let probe_events: Vec<_> = events.iter().filter_map(|e| if let TrainEvent::LinearProbeEpoch { epoch, .. } = e { Some(*epoch) } else { None }).collect();
    assert_eq!(probe_events, (1..=probe.epochs).collect::<Vec<_>>(), "one event per probe epoch, before training");
    let first_step = events.iter().position(|e| matches!(e, TrainEvent::Step { .. })).unwrap();
    assert!(events[..first_step].iter().filter(|e| matches!(e, TrainEvent::LinearProbeEpoch { .. })).count() == probe.epochs);
    // The probed head already separates the classes: fine-tuning's first epoch starts from it.
    assert!(probe.val_accuracy >= 0.9, "the probe reached only {}", probe.val_accuracy);
    let loss = |r: &burn_finetune::train::TrainReport| r.epochs[0].train_loss;
    assert!(loss(&probed.report) < 0.5 * loss(&fresh.report), "probed {} vs fresh {}", loss(&probed.report), loss(&fresh.report));
    // The frozen-feature model is the probe: its validation loss is the probe's.
    let split = burn_finetune::data::stratified_split(&labels, 0.25, 0);
    let data = TrainData { features: &cache, labels: &labels, classes: 3, split: None };
    let (val_loss, _) = futures_lite::future::block_on(evaluate(probed.probed.as_ref().unwrap(), &data, &split.val, 8)).unwrap();
    assert!((val_loss - probe.val_loss).abs() < 1e-4, "{val_loss} vs {}", probe.val_loss);
}

#[test]
fn the_mix_with_the_pretrained_weights_is_chosen_on_validation_and_reported() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let weights = common::weights();
    let unfreeze = Unfreeze::Blocks(1);
    let (cache, labels) = synthetic(unfreeze, 3, 8, 0.5, 2);
    let split = Split { train: (0..18).collect(), val: (18..24).collect() };
    let model = classifier(&weights, 3, unfreeze, 0);
    let pretrained_upper = params(&model.upper);
    let data = TrainData { features: &cache, labels: &labels, classes: 3, split: Some(split.clone()) };
    let mut hooks = CollectEvents::default();
    let o = TrainOptions { linear_probe: true, mix_pretrained: true, ..opts() };
    let trained = futures_lite::future::block_on(fine_tune(model, data, &o, &mut hooks)).unwrap();
    let r = &trained.report;
    assert_eq!(r.mixes.iter().map(|m| m.share).collect::<Vec<_>>(), vec![0.75, 0.5, 0.25], "{}", r.message);
    let scored = hooks.events.iter().filter(|e| matches!(e, TrainEvent::MixScored { .. })).count();
    assert_eq!(scored, 3);

    let data = TrainData { features: &cache, labels: &labels, classes: 3, split: None };
    let val_loss = |m| futures_lite::future::block_on(evaluate(m, &data, &split.val, 8)).unwrap().0;
    let best_epoch_loss = r.epochs[r.best_epoch - 1].val_loss;
    let kept = val_loss(&trained.model);
    // The kept model is the lowest validation loss of the best epoch and every mix.
    let lowest = r.mixes.iter().map(|m| m.val_loss).fold(best_epoch_loss, f32::min);
    assert!((kept - lowest).abs() < 1e-4, "kept {kept}, lowest {lowest}");
    // On this set (seeded, the CPU) a mix scores best: the mixed branch is the one checked.
    match trained.unmixed.as_ref() {
        Some(unmixed) => {
            assert!(r.fine_tuned_share < 1.0 && r.message.contains("mixed"), "{}", r.message);
            assert!((val_loss(unmixed) - best_epoch_loss).abs() < 1e-4);
            // Mixed part of the way back: each upper tensor lies between pretrained and fine-tuned.
            let (mixed, tuned) = (params(&trained.model.upper), params(&unmixed.upper));
            let s = r.fine_tuned_share;
            for ((m, t), p) in mixed.iter().zip(&tuned).zip(&pretrained_upper) {
                for ((m, t), p) in m.iter().zip(t).zip(p) {
                    assert!((m - (s * t + (1.0 - s) * p)).abs() < 1e-5);
                }
            }
        }
        None => panic!("no mix was kept (share {}): {:?}", r.fine_tuned_share, r.mixes),
    }
}

#[test]
fn cancel_during_the_probe_ends_the_run_with_its_weights_whole() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let weights = common::weights();
    let unfreeze = Unfreeze::Head;
    let (cache, labels) = synthetic(unfreeze, 3, 10, 0.5, 3);
    let model = classifier(&weights, 3, unfreeze, 0);
    let head = params(&model.head);
    let data = TrainData { features: &cache, labels: &labels, classes: 3, split: None };
    let mut hooks = CollectEvents { cancel_after_steps: Some(0), ..Default::default() };
    let o = TrainOptions { linear_probe: true, mix_pretrained: true, ..opts() };
    let trained = futures_lite::future::block_on(fine_tune(model, data, &o, &mut hooks)).unwrap();
    assert_eq!(trained.report.stop_reason, StopReason::Cancelled);
    assert!(trained.report.epochs.is_empty() && trained.report.mixes.is_empty());
    assert!(!hooks.events.iter().any(|e| matches!(e, TrainEvent::Step { .. })));
    assert_eq!(params(&trained.model.head), head, "a cancelled probe leaves the head as it was");
}

#[test]
fn the_epochs_average_is_kept_only_when_validation_prefers_it() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let weights = common::weights();
    let unfreeze = Unfreeze::Head;
    let (cache, labels) = synthetic(unfreeze, 3, 12, 0.2, 4);
    let split = Split { train: (0..27).collect(), val: (27..36).collect() };
    let data = TrainData { features: &cache, labels: &labels, classes: 3, split: None };
    let val_loss = |m: &burn_finetune::model::EfficientNetClassifier| futures_lite::future::block_on(evaluate(m, &data, &split.val, 8)).unwrap().0;
    let mut kept_any = [false; 2];
    for seed in 0..6 {
        let model = classifier(&weights, 3, unfreeze, seed);
        let train = TrainData { features: &cache, labels: &labels, classes: 3, split: Some(split.clone()) };
        // A high learning rate: the weights jump around the optimum from epoch to epoch.
        let o = TrainOptions { average_epochs: true, epochs: 5, patience: 10, learning_rate: 1e-2, warmup_share: 0.0, seed, ..opts() };
        let trained = futures_lite::future::block_on(fine_tune(model, train, &o, &mut CollectEvents::default())).unwrap();
        let r = &trained.report;
        let averaged = r.averaged.clone().expect("an average of epochs 2 to 5");
        assert_eq!(averaged.epochs, 4);
        let best_epoch_loss = r.epochs[r.best_epoch - 1].val_loss;
        let kept = val_loss(&trained.model);
        if averaged.kept {
            assert!((kept - averaged.val_loss).abs() < 1e-4 && averaged.val_loss < best_epoch_loss, "{averaged:?}");
            assert!(r.message.contains("average of epochs 2–5"), "{}", r.message);
        } else {
            assert!((kept - best_epoch_loss).abs() < 1e-4 && averaged.val_loss >= best_epoch_loss, "{averaged:?}");
        }
        kept_any[averaged.kept as usize] = true;
    }
    assert_eq!(kept_any, [true, true], "over these seeds the average should win sometimes and lose sometimes");
}
