//! What the training loop needs from a task: a trainable top (pretrained upper layers + new head)
//! and a source of cached trunk outputs to feed it. The image and text tasks implement both.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Gradients, Tensor};

pub use super::optimizer::TwoRateOptimizer;

/// A model above the frozen trunk: upper layers (backbone learning rate) and a head (head rate).
pub trait TrainableTop: Module + 'static {
    /// One batch of cached trunk outputs.
    type Input;

    /// # Shapes
    /// - output: `[batch, classes]` logits
    fn forward(&self, input: Self::Input) -> Tensor<2>;

    /// The device the parameters live on.
    fn device(&self) -> Device;

    /// Applies one optimiser step: the head at `learning_rate`, the upper layers at
    /// `backbone_learning_rate`.
    fn step(self, grads: &mut Gradients, optim: &mut TwoRateOptimizer, learning_rate: f64, backbone_learning_rate: f64) -> Self;
}

/// A classifier's top: a linear head on pooled features of the upper layers (what the linear
/// probe fits alone, [`super::linear_probe`]).
pub trait ClassifierTop: TrainableTop {
    /// What the head reads (the upper layers' pooled output); without dropout in inference mode.
    ///
    /// # Shapes
    /// - output: `[batch, features]`
    fn features(&self, input: Self::Input) -> Tensor<2>;

    /// The classification head.
    fn head(&self) -> &Linear;

    /// This top with `head` in place of its own.
    fn with_head(self, head: Linear) -> Self;
}

/// Cached trunk outputs, one row per example, batched on demand.
pub trait FeatureSource {
    type Input;
    /// Number of examples.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Memory held, in bytes.
    fn bytes(&self) -> usize;
    /// The examples `indices` as one batch on `device`.
    fn batch(&self, indices: &[usize], device: &Device) -> Self::Input;
    /// The training batch of an epoch whose draw is `epoch_draw`: with augmented views (images),
    /// each example as the view that epoch draws for it; else [`Self::batch`].
    fn train_batch(&self, indices: &[usize], epoch_draw: u64, device: &Device) -> Self::Input {
        let _ = epoch_draw;
        self.batch(indices, device)
    }
    /// Keeps the first `len` examples (an add that failed part-way is undone).
    fn truncate(&mut self, len: usize);
}

/// Implements [`TrainableTop`] and [`ClassifierTop`] for a classifier with a `head: Linear` and `upper` layers, whose
/// `forward` takes `$input`: the head steps at the head's rate, the upper layers at the backbone's.
#[macro_export]
macro_rules! trainable_top {
    ($classifier:ty, $input:ty) => {
        impl $crate::train::TrainableTop for $classifier {
            type Input = $input;

            fn forward(&self, input: $input) -> burn::tensor::Tensor<2> {
                <$classifier>::forward(self, input)
            }

            fn device(&self) -> burn::tensor::Device {
                self.head.weight.device()
            }

            fn step(mut self, grads: &mut burn::tensor::Gradients, optim: &mut $crate::train::TwoRateOptimizer, learning_rate: f64, backbone_learning_rate: f64) -> Self {
                (self.head, self.upper) = optim.step(grads, self.head, self.upper, learning_rate, backbone_learning_rate);
                self
            }
        }

        impl $crate::train::top::ClassifierTop for $classifier {
            fn features(&self, input: $input) -> burn::tensor::Tensor<2> {
                <$classifier>::features(self, input)
            }

            fn head(&self) -> &burn::nn::Linear {
                &self.head
            }

            fn with_head(mut self, head: burn::nn::Linear) -> Self {
                self.head = head;
                self
            }
        }
    };
}
