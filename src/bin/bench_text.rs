//! `bench_text`: the fixed text benchmark, natively. The movie-review snippets (10 568, labels by
//! the sign of the rating), stratified 80/20 split with seed 0, max length 64, batch 32, 3 epochs;
//! head only and head + last 2 encoder layers. Prints one Markdown table row per configuration.
//!
//! ```text
//! cargo run --release --bin bench_text -- [--epochs 3] [--backend cpu|wgpu] [--json]
//! ```

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use burn_finetune::backend::BackendKind;
use burn_finetune::data::{TextDataset, TextTokenizer};
use burn_finetune::model::Unfreeze;
use burn_finetune::model::MiniLmWeights;
use burn_finetune::native::bench::{Timing, TrainStats, unfreeze_list};
use burn_finetune::native::native_device;
use burn_finetune::native::text_file::{dataset_from, read_text_file};
use burn_finetune::train::TrainOptions;
use burn_finetune::task::{Preparation, Task, TextTask};
use burn_finetune::{Error, TextFineTuner};
use clap::Parser;
use serde::Serialize;
use web_time::Instant;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "assets/movie-reviews.csv")]
    data: PathBuf,
    #[arg(long, default_value = "assets/minilm-l6")]
    model: PathBuf,
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    #[arg(long, default_value_t = 64)]
    max_length: usize,
    /// The head's learning rate (default: the text task's).
    #[arg(long, alias = "head-lr")]
    learning_rate: Option<f64>,
    /// The upper layers' learning rate (default: the text task's).
    #[arg(long, alias = "backbone-lr")]
    backbone_learning_rate: Option<f64>,
    /// Configurations to run: "head" and/or a number of encoder layers.
    #[arg(long, default_value = "head,2")]
    unfreeze: String,
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "wgpu"])]
    backend: String,
    /// A JSON array of the rows (0-based, blank texts left out) to validate on, instead of the
    /// seeded split: e.g. the PyTorch peer's (`torch_peer.py text-data`), to compare on one split.
    #[arg(long)]
    validation_rows: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Default)]
struct Row {
    path: String,
    unfreeze: String,
    texts: usize,
    weights_load_s: f32,
    tokenize_texts_per_s: f32,
    tokens_per_s: f32,
    caching_examples_per_s: f32,
    #[serde(flatten)]
    stats: TrainStats,
}


fn read(path: PathBuf) -> Result<Vec<u8>, Error> {
    std::fs::read(&path).map_err(|e| Error::Data(format!("{}: {e} (run scripts/setup.sh)", path.display())))
}

async fn run(args: &Args, set: &TextDataset, unfreeze: Unfreeze) -> Result<Row, Error> {
    let kind = if args.backend == "wgpu" { BackendKind::Webgpu } else { BackendKind::Cpu };
    let started = Instant::now();
    let weights = MiniLmWeights::from_bytes("model.safetensors", &read(args.model.join("model.safetensors"))?)?;
    let tokenizer = TextTokenizer::from_bytes(&read(args.model.join("tokenizer.json"))?).map_err(Error::Data)?;
    let mut tuner = TextFineTuner::new(TextTask::new(weights, tokenizer)?, native_device(kind)?);
    let weights_load_s = started.elapsed().as_secs_f32();

    let tokenizing = Instant::now();
    let tokens: usize = tuner.task().tokenize(&set.texts, args.max_length)?.iter().map(|e| e.ids.len()).sum();
    let tokenize_s = tokenizing.elapsed().as_secs_f32();

    tuner.reset(set.classes.clone(), Preparation { unfreeze, max_length: args.max_length, ..Preparation::default() })?;
    let caching = Instant::now();
    let holdout = match &args.validation_rows {
        Some(path) => {
            let rows: Vec<usize> = serde_json::from_slice(&read(path.clone())?).map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
            let mut holdout = vec![false; set.texts.len()];
            for row in rows {
                *holdout.get_mut(row).ok_or_else(|| Error::Data(format!("validation row {row} of {} rows", set.texts.len())))? = true;
            }
            holdout
        }
        None => vec![false; set.texts.len()],
    };
    for validation in [false, true] {
        let (texts, labels): (Vec<String>, Vec<usize>) =
            (0..set.texts.len()).filter(|&i| holdout[i] == validation).map(|i| (set.texts[i].clone(), set.labels[i])).unzip();
        for (texts, labels) in texts.chunks(256).zip(labels.chunks(256)) {
            tuner.add(texts, labels, validation).await?;
        }
    }
    let caching_examples_per_s = set.texts.len() as f32 / caching.elapsed().as_secs_f32();
    let defaults = TextTask::train_defaults();
    let opts = TrainOptions {
        epochs: args.epochs,
        batch_size: 32,
        learning_rate: args.learning_rate.unwrap_or(defaults.learning_rate),
        backbone_learning_rate: args.backbone_learning_rate.unwrap_or(defaults.backbone_learning_rate),
        ..defaults
    };
    let mut timing = Timing::start();
    let report = tuner.train(&opts, &mut timing).await?;
    Ok(Row {
        path: format!("native {}", args.backend),
        unfreeze: unfreeze.describe(TextTask::LAYERS),
        texts: set.texts.len(),
        weights_load_s,
        tokenize_texts_per_s: set.texts.len() as f32 / tokenize_s,
        tokens_per_s: tokens as f32 / tokenize_s,
        caching_examples_per_s,
        stats: TrainStats::new(&timing, &report, tuner.cache_bytes()),
    })
}

fn main() -> Result<(), Error> {
    burn_finetune::native::keep_freed_memory();
    let args = Args::parse();
    let set = dataset_from(&read_text_file(&args.data)?, None, None)?;
    let mut rows = Vec::new();
    for unfreeze in unfreeze_list(&args.unfreeze)? {
        eprintln!("== {unfreeze}");
        rows.push(futures_lite::future::block_on(run(&args, &set, unfreeze))?);
    }
    if args.json {
        rows.iter().for_each(|r| println!("{}", serde_json::to_string(r).unwrap_or_default()));
        return Ok(());
    }
    println!("| path | trains | texts | weights load s | tokenize texts/s (tokens/s) | caching ex/s | first step s | train ex/s | peak MB | cache MB | checkpoint MB / ms | best val acc | epochs |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.2} | {:.0} ({:.0}) | {:.1} | {:.2} | {:.1} | {:.0} | {:.1} | {:.2} / {:.0} | {:.1}% | {} |",
            r.path, r.unfreeze, r.texts, r.weights_load_s, r.tokenize_texts_per_s, r.tokens_per_s, r.caching_examples_per_s,
            r.stats.time_to_first_step_s, r.stats.train_examples_per_s, r.stats.peak_memory_mb, r.stats.cache_mb, r.stats.checkpoint_mb,
            r.stats.checkpoint_ms, r.stats.best_val_accuracy * 100.0, r.stats.epochs_run
        );
    }
    Ok(())
}
