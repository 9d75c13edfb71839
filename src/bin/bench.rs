//! `bench`: the fixed image benchmark, natively. Fashion-MNIST, 1 000 training images (100 per
//! class, official train set) validated on 1 000 official test images, 224×224, batch 32.
//! Prints one Markdown table row per configuration (head only; head + last 2 blocks).
//!
//! ```text
//! cargo run --release --bin bench -- [--epochs 10] [--unfreeze head,2] [--augment N] [--backend cpu|wgpu] [--json]
//! ```

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use burn_finetune::backend::BackendKind;
use burn_finetune::model::{EfficientNetWeights, Unfreeze};
use burn_finetune::native::folder::{add_folder, list_folder};
use burn_finetune::native::bench::{Timing, TrainStats, unfreeze_list};
use burn_finetune::native::native_device;
use burn_finetune::train::TrainOptions;
use burn_finetune::task::{ImageTask, Preparation, Task};
use burn_finetune::{Error, ImageFineTuner};
use clap::Parser;
use serde::Serialize;
use web_time::Instant;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "assets/fashion-bench")]
    data: PathBuf,
    #[arg(long, default_value = "assets/efficientnet-lite0.safetensors")]
    weights: PathBuf,
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Configurations to run: "head" and/or a number of blocks.
    #[arg(long, default_value = "head,2")]
    unfreeze: String,
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "wgpu"])]
    backend: String,
    /// Augmented views per training image (the validation images get none).
    #[arg(long, default_value_t = 0)]
    augment: usize,
    /// Also run the 10 000-image memory check (assets/fashion-10k) with head + 2 blocks, 1 epoch.
    #[arg(long)]
    large: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Default)]
struct Row {
    path: String,
    unfreeze: String,
    images: usize,
    weights_load_s: f32,
    caching_examples_per_s: f32,
    #[serde(flatten)]
    stats: TrainStats,
}


async fn run(args: &Args, unfreeze: Unfreeze, train: &str, val: Option<&str>, epochs: usize) -> Result<Row, Error> {
    let kind = if args.backend == "wgpu" { BackendKind::Webgpu } else { BackendKind::Cpu };
    let started = Instant::now();
    let bytes = std::fs::read(&args.weights).map_err(|e| Error::Data(format!("{}: {e}", args.weights.display())))?;
    let weights = EfficientNetWeights::from_bytes(&args.weights.display().to_string(), &bytes)?;
    let mut tuner = ImageFineTuner::new(ImageTask { weights }, native_device(kind)?);
    let weights_load_s = started.elapsed().as_secs_f32();
    let train_dir = args.data.join(train);
    tuner.reset(list_folder(&train_dir)?.classes, Preparation { unfreeze, augment: args.augment, ..Preparation::default() })?;
    let caching = Instant::now();
    let mut images = add_folder(&mut tuner, &train_dir, 0, false).await?.images;
    if let Some(val) = val {
        images += add_folder(&mut tuner, &args.data.join(val), 0, true).await?.images;
    }
    let caching_examples_per_s = images as f32 / caching.elapsed().as_secs_f32();
    let opts = TrainOptions { epochs, batch_size: 32, ..TrainOptions::default() };
    let mut timing = Timing::start();
    let report = tuner.train(&opts, &mut timing).await?;
    Ok(Row {
        path: format!("native {}", args.backend),
        unfreeze: match args.augment {
            0 => unfreeze.describe(ImageTask::LAYERS),
            n => format!("{}, {n} augmented views", unfreeze.describe(ImageTask::LAYERS)),
        },
        images,
        weights_load_s,
        caching_examples_per_s,
        stats: TrainStats::new(&timing, &report, tuner.cache_bytes()),
    })
}

fn main() -> Result<(), Error> {
    burn_finetune::native::keep_freed_memory();
    let args = Args::parse();
    let mut rows = Vec::new();
    for unfreeze in unfreeze_list(&args.unfreeze)? {
        eprintln!("== {unfreeze}");
        rows.push(futures_lite::future::block_on(run(&args, unfreeze, "train", Some("test"), args.epochs))?);
    }
    if args.large {
        eprintln!("== 10 000 images, head + 2 blocks, 1 epoch (memory check)");
        let large = Args { data: args.data.with_file_name("fashion-10k"), ..Args::parse() };
        rows.push(futures_lite::future::block_on(run(&large, Unfreeze::Blocks(2), ".", None, 1))?);
    }
    if args.json {
        rows.iter().for_each(|r| println!("{}", serde_json::to_string(r).unwrap_or_default()));
        return Ok(());
    }
    println!("| path | trains | images | weights load s | caching ex/s | first step s | train ex/s | peak MB | cache MB | checkpoint MB / ms | best val acc | epochs |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.2} | {:.1} | {:.2} | {:.1} | {:.0} | {:.1} | {:.2} / {:.0} | {:.1}% | {} |",
            r.path, r.unfreeze, r.images, r.weights_load_s, r.caching_examples_per_s, r.stats.time_to_first_step_s,
            r.stats.train_examples_per_s, r.stats.peak_memory_mb, r.stats.cache_mb, r.stats.checkpoint_mb, r.stats.checkpoint_ms,
            r.stats.best_val_accuracy * 100.0, r.stats.epochs_run
        );
    }
    Ok(())
}
