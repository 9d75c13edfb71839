//! Export and import of a fine-tuned model as one file: the imported model predicts exactly what
//! the trained one did, and files that are not ours, for the other model or damaged are refused
//! with the reason.

mod common;

use burn::tensor::Device;
use burn_finetune::data::PixelLayout;
use burn_finetune::model::Unfreeze;
use burn_finetune::train::{CollectEvents, TrainOptions};
use burn_finetune::task::{ImageBatch, TextTask};
use burn_finetune::{Error, ImageFineTuner, TextFineTuner};
use futures_lite::future::block_on;

fn texts(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn trained_text_tuner() -> TextFineTuner {
    let (weights, tokenizer) = common::minilm();
    let mut tuner = TextFineTuner::new(TextTask { weights, tokenizer }, Device::flex());
    tuner.reset(texts(&["neg", "pos"]), common::prep(Unfreeze::Blocks(1), 32)).unwrap();
    let examples = texts(&["great film", "loved it", "wonderful acting", "a joy", "awful film", "boring plot", "hated it", "a mess"]);
    block_on(tuner.add(&examples, &[1, 1, 1, 1, 0, 0, 0, 0], false)).unwrap();
    let opts = TrainOptions { epochs: 2, batch_size: 4, validation_split: 0.25, ..TrainOptions::default() };
    block_on(tuner.train(&opts, &mut CollectEvents::default())).unwrap();
    tuner
}

#[test]
fn a_text_model_round_trips_through_one_file() {
    let tuner = trained_text_tuner();
    let probe = texts(&["what a great film", "a boring mess"]);
    let before = block_on(tuner.predict(&probe, 2)).unwrap();
    // The engine scores labelled inputs itself: accuracy from the same predictions, per-class
    // support from the labels; a label the model does not know is refused by name.
    let labels = texts(&["pos", "neg"]);
    let scores = block_on(tuner.evaluate(&probe, &labels)).unwrap();
    let right = before.iter().zip(&labels).filter(|(p, l)| &p[0].label == *l).count();
    assert_eq!((scores.examples, scores.accuracy), (2, right as f32 / 2.0));
    assert_eq!(scores.per_class.iter().map(|s| s.support).collect::<Vec<_>>(), vec![1, 1]);
    assert_eq!(scores.confusion.total(), 2);
    let e = block_on(tuner.evaluate(&probe, &texts(&["pos", "meh"]))).unwrap_err().to_string();
    assert!(e.contains("'meh' is not one of the model's classes (neg, pos)"), "{e}");
    let bytes = block_on(tuner.export_model()).unwrap();
    // Head (384×2 + 2) + one encoder layer (~1.78 M parameters) in f32, plus a small header.
    println!("text model file: {} bytes", bytes.len());
    assert!(bytes.len() > 7_000_000 && bytes.len() < 7_300_000, "{} bytes", bytes.len());

    let (weights, tokenizer) = common::minilm();
    let mut fresh = TextFineTuner::new(TextTask { weights, tokenizer }, Device::flex());
    assert_eq!(block_on(fresh.predict(&probe, 2)).unwrap_err(), Error::NotTrained);
    let info = fresh.import_model(&bytes).unwrap();
    assert_eq!((info.task.as_str(), info.classes.clone(), info.unfreeze, info.max_length), ("text", texts(&["neg", "pos"]), Unfreeze::Blocks(1), Some(32)));
    assert_eq!(block_on(fresh.predict(&probe, 2)).unwrap(), before, "the imported model predicts differently");
}

#[test]
fn an_image_model_round_trips_and_files_for_the_other_task_are_refused() {
    let mut tuner = ImageFineTuner::new(common::image_task(), Device::flex());
    tuner.reset(texts(&["dark", "light"]), common::prep(Unfreeze::Head, 128)).unwrap();
    let image = |v: u8| vec![v; 224 * 224 * 3];
    let pixels: Vec<u8> = [10u8, 20, 30, 40, 200, 210, 220, 230].iter().flat_map(|&v| image(v)).collect();
    block_on(tuner.add(ImageBatch { pixels: &pixels, layout: PixelLayout::Rgb, count: 8 }, &[0, 0, 0, 0, 1, 1, 1, 1], false)).unwrap();
    let opts = TrainOptions { epochs: 3, batch_size: 4, validation_split: 0.25, ..TrainOptions::default() };
    block_on(tuner.train(&opts, &mut CollectEvents::default())).unwrap();
    let probe: Vec<u8> = [25u8, 215].iter().flat_map(|&v| image(v)).collect();
    let before = block_on(tuner.predict(ImageBatch { pixels: &probe, layout: PixelLayout::Rgb, count: 2 }, 2)).unwrap();
    let bytes = block_on(tuner.export_model()).unwrap();
    println!("image model file (head only): {} bytes", bytes.len());
    assert!(bytes.len() < 12_000, "{} bytes", bytes.len());

    let mut fresh = ImageFineTuner::new(common::image_task(), Device::flex());
    let info = fresh.import_model(&bytes).unwrap();
    assert_eq!((info.base_model.as_str(), info.unfreeze), ("efficientnet-lite0", Unfreeze::Head));
    assert_eq!(block_on(fresh.predict(ImageBatch { pixels: &probe, layout: PixelLayout::Rgb, count: 2 }, 2)).unwrap(), before);

    // An image model offered to the text task, and a text model to the image task.
    let (weights, tokenizer) = common::minilm();
    let mut text = TextFineTuner::new(TextTask { weights, tokenizer }, Device::flex());
    let e = text.import_model(&bytes).unwrap_err().to_string();
    assert!(e.contains("fine-tuned from efficientnet-lite0 (image task)") && e.contains("switch to the image task"), "{e}");
    let text_file = block_on(trained_text_tuner().export_model()).unwrap();
    let e = fresh.import_model(&text_file).unwrap_err().to_string();
    assert!(e.contains("all-minilm-l6-v2 (text task)"), "{e}");
    // The refused imports kept the model that was there.
    assert_eq!(block_on(fresh.predict(ImageBatch { pixels: &probe, layout: PixelLayout::Rgb, count: 2 }, 2)).unwrap(), before);
}

/// A head-only image model of two classes (dark, light) trained one epoch on four images.
fn train_two_images_classes(tuner: &mut ImageFineTuner) {
    tuner.reset(texts(&["a", "b"]), common::prep(Unfreeze::Head, 128)).unwrap();
    let pixels: Vec<u8> = [0u8, 50, 200, 250].iter().flat_map(|&v| vec![v; 224 * 224 * 3]).collect();
    block_on(tuner.add(ImageBatch { pixels: &pixels, layout: PixelLayout::Rgb, count: 4 }, &[0, 0, 1, 1], false)).unwrap();
    let opts = TrainOptions { epochs: 1, batch_size: 2, validation_split: 0.5, ..TrainOptions::default() };
    block_on(tuner.train(&opts, &mut CollectEvents::default())).unwrap();
}

#[test]
fn files_that_are_not_ours_or_damaged_are_refused() {
    let mut tuner = ImageFineTuner::new(common::image_task(), Device::flex());
    let e = tuner.import_model(b"PK\x03\x04 a zip file, not a model").unwrap_err().to_string();
    assert!(e.contains("not a model exported by this fine-tuner"), "{e}");
    let pretrained = std::fs::read(common::repo().join("assets/efficientnet-lite0.safetensors")).unwrap();
    let e = tuner.import_model(&pretrained).unwrap_err().to_string();
    assert!(e.contains("no burn-finetune metadata"), "{e}");

    train_two_images_classes(&mut tuner);
    let bytes = block_on(tuner.export_model()).unwrap();
    let e = tuner.import_model(&bytes[..bytes.len() - 100]).unwrap_err().to_string();
    assert!(e.contains("damaged"), "{e}");
}

/// `bytes` (a model file) with its tensors kept and its metadata changed by `edit`, or its
/// tensors changed by `poison` (name, little-endian f32 bytes).
fn altered(bytes: &[u8], edit: impl Fn(&mut serde_json::Value), poison: impl Fn(&str, &mut Vec<u8>)) -> Vec<u8> {
    let file = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes).unwrap();
    let mut info: serde_json::Value = serde_json::from_str(&header.metadata().as_ref().unwrap()["burn-finetune"]).unwrap();
    edit(&mut info);
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let mut data = view.data().to_vec();
            poison(&name, &mut data);
            (name, view.shape().to_vec(), data)
        })
        .collect();
    let views = tensors.iter().map(|(name, shape, data)| (name.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data).unwrap()));
    safetensors::serialize(views, Some(std::collections::HashMap::from([("burn-finetune".to_string(), info.to_string())]))).unwrap()
}

/// Model files that declare absurd or inconsistent contents are refused before a head is built
/// from them: a million class names (a 5-GB head once), a blank or repeated name, NaN weights.
#[test]
fn hostile_model_files_are_refused_before_anything_is_built() {
    let mut tuner = ImageFineTuner::new(common::image_task(), Device::flex());
    train_two_images_classes(&mut tuner);
    let bytes = block_on(tuner.export_model()).unwrap();
    let keep = |_: &str, _: &mut Vec<u8>| {};
    let with_classes = |classes: serde_json::Value| altered(&bytes, |info| info["classes"] = classes.clone(), keep);

    let million: Vec<String> = (0..1_000_000).map(|i| format!("c{i}")).collect();
    let started = std::time::Instant::now();
    let e = tuner.import_model(&with_classes(serde_json::json!(million))).unwrap_err().to_string();
    assert!(e.contains("1000000 classes: at most 1000"), "{e}");
    assert!(started.elapsed().as_secs() < 10, "checked before building: {:?}", started.elapsed());
    let e = tuner.import_model(&with_classes(serde_json::json!(["a", "  "]))).unwrap_err().to_string();
    assert!(e.contains("Class 2 has a blank name"), "{e}");
    let e = tuner.import_model(&with_classes(serde_json::json!(["a", "b", "a"]))).unwrap_err().to_string();
    assert!(e.contains("The class 'a' is named twice"), "{e}");
    // Three classes declared, a two-class head stored: the shapes do not match.
    let e = tuner.import_model(&with_classes(serde_json::json!(["a", "b", "c"]))).unwrap_err().to_string();
    assert!(e.contains("this model needs F32 [1280, 3]"), "{e}");
    let nan = altered(&bytes, |_| {}, |_, data| data[..4].copy_from_slice(&f32::NAN.to_le_bytes()));
    let e = tuner.import_model(&nan).unwrap_err().to_string();
    assert!(e.contains("NaN or infinite values"), "{e}");
    // The same checks guard a new set of examples.
    let e = tuner.reset(million, common::prep(Unfreeze::Head, 128)).unwrap_err().to_string();
    assert!(e.contains("at most 1000 can be fine-tuned"), "{e}");
    // The refused imports kept the trained model.
    assert!(block_on(tuner.export_model()).unwrap() == bytes);
}
