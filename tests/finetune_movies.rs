//! Text fine-tuning of MiniLM-L6: freezing (the cut keeps the lower layers bit-identical and
//! trains the upper ones), a real fine-tune on 400 movie-review snippets that must beat chance by
//! far, and the text engine's input checks.

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use burn_finetune::data::{TableFormat, TokenCache, read_table, text_dataset, guess_columns};
use burn_finetune::model::Unfreeze;
use burn_finetune::model::minilm::{MiniLmClassifierConfig, MiniLmTrunk};
use burn_finetune::train::{CollectEvents, StopReason, TrainData, TrainOptions, fine_tune};
use burn_finetune::task::TextTask;
use burn_finetune::{Error, TextFineTuner};
use futures_lite::future::block_on;

use common::params;

/// The first `per_class` positive and negative snippets of the movie-review set.
fn movie_slice(per_class: usize) -> (Vec<String>, Vec<usize>, Vec<String>) {
    let bytes = std::fs::read(common::repo().join("assets/movie-reviews.csv")).expect("run scripts/setup.sh");
    let table = read_table(&bytes, TableFormat::Csv).unwrap();
    let guess = guess_columns(&table);
    let set = text_dataset(&table, guess.text.unwrap(), guess.label.unwrap()).unwrap();
    assert_eq!(set.classes, ["negative", "positive"]);
    assert_eq!(set.texts.len(), 10_568);
    let mut seen = [0, 0];
    let (mut texts, mut labels) = (Vec::new(), Vec::new());
    for (t, &l) in set.texts.iter().zip(&set.labels) {
        if seen[l] < per_class {
            seen[l] += 1;
            texts.push(t.clone());
            labels.push(l);
        }
    }
    (texts, labels, set.classes)
}

/// The device's random generator (a fresh head's initialisation) is one per process: a test
/// that seeds it and then builds a head must not let another test draw in between, so they take
/// turns (under load the fine-tune's head once came out of another test's draws).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn frozen_encoder_layers_stay_bit_identical_and_unfrozen_ones_change() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex();
    let (weights, tokenizer) = common::minilm();
    let unfreeze = Unfreeze::Blocks(2);
    let trunk: MiniLmTrunk = weights.trunk(unfreeze, &device);
    let trunk_before = params(&trunk);
    let full = weights.trunk(Unfreeze::Head, &device);
    assert_eq!(trunk.layers.len(), 4);

    // Cache the trunk's outputs for 16 short labelled texts, then train one epoch.
    let (texts, labels, _) = movie_slice(8);
    let mut tuner = TextFineTuner::new(TextTask { weights, tokenizer }, device.clone());
    tuner.reset(vec!["negative".into(), "positive".into()], common::prep(unfreeze, 32)).unwrap();
    block_on(tuner.add(&texts, &labels, false)).unwrap();
    let (weights, tokenizer) = common::minilm();
    let encoded: Vec<_> = texts.iter().map(|t| tokenizer.encode(t, 32).unwrap()).collect();
    let mut cache = TokenCache::new(384);
    for e in &encoded {
        let ids = Tensor::<2, burn::tensor::Int>::from_data(
            burn::tensor::TensorData::new(e.ids.iter().map(|&i| i as i64).collect::<Vec<_>>(), [1, e.ids.len()]),
            &device,
        );
        let mask = Tensor::<2, burn::tensor::Bool>::from_data(burn::tensor::TensorData::new(vec![false; e.ids.len()], [1, e.ids.len()]), &device);
        cache.push(&trunk.forward(ids, mask).into_data().try_to_vec::<f32>().unwrap());
    }
    assert_eq!(tuner.cache_bytes(), cache.bytes(), "the engine caches one row per token");

    let model = MiniLmClassifierConfig { classes: 2, unfreeze, dropout: burn_finetune::model::minilm::DROPOUT }.init(&weights, &device.clone().autodiff());
    // The trainable layers start as the pretrained top two layers.
    assert_eq!(params(&model.upper[0]), params(&full.layers[4]));
    assert_eq!(params(&model.upper[1]), params(&full.layers[5]));
    let (upper_before, head_before) = (params(&model.upper), params(&model.head));
    let opts = TrainOptions { epochs: 1, batch_size: 4, validation_split: 0.25, ..TrainOptions::default() };
    let data = TrainData { features: &cache, labels: &labels, classes: 2, split: None };
    let trained = block_on(fine_tune(model, data, &opts, &mut CollectEvents::default())).unwrap();

    assert_eq!(params(&trunk), trunk_before, "a frozen encoder layer changed");
    assert_eq!(
        trunk.num_params() + trained.model.upper.iter().map(|l| l.num_params()).sum::<usize>(),
        full.num_params(),
        "frozen + trainable layers must be the whole encoder"
    );
    let changed = |a: &[Vec<f32>], b: &[Vec<f32>]| a.iter().zip(b).filter(|(x, y)| x != y).count();
    assert_eq!(changed(&params(&trained.model.upper), &upper_before), upper_before.len(), "every unfrozen tensor should move");
    assert_eq!(changed(&params(&trained.model.head), &head_before), head_before.len());
}

#[test]
fn fine_tuning_movie_reviews_beats_chance_by_far() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (weights, tokenizer) = common::minilm();
    let (texts, labels, classes) = movie_slice(200);
    let mut tuner = TextFineTuner::new(TextTask { weights, tokenizer }, Device::flex());
    tuner.reset(classes, common::prep(Unfreeze::Blocks(2), 64)).unwrap();
    for (t, l) in texts.chunks(100).zip(labels.chunks(100)) {
        block_on(tuner.add(t, l, false)).unwrap();
    }
    assert_eq!(tuner.class_counts(), vec![200, 200]);
    let opts = TrainOptions { epochs: 4, batch_size: 16, ..TrainOptions::default() };
    let report = block_on(tuner.train(&opts, &mut CollectEvents::default())).unwrap();
    for e in &report.epochs {
        println!("epoch {}: train loss {:.3} acc {:.2}, val loss {:.3} acc {:.2} f1 {:.2}", e.epoch, e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy, e.val_macro_f1);
    }
    assert_ne!(report.stop_reason, StopReason::Diverged);
    assert_eq!(report.val_examples, 80);
    assert!(report.best_val_accuracy >= 0.68, "validation accuracy {} is not far above chance (0.5)", report.best_val_accuracy);

    let typed = vec!["An absolutely wonderful, moving film with superb acting.".to_string(), "A dull, lifeless and boring waste of two hours.".to_string()];
    let top = block_on(tuner.predict(&typed, 2)).unwrap();
    println!("{top:?}");
    assert_eq!((top[0][0].label.as_str(), top[1][0].label.as_str()), ("positive", "negative"));
    assert!((top[0].iter().map(|p| p.score).sum::<f32>() - 1.0).abs() < 1e-4);

    // Re-preparing with another cut and length keeps the trained model's predictions.
    tuner.reset(vec!["a".into(), "b".into()], common::prep(Unfreeze::Head, 16)).unwrap();
    let again = block_on(tuner.predict(&typed, 2)).unwrap();
    for (a, b) in again.iter().flatten().zip(top.iter().flatten()) {
        assert_eq!(a.label, b.label);
        assert!((a.score - b.score).abs() < 1e-4, "{a:?} vs {b:?}");
    }
}

#[test]
fn text_engine_bad_input_gets_specific_messages() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (weights, tokenizer) = common::minilm();
    let mut tuner = TextFineTuner::new(TextTask { weights, tokenizer }, Device::flex());
    assert!(tuner.reset(vec![], common::prep(Unfreeze::Blocks(7), 64)).unwrap_err().to_string().contains("MiniLM-L6 has 6"));
    assert!(tuner.reset(vec![], common::prep(Unfreeze::Head, 4)).unwrap_err().to_string().contains("between 8 and 512"));
    tuner.reset(vec!["pos".into(), "neg".into()], common::prep(Unfreeze::Head, 64)).unwrap();
    assert!(tuner.readiness().unwrap_err().contains("No examples"));
    let texts: Vec<String> = ["good", "great", "bad"].map(String::from).to_vec();
    let long = "word ".repeat(20_000);
    let report = block_on(tuner.add(&[texts.clone(), vec![long]].concat(), &[0, 0, 1, 1], false)).unwrap();
    assert_eq!((report.added, report.truncated), (4, 1));
    block_on(tuner.add(&texts[..1], &[0], false)).unwrap();
    assert_eq!(tuner.class_counts(), vec![3, 2]);
    assert!(block_on(tuner.add(&texts[..1], &[2], false)).unwrap_err().to_string().contains("label 2"));
    assert!(block_on(tuner.add(&texts[..1], &[0, 1], false)).unwrap_err().to_string().contains("1 examples but 2 labels"));
    assert_eq!(block_on(tuner.predict(&texts, 1)).unwrap_err(), Error::NotTrained);
    let err = block_on(tuner.train(&TrainOptions { epochs: 0, ..TrainOptions::default() }, &mut CollectEvents::default())).unwrap_err();
    assert!(err.to_string().contains("epochs must be between 1 and 1000"), "{err}");
    assert_eq!(tuner.class_counts(), vec![3, 2], "a refused training keeps the examples");
    let err = burn_finetune::model::minilm::MiniLmWeights::from_bytes("lite0.safetensors", &std::fs::read(common::repo().join("assets/efficientnet-lite0.safetensors")).unwrap()).err().unwrap();
    assert!(err.to_string().contains("not a MiniLM-L6") && err.to_string().contains("embeddings."), "{err}");
}
