//! Averaging the weights of the last epochs (SWA, Izmailov et al., UAI 2018) instead of
//! trusting the one epoch a small validation split picked: the average of the weights at the end
//! of each epoch from [`FIRST_EPOCH`] on, kept when its validation loss beats the best epoch's.

use burn::module::Module;
use serde::{Deserialize, Serialize};

use super::mix::mix_weights;

/// The first epoch averaged: the first one ends far from where training settles (and in the
/// learning-rate warm-up).
pub const FIRST_EPOCH: usize = 2;

/// What averaging did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AverageReport {
    /// Epochs averaged: [`FIRST_EPOCH`] to the last one run.
    pub epochs: usize,
    pub val_loss: f32,
    pub val_accuracy: f32,
    /// The average was kept (its validation loss was below the best epoch's).
    pub kept: bool,
}

/// The running average of a module's weights (inference mode) over the epochs added.
pub struct EpochAverage<M> {
    pub average: Option<M>,
    /// Epochs in `average`.
    pub epochs: usize,
}

impl<M: Module> EpochAverage<M> {
    pub fn new() -> Self {
        Self { average: None, epochs: 0 }
    }

    /// Goes on from a checkpoint's average of `epochs` epochs.
    pub fn resumed(average: Option<M>, epochs: usize) -> Self {
        Self { epochs: if average.is_some() { epochs } else { 0 }, average }
    }

    /// Adds the weights at the end of an epoch: `(k − 1)/k · average + 1/k · weights`.
    pub fn add(&mut self, weights: M) {
        self.epochs += 1;
        let share = (self.epochs - 1) as f32 / self.epochs as f32;
        self.average = Some(match self.average.take() {
            None => weights,
            Some(average) => mix_weights(average, &weights, share),
        });
    }
}

impl<M: Module> Default for EpochAverage<M> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Device, Tensor};

    #[test]
    fn the_running_average_is_the_mean_of_the_epochs_added() {
        let device = Device::flex();
        let layers: Vec<Linear> = (0..3).map(|_| LinearConfig::new(4, 2).init(&device)).collect();
        let mut average = EpochAverage::new();
        for layer in &layers {
            average.add(layer.clone());
        }
        assert_eq!(average.epochs, 3);
        let mean = layers.iter().map(|l| l.weight.val()).reduce(|a, b| a + b).unwrap() / 3.0;
        let got: Tensor<2> = average.average.unwrap().weight.val();
        got.into_data().assert_approx_eq::<f32>(&mean.into_data(), Default::default());
    }
}
