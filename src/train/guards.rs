//! The guard rails of fine-tuning: divergence detection, early stopping, the overfitting warning.

/// Stops training when the loss is not finite or explodes, so the last good weights survive.
#[derive(Clone, Debug)]
pub struct DivergenceGuard {
    reference: Option<f32>,
    factor: f32,
}

impl DivergenceGuard {
    /// A loss above `factor` × the first finite batch loss (or above `factor`, when that was
    /// below 1) counts as exploding.
    pub fn new(factor: f32) -> Self {
        Self { reference: None, factor }
    }

    /// The loss explosions are measured against (the first batch's); for checkpoints.
    pub fn reference(&self) -> Option<f32> {
        self.reference
    }

    /// A guard that goes on from `reference` (a checkpoint's).
    pub fn resumed(factor: f32, reference: Option<f32>) -> Self {
        Self { reference, factor }
    }

    /// `Err` with the reason when `loss` shows divergence.
    pub fn check(&mut self, loss: f32) -> Result<(), String> {
        if !loss.is_finite() {
            return Err(format!("the loss became {loss}"));
        }
        let reference = *self.reference.get_or_insert(loss.max(1.0));
        if loss > self.factor * reference {
            return Err(format!("the loss exploded to {loss:.3e} (it started at {reference:.3})"));
        }
        Ok(())
    }
}

/// What early stopping says after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patience {
    /// New best validation loss: keep these weights.
    Improved,
    /// No improvement, but still within patience.
    Wait,
    /// No improvement for `patience` epochs: stop and restore the best weights.
    Stop,
}

/// Early stopping on the validation loss.
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    patience: usize,
    min_delta: f32,
    best: f32,
    bad_epochs: usize,
}

impl EarlyStopping {
    pub fn new(patience: usize) -> Self {
        Self { patience, min_delta: 1e-4, best: f32::INFINITY, bad_epochs: 0 }
    }

    /// The best validation loss (none before a finite one) and the epochs waited since: for
    /// checkpoints.
    pub fn state(&self) -> (Option<f32>, usize) {
        (self.best.is_finite().then_some(self.best), self.bad_epochs)
    }

    /// Early stopping that goes on from a checkpoint's [`Self::state`].
    pub fn resumed(patience: usize, best: Option<f32>, waited: usize) -> Self {
        Self { bad_epochs: waited, best: best.unwrap_or(f32::INFINITY), ..Self::new(patience) }
    }

    pub fn update(&mut self, val_loss: f32) -> Patience {
        if val_loss < self.best - self.min_delta {
            self.best = val_loss;
            self.bad_epochs = 0;
            Patience::Improved
        } else {
            self.bad_epochs += 1;
            if self.bad_epochs >= self.patience { Patience::Stop } else { Patience::Wait }
        }
    }
}

/// A message when training accuracy runs far ahead of validation accuracy.
pub fn overfitting_warning(train_accuracy: f32, val_accuracy: f32, gap: f32) -> Option<String> {
    (train_accuracy - val_accuracy > gap).then(|| {
        format!(
            "Overfitting: training accuracy {:.0}% is far above validation accuracy {:.0}%. \
             Add more examples, unfreeze fewer layers, or train fewer epochs.",
            train_accuracy * 100.0,
            val_accuracy * 100.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_on_nan_and_explosion() {
        let mut g = DivergenceGuard::new(10.0);
        assert!(g.check(2.3).is_ok());
        assert!(g.check(20.0).is_ok());
        assert!(g.check(23.5).unwrap_err().contains("exploded"));
        assert!(g.check(f32::NAN).unwrap_err().contains("NaN"));
    }

    #[test]
    fn early_stopping_waits_for_patience() {
        let mut e = EarlyStopping::new(2);
        assert_eq!(e.update(1.0), Patience::Improved);
        assert_eq!(e.update(0.8), Patience::Improved);
        assert_eq!(e.update(0.9), Patience::Wait);
        assert_eq!(e.update(0.7), Patience::Improved);
        assert_eq!(e.update(0.7), Patience::Wait);
        assert_eq!(e.update(0.75), Patience::Stop);
    }

    #[test]
    fn warns_only_on_a_large_gap() {
        assert!(overfitting_warning(0.99, 0.70, 0.2).is_some());
        assert!(overfitting_warning(0.90, 0.85, 0.2).is_none());
    }
}
