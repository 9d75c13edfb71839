//! `finetune`: fine-tune EfficientNet-Lite0 on a folder of images (one subfolder per class),
//! MiniLM-L6 on a CSV/TSV/JSON Lines file of texts and labels, Whisper tiny.en's encoder on a
//! folder of sound clips (one subfolder per class), or Whisper tiny.en on recordings with their
//! transcripts, natively; transcribe with a fine-tuned Whisper.
//!
//! ```text
//! finetune --data photos/ [--val-data held-out/] [--unfreeze head|K] [--epochs N] [--json]
//! finetune --text reviews.csv [--text-column text] [--label-column label] [--max-length 128]
//! finetune --audio sounds/ [--val-data held-out/] [--unfreeze head|K] [--export m.safetensors]
//! finetune --speech clips/|manifest.csv|recording.mp3 [--subtitles recording.vtt] [--val-data …] [--export m.safetensors]
//! finetune --transcribe recording.wav [--model m.safetensors]
//! ```

mod printer;
mod speech_cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use burn_finetune::backend::BackendKind;
use burn_finetune::data::TextTokenizer;
use burn_finetune::model::{EfficientNetWeights, MiniLmWeights, Unfreeze};
use burn_finetune::native::folder::{add_folder, list_folder, printable_path};
use burn_finetune::native::native_device;
use burn_finetune::native::text_file::{dataset_from, read_text_file};
use burn_finetune::train::TrainOptions;
use burn_finetune::task::{FineTuner, ImageTask, Preparation, Task, TextTask};
use burn_finetune::{Error, ImageFineTuner, TextFineTuner};
use clap::Parser;
use web_time::Instant;

use printer::Printer;

#[derive(Parser, Debug)]
#[command(about = "Fine-tune EfficientNet-Lite0 on a folder-per-class image set, or MiniLM-L6 on a text file \
(head + upper layers)")]
#[command(group = clap::ArgGroup::new("input").required(true).args(["data", "text", "audio", "speech", "transcribe"]))]
struct Args {
    /// Folder with one subfolder of images per class.
    #[arg(long)]
    data: Option<PathBuf>,
    /// CSV, TSV or JSON Lines file of texts and labels (with a header line for CSV/TSV).
    #[arg(long)]
    text: Option<PathBuf>,
    /// Sound classes: a folder with one subfolder of audio clips (WAV, MP3, FLAC, Ogg, M4A) per
    /// class, on Whisper tiny.en's encoder (--speech-model).
    #[arg(long)]
    audio: Option<PathBuf>,
    /// Speech: a folder of clips with transcripts beside them (x.wav + x.txt), a CSV/TSV/JSON
    /// Lines manifest (file, text), or one recording with --subtitles.
    #[arg(long)]
    speech: Option<PathBuf>,
    /// WebVTT or SRT subtitles of the --speech recording (or of the --val-data recording).
    #[arg(long)]
    subtitles: Option<PathBuf>,
    /// Transcribe this recording (any length) with Whisper tiny.en, fine-tuned by --model.
    #[arg(long)]
    transcribe: Option<PathBuf>,
    /// A fine-tuned speech model exported by --export (for --transcribe).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Whisper tiny.en folder (model.safetensors, tokenizer.json, config.json; scripts/setup.sh).
    #[arg(long, default_value = "assets/whisper-tiny-en")]
    speech_model: PathBuf,
    /// Text column (default: guessed from the header, e.g. "text", "sentence", "review").
    #[arg(long)]
    text_column: Option<String>,
    /// Label column (default: guessed, e.g. "label", "class", "sentiment").
    #[arg(long)]
    label_column: Option<String>,
    /// Texts are cut to this many tokens [default: 128].
    #[arg(long)]
    max_length: Option<usize>,
    /// MiniLM-L6 folder with model.safetensors and tokenizer.json (made by scripts/setup.sh).
    #[arg(long, default_value = "assets/minilm-l6")]
    text_model: PathBuf,
    /// Optional separate validation folder (same class subfolders; speech: clips in any of the
    /// --speech shapes); default: a seeded split.
    #[arg(long)]
    val_data: Option<PathBuf>,
    /// Images: augmented views cached per image besides the original (0–8): random crops, flips
    /// and colour changes; each epoch trains on one per image. Preparation takes 1 + N times as
    /// long and the cache holds 1 + N rows per image [default: 0].
    #[arg(long)]
    augment: Option<usize>,
    /// Images: augmented views are never mirrored (for text, digits, arrows).
    #[arg(long)]
    no_flip: bool,
    /// EfficientNet-Lite0 weights (made by scripts/setup.sh).
    #[arg(long, default_value = "assets/efficientnet-lite0.safetensors")]
    weights: PathBuf,
    /// "head", or the number of top MBConv blocks (images, with `_conv_head`), encoder layers
    /// (text, audio) or decoder layers (speech) to unfreeze with the head [default: 2; audio:
    /// head].
    #[arg(long)]
    unfreeze: Option<Unfreeze>,
    /// Most epochs (early stopping may end sooner) [default: 10 for images, 3 for text, 20 for
    /// audio, 5 for speech].
    #[arg(long)]
    epochs: Option<usize>,
    /// Examples per step [default: 32].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate of the new head [default: 1e-3].
    #[arg(long, alias = "head-lr")]
    learning_rate: Option<f64>,
    /// Learning rate of the unfrozen pretrained layers [default: 1e-4].
    #[arg(long, alias = "backbone-lr")]
    backbone_learning_rate: Option<f64>,
    /// Share of each class kept for validation [default: 0.2].
    #[arg(long, alias = "val-share")]
    validation_split: Option<f64>,
    /// Seed of the split, the head's initialisation and the shuffling [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// Epochs without a better validation loss before stopping [default: 3].
    #[arg(long)]
    patience: Option<usize>,
    /// Dropout of the trained layers while training, 0 to 0.9 [default: 0.1; images: 0].
    #[arg(long)]
    dropout: Option<f64>,
    /// After training, mix the fine-tuned weights with the pretrained ones (WiSE-FT), the share
    /// chosen on the validation split: `--mix` or `--mix false` (default: the task's).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    mix: Option<bool>,
    /// Classifiers: average the epochs' weights from the second on (SWA), kept when validation
    /// prefers it: `--average-epochs` or `--average-epochs false` (default: the task's).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    average_epochs: Option<bool>,
    /// Classifiers: label smoothing of the training loss, 0 to 0.5 (default 0).
    #[arg(long)]
    label_smoothing: Option<f64>,
    /// Classifiers: fit the head alone first, then fine-tune from it (LP-FT): `--linear-probe` or
    /// `--linear-probe false` (default: the task's).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    linear_probe: Option<bool>,
    /// Classifiers: try the head alone and head + upper layers at three learning rates on the
    /// cached features and keep the best on validation (about four runs' time): `--auto` or
    /// `--auto false` (default: off).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    auto: Option<bool>,
    /// cpu (burn's flex backend) or wgpu (Vulkan/Metal/DX12).
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "wgpu"])]
    backend: String,
    /// Print JSON lines (one event each) instead of a table.
    #[arg(long)]
    json: bool,
    /// After training, write the fine-tuned model to this file (safetensors + metadata; the page
    /// imports it).
    #[arg(long)]
    export: Option<PathBuf>,
    /// Keep a checkpoint of the run in this file after each epoch (images, text, sounds):
    /// `--resume` goes on from it after an interruption.
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Go on from the run kept in `--checkpoint FILE`, with its settings and the same data (the
    /// result is the uninterrupted run's).
    #[arg(long, requires = "checkpoint")]
    resume: bool,
    /// Use at most this many examples per class (0: all).
    #[arg(long, default_value_t = 0)]
    limit_per_class: usize,
}

fn main() -> ExitCode {
    burn_finetune::native::keep_freed_memory();
    let args = Args::parse();
    match futures_lite::future::block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The options given, over the task's defaults.
fn train_options<T: Task>(args: &Args) -> Result<TrainOptions, Error> {
    train_options_over(args, T::train_defaults())
}

/// The options given, over `d`.
fn train_options_over(args: &Args, d: TrainOptions) -> Result<TrainOptions, Error> {
    let opts = TrainOptions {
        epochs: args.epochs.unwrap_or(d.epochs),
        batch_size: args.batch_size.unwrap_or(d.batch_size),
        learning_rate: args.learning_rate.unwrap_or(d.learning_rate),
        backbone_learning_rate: args.backbone_learning_rate.unwrap_or(d.backbone_learning_rate),
        validation_split: args.validation_split.unwrap_or(d.validation_split),
        seed: args.seed.unwrap_or(d.seed),
        patience: args.patience.unwrap_or(d.patience),
        dropout: args.dropout.unwrap_or(d.dropout),
        mix_pretrained: args.mix.unwrap_or(d.mix_pretrained),
        linear_probe: args.linear_probe.unwrap_or(d.linear_probe),
        label_smoothing: args.label_smoothing.unwrap_or(d.label_smoothing),
        average_epochs: args.average_epochs.unwrap_or(d.average_epochs),
        auto: args.auto.unwrap_or(d.auto),
        ..d
    };
    opts.validate().map_err(Error::Options)?;
    Ok(opts)
}

/// The preparation given, over the task's defaults; checked by the task's model.
fn preparation<T: Task>(args: &Args) -> Result<Preparation, Error> {
    let d = T::default_preparation();
    let prep = Preparation {
        unfreeze: args.unfreeze.unwrap_or(d.unfreeze),
        max_length: args.max_length.unwrap_or(d.max_length),
        augment: args.augment.unwrap_or(d.augment),
        flip: !args.no_flip,
    };
    T::check(&prep).map_err(Error::Options)?;
    prep.check_augment(T::AUGMENTS, T::NAME).map_err(Error::Options)?;
    Ok(prep)
}

/// Checks that the examples can train, prints the header, trains, and exports when asked.
async fn train_and_export<T: Task>(args: &Args, tuner: &mut FineTuner<T>, opts: &TrainOptions, what: &str, added: usize, secs: f32) -> Result<(), Error> {
    tuner.readiness().map_err(Error::Data)?;
    let cut = tuner.preparation().unfreeze.describe(T::LAYERS);
    print_header(args, added, what, secs, tuner.classes(), &tuner.class_counts(), &cut);
    let mut printer = Printer { json: args.json, checkpoint: args.checkpoint.clone() };
    match (&args.checkpoint, args.resume) {
        (Some(path), true) => tuner.resume(read_checkpoint(path)?, &mut printer).await?,
        _ => tuner.train(opts, &mut printer).await?,
    };
    if let Some(path) = &args.export {
        write_model(path, tuner.export_model().await?)?;
    }
    Ok(())
}

fn read_checkpoint(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Data(format!("the checkpoint '{}' cannot be read ({e}): --resume goes on from a run started with --checkpoint", path.display())))
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path)
        .map_err(|e| Error::Data(format!("'{}' cannot be read ({e}): run scripts/setup.sh first", path.display())))
}

fn print_header(args: &Args, added: usize, what: &str, secs: f32, classes: &[String], counts: &[usize], cut: &str) {
    let summary = classes.iter().zip(counts).map(|(c, n)| format!("{c}: {n}")).collect::<Vec<_>>().join(", ");
    if args.json {
        println!("{}", serde_json::json!({"type": "prepared", "examples": added, "seconds": secs, "classes": classes, "counts": counts}));
    } else {
        println!("{added} {what} prepared in {secs:.1} s ({:.1}/s); {summary}", added as f32 / secs.max(1e-6));
        println!("training: {cut}");
        println!("{:>5} {:>10} {:>10} {:>9} {:>8} {:>8} {:>9} {:>7}", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_f1", "ex/s", "sec");
    }
}

fn skipped(args: &Args, what: &str, reason: &str) {
    if args.json {
        println!("{}", serde_json::json!({"type": "skipped", "item": what, "reason": reason}));
    } else {
        eprintln!("skipped {what}: {reason}");
    }
}

fn device(args: &Args) -> Result<burn::tensor::Device, Error> {
    native_device(if args.backend == "wgpu" { BackendKind::Webgpu } else { BackendKind::Cpu })
}

async fn run(args: &Args) -> Result<(), Error> {
    if let Some(audio) = &args.audio {
        return speech_cli::run_audio(args, audio).await;
    }
    if let Some(speech) = &args.speech {
        return speech_cli::run_speech(args, speech).await;
    }
    if let Some(recording) = &args.transcribe {
        return speech_cli::run_transcribe(args, recording).await;
    }
    match (&args.data, &args.text) {
        (Some(data), _) => run_images(args, data).await,
        (_, Some(text)) => run_text(args, text).await,
        _ => unreachable!("clap requires --data, --text, --speech or --transcribe"),
    }
}

async fn run_text(args: &Args, path: &std::path::Path) -> Result<(), Error> {
    let opts = train_options::<TextTask>(args)?;
    let prep = preparation::<TextTask>(args)?;
    let table = read_text_file(path)?;
    let mut set = dataset_from(&table, args.text_column.as_deref(), args.label_column.as_deref())?;
    // Listed whole in --json; on a terminal the first LISTED, then a count.
    let shown = if args.json { set.skipped.len() } else { LISTED };
    for row in set.skipped.iter().take(shown) {
        skipped(args, &format!("line {}", row.line), &row.reason);
    }
    if set.skipped.len() > shown {
        eprintln!("… and {} more rows skipped", set.skipped.len() - shown);
    }
    if set.empty_texts > 0 {
        skipped(args, &format!("{} row(s)", set.empty_texts), "empty or whitespace-only text");
    }
    set.limit_per_class(args.limit_per_class);
    ready::<TextTask>(&set.classes, &set.counts())?;
    let weights = MiniLmWeights::from_bytes("model.safetensors", &read(&args.text_model.join("model.safetensors"))?)?;
    let tokenizer = TextTokenizer::from_bytes(&read(&args.text_model.join("tokenizer.json"))?).map_err(Error::Data)?;
    let mut tuner = TextFineTuner::new(TextTask::new(weights, tokenizer)?, device(args)?);
    tuner.reset(set.classes.clone(), prep)?;
    let started = Instant::now();
    let mut truncated = 0;
    for (texts, labels) in set.texts.chunks(256).zip(set.labels.chunks(256)) {
        truncated += tuner.add(texts, labels, false).await?.truncated;
    }
    if truncated > 0 {
        skipped(args, &format!("{truncated} texts"), &format!("truncated to {} tokens (not skipped)", prep.max_length));
    }
    train_and_export(args, &mut tuner, &opts, "texts", set.texts.len(), started.elapsed().as_secs_f32()).await
}

/// Skipped rows printed on a terminal (all of them with `--json`).
const LISTED: usize = 20;

/// Why examples with these per-class counts cannot train, said before any of them runs through
/// the frozen layers (the rule training applies).
pub(crate) fn ready<T: Task>(classes: &[String], counts: &[usize]) -> Result<(), Error> {
    burn_finetune::task::fine_tuner::readiness(classes, counts, T::NO_EXAMPLES).map_err(Error::Data)
}

/// Examples per class of `labels`, at most `limit` each (0: all).
pub(crate) fn counts_of(labels: impl Iterator<Item = usize>, classes: usize, limit: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    labels.for_each(|l| counts[l] += 1);
    if limit > 0 {
        counts.iter_mut().for_each(|c| *c = (*c).min(limit));
    }
    counts
}

fn write_model(path: &std::path::Path, bytes: Vec<u8>) -> Result<(), Error> {
    std::fs::write(path, &bytes).map_err(|e| Error::Data(format!("cannot write {}: {e}", path.display())))?;
    eprintln!("model written to {} ({:.1} MB)", path.display(), bytes.len() as f64 / 1e6);
    Ok(())
}

async fn run_images(args: &Args, data: &std::path::Path) -> Result<(), Error> {
    let opts = train_options::<ImageTask>(args)?;
    let prep = preparation::<ImageTask>(args)?;
    let train_set = list_folder(data)?;
    let mut counts = counts_of(train_set.files.iter().map(|f| f.1), train_set.classes.len(), args.limit_per_class);
    if let Some(val) = &args.val_data {
        let val_set = list_folder(val)?;
        let names = val_set.classes.iter().map(|c| train_set.classes.iter().position(|t| t == c));
        let val_counts = counts_of(val_set.files.iter().map(|f| f.1), val_set.classes.len(), args.limit_per_class);
        names.zip(val_counts).for_each(|(at, n)| if let Some(at) = at { counts[at] += n });
    }
    ready::<ImageTask>(&train_set.classes, &counts)?;
    let bytes = std::fs::read(&args.weights).map_err(|e| {
        Error::Data(format!("weights file '{}' cannot be read ({e}): run scripts/setup.sh first", args.weights.display()))
    })?;
    let weights = EfficientNetWeights::from_bytes(&args.weights.display().to_string(), &bytes)?;
    let mut tuner = ImageFineTuner::new(ImageTask { weights }, device(args)?);
    tuner.reset(train_set.classes.clone(), prep)?;
    let started = Instant::now();
    let mut added = add_folder(&mut tuner, data, args.limit_per_class, false).await?;
    if let Some(val) = &args.val_data {
        let val = add_folder(&mut tuner, val, args.limit_per_class, true).await?;
        added.images += val.images;
        added.skipped.extend(val.skipped);
    }
    for (file, reason) in &added.skipped {
        skipped(args, &printable_path(file), reason);
    }
    train_and_export(args, &mut tuner, &opts, "images", added.images, started.elapsed().as_secs_f32()).await
}
