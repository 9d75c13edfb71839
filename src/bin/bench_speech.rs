//! `bench_speech`: the fixed speech benchmark, natively. The Asterisk prompts
//! (assets/asterisk/manifest.csv: 8 kHz telephone prompts, one speaker), split 80/20 by name with
//! seed 0 ([`held_out`], the rule scripts/bench-browser-speech.mjs and the PyTorch peer use too);
//! the 80 % fine-tunes the top decoder layers of Whisper tiny.en (its own seeded
//! validation split picks the epoch), the 20 % is held out. Prints zero-shot and fine-tuned WER on
//! the held-out part, encoder caching and training speed, first step and peak memory as one
//! Markdown table row per configuration.
//!
//! ```text
//! cargo run --release --bin bench_speech -- [--epochs 5] [--unfreeze 2] [--backbone-learning-rates 1e-4,3e-4] [--limit N] [--errors] [--json]
//! ```

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use burn_finetune::Error;
use burn_finetune::data::{TableFormat, TranscriptTokenizer, read_table};
use burn_finetune::model::Unfreeze;
use burn_finetune::model::whisper::{Suppression, WhisperWeights};
use burn_finetune::native::audio_file::read_audio;
use burn_finetune::native::bench::{Timing, peak_memory_mb, unfreeze_list};
use burn_finetune::task::{Clip, Preparation, SpeechFineTuner, SpeechTask};
use burn_finetune::train::{TrainOptions, WordErrors};
use clap::Parser;
use serde::Serialize;
use web_time::Instant;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value = "assets/asterisk")]
    data: PathBuf,
    #[arg(long, default_value = "assets/whisper-tiny-en")]
    model: PathBuf,
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// The final norm's learning rate (default: the speech task's).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// The decoder layers' learning rates to try, comma-separated (default: the speech task's);
    /// each trains on the same cached clips.
    #[arg(long)]
    backbone_learning_rates: Option<String>,
    /// Out-of-domain clips (`manifest.csv` + audio; scripts/setup.sh speaks movie-review sentences
    /// with flite): WER before and after fine-tuning, which should not get worse.
    #[arg(long, default_value = "assets/ood-speech")]
    ood: PathBuf,
    /// Print the held-out prompts the fine-tuned model still gets wrong.
    #[arg(long)]
    errors: bool,
    /// Decoder layers to train (comma-separated configurations).
    #[arg(long, default_value = "2")]
    unfreeze: String,
    /// Use only the first N prompts (by name) — for quick runs.
    #[arg(long)]
    limit: Option<usize>,
    /// Cache and fine-tune the encoder on each clip's own frames instead of its 30-s window.
    #[arg(long)]
    own_frames: bool,
    /// Speeds only (for scripts/bench-peers.mjs): no test or out-of-domain transcripts.
    #[arg(long)]
    speed_only: bool,
    /// Mix the fine-tuned weights with the pretrained ones, the share chosen on validation.
    #[arg(long)]
    mix: bool,
    /// After each run, also score these shares of the fine-tuned weights (the rest pretrained) on
    /// the held-out and out-of-domain clips, whatever the run chose (comma-separated, e.g.
    /// 1,0.75,0.5,0.25).
    #[arg(long)]
    shares: Option<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Default)]
struct Row {
    unfreeze: String,
    backbone_learning_rate: f64,
    train_clips: usize,
    test_clips: usize,
    skipped: usize,
    zero_shot_test_wer: f32,
    fine_tuned_test_wer: f32,
    zero_shot_val_wer: f32,
    zero_shot_ood_wer: f32,
    fine_tuned_ood_wer: f32,
    best_val_wer: f32,
    best_epoch: usize,
    /// The share of the fine-tuned weights kept (the rest pretrained), and the seconds spent
    /// choosing it.
    fine_tuned_share: f32,
    mixing_s: f32,
    caching_clips_per_s: f32,
    train_clips_per_s: f32,
    /// The pretrained model transcribing the validation clips on 30-s windows (the baseline).
    baseline_s: f32,
    /// From the baseline's end.
    time_to_first_step_s: f32,
    /// For scripts/bench-peers.mjs.
    caching_examples_per_s: f32,
    epoch_examples_per_s: Vec<f32>,
    transcribe_clips_per_s: f32,
    peak_memory_mb: f32,
    cache_mb: f32,
}

fn read(path: PathBuf) -> Result<Vec<u8>, Error> {
    std::fs::read(&path).map_err(|e| Error::Data(format!("{}: {e} (run scripts/setup.sh)", path.display())))
}

fn task(model: &Path) -> Result<SpeechTask, Error> {
    let weights = WhisperWeights::from_bytes("model.safetensors", &read(model.join("model.safetensors"))?)?;
    let tokenizer = TranscriptTokenizer::from_bytes(&read(model.join("tokenizer.json"))?).map_err(Error::Data)?;
    let config = String::from_utf8_lossy(&read(model.join("config.json"))?).to_string();
    Ok(SpeechTask::new(weights, tokenizer, Suppression::from_config(&config).map_err(Error::Data)?))
}

/// (16 kHz audio, transcript) of every prompt of the manifest, sorted by name.
fn prompts(dir: &Path, limit: Option<usize>) -> Result<Vec<(String, Vec<f32>, String)>, Error> {
    let table = read_table(&read(dir.join("manifest.csv"))?, TableFormat::Csv).map_err(Error::Data)?;
    let mut rows: Vec<(String, String)> = table.rows.iter().filter_map(|r| Some((r.fields.first()?.clone()?, r.fields.get(1)?.clone()?))).collect();
    rows.sort();
    rows.truncate(limit.unwrap_or(usize::MAX));
    rows.into_iter()
        .map(|(file, text)| Ok((file.clone(), read_audio(&dir.join(&file)).map_err(|e| Error::Data(format!("{file}: {e}")))?, text)))
        .collect()
}

/// Transcripts of the held-out prompts `test`, and clips transcribed per second.
async fn transcripts(
    tuner: &SpeechFineTuner,
    prompts: &[(String, Vec<f32>, String)],
    test: &[usize],
    fine_tuned: bool,
) -> Result<(Vec<String>, f32), Error> {
    let started = Instant::now();
    let mut out = Vec::new();
    for &i in test {
        out.push(tuner.transcribe(&prompts[i].1, fine_tuned, |_, _| {}).await?);
    }
    Ok((out, test.len() as f32 / started.elapsed().as_secs_f32()))
}

/// The benchmark's split, reproducible in any language: a prompt is held out when the 32-bit
/// FNV-1a hash of "seed/name" is a multiple of 5.
fn held_out(name: &str, seed: u32) -> bool {
    let hash = format!("{seed}/{name}").bytes().fold(0x811c_9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193));
    hash % 5 == 0
}

fn wer(prompts: &[(String, Vec<f32>, String)], test: &[usize], hypotheses: &[String]) -> f32 {
    let mut errors = WordErrors::default();
    for (&i, h) in test.iter().zip(hypotheses) {
        errors.add(&prompts[i].2, h);
    }
    errors.rate()
}

async fn run(args: &Args, prompts: &[(String, Vec<f32>, String)], ood: &[(String, Vec<f32>, String)], unfreeze: Unfreeze) -> Result<Vec<Row>, Error> {
    let every_ood: Vec<usize> = (0..ood.len()).collect();
    let mut tuner = SpeechFineTuner::new(task(&args.model)?, Device::flex());
    tuner.reset(Preparation { unfreeze, ..Preparation::default() })?;
    tuner.hear_own_frames(args.own_frames);
    let (test, train): (Vec<usize>, Vec<usize>) = (0..prompts.len()).partition(|&i| held_out(&prompts[i].0, 0));
    let (train, test) = (&train, &test);
    let clips: Vec<Clip> = train.iter().map(|&i| Clip { audio: &prompts[i].1, text: &prompts[i].2 }).collect();

    let caching = Instant::now();
    let added = tuner.add(&clips, false).await?;
    let caching_clips_per_s = added.added as f32 / caching.elapsed().as_secs_f32();
    for s in &added.skipped {
        eprintln!("  skipped {}: {}", prompts[train[s.index]].0, s.reason);
    }

    let (test, every_ood) = if args.speed_only { (&Vec::new(), Vec::new()) } else { (test, every_ood) };
    let (zero_shot, transcribe_clips_per_s) = transcripts(&tuner, prompts, test, false).await?;
    let zero_shot_test_wer = wer(prompts, test, &zero_shot);
    let zero_shot_ood_wer = wer(ood, &every_ood, &transcripts(&tuner, ood, &every_ood, false).await?.0);
    eprintln!("  zero-shot test WER {:.1}%", zero_shot_test_wer * 100.0);

    let defaults = TrainOptions { epochs: args.epochs, batch_size: args.batch_size, mix_pretrained: args.mix, ..burn_finetune::task::speech::train_defaults() };
    let rates: Vec<f64> = match &args.backbone_learning_rates {
        Some(list) => list
            .split(',')
            .map(|r| r.trim().parse().map_err(|_| Error::Options(format!("--backbone-learning-rates: '{r}' is not a number"))))
            .collect::<Result<_, _>>()?,
        None => vec![defaults.backbone_learning_rate],
    };
    let mut rows = Vec::new();
    for rate in rates {
        let opts =
            TrainOptions { learning_rate: args.learning_rate.unwrap_or(defaults.learning_rate), backbone_learning_rate: rate, ..defaults.clone() };
        eprintln!("  decoder layers' learning rate {rate:e}");
        let mut timing = Timing::start();
        let report = tuner.train(&opts, &mut timing).await?;
        eprintln!("  {}", report.message);
        let (fine_tuned, _) = transcripts(&tuner, prompts, test, true).await?;
        let fine_tuned_test_wer = wer(prompts, test, &fine_tuned);
        let fine_tuned_ood_wer = wer(ood, &every_ood, &transcripts(&tuner, ood, &every_ood, true).await?.0);
        for share in args.shares.iter().flat_map(|l| l.split(',')) {
            let share: f32 = share.trim().parse().map_err(|_| Error::Options(format!("--shares: '{share}' is not a number")))?;
            tuner.remix(share)?;
            let test_wer = wer(prompts, test, &transcripts(&tuner, prompts, test, true).await?.0);
            let ood_wer = wer(ood, &every_ood, &transcripts(&tuner, ood, &every_ood, true).await?.0);
            eprintln!("  share {share}: held-out WER {:.1}%, out-of-domain WER {:.1}%", test_wer * 100.0, ood_wer * 100.0);
        }
        if args.shares.is_some() {
            tuner.remix(report.fine_tuned_share)?;
        }
        if args.errors {
            for ((&i, z), f) in test.iter().zip(&zero_shot).zip(&fine_tuned) {
                if wer(prompts, &[i], std::slice::from_ref(f)) > 0.0 || wer(prompts, &[i], std::slice::from_ref(z)) > 0.0 {
                    eprintln!("  {}\n    truth:      {}\n    zero-shot:  {z}\n    fine-tuned: {f}", prompts[i].0, prompts[i].2);
                }
            }
        }
        rows.push(Row {
            unfreeze: unfreeze.to_string(),
            backbone_learning_rate: rate,
            train_clips: added.added,
            test_clips: test.len(),
            skipped: added.skipped.len(),
            zero_shot_test_wer,
            fine_tuned_test_wer,
            zero_shot_val_wer: report.zero_shot_val_wer,
            zero_shot_ood_wer,
            fine_tuned_ood_wer,
            best_val_wer: report.best_val_wer,
            best_epoch: report.best_epoch,
            fine_tuned_share: report.fine_tuned_share,
            mixing_s: timing.mixing_seconds(),
            caching_clips_per_s,
            train_clips_per_s: timing.mean_throughput(),
            baseline_s: timing.baseline.unwrap_or(0.0),
            time_to_first_step_s: timing.first_step.unwrap_or(f32::NAN) - timing.baseline.unwrap_or(0.0),
            caching_examples_per_s: caching_clips_per_s,
            epoch_examples_per_s: timing.throughput.clone(),
            transcribe_clips_per_s,
            peak_memory_mb: peak_memory_mb(),
            cache_mb: tuner.cache_bytes() as f32 / 1e6,
        });
    }
    Ok(rows)
}

fn main() -> Result<(), Error> {
    burn_finetune::native::keep_freed_memory();
    let args = Args::parse();
    let prompts = prompts(&args.data, args.limit)?;
    let ood = if args.ood.join("manifest.csv").is_file() {
        self::prompts(&args.ood, None)?
    } else {
        eprintln!("no out-of-domain clips in {} (scripts/setup.sh makes them with flite): that column stays empty", args.ood.display());
        Vec::new()
    };
    eprintln!("{} prompts", prompts.len());
    if !args.json {
        println!(
            "| decoder layers | learning rate | train / test clips | zero-shot test WER | fine-tuned test WER | val WER (epoch) | fine-tuned share (choosing) | out-of-domain WER | caching clips/s | training clips/s | baseline | first step | transcribe clips/s | peak memory |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    }
    for unfreeze in unfreeze_list(&args.unfreeze)? {
        for row in futures_lite::future::block_on(run(&args, &prompts, &ood, unfreeze))? {
            if args.json {
                println!("{}", serde_json::to_string(&row).map_err(|e| Error::Data(e.to_string()))?);
            } else {
                println!(
                    "| {} | {:e} | {} / {} | {:.1}% | {:.1}% | {:.1}% → {:.1}% ({}) | {:.2} ({:.1} s) | {:.1}% → {:.1}% | {:.2} | {:.1} | {:.1} s | {:.1} s | {:.2} | {:.0} MB |",
                    row.unfreeze,
                    row.backbone_learning_rate,
                    row.train_clips,
                    row.test_clips,
                    row.zero_shot_test_wer * 100.0,
                    row.fine_tuned_test_wer * 100.0,
                    row.zero_shot_val_wer * 100.0,
                    row.best_val_wer * 100.0,
                    row.best_epoch,
                    row.fine_tuned_share,
                    row.mixing_s,
                    row.zero_shot_ood_wer * 100.0,
                    row.fine_tuned_ood_wer * 100.0,
                    row.caching_clips_per_s,
                    row.train_clips_per_s,
                    row.baseline_s,
                    row.time_to_first_step_s,
                    row.transcribe_clips_per_s,
                    row.peak_memory_mb
                );
            }
        }
    }
    Ok(())
}
