//! Dropout through [`crate::ops::dropout`] (masks from a counter hash on the CPU, applied in the
//! same pass and regenerated for the backward, instead of burn's per-element ChaCha draws).

use burn::module::Module;
use burn::tensor::Tensor;

use crate::ops::dropout;

/// Zeroes each element with probability `prob` and scales the rest by `1 / (1 − prob)` while
/// training (on an autodiff device); the identity otherwise, as burn's `Dropout`.
#[derive(Module, Debug)]
pub struct SeededDropout {
    pub prob: f64,
}

impl SeededDropout {
    pub fn new(prob: f64) -> Self {
        assert!((0.0..1.0).contains(&prob), "dropout probability {prob} is not in [0, 1)");
        Self { prob }
    }

    /// Whether `x` gets dropped out: training (an autodiff device) with a non-zero probability.
    pub fn active<const D: usize>(&self, x: &Tensor<D>) -> bool {
        self.prob > 0.0 && x.device().is_autodiff()
    }

    /// # Shapes
    /// - input, output: any, the same
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        if !self.active(&input) {
            return input;
        }
        dropout(input, self.prob)
    }
}
