//! The fine-tuning loop's guarantees: freezing, the divergence guard, early stopping with
//! best-weight restore, cancel keeping weights. Small synthetic features keep these fast.

mod common;

use burn::module::Module;
use burn::tensor::Device;
use burn_finetune::data::{FeatureCache, Split};
use burn_finetune::model::{EfficientNetClassifierConfig, Unfreeze, feature_shape};
use burn_finetune::train::{CollectEvents, StopReason, TrainData, TrainEvent, TrainOptions, fine_tune, trainer::evaluate};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use common::params;

/// `per_class` examples of `classes` classes; features carry a class signal when `signal`.
fn synthetic(unfreeze: Unfreeze, classes: usize, per_class: usize, signal: f32, seed: u64) -> (FeatureCache, Vec<usize>) {
    let shape = feature_shape(unfreeze);
    let mut cache = FeatureCache::new(shape);
    let mut rng = StdRng::seed_from_u64(seed);
    let n = cache.row_len();
    let mut labels = Vec::new();
    for i in 0..classes * per_class {
        let label = i % classes;
        let row: Vec<f32> = (0..n)
            .map(|j| {
                let base: f32 = rng.random_range(0.0..1.0);
                if j % classes == label { base + signal } else { base }
            })
            .collect();
        cache.push(&row);
        labels.push(label);
    }
    (cache, labels)
}

fn opts() -> TrainOptions {
    TrainOptions { epochs: 1, batch_size: 8, validation_split: 0.25, ..TrainOptions::default() }
}

#[test]
fn frozen_layers_stay_bit_identical_and_unfrozen_ones_change() {
    let device = Device::flex();
    let weights = common::weights();
    let unfreeze = Unfreeze::Blocks(1);
    let trunk = weights.trunk(unfreeze, &device);
    let trunk_before = params(&trunk);
    let model = EfficientNetClassifierConfig { classes: 3, unfreeze, dropout: 0.0 }.init(&weights, &device.clone().autodiff());
    let (upper_before, head_before) = (params(&model.upper), params(&model.head));
    let (cache, labels) = synthetic(unfreeze, 3, 8, 0.5, 1);
    let data = TrainData { features: &cache, labels: &labels, classes: 3, split: None };
    let trained = futures_lite::future::block_on(fine_tune(model, data, &opts(), &mut CollectEvents::default())).unwrap();

    assert_eq!(params(&trunk), trunk_before, "the frozen trunk changed");
    // The cut loses nothing: frozen trunk + trainable upper layers = the whole pretrained backbone.
    let (blocks, conv_head) = weights.upper(unfreeze, &device);
    let upper_params = blocks.iter().map(|b| b.num_params()).sum::<usize>() + conv_head.map_or(0, |c| c.num_params());
    assert_eq!(trunk.num_params() + upper_params, weights.trunk(Unfreeze::Head, &device).num_params());
    let changed = |a: &[Vec<f32>], b: &[Vec<f32>]| a.iter().zip(b).filter(|(x, y)| x != y).count();
    let upper_after = params(&trained.model.upper);
    assert_eq!(changed(&upper_after, &upper_before), upper_before.len(), "every unfrozen tensor should move");
    assert_eq!(changed(&params(&trained.model.head), &head_before), head_before.len());
}

#[test]
fn head_only_trains_no_backbone_layer() {
    let weights = common::weights();
    let model = EfficientNetClassifierConfig { classes: 4, unfreeze: Unfreeze::Head, dropout: 0.0 }.init(&weights, &Device::flex().autodiff());
    assert!(model.upper.is_empty());
    assert_eq!(model.num_params(), 1280 * 4 + 4);
}

#[test]
fn divergence_guard_rolls_back_and_says_to_lower_the_lr() {
    let weights = common::weights();
    let unfreeze = Unfreeze::Head;
    let model = EfficientNetClassifierConfig { classes: 3, unfreeze, dropout: 0.0 }.init(&weights, &Device::flex().autodiff());
    let initial = params(&model.head);
    let (cache, labels) = synthetic(unfreeze, 3, 10, 1.0, 2);
    let data = TrainData { features: &cache, labels: &labels, classes: 3, split: None };
    // Adam moves every weight by about the learning rate on the first step: at 1e38 the next logits
    // overflow whatever the (unseeded) initial head was, so divergence is certain, not likely.
    let o = TrainOptions { learning_rate: 1e38, epochs: 5, warmup_share: 0.0, ..opts() };
    let trained = futures_lite::future::block_on(fine_tune(model, data, &o, &mut CollectEvents::default())).unwrap();
    assert_eq!(trained.report.stop_reason, StopReason::Diverged, "{}", trained.report.message);
    assert!(trained.report.message.contains("Lower the learning rate"), "{}", trained.report.message);
    let kept = params(&trained.model.head);
    assert!(kept.iter().flatten().all(|v| v.is_finite()));
    assert_eq!(trained.report.best_epoch, 0);
    assert_eq!(kept, initial, "with no good epoch the initial weights must come back");
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    let weights = common::weights();
    let unfreeze = Unfreeze::Head;
    let device = Device::flex().autodiff();
    let model = EfficientNetClassifierConfig { classes: 2, unfreeze, dropout: 0.0 }.init(&weights, &device);
    // Labels are noise: the head memorises the training half and validation loss soon rises.
    let (cache, mut labels) = synthetic(unfreeze, 2, 30, 0.0, 3);
    let mut rng = StdRng::seed_from_u64(9);
    labels.iter_mut().for_each(|l| *l = rng.random_range(0..2));
    let split = Split { train: (0..40).collect(), val: (40..60).collect() };
    let data = TrainData { features: &cache, labels: &labels, classes: 2, split: Some(split.clone()) };
    let o = TrainOptions { learning_rate: 5e-3, epochs: 30, patience: 2, warmup_share: 0.0, ..opts() };
    let mut hooks = CollectEvents::default();
    let trained = futures_lite::future::block_on(fine_tune(model, data, &o, &mut hooks)).unwrap();
    let r = &trained.report;
    assert_eq!(r.stop_reason, StopReason::EarlyStopped, "{}", r.message);
    assert!(r.best_epoch < r.epochs.len(), "the best epoch should precede the stop");
    let data = TrainData { features: &cache, labels: &labels, classes: 2, split: None };
    let (val_loss, _) = futures_lite::future::block_on(evaluate(&trained.model, &data, &split.val, 8)).unwrap();
    let best_loss = r.epochs[r.best_epoch - 1].val_loss;
    assert!((val_loss - best_loss).abs() < 1e-4, "kept weights give val loss {val_loss}, best epoch had {best_loss}");
    assert!(hooks.events.iter().any(|e| matches!(e, TrainEvent::Done(_))));
}

#[test]
fn cancel_stops_within_a_step_and_keeps_weights() {
    let weights = common::weights();
    let unfreeze = Unfreeze::Head;
    let model = EfficientNetClassifierConfig { classes: 3, unfreeze, dropout: 0.0 }.init(&weights, &Device::flex().autodiff());
    let (cache, labels) = synthetic(unfreeze, 3, 20, 1.0, 4);
    let data = TrainData { features: &cache, labels: &labels, classes: 3, split: None };
    let mut hooks = CollectEvents { cancel_after_steps: Some(3), ..Default::default() };
    let o = TrainOptions { epochs: 5, ..opts() };
    let trained = futures_lite::future::block_on(fine_tune(model, data, &o, &mut hooks)).unwrap();
    assert_eq!(trained.report.stop_reason, StopReason::Cancelled);
    let steps = hooks.events.iter().filter(|e| matches!(e, TrainEvent::Step { .. })).count();
    assert_eq!(steps, 3, "training went on after cancel");
    assert!(params(&trained.model.head).iter().flatten().all(|v| v.is_finite()));
}
