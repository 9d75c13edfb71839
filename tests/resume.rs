//! Resume: a run that goes on from the checkpoint of an earlier epoch ends exactly as the
//! uninterrupted run did (same per-epoch losses to the bit, same weights), on text (two MiniLM
//! layers with dropout) and images (two EfficientNet blocks); a checkpoint is refused, with the
//! first difference named, when the examples, their order, the classes or the preparation changed.

mod common;

use burn::tensor::Device;
use burn_finetune::data::PixelLayout;
use burn_finetune::model::Unfreeze;
use burn_finetune::task::{ImageBatch, Preparation};
use burn_finetune::train::{CollectEvents, TrainEvent, TrainOptions, TrainReport};
use burn_finetune::{ImageFineTuner, TextFineTuner};
use futures_lite::future::block_on;

fn texts(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

const REVIEWS: [&str; 12] = [
    "great film", "loved it", "wonderful acting", "a joy", "brilliant and moving", "a delight",
    "awful film", "boring plot", "hated it", "a mess", "dull and slow", "a waste of time",
];
const LABELS: [usize; 12] = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0];

fn text_tuner(order: &[usize]) -> TextFineTuner {
    let mut tuner = TextFineTuner::new(common::text_task(), Device::flex());
    tuner.reset(texts(&["neg", "pos"]), common::prep(Unfreeze::Blocks(2), 32)).unwrap();
    let examples: Vec<String> = order.iter().map(|&i| REVIEWS[i].to_string()).collect();
    let labels: Vec<usize> = order.iter().map(|&i| LABELS[i]).collect();
    block_on(tuner.add(&examples, &labels, false)).unwrap();
    tuner
}

fn options() -> TrainOptions {
    // Patience above the epochs: every epoch runs, whatever the losses do.
    TrainOptions { epochs: 4, batch_size: 4, validation_split: 0.25, patience: 10, learning_rate: 3e-3, ..TrainOptions::default() }
}

/// The numbers of a report that must not depend on the interruption (timings aside).
fn numbers(report: &TrainReport) -> Vec<[u32; 6]> {
    report
        .epochs
        .iter()
        .map(|e| [e.epoch as u32, e.train_loss.to_bits(), e.train_accuracy.to_bits(), e.val_loss.to_bits(), e.val_accuracy.to_bits(), e.learning_rate.to_bits() as u32])
        .collect()
}

/// The device's random generator (a head's initialisation) is one per process: tests that compare
/// runs bit for bit take turns, or another test's draws fall between a seed and its use.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn hooks() -> CollectEvents {
    CollectEvents { keep_checkpoints: true, ..CollectEvents::default() }
}

#[test]
fn text_resumed_from_epoch_2_ends_as_the_uninterrupted_run() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let all: Vec<usize> = (0..12).collect();
    let mut whole = text_tuner(&all);
    let mut events = hooks();
    let uninterrupted = block_on(whole.train(&options(), &mut events)).unwrap();
    assert_eq!(uninterrupted.epochs.len(), 4);
    // One checkpoint after each epoch that more follow.
    assert_eq!(events.checkpoints.iter().map(|c| c.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    let (_, checkpoint) = events.checkpoints[1].clone();
    // Keeping checkpoints does not change the run.
    let without = block_on(text_tuner(&all).train(&options(), &mut CollectEvents::default())).unwrap();
    assert_eq!(numbers(&without), numbers(&uninterrupted));
    println!("text checkpoint (head + 2 layers, their best copy and AdamW moments): {:.1} MB", checkpoint.len() as f64 / 1e6);

    // Another fine-tuner (a reload) with the same examples goes on from epoch 2.
    let mut again = text_tuner(&all);
    let mut events = hooks();
    let resumed = block_on(again.resume(checkpoint.clone(), &mut events)).unwrap();
    let Some(TrainEvent::Resumed { epoch, epochs }) = events.events.first() else { panic!("no resumed event first: {:?}", events.events.first()) };
    assert_eq!((*epoch, epochs.len()), (2, 2));
    assert_eq!(events.events.iter().filter(|e| matches!(e, TrainEvent::Epoch(_))).count(), 2, "only epochs 3 and 4 ran");
    assert_eq!(numbers(&resumed), numbers(&uninterrupted));
    assert_eq!((resumed.best_epoch, resumed.stop_reason), (uninterrupted.best_epoch, uninterrupted.stop_reason));
    assert_eq!(block_on(again.export_model()).unwrap(), block_on(whole.export_model()).unwrap(), "the weights differ");
    // It kept writing checkpoints: the one after epoch 3 is the uninterrupted run's.
    assert_eq!(events.checkpoints.iter().map(|c| c.0).collect::<Vec<_>>(), vec![3]);

    // The same examples in another order, fewer examples, another cut: refused by name.
    let mut swapped = all.clone();
    swapped.swap(0, 6);
    let e = text_tuner(&swapped).check_checkpoint(checkpoint.clone()).err().unwrap().to_string();
    assert!(e.contains("in another order"), "{e}");
    let e = text_tuner(&all[..10]).check_checkpoint(checkpoint.clone()).err().unwrap().to_string();
    assert!(e.contains("had 12 examples; there are 10 now"), "{e}");
    let mut changed = text_tuner(&all);
    changed.reset(texts(&["neg", "pos"]), common::prep(Unfreeze::Blocks(1), 32)).unwrap();
    let e = changed.check_checkpoint(checkpoint.clone()).err().unwrap().to_string();
    assert!(e.contains("prepared with unfreeze 2"), "{e}");
    // Not a checkpoint, or damaged.
    let model = block_on(whole.export_model()).unwrap();
    let e = whole.check_checkpoint(model).err().unwrap().to_string();
    assert!(e.contains("not a training checkpoint"), "{e}");
    let e = whole.check_checkpoint(checkpoint[..checkpoint.len() / 2].to_vec()).err().unwrap().to_string();
    assert!(e.contains("damaged or truncated"), "{e}");
}

#[test]
fn a_cancelled_image_run_goes_on_to_the_uninterrupted_result() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let shades = [10u8, 30, 50, 70, 90, 110, 150, 170, 190, 210, 230, 250];
    let pixels: Vec<u8> = shades.iter().flat_map(|&v| vec![v; 224 * 224 * 3]).collect();
    let labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    // Augmented: each epoch draws its views, and the resumed epochs draw the same ones.
    let tuner_with = |augment: usize| {
        let mut tuner = ImageFineTuner::new(common::image_task(), Device::flex());
        tuner.reset(texts(&["dark", "light"]), Preparation { augment, ..common::prep(Unfreeze::Blocks(2), 128) }).unwrap();
        block_on(tuner.add(ImageBatch { pixels: &pixels, layout: PixelLayout::Rgb, count: 12 }, &labels, false)).unwrap();
        tuner
    };
    let tuner = || tuner_with(2);
    let opts = TrainOptions { epochs: 3, ..options() };
    let mut whole = tuner();
    let uninterrupted = block_on(whole.train(&opts, &mut hooks())).unwrap();

    // Cancelled during epoch 2 (8 training images: 2 steps per epoch): its checkpoint is epoch 1's.
    let mut first = tuner();
    let mut events = CollectEvents { cancel_after_steps: Some(3), ..hooks() };
    let cancelled = block_on(first.train(&opts, &mut events)).unwrap();
    assert_eq!(cancelled.epochs.len(), 1);
    let (epoch, checkpoint) = events.checkpoints.pop().unwrap();
    assert_eq!(epoch, 1);
    let summary = first.check_checkpoint(checkpoint.clone()).unwrap();
    assert_eq!(summary.0.progress.epoch, 1);
    let e = tuner_with(0).check_checkpoint(checkpoint.clone()).err().unwrap().to_string();
    assert!(e.contains("2 augmented views"), "{e}");
    let resumed = block_on(tuner().resume(checkpoint, &mut hooks())).unwrap();
    assert_eq!(numbers(&resumed), numbers(&uninterrupted));
}

#[test]
fn a_run_that_probes_averages_and_mixes_resumes_to_the_uninterrupted_result() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let all: Vec<usize> = (0..12).collect();
    let opts = TrainOptions { linear_probe: true, average_epochs: true, mix_pretrained: true, label_smoothing: 0.1, ..options() };
    let mut whole = text_tuner(&all);
    let mut events = hooks();
    let uninterrupted = block_on(whole.train(&opts, &mut events)).unwrap();
    let averaged = uninterrupted.averaged.clone().expect("epochs 2 to 4 averaged");
    assert_eq!(averaged.epochs, 3);
    assert!(uninterrupted.linear_probe.is_some() && uninterrupted.mixes.len() == 3);
    let (_, checkpoint) = events.checkpoints[1].clone();

    let mut again = text_tuner(&all);
    let resumed = block_on(again.resume(checkpoint, &mut hooks())).unwrap();
    assert_eq!(numbers(&resumed), numbers(&uninterrupted));
    assert_eq!(resumed.averaged, uninterrupted.averaged, "the average goes on from the checkpoint's");
    assert_eq!((resumed.fine_tuned_share, &resumed.mixes), (uninterrupted.fine_tuned_share, &uninterrupted.mixes), "the mix is the same");
    assert_eq!(resumed.message, uninterrupted.message);
    assert_eq!(block_on(again.export_model()).unwrap(), block_on(whole.export_model()).unwrap(), "the weights differ");
}
