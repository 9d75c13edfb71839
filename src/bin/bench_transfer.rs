//! `bench_transfer`: what fine-tuning keeps of what the model knew, and what each way of training
//! the top gains over a frozen-feature head. Accuracy on a held-out **test** part (never the
//! validation split the epoch and the mix were chosen on), mean ± standard deviation over seeds.
//!
//! Sets: Fashion-MNIST 1 000 training images (validation split from them) / 1 000 official test
//! images; scikit-learn's `digits` (8×8, `tests/fixtures/digits.csv`; seeded 80/20 test split); the
//! movie reviews (80/20); VADER's tweets (80/20); and out of domain the movie-review models tested
//! on every tweet. Each seed draws its own test and validation split and training order.
//!
//! Strategies (each a run over the task's defaults, [`STRATEGIES`]): `today` (the upper layers and
//! a fresh head fine-tuned together), `auto` (the automatic mode's choice among its trials), `lpft` (the head fitted alone first, then fine-tuning from
//! it), `avg` (the epochs' weights averaged), `ls` (label smoothing 0.1). Every run then mixes its
//! weights with the pretrained ones, the share chosen on the validation split (WiSE-FT): measured
//! as `<strategy>`; `<strategy>@<share>` is the mix at a fixed share (`@1`: unmixed). The `lpft`
//! run also gives the frozen-feature head (`frozen`: a logistic regression on the pretrained
//! features, early-stopped on the validation split).
//!
//! ```text
//! cargo run --release --bin bench_transfer -- [--sets fashion,digits,movies,tweets] [--seeds 3] [--augment K] [--json]
//! ```

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use burn_finetune::data::{PixelLayout, Split, stratified_split};
use burn_finetune::model::{EfficientNetWeights, MiniLmWeights, Unfreeze};
use burn_finetune::native::folder::{list_folder, load_rgb};
use burn_finetune::native::native_device;
use burn_finetune::native::text_file::{dataset_from, read_text_file};
use burn_finetune::task::{ImageBatch, ImageTask, Preparation, Task, TextTask};
use burn_finetune::train::mix::mix_weights;
use burn_finetune::train::{ClassifierTop, CollectEvents, TrainData, TrainOptions, evaluate, fine_tune, fine_tune_auto};
use burn_finetune::{Error, backend::BackendKind, data::TextTokenizer};
use clap::Parser;
use serde::Serialize;
use web_time::Instant;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "fashion,digits,movies,tweets")]
    sets: String,
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Strategies: any of today, auto, lpft, avg, ls.
    #[arg(long, default_value = "today,lpft")]
    strategies: String,
    /// Also scored: these mixes of each run's fine-tuned weights with the pretrained ones.
    #[arg(long, value_delimiter = ',', default_value = "0.25,0.5,0.75,1")]
    shares: Vec<f32>,
    /// The cut, for every set [default: the task's].
    #[arg(long)]
    unfreeze: Option<Unfreeze>,
    /// Images: augmented views cached per image (mirrored for Fashion-MNIST, not for digits).
    #[arg(long, default_value_t = 0)]
    augment: usize,
    /// Text: tokens kept per example [default: the task's].
    #[arg(long)]
    max_length: Option<usize>,
    /// Options over the task's defaults, as JSON (e.g. '{"learningRate":1e-4}').
    #[arg(long)]
    options: Option<String>,
    #[arg(long)]
    json: bool,
}

/// One set's examples in one cache: the pool that training and validation (and, without a fixed
/// test part, the test part) come from, a fixed test part, and other-domain test parts.
struct Case<'a> {
    name: &'static str,
    labels: &'a [usize],
    classes: usize,
    pool: Vec<usize>,
    fixed_test: Option<Vec<usize>>,
    /// (name, examples) tested as they are.
    other: Vec<(&'static str, Vec<usize>)>,
}

/// One seed's test accuracies and training seconds, by what was measured.
#[derive(Serialize)]
struct SeedResult {
    set: String,
    seed: u64,
    /// measured → test accuracy.
    accuracy: BTreeMap<String, f32>,
    /// measured → balanced accuracy (the mean of the classes' recalls).
    balanced: BTreeMap<String, f32>,
    /// strategy → seconds of training (the cache was built before).
    seconds: BTreeMap<String, f32>,
    /// strategy → the share of the fine-tuned weights the validation split chose.
    fine_tuned_share: BTreeMap<String, f32>,
    /// strategy → the trial the automatic mode kept.
    chosen: BTreeMap<String, String>,
}

/// Each strategy's options over the task's defaults.
const STRATEGIES: [(&str, &str); 5] = [
    ("today", "{}"),
    ("auto", r#"{"auto": true}"#),
    ("lpft", r#"{"linearProbe": true}"#),
    ("avg", r#"{"averageEpochs": true}"#),
    ("ls", r#"{"labelSmoothing": 0.1}"#),
];

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Data(format!("{}: {e} (run scripts/setup.sh)", path.display())))
}

/// The trunk's outputs of every input, in order.
async fn cache_all<T: Task>(task: &T, prep: &Preparation, inputs: T::Inputs<'_>, device: &Device) -> Result<T::Cache, Error> {
    let started = Instant::now();
    let trunk = task.trunk(prep, device);
    let mut cache = task.empty_cache(prep);
    let n = T::count(inputs);
    for start in (0..n).step_by(T::PASS) {
        task.encode(&trunk, prep, T::slice(inputs, start..(start + T::PASS).min(n)), &mut cache, device).await?;
    }
    eprintln!("cached {n} examples in {:.0} s", started.elapsed().as_secs_f32());
    Ok(cache)
}

/// Test, validation and training examples of `case` for `seed`: the test part first (fixed, or
/// a stratified 20 % of the pool), then 20 % of the rest for validation.
fn split(case: &Case, seed: u64) -> (Split, Vec<usize>) {
    let pool_labels: Vec<usize> = case.pool.iter().map(|&i| case.labels[i]).collect();
    let (rest, test) = match &case.fixed_test {
        Some(test) => (case.pool.clone(), test.clone()),
        None => {
            let s = stratified_split(&pool_labels, 0.2, seed.wrapping_add(1000));
            (s.train.iter().map(|&i| case.pool[i]).collect::<Vec<_>>(), s.val.iter().map(|&i| case.pool[i]).collect())
        }
    };
    let rest_labels: Vec<usize> = rest.iter().map(|&i| case.labels[i]).collect();
    let s = stratified_split(&rest_labels, 0.2, seed);
    (Split { train: s.train.iter().map(|&i| rest[i]).collect(), val: s.val.iter().map(|&i| rest[i]).collect() }, test)
}

async fn run_case<T: Task>(task: &T, prep: &Preparation, cache: &T::Cache, case: &Case<'_>, args: &Args, device: &Device) -> Result<Vec<SeedResult>, Error> {
    let mut results = Vec::new();
    for seed in 0..args.seeds {
        let (split, test) = split(case, seed);
        let mut tests = vec![(case.name, test)];
        tests.extend(case.other.iter().cloned());
        let mut result = SeedResult { set: case.name.into(), seed, accuracy: BTreeMap::new(), balanced: BTreeMap::new(), seconds: BTreeMap::new(), fine_tuned_share: BTreeMap::new(), chosen: BTreeMap::new() };
        for strategy in args.strategies.split(',') {
            let Some((_, overrides)) = STRATEGIES.iter().find(|(name, _)| *name == strategy) else {
                return Err(Error::Options(format!("--strategies: unknown '{strategy}' (today, auto, lpft, avg, ls)")));
            };
            let given = args.options.as_deref().map(serde_json::from_str).transpose().map_err(|e| Error::Options(format!("--options: {e}")))?;
            let defaults = TrainOptions::over(&T::train_defaults(), given.unwrap_or_default()).map_err(Error::Options)?;
            let defaults = TrainOptions::over(&defaults, serde_json::from_str(overrides).expect("a strategy's options are JSON")).map_err(Error::Options)?;
            let opts = TrainOptions { seed, mix_pretrained: true, ..defaults };
            let autodiff = device.clone().autodiff();
            let new_top = || {
                autodiff.seed(seed);
                burn_finetune::ops::dropout::reseed(seed);
                task.top(case.classes, prep, opts.dropout, &autodiff)
            };
            let data = TrainData { features: cache, labels: case.labels, classes: case.classes, split: Some(split.clone()) };
            let started = Instant::now();
            let trained = match opts.auto {
                true => fine_tune_auto(new_top, data, &opts, &mut CollectEvents::default()).await?,
                false => fine_tune(new_top(), data, &opts, &mut CollectEvents::default()).await?,
            };
            if opts.auto {
                result.chosen.insert(strategy.into(), trained.report.trials[trained.report.chosen_trial - 1].name.clone());
            }
            result.seconds.insert(strategy.into(), started.elapsed().as_secs_f32());
            let data = TrainData { features: cache, labels: case.labels, classes: case.classes, split: None };
            let mut models = vec![(strategy.to_string(), &trained.model)];
            result.fine_tuned_share.insert(strategy.into(), trained.report.fine_tuned_share);
            if let Some(probed) = &trained.probed {
                models.push(("frozen".into(), probed));
            }
            // Every mix with the pretrained weights, for the record: the pretrained upper layers
            // with the probed head (LP-FT) or with the fine-tuned head (today).
            let fine_tuned = trained.unmixed.as_ref().unwrap_or(&trained.model);
            let pretrained = match &trained.probed {
                Some(probed) => probed.clone(),
                None => task.top(case.classes, prep, 0.0, device).with_head(fine_tuned.head().clone()),
            };
            let mixes: Vec<(String, T::Top)> = args.shares.iter().map(|&share| (format!("{strategy}@{share}"), mix_weights(fine_tuned.clone(), &pretrained, share))).collect();
            models.extend(mixes.iter().map(|(name, model)| (name.clone(), model)));
            let mut tests = tests.clone();
            tests.push(("validation", split.val.clone()));
            for (measured, model) in models {
                for (test_name, indices) in &tests {
                    let (_, confusion) = evaluate(model, &data, indices, 64).await?;
                    result.accuracy.insert(format!("{test_name}/{measured}"), confusion.accuracy());
                    let recalls: Vec<f32> = confusion.class_scores().iter().filter(|c| c.support > 0).map(|c| c.recall).collect();
                    result.balanced.insert(format!("{test_name}/{measured}"), recalls.iter().sum::<f32>() / recalls.len().max(1) as f32);
                }
            }
        }
        eprintln!("{}", serde_json::to_string(&result).unwrap_or_default());
        results.push(result);
    }
    Ok(results)
}

/// Fashion-MNIST (assets/fashion-bench: train/ and test/) and digits, as 224×224 RGB.
fn image_sets(sets: &[&str]) -> Result<Vec<(&'static str, Vec<u8>, Vec<usize>, usize, Option<usize>)>, Error> {
    let mut out = Vec::new();
    if sets.contains(&"fashion") {
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        let mut train_count = 0;
        for part in ["train", "test"] {
            let folder = list_folder(&PathBuf::from("assets/fashion-bench").join(part))?;
            for (path, class) in &folder.files {
                pixels.extend(load_rgb(path).map_err(|e| Error::Data(format!("{}: {e}", path.display())))?);
                labels.push(*class);
            }
            if part == "train" {
                train_count = labels.len();
            }
        }
        out.push(("fashion", pixels, labels, 10, Some(train_count)));
    }
    if sets.contains(&"digits") {
        let text = String::from_utf8(read(Path::new("tests/fixtures/digits.csv"))?).map_err(|e| Error::Data(e.to_string()))?;
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for line in text.lines().filter(|l| !l.is_empty()) {
            let values: Vec<u8> = line.split(',').map(|v| v.trim().parse::<f32>().map(|v| v as u8)).collect::<Result<_, _>>().map_err(|e| Error::Data(format!("digits.csv: {e}")))?;
            let (grey, label) = values.split_at(64);
            let grey: Vec<u8> = grey.iter().map(|&v| (v as u32 * 255 / 16) as u8).collect();
            let small = image::GrayImage::from_raw(8, 8, grey).ok_or_else(|| Error::Data("digits.csv: a row without 64 pixels".into()))?;
            let big = image::DynamicImage::ImageLuma8(small).resize_exact(224, 224, image::imageops::FilterType::Triangle);
            pixels.extend(big.to_rgb8().into_raw());
            labels.push(label[0] as usize);
        }
        out.push(("digits", pixels, labels, 10, None));
    }
    Ok(out)
}

async fn run(args: &Args) -> Result<Vec<SeedResult>, Error> {
    let sets: Vec<&str> = args.sets.split(',').collect();
    let device = native_device(BackendKind::Cpu)?;
    let mut results = Vec::new();
    let images = image_sets(&sets)?;
    if !images.is_empty() {
        let weights = EfficientNetWeights::from_bytes("efficientnet-lite0", &read(Path::new("assets/efficientnet-lite0.safetensors"))?)?;
        let task = ImageTask { weights };
        for (name, pixels, labels, classes, train_count) in &images {
            let d = ImageTask::default_preparation();
            let prep = Preparation { augment: args.augment, flip: *name != "digits", unfreeze: args.unfreeze.unwrap_or(d.unfreeze), ..d };
            let batch = ImageBatch { pixels, layout: PixelLayout::Rgb, count: labels.len() };
            let cache = cache_all(&task, &prep, batch, &device).await?;
            let all: Vec<usize> = (0..labels.len()).collect();
            let case = match train_count {
                Some(n) => Case { name, labels, classes: *classes, pool: all[..*n].to_vec(), fixed_test: Some(all[*n..].to_vec()), other: Vec::new() },
                None => Case { name, labels, classes: *classes, pool: all, fixed_test: None, other: Vec::new() },
            };
            results.extend(run_case(&task, &prep, &cache, &case, args, &device).await?);
        }
    }
    if sets.contains(&"movies") || sets.contains(&"tweets") {
        let dir = Path::new("assets/minilm-l6");
        let weights = MiniLmWeights::from_bytes("model.safetensors", &read(&dir.join("model.safetensors"))?)?;
        let tokenizer = TextTokenizer::from_bytes(&read(&dir.join("tokenizer.json"))?).map_err(Error::Data)?;
        let task = TextTask::new(weights, tokenizer)?;
        let d = TextTask::default_preparation();
        let prep = Preparation { unfreeze: args.unfreeze.unwrap_or(d.unfreeze), max_length: args.max_length.unwrap_or(d.max_length), ..d };
        let movies = dataset_from(&read_text_file(Path::new("assets/movie-reviews.csv"))?, None, None)?;
        let tweets = dataset_from(&read_text_file(Path::new("assets/tweets.csv"))?, None, None)?;
        if movies.classes != tweets.classes {
            return Err(Error::Data(format!("class names differ: {:?} and {:?}", movies.classes, tweets.classes)));
        }
        let texts: Vec<String> = movies.texts.iter().chain(&tweets.texts).cloned().collect();
        let labels: Vec<usize> = movies.labels.iter().chain(&tweets.labels).copied().collect();
        let lengths: Vec<usize> = task.tokenize(&texts, 512)?.iter().map(|e| e.ids.len()).collect();
        let cut = lengths.iter().filter(|&&n| n > prep.max_length).count();
        eprintln!("texts over {} tokens: {cut} of {} (longest {})", prep.max_length, lengths.len(), lengths.iter().max().unwrap_or(&0));
        let cache = cache_all(&task, &prep, &texts, &device).await?;
        let (m, t) = (movies.texts.len(), tweets.texts.len());
        let classes = movies.classes.len();
        if sets.contains(&"movies") {
            let case = Case { name: "movies", labels: &labels, classes, pool: (0..m).collect(), fixed_test: None, other: vec![("movies->tweets", (m..m + t).collect())] };
            results.extend(run_case(&task, &prep, &cache, &case, args, &device).await?);
        }
        if sets.contains(&"tweets") {
            let case = Case { name: "tweets", labels: &labels, classes, pool: (m..m + t).collect(), fixed_test: None, other: Vec::new() };
            results.extend(run_case(&task, &prep, &cache, &case, args, &device).await?);
        }
    }
    Ok(results)
}

/// `mean ± sd` in percent.
fn stat(values: &[f32]) -> String {
    let n = values.len().max(1) as f32;
    let mean = values.iter().sum::<f32>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / (n - 1.0).max(1.0)).sqrt();
    format!("{:.1} ± {:.1}", mean * 100.0, sd * 100.0)
}

fn main() -> Result<(), Error> {
    burn_finetune::native::keep_freed_memory();
    let args = Args::parse();
    let results = futures_lite::future::block_on(run(&args))?;
    if args.json {
        results.iter().for_each(|r| println!("{}", serde_json::to_string(r).unwrap_or_default()));
        return Ok(());
    }
    let strategies: Vec<&str> = args.strategies.split(',').collect();
    let measured: Vec<String> = std::iter::once("frozen".to_string()).chain(strategies.iter().flat_map(|s| [format!("{s}@1"), s.to_string()])).collect();
    let head: Vec<String> = measured.iter().map(|m| m.replace("@1", " (unmixed)")).collect();
    println!("| test set | seeds | {} | train s ({}) |", head.join(" | "), strategies.join(" / "));
    println!("|---|---|{}---|", "---|".repeat(measured.len()));
    let mut tests: Vec<(String, String)> = Vec::new();
    for r in &results {
        for key in r.accuracy.keys() {
            let test = key.rsplit_once('/').map_or(key.clone(), |(t, _)| t.to_string());
            if !tests.contains(&(r.set.clone(), test.clone())) {
                tests.push((r.set.clone(), test));
            }
        }
    }
    for (set, test) in tests {
        let of_set: Vec<&SeedResult> = results.iter().filter(|r| r.set == set).collect();
        let cells: Vec<String> = measured
            .iter()
            .map(|m| {
                let values: Vec<f32> = of_set.iter().filter_map(|r| r.accuracy.get(&format!("{test}/{m}")).copied()).collect();
                if values.is_empty() { "–".into() } else { stat(&values) }
            })
            .collect();
        let secs = |s: &str| of_set.iter().filter_map(|r| r.seconds.get(s)).sum::<f32>() / of_set.len().max(1) as f32;
        let secs: Vec<String> = strategies.iter().map(|s| format!("{:.0}", secs(s))).collect();
        println!("| {test} | {} | {} | {} |", of_set.len(), cells.join(" | "), secs.join(" / "));
    }
    Ok(())
}
