//! Image augmentation in the feature cache (`Preparation::augment`): each image's views are
//! cached beside it, depend only on the image, train, and never reach prediction; other tasks
//! refuse it.

mod common;

use burn::tensor::Device;
use burn_finetune::data::{FeatureCache, PixelLayout};
use burn_finetune::model::Unfreeze;
use burn_finetune::native::folder::{add_folder, list_folder, load_rgb};
use burn_finetune::task::{ImageBatch, Preparation, Task};
use burn_finetune::train::{CollectEvents, TrainOptions};
use burn_finetune::{ImageFineTuner, TextFineTuner};
use futures_lite::future::block_on;

/// Heads are drawn from the process's one device generator: the training tests take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn views(augment: usize, flip: bool) -> Preparation {
    Preparation { augment, flip, ..common::prep(Unfreeze::Blocks(2), 128) }
}

/// Four Fashion-MNIST images, 224×224 RGB.
fn four_images() -> Vec<u8> {
    let set = list_folder(&common::repo().join("assets/fashion-bench/train")).unwrap();
    set.files.iter().step_by(50).take(4).flat_map(|(path, _)| load_rgb(path).unwrap()).collect()
}

#[test]
fn each_images_views_are_its_own_whatever_call_brings_it() {
    let task = common::image_task();
    let prep = views(2, true);
    let device = Device::flex();
    let trunk = task.trunk(&prep, &device);
    let pixels = four_images();
    let batch = |range: std::ops::Range<usize>| ImageBatch { pixels: &pixels[range.start * 150_528..range.end * 150_528], layout: PixelLayout::Rgb, count: range.len() };

    let mut together = task.empty_cache(&prep);
    block_on(task.encode(&trunk, &prep, batch(0..4), &mut together, &device)).unwrap();
    let mut apart = task.empty_cache(&prep);
    block_on(task.encode(&trunk, &prep, batch(2..4), &mut apart, &device)).unwrap();
    block_on(task.encode(&trunk, &prep, batch(0..2), &mut apart, &device)).unwrap();
    assert_eq!((together.len(), together.views()), (4, 3));

    let mut plain = FeatureCache::new(together.shape());
    block_on(task.encode(&trunk, &Preparation { augment: 0, ..prep }, batch(0..4), &mut plain, &device)).unwrap();
    assert_eq!(together.bytes(), 3 * plain.bytes(), "an original and two views per image");
    let all = [0, 1, 2, 3];
    assert_eq!(together.gather(&all), plain.gather(&all), "the originals are the plain features");
    for view in 0..3 {
        // Image 0 of `together` is image 2 of `apart`.
        assert_eq!(together.gather_views(&[0, 2], |_| view), apart.gather_views(&[2, 0], |_| view), "view {view} depends on the image only");
    }
    let distance = |view: usize| {
        let (a, b) = (together.gather(&all), together.gather_views(&all, |_| view));
        a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
    };
    assert!(distance(1) > 0.01 && distance(2) > 0.01 && distance(1) != distance(2), "views differ from the original and each other: {} {}", distance(1), distance(2));
}

#[test]
fn an_augmented_fine_tune_learns_and_predicts_from_the_originals() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let folder = common::repo().join("assets/fashion-bench/train");
    let set = list_folder(&folder).unwrap();
    let tuner = |prep: Preparation| {
        let mut tuner = ImageFineTuner::new(common::image_task(), Device::flex());
        tuner.reset(set.classes.clone(), prep).unwrap();
        block_on(add_folder(&mut tuner, &folder, 12, false)).unwrap();
        tuner
    };
    let (mut plain, mut augmented) = (tuner(views(0, true)), tuner(views(2, true)));
    assert_eq!(augmented.cache_bytes(), 3 * plain.cache_bytes());

    let opts = TrainOptions { epochs: 3, batch_size: 16, ..TrainOptions::default() };
    let with_views = block_on(augmented.train(&opts, &mut CollectEvents::default())).unwrap();
    let without = block_on(plain.train(&opts, &mut CollectEvents::default())).unwrap();
    // The same seed and split: the first epoch's training loss differs only by the views drawn.
    assert_eq!(with_views.val_examples, without.val_examples);
    assert_ne!(with_views.epochs[0].train_loss, without.epochs[0].train_loss, "the epochs trained on views");
    let first = &with_views.epochs[0];
    assert!(with_views.epochs.iter().any(|e| e.val_loss < first.val_loss), "validation loss never improved: {:?}", with_views.epochs);
    assert!(with_views.best_val_accuracy >= 0.4, "validation accuracy {} is not far above chance (0.1)", with_views.best_val_accuracy);

    // Prediction prepares one row per image, as the plain model's does: a trained model whose
    // examples were augmented predicts an image as a model file of it does.
    let image = load_rgb(&set.files[0].0).unwrap();
    let input = ImageBatch { pixels: &image, layout: PixelLayout::Rgb, count: 1 };
    let direct = block_on(augmented.predict(input, 3)).unwrap();
    let mut imported = ImageFineTuner::new(common::image_task(), Device::flex());
    imported.import_model(&block_on(augmented.export_model()).unwrap()).unwrap();
    assert_eq!(block_on(imported.predict(input, 3)).unwrap(), direct);
}

#[test]
fn only_images_are_augmented_and_at_most_eight_views() {
    let mut images = ImageFineTuner::new(common::image_task(), Device::flex());
    let e = images.reset(vec!["a".into(), "b".into()], views(9, true)).unwrap_err().to_string();
    assert!(e.contains("at most 8 views"), "{e}");
    let mut text = TextFineTuner::new(common::text_task(), Device::flex());
    let e = text.reset(vec!["a".into(), "b".into()], views(2, true)).unwrap_err().to_string();
    assert!(e.contains("only images are augmented"), "{e}");
}
