//! The automatic mode (`auto`): every trial runs and is scored, the lowest validation loss is
//! kept and is what the tuner predicts with; a cancel keeps the best trial so far. And the head-only
//! setting it builds on: `backboneLearningRate: 0` leaves the upper layers as they were.

mod common;

use burn::module::Module;
use burn::tensor::Device;
use burn_finetune::TextFineTuner;
use burn_finetune::model::Unfreeze;
use burn_finetune::task::Task;
use burn_finetune::train::{ClassifierTop, CollectEvents, StopReason, TrainData, TrainEvent, TrainOptions, fine_tune};
use futures_lite::future::block_on;

const REVIEWS: [&str; 16] = [
    "great film", "loved it", "wonderful acting", "a joy", "brilliant and moving", "a delight", "superb", "what a treat",
    "awful film", "boring plot", "hated it", "a mess", "dull and slow", "a waste of time", "terrible", "what a bore",
];

fn labels() -> Vec<usize> {
    (0..16).map(|i| usize::from(i < 8)).collect()
}

fn texts() -> Vec<String> {
    REVIEWS.iter().map(|r| r.to_string()).collect()
}

/// Heads are drawn from the process's one device generator: the tests take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn options() -> TrainOptions {
    TrainOptions { epochs: 2, batch_size: 4, validation_split: 0.25, auto: true, ..TrainOptions::default() }
}

fn tuner() -> TextFineTuner {
    let mut tuner = TextFineTuner::new(common::text_task(), Device::flex());
    tuner.reset(vec!["neg".into(), "pos".into()], common::prep(Unfreeze::Blocks(1), 32)).unwrap();
    block_on(tuner.add(&texts(), &labels(), false)).unwrap();
    tuner
}

#[test]
fn tries_each_configuration_and_keeps_the_lowest_validation_loss() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut tuner = tuner();
    let mut events = CollectEvents::default();
    let report = block_on(tuner.train(&options(), &mut events)).unwrap();

    assert_eq!(report.trials.len(), 4);
    assert_eq!((report.trials[0].upper_layers_train, report.trials[0].backbone_learning_rate), (false, 0.0));
    let best = report.trials.iter().map(|t| t.val_loss).fold(f32::INFINITY, f32::min);
    let kept = &report.trials[report.chosen_trial - 1];
    assert_eq!(kept.val_loss, best, "{:?}", report.trials);
    assert!(report.message.starts_with("Automatic: 4 of 4"), "{}", report.message);
    // The report is the kept trial's run.
    assert_eq!(report.best_epoch, kept.best_epoch);

    let started: Vec<usize> = events.events.iter().filter_map(|e| if let TrainEvent::Trial { trial, .. } = e { Some(*trial) } else { None }).collect();
    let done: Vec<usize> = events.events.iter().filter_map(|e| if let TrainEvent::TrialDone { trial, .. } = e { Some(*trial) } else { None }).collect();
    assert_eq!((started, done), (vec![1, 2, 3, 4], vec![1, 2, 3, 4]));

    // The kept trial is its configuration run alone, and the tuner predicts with it.
    let mut alone = self::tuner();
    let opts = TrainOptions {
        auto: false,
        learning_rate: kept.learning_rate,
        backbone_learning_rate: kept.backbone_learning_rate,
        linear_probe: !kept.upper_layers_train,
        ..options()
    };
    let single = block_on(alone.train(&opts, &mut CollectEvents::default())).unwrap();
    let losses = |r: &burn_finetune::train::TrainReport| r.epochs.iter().map(|e| e.val_loss.to_bits()).collect::<Vec<_>>();
    assert_eq!(losses(&single), losses(&report));
    let texts = texts();
    assert_eq!(block_on(tuner.predict(&texts, 2)).unwrap(), block_on(alone.predict(&texts, 2)).unwrap());
}

#[test]
fn a_cancelled_search_keeps_the_best_trial_so_far() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut tuner = tuner();
    // 12 training texts in steps of 4: 3 steps per epoch, 6 per trial; cancelled in trial 2.
    let mut events = CollectEvents { cancel_after_steps: Some(8), ..CollectEvents::default() };
    let report = block_on(tuner.train(&options(), &mut events)).unwrap();
    assert_eq!(report.stop_reason, StopReason::Cancelled);
    assert_eq!(report.trials.len(), 2, "{:?}", report.trials);
    assert!(report.message.starts_with("Automatic: 2 of 4"), "{}", report.message);
    assert!(block_on(tuner.export_model()).is_ok(), "a model is kept");
}

#[test]
fn a_backbone_rate_of_zero_trains_the_head_alone() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let task = common::text_task();
    let prep = common::prep(Unfreeze::Blocks(1), 32);
    let device = Device::flex();
    let mut cache = task.empty_cache(&prep);
    block_on(task.encode(&task.trunk(&prep, &device), &prep, &texts(), &mut cache, &device)).unwrap();
    let autodiff = device.clone().autodiff();
    autodiff.seed(0);
    let top = task.top(2, &prep, 0.0, &autodiff);
    let before = common::params(&top.valid());
    let labels = labels();
    let data = TrainData { features: &cache, labels: &labels, classes: 2, split: None };
    let opts = TrainOptions { epochs: 2, batch_size: 4, validation_split: 0.25, backbone_learning_rate: 0.0, ..TrainOptions::default() };
    let trained = block_on(fine_tune(top, data, &opts, &mut CollectEvents::default())).unwrap();
    let after = common::params(&trained.model);
    let changed = before.iter().zip(&after).filter(|(a, b)| a != b).count();
    let head = common::params(trained.model.head()).len();
    assert_eq!(changed, head, "only the head's {head} tensors change");
}
