//! `finetune`: fine-tune EfficientNet-Lite0 on a folder of images (one subfolder per class), natively.
//!
//! ```text
//! finetune --data photos/ [--val-data held-out/] [--unfreeze head|K] [--epochs 10] [--json]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use burn_finetune::backend::BackendKind;
use burn_finetune::model::{EfficientNetWeights, Unfreeze};
use burn_finetune::native::folder::{add_folder, list_folder};
use burn_finetune::native::native_device;
use burn_finetune::train::{TrainEvent, TrainHooks, TrainOptions};
use burn_finetune::{Error, ImageFineTuner};
use clap::Parser;
use web_time::Instant;

#[derive(Parser, Debug)]
#[command(about = "Fine-tune EfficientNet-Lite0 (head + upper blocks) on a folder-per-class image data set")]
struct Args {
    /// Folder with one subfolder of images per class.
    #[arg(long)]
    data: PathBuf,
    /// Optional separate validation folder (same class subfolders); default: a stratified split.
    #[arg(long)]
    val_data: Option<PathBuf>,
    /// Pretrained weights (made by scripts/setup.sh).
    #[arg(long, default_value = "assets/efficientnet-lite0.safetensors")]
    weights: PathBuf,
    /// "head", or the number of top MBConv blocks to unfreeze (with `_conv_head` and the head).
    #[arg(long, default_value = "2", value_parser = parse_unfreeze)]
    unfreeze: Unfreeze,
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, default_value_t = 1e-3)]
    head_lr: f64,
    #[arg(long, default_value_t = 1e-4)]
    backbone_lr: f64,
    #[arg(long, default_value_t = 0.2)]
    val_share: f32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 3)]
    patience: usize,
    /// cpu (burn's flex backend) or wgpu (Vulkan/Metal/DX12).
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "wgpu"])]
    backend: String,
    /// Print JSON lines (one event each) instead of a table.
    #[arg(long)]
    json: bool,
    /// Use at most this many images per class (0: all).
    #[arg(long, default_value_t = 0)]
    limit_per_class: usize,
}

fn parse_unfreeze(s: &str) -> Result<Unfreeze, String> {
    match s {
        "head" => Ok(Unfreeze::Head),
        k => k.parse().map(Unfreeze::Blocks).map_err(|_| format!("expected \"head\" or a number, got \"{k}\"")),
    }
}

/// Prints events as a table or JSON lines.
struct Printer {
    json: bool,
}

impl TrainHooks for Printer {
    fn on_event(&mut self, event: &TrainEvent) {
        if self.json {
            if !matches!(event, TrainEvent::Step { .. }) {
                println!("{}", serde_json::to_string(event).unwrap_or_default());
            }
            return;
        }
        match event {
            TrainEvent::Epoch(e) => println!(
                "{:>5} {:>10.4} {:>9.1}% {:>9.4} {:>7.1}% {:>8.3} {:>9.1} {:>7.1}",
                e.epoch, e.train_loss, e.train_accuracy * 100.0, e.val_loss, e.val_accuracy * 100.0,
                e.val_macro_f1, e.train_examples_per_sec, e.seconds
            ),
            TrainEvent::Warning { message } => println!("warning: {message}"),
            TrainEvent::Done(r) => println!("{}", r.message),
            _ => {}
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match futures_lite::future::block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), Error> {
    let opts = TrainOptions {
        unfreeze: args.unfreeze,
        epochs: args.epochs,
        batch_size: args.batch_size,
        head_lr: args.head_lr,
        backbone_lr: args.backbone_lr,
        val_share: args.val_share,
        seed: args.seed,
        patience: args.patience,
        ..TrainOptions::default()
    };
    opts.validate().map_err(Error::Options)?;
    let bytes = std::fs::read(&args.weights).map_err(|e| {
        Error::Data(format!("weights file '{}' cannot be read ({e}): run scripts/setup.sh first", args.weights.display()))
    })?;
    let weights = EfficientNetWeights::from_bytes(&args.weights.display().to_string(), &bytes)?;
    let kind = if args.backend == "wgpu" { BackendKind::Webgpu } else { BackendKind::Cpu };
    let mut tuner = ImageFineTuner::new(weights, native_device(kind)?);

    let train_set = list_folder(&args.data)?;
    tuner.reset(train_set.classes.clone(), args.unfreeze)?;
    let started = Instant::now();
    let mut added = add_folder(&mut tuner, &args.data, args.limit_per_class, false).await?;
    if let Some(val) = &args.val_data {
        let val = add_folder(&mut tuner, val, args.limit_per_class, true).await?;
        added.images += val.images;
        added.skipped.extend(val.skipped);
    }
    for (file, reason) in &added.skipped {
        if args.json {
            println!("{}", serde_json::json!({"type": "skipped", "file": file, "reason": reason}));
        } else {
            eprintln!("skipped {}: {reason}", file.display());
        }
    }
    let added = added.images;
    let secs = started.elapsed().as_secs_f32();
    let counts = tuner.class_counts();
    let summary = train_set.classes.iter().zip(&counts).map(|(c, n)| format!("{c}: {n}")).collect::<Vec<_>>().join(", ");
    tuner.readiness().map_err(Error::Data)?;
    if args.json {
        println!("{}", serde_json::json!({"type": "prepared", "examples": added, "seconds": secs, "classes": train_set.classes, "counts": counts}));
    } else {
        println!("{added} images prepared in {secs:.1} s ({:.1}/s); {summary}", added as f32 / secs.max(1e-6));
        println!("training: {}", opts.unfreeze);
        println!("{:>5} {:>10} {:>10} {:>9} {:>8} {:>8} {:>9} {:>7}", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_f1", "ex/s", "sec");
    }
    tuner.train(&opts, &mut Printer { json: args.json }).await?;
    Ok(())
}
