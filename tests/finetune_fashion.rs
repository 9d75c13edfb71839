//! A real fine-tune: 20 images per class of Fashion-MNIST (10 classes), head + last 2 blocks,
//! 3 epochs, must beat chance (10 %) by a wide margin. Also the engine's input checks.

mod common;

use burn::tensor::Device;
use burn_finetune::data::PixelLayout;
use burn_finetune::model::Unfreeze;
use burn_finetune::native::folder::{add_folder, list_folder, load_rgb};
use burn_finetune::train::{CollectEvents, StopReason, TrainOptions};
use burn_finetune::task::ImageBatch;
use burn_finetune::{Error, ImageFineTuner};
use futures_lite::future::block_on;

/// The device's random generator (a fresh head's initialisation) is one per process: the tests
/// take turns, so that a seeded run's head comes from its own seed.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn fine_tuning_fashion_mnist_beats_chance_by_far() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let set = list_folder(&common::repo().join("assets/fashion-bench/train")).unwrap();
    let mut tuner = ImageFineTuner::new(common::image_task(), Device::flex());
    tuner.reset(set.classes.clone(), common::prep(Unfreeze::Blocks(2), 128)).unwrap();
    let added = block_on(add_folder(&mut tuner, &common::repo().join("assets/fashion-bench/train"), 20, false)).unwrap();
    assert!(added.skipped.is_empty());
    assert_eq!(tuner.class_counts(), vec![20; 10]);
    let opts = TrainOptions { epochs: 3, batch_size: 16, ..TrainOptions::default() };
    let report = block_on(tuner.train(&opts, &mut CollectEvents::default())).unwrap();
    for e in &report.epochs {
        println!("epoch {}: train loss {:.3} acc {:.2}, val loss {:.3} acc {:.2} f1 {:.2}", e.epoch, e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy, e.val_macro_f1);
    }
    assert_ne!(report.stop_reason, StopReason::Diverged);
    let last = report.epochs.last().unwrap();
    assert!(last.train_macro_f1 > 0.3 && last.train_macro_f1 <= 1.0, "train macro-F1 {}", last.train_macro_f1);
    assert_eq!(report.val_examples, 40);
    assert!(report.best_val_accuracy >= 0.5, "validation accuracy {} is not far above chance (0.1)", report.best_val_accuracy);
    let first = &report.epochs[0];
    assert!(report.epochs.iter().any(|e| e.val_loss < first.val_loss) || first.val_accuracy >= 0.5);

    // Prediction with the fine-tuned model: top-3 of a held image, sorted, summing below 1.
    let image = load_rgb(&set.files.last().unwrap().0).unwrap();
    let top = block_on(tuner.predict(ImageBatch { pixels: &image, layout: PixelLayout::Rgb, count: 1 }, 3)).unwrap();
    assert_eq!(top[0].len(), 3);
    assert!(top[0][0].score >= top[0][1].score && top[0].iter().map(|p| p.score).sum::<f32>() <= 1.0001);

    // New examples with other classes do not relabel the trained model's predictions.
    tuner.reset(vec!["cats".into(), "dogs".into()], common::prep(Unfreeze::Blocks(2), 128)).unwrap();
    let again = block_on(tuner.predict(ImageBatch { pixels: &image, layout: PixelLayout::Rgb, count: 1 }, 3)).unwrap();
    assert_eq!(again, top, "predictions changed after reset");
}

#[test]
fn bad_input_gets_specific_messages() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut tuner = ImageFineTuner::new(common::image_task(), Device::flex());
    tuner.reset(vec!["cats".into(), "dogs".into()], common::prep(Unfreeze::Head, 128)).unwrap();
    assert!(tuner.readiness().unwrap_err().contains("No examples"));
    let img = vec![128u8; 224 * 224 * 3];
    block_on(tuner.add(ImageBatch { pixels: &[img.clone(), img.clone()].concat(), layout: PixelLayout::Rgb, count: 2 }, &[0, 0], false)).unwrap();
    assert!(tuner.readiness().unwrap_err().contains("at least 2 classes"));
    block_on(tuner.add(ImageBatch { pixels: &img, layout: PixelLayout::Rgb, count: 1 }, &[1], false)).unwrap();
    assert!(tuner.readiness().unwrap_err().contains("'dogs' has 1"));
    let err = block_on(tuner.add(ImageBatch { pixels: &img, layout: PixelLayout::Rgb, count: 1 }, &[5], false)).unwrap_err();
    assert!(err.to_string().contains("label 5"));
    let err = block_on(tuner.add(ImageBatch { pixels: &img[..100], layout: PixelLayout::Rgb, count: 1 }, &[1], false)).unwrap_err();
    assert!(matches!(err, Error::Data(_)), "{err}");
    assert_eq!(block_on(tuner.predict(ImageBatch { pixels: &img, layout: PixelLayout::Rgb, count: 1 }, 3)).unwrap_err(), Error::NotTrained);
    // A training refusal leaves the examples in place.
    let err = block_on(tuner.train(&TrainOptions::default(), &mut CollectEvents::default())).unwrap_err();
    assert!(err.to_string().contains("at least 2"), "{err}");
    assert_eq!(tuner.class_counts(), vec![2, 1]);
}

#[test]
fn wrong_or_truncated_weights_name_the_file_and_tensor() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = std::fs::read(common::repo().join("assets/efficientnet-lite0.safetensors")).unwrap();
    let err = burn_finetune::model::EfficientNetWeights::from_bytes("lite0.safetensors", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(err.to_string().contains("lite0.safetensors") && err.to_string().contains("truncated"), "{err}");
    let err = burn_finetune::model::EfficientNetWeights::from_bytes("other.safetensors", &weights_without_stem()).unwrap_err();
    assert!(err.to_string().contains("_conv_stem.weight"), "{err}");
}

fn weights_without_stem() -> Vec<u8> {
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &[0u8; 4]).unwrap();
    safetensors::serialize([("other.weight", view)], None).unwrap()
}
