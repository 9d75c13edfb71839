//! `bench_audio`: the fixed sound-classes benchmark, natively. Three classes of Asterisk prompts
//! (assets/asterisk/{digits,letters,phonetic}: numbers and dates, letters and symbols, the NATO
//! alphabet; one speaker, 8 kHz); in each class, in name order, every 5th clip is held out as the
//! test set (as `scripts/bench-browser-audio.mjs` does), the rest trains (its own seeded
//! validation split picks the epoch). Prints caching
//! and training speed, first step, memory, and validation and test accuracy as one Markdown table
//! row per cut.
//!
//! ```text
//! cargo run --release --bin bench_audio -- [--unfreeze head,1] [--epochs 20] [--learning-rate 1e-3] [--json]
//! ```

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;

use burn_finetune::Error;
use burn_finetune::backend::BackendKind;
use burn_finetune::data::Split;
use burn_finetune::model::whisper::WhisperWeights;
use burn_finetune::native::audio_folder::{AudioFolder, add_clips, read_audio_folder};
use burn_finetune::native::bench::{Timing, TrainStats, unfreeze_list};
use burn_finetune::native::native_device;
use burn_finetune::task::{AudioClips, AudioFineTuner, AudioTask, Preparation, Task};
use burn_finetune::train::TrainOptions;
use clap::Parser;
use serde::Serialize;
use web_time::Instant;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "assets/asterisk")]
    data: PathBuf,
    /// The class subfolders.
    #[arg(long, default_value = "digits,letters,phonetic")]
    classes: String,
    #[arg(long, default_value = "assets/whisper-tiny-en/model.safetensors")]
    weights: PathBuf,
    /// Epochs (default: the audio task's).
    #[arg(long)]
    epochs: Option<usize>,
    /// The head's learning rate (default: the audio task's).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// The unfrozen encoder layers' learning rate (default: the audio task's).
    #[arg(long)]
    backbone_learning_rate: Option<f64>,
    /// Cuts to run: "head" and/or a number of encoder layers.
    #[arg(long, default_value = "head,1")]
    unfreeze: String,
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "wgpu"])]
    backend: String,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Default)]
struct Row {
    path: String,
    unfreeze: String,
    train_clips: usize,
    test_clips: usize,
    caching_clips_per_s: f32,
    test_accuracy: f32,
    #[serde(flatten)]
    stats: TrainStats,
}

async fn run(args: &Args, set: &AudioFolder, weights: WhisperWeights, cut: burn_finetune::model::Unfreeze) -> Result<Row, Error> {
    let kind = if args.backend == "wgpu" { BackendKind::Webgpu } else { BackendKind::Cpu };
    let mut tuner = AudioFineTuner::new(AudioTask::new(weights), native_device(kind)?);
    tuner.reset(set.classes.clone(), Preparation { unfreeze: cut, ..Preparation::default() })?;
    let split = every_fifth(set);
    let train: Vec<_> = split.train.iter().map(|&i| &set.clips[i]).collect();
    let caching = Instant::now();
    add_clips(&mut tuner, &set.classes, &train, false).await?;
    let caching_clips_per_s = train.len() as f32 / caching.elapsed().as_secs_f32();
    let d = AudioTask::train_defaults();
    let opts = TrainOptions {
        epochs: args.epochs.unwrap_or(d.epochs),
        learning_rate: args.learning_rate.unwrap_or(d.learning_rate),
        backbone_learning_rate: args.backbone_learning_rate.unwrap_or(d.backbone_learning_rate),
        ..d
    };
    let mut timing = Timing::start();
    let report = tuner.train(&opts, &mut timing).await?;
    let audio: Vec<f32> = split.val.iter().flat_map(|&i| set.clips[i].audio.iter().copied()).collect();
    let lengths: Vec<usize> = split.val.iter().map(|&i| set.clips[i].audio.len()).collect();
    let names: Vec<String> = split.val.iter().map(|&i| set.classes[set.clips[i].label].clone()).collect();
    let test = tuner.evaluate(AudioClips { audio: &audio, lengths: &lengths }, &names).await?;
    Ok(Row {
        path: format!("native {}", args.backend),
        unfreeze: cut.describe(AudioTask::LAYERS),
        train_clips: train.len(),
        test_clips: names.len(),
        caching_clips_per_s,
        test_accuracy: test.accuracy,
        stats: TrainStats::new(&timing, &report, tuner.cache_bytes()),
    })
}

/// In each class (clips in name order), every 5th clip is held out.
fn every_fifth(set: &AudioFolder) -> Split {
    let mut seen = vec![0; set.classes.len()];
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for (i, clip) in set.clips.iter().enumerate() {
        seen[clip.label] += 1;
        if seen[clip.label] % 5 == 0 { val.push(i) } else { train.push(i) }
    }
    Split { train, val }
}

fn main() -> Result<(), Error> {
    burn_finetune::native::keep_freed_memory();
    let args = Args::parse();
    let classes: Vec<String> = args.classes.split(',').map(str::to_string).collect();
    let set = read_audio_folder(&args.data, &classes)?;
    for (path, why) in &set.skipped {
        eprintln!("skipped {}: {why}", path.display());
    }
    let bytes = std::fs::read(&args.weights).map_err(|e| Error::Data(format!("{}: {e}", args.weights.display())))?;
    let mut rows = Vec::new();
    for cut in unfreeze_list(&args.unfreeze)? {
        eprintln!("== {cut}");
        let weights = WhisperWeights::from_bytes(&args.weights.display().to_string(), &bytes)?;
        rows.push(futures_lite::future::block_on(run(&args, &set, weights, cut))?);
    }
    if args.json {
        rows.iter().for_each(|r| println!("{}", serde_json::to_string(r).unwrap_or_default()));
        return Ok(());
    }
    println!("| path | trains | train / test clips | caching clips/s | first step s | train clips/s | peak MB | cache MB | checkpoint MB / ms | best val acc | test acc | epochs |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} / {} | {:.2} | {:.2} | {:.0} | {:.0} | {:.1} | {:.2} / {:.0} | {:.1}% | {:.1}% | {} |",
            r.path, r.unfreeze, r.train_clips, r.test_clips, r.caching_clips_per_s, r.stats.time_to_first_step_s, r.stats.train_examples_per_s,
            r.stats.peak_memory_mb, r.stats.cache_mb, r.stats.checkpoint_mb, r.stats.checkpoint_ms, r.stats.best_val_accuracy * 100.0, r.test_accuracy * 100.0, r.stats.epochs_run
        );
    }
    Ok(())
}
