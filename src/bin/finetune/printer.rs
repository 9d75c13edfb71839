//! Prints a run's progress: a table row per epoch, the probe, the mixes, warnings and the summary
//! (or every event as JSON with `--json`), and writes the checkpoints `--checkpoint` asks for.

use std::path::PathBuf;

use burn_finetune::train::{EpochReport, TrainEvent, TrainHooks};

/// Prints events as a table or JSON lines; keeps checkpoints in a file when asked.
pub struct Printer {
    pub json: bool,
    pub checkpoint: Option<PathBuf>,
}

impl Printer {
    pub fn new(json: bool) -> Self {
        Self { json, checkpoint: None }
    }

    fn epoch_row(e: &EpochReport) {
        println!(
            "{:>5} {:>10.4} {:>9.1}% {:>9.4} {:>7.1}% {:>8.3} {:>9.1} {:>7.1}",
            e.epoch, e.train_loss, e.train_accuracy * 100.0, e.val_loss, e.val_accuracy * 100.0,
            e.val_macro_f1, e.train_examples_per_sec, e.seconds
        );
    }
}

impl TrainHooks for Printer {
    fn keeps_checkpoints(&self) -> bool {
        self.checkpoint.is_some()
    }

    /// Written beside the file, then renamed over it: an interruption while writing leaves the
    /// previous epoch's checkpoint whole.
    fn on_checkpoint(&mut self, epoch: usize, bytes: Vec<u8>) {
        let Some(path) = &self.checkpoint else { return };
        let partial = path.with_extension("partial");
        match std::fs::write(&partial, &bytes).and_then(|()| std::fs::rename(&partial, path)) {
            Ok(()) if !self.json => eprintln!("checkpoint of epoch {epoch} kept in {} ({:.1} MB)", path.display(), bytes.len() as f64 / 1e6),
            Ok(()) => {}
            Err(e) => eprintln!("warning: the checkpoint of epoch {epoch} could not be written to {} ({e})", path.display()),
        }
    }

    fn on_event(&mut self, event: &TrainEvent) {
        if self.json {
            if !matches!(event, TrainEvent::Step { .. }) {
                println!("{}", serde_json::to_string(event).unwrap_or_default());
            }
            return;
        }
        match event {
            TrainEvent::Epoch(e) => Self::epoch_row(e),
            TrainEvent::Resumed { epoch, epochs } => {
                epochs.iter().for_each(Self::epoch_row);
                println!("(resumed after epoch {epoch} from its checkpoint)");
            }
            TrainEvent::SpeechEpoch(e) => println!(
                "{:>5} {:>10.4} {:>9.4} {:>8.1}% {:>9.1} {:>7.1}",
                e.epoch, e.train_loss, e.val_loss, e.val_wer * 100.0, e.train_examples_per_sec, e.seconds
            ),
            TrainEvent::SpeechDone(r) => println!("{}", r.message),
            TrainEvent::Baseline { done, total } if done == total => println!("the pretrained model transcribed {total} validation clips (epoch 0)"),
            TrainEvent::Mix { mix, .. } => println!("mixed {:.0} % fine-tuned with the pretrained weights: validation WER {:.1}%", mix.share * 100.0, mix.val_wer * 100.0),
            TrainEvent::LinearProbeEpoch { epoch, val_loss, val_accuracy, .. } => {
                println!("head alone, epoch {epoch:>3}: val_loss {val_loss:.4}, val_acc {:.1}%", val_accuracy * 100.0)
            }
            TrainEvent::MixScored { mix, .. } => println!(
                "mixed {:.0} % fine-tuned with the pretrained weights: val_loss {:.4}, val_acc {:.1}%",
                mix.share * 100.0, mix.val_loss, mix.val_accuracy * 100.0
            ),
            TrainEvent::Trial { trial, trials, name } => println!("trial {trial}/{trials}: {name}"),
            TrainEvent::TrialDone { trial, trials, report } => println!(
                "trial {trial}/{trials} ({}): val_loss {:.4}, val_acc {:.1}%, {:.0} s",
                report.name, report.val_loss, report.val_accuracy * 100.0, report.seconds
            ),
            TrainEvent::Warning { message } => println!("warning: {message}"),
            TrainEvent::Done(r) => println!("{}", r.message),
            _ => {}
        }
    }
}
