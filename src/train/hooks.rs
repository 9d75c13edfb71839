//! How a training run talks to its host (the browser worker or the CLI): events out, a cancel
//! flag in, and a yield between steps so a single-threaded host stays responsive.

use std::future::Future;

use super::events::TrainEvent;

pub trait TrainHooks {
    /// Called for every progress event.
    fn on_event(&mut self, event: &TrainEvent);
    /// Whether the host keeps a checkpoint after each epoch (then [`Self::on_checkpoint`] gets
    /// them). Default: no.
    fn keeps_checkpoints(&self) -> bool {
        false
    }
    /// After each epoch that more epochs follow, when the run writes checkpoints: the run's
    /// checkpoint (see [`super::checkpoint`]).
    fn on_checkpoint(&mut self, epoch: usize, bytes: Vec<u8>) {
        let _ = (epoch, bytes);
    }
    /// Polled before each step: `true` stops training within one step, keeping the best weights.
    /// Default: never.
    fn cancelled(&self) -> bool {
        false
    }
    /// Awaited between steps. In a browser it returns to the event loop (messages, rendering).
    /// Default: nothing to yield to (native, blocking hosts).
    fn yield_now(&mut self) -> impl Future<Output = ()> {
        std::future::ready(())
    }
}

/// Hooks that collect events and never cancel; for tests and simple native use.
#[derive(Default)]
pub struct CollectEvents {
    pub events: Vec<TrainEvent>,
    /// Cancel once this many step events were seen.
    pub cancel_after_steps: Option<usize>,
    /// Keep checkpoints (in `checkpoints`, by epoch).
    pub keep_checkpoints: bool,
    pub checkpoints: Vec<(usize, Vec<u8>)>,
}

impl TrainHooks for CollectEvents {
    fn on_event(&mut self, event: &TrainEvent) {
        self.events.push(event.clone());
    }

    fn keeps_checkpoints(&self) -> bool {
        self.keep_checkpoints
    }

    fn on_checkpoint(&mut self, epoch: usize, bytes: Vec<u8>) {
        self.checkpoints.push((epoch, bytes));
    }

    fn cancelled(&self) -> bool {
        let steps = self.events.iter().filter(|e| matches!(e, TrainEvent::Step { .. })).count();
        self.cancel_after_steps.is_some_and(|n| steps >= n)
    }
}
