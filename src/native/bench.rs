//! Shared by the `bench` and `bench_text` binaries: timing hooks and peak memory.

use web_time::Instant;

use crate::Error;
use crate::model::Unfreeze;
use crate::train::{TrainEvent, TrainHooks};

/// `--unfreeze head,2`: the configurations to run.
pub fn unfreeze_list(list: &str) -> Result<Vec<Unfreeze>, Error> {
    list.split(',')
        .map(|u| match u.trim() {
            "head" => Ok(Unfreeze::Head),
            k => k.parse().map(Unfreeze::Blocks).map_err(|_| Error::Options(format!("bad --unfreeze {k}: 'head' or a number"))),
        })
        .collect()
}

/// Records when the first training step finished and each epoch's throughput (and logs epochs).
pub struct Timing {
    pub started: Instant,
    pub first_step: Option<f32>,
    pub throughput: Vec<f32>,
}

impl Timing {
    pub fn start() -> Self {
        Self { started: Instant::now(), first_step: None, throughput: Vec::new() }
    }

    /// Mean training examples per second over the epochs.
    pub fn mean_throughput(&self) -> f32 {
        self.throughput.iter().sum::<f32>() / self.throughput.len().max(1) as f32
    }
}

impl TrainHooks for Timing {
    fn on_event(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::Step { .. } if self.first_step.is_none() => self.first_step = Some(self.started.elapsed().as_secs_f32()),
            TrainEvent::Epoch(e) => {
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

/// Peak resident memory of this process (Linux `VmHWM`), in MB.
pub fn peak_memory_mb() -> f32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<f32>().unwrap_or(0.0)))
        .unwrap_or(0.0)
        / 1024.0
}
