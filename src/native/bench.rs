//! Shared by the `bench`, `bench_text` and `bench_speech` binaries: timing hooks and peak memory.

use serde::Serialize;
use web_time::Instant;

use crate::Error;
use crate::model::Unfreeze;
use crate::train::{TrainEvent, TrainHooks, TrainReport};

/// `--unfreeze head,2`: the configurations to run.
pub fn unfreeze_list(list: &str) -> Result<Vec<Unfreeze>, Error> {
    list.split(',').map(|u| u.parse::<Unfreeze>().map_err(|e| Error::Options(format!("--unfreeze: {e}")))).collect()
}

/// Records when the first training step finished and each epoch's throughput (and logs epochs).
pub struct Timing {
    pub started: Instant,
    pub first_step: Option<f32>,
    pub throughput: Vec<f32>,
    /// Speech: when the pretrained model had transcribed the validation clips (seconds).
    pub baseline: Option<f32>,
    /// Speech: when the last epoch ended, and when the last mix with the pretrained weights was
    /// scored (seconds).
    pub last_epoch: Option<f32>,
    pub mixed: Option<f32>,
    /// Classifiers: each checkpoint written (as the page keeps one after every epoch): its size
    /// in bytes and the milliseconds from the end of its epoch to its bytes.
    pub checkpoints: Vec<(usize, f32)>,
    epoch_ended: Option<Instant>,
}

impl Timing {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            first_step: None,
            throughput: Vec::new(),
            baseline: None,
            last_epoch: None,
            mixed: None,
            checkpoints: Vec::new(),
            epoch_ended: None,
        }
    }

    /// Speech: seconds spent scoring mixes with the pretrained weights after the last epoch.
    pub fn mixing_seconds(&self) -> f32 {
        self.mixed.zip(self.last_epoch).map_or(0.0, |(m, e)| m - e)
    }

    /// Mean training examples per second over the epochs.
    pub fn mean_throughput(&self) -> f32 {
        self.throughput.iter().sum::<f32>() / self.throughput.len().max(1) as f32
    }
}

impl TrainHooks for Timing {
    fn keeps_checkpoints(&self) -> bool {
        true
    }

    fn on_checkpoint(&mut self, _epoch: usize, bytes: Vec<u8>) {
        let ms = self.epoch_ended.map_or(f32::NAN, |t| t.elapsed().as_secs_f32() * 1e3);
        self.checkpoints.push((bytes.len(), ms));
    }

    fn on_event(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::Step { .. } if self.first_step.is_none() => self.first_step = Some(self.started.elapsed().as_secs_f32()),
            TrainEvent::Baseline { done, total } if done == total => self.baseline = Some(self.started.elapsed().as_secs_f32()),
            TrainEvent::Mix { mix, done, total } => {
                eprintln!("  mix {:.0} % fine-tuned: val WER {:.1}%, val loss {:.3}", mix.share * 100.0, mix.val_wer * 100.0, mix.val_loss);
                if done == total {
                    self.mixed = Some(self.started.elapsed().as_secs_f32());
                }
            }
            TrainEvent::SpeechEpoch(e) => {
                self.last_epoch = Some(self.started.elapsed().as_secs_f32());
                self.throughput.push(e.train_examples_per_sec);
                eprintln!(
                    "  epoch {}: train loss {:.3}, val loss {:.3}, val WER {:.1}%, {:.1} clips/s",
                    e.epoch, e.train_loss, e.val_loss, e.val_wer * 100.0, e.train_examples_per_sec
                );
            }
            TrainEvent::Epoch(e) => {
                self.epoch_ended = Some(Instant::now());
                self.throughput.push(e.train_examples_per_sec);
                eprintln!(
                    "  epoch {}: train acc {:.1}%, val acc {:.1}% loss {:.3}, {:.0} ex/s",
                    e.epoch, e.train_accuracy * 100.0, e.val_accuracy * 100.0, e.val_loss, e.train_examples_per_sec
                );
            }
            _ => {}
        }
    }
}

/// What both bench binaries report about a training run (flattened into their JSON rows).
#[derive(Serialize, Default)]
pub struct TrainStats {
    pub time_to_first_step_s: f32,
    pub train_examples_per_s: f32,
    pub peak_memory_mb: f32,
    pub cache_mb: f32,
    pub best_val_accuracy: f32,
    pub epochs_run: usize,
    /// Training examples per second of each epoch (the first includes warm-up).
    pub epoch_examples_per_s: Vec<f32>,
    /// CPU threads the backend may use (rayon's pool: one per core).
    pub threads: usize,
    /// A checkpoint's size and the time to write it after its epoch (means; NaN: none written).
    pub checkpoint_mb: f32,
    pub checkpoint_ms: f32,
}

impl TrainStats {
    pub fn new(timing: &Timing, report: &TrainReport, cache_bytes: usize) -> Self {
        Self {
            time_to_first_step_s: timing.first_step.unwrap_or(f32::NAN),
            train_examples_per_s: timing.mean_throughput(),
            peak_memory_mb: peak_memory_mb(),
            cache_mb: cache_bytes as f32 / 1e6,
            best_val_accuracy: report.best_val_accuracy,
            epochs_run: report.epochs.len(),
            epoch_examples_per_s: timing.throughput.clone(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            checkpoint_mb: mean(timing.checkpoints.iter().map(|c| c.0 as f32 / 1e6)),
            checkpoint_ms: mean(timing.checkpoints.iter().map(|c| c.1)),
        }
    }
}

fn mean(values: impl Iterator<Item = f32>) -> f32 {
    let (sum, n) = values.fold((0.0, 0), |(s, n), v| (s + v, n + 1));
    if n == 0 { f32::NAN } else { sum / n as f32 }
}

/// Peak resident memory of this process (Linux `VmHWM`), in MB.
pub fn peak_memory_mb() -> f32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<f32>().unwrap_or(0.0)))
        .unwrap_or(0.0)
        / 1024.0
}
