//! What the training loop needs from a task: a trainable top (pretrained upper layers + new head)
//! and a source of cached trunk outputs to feed it. The image and text tasks implement both.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Gradients, Tensor};

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
    /// Keeps the first `len` examples (an add that failed part-way is undone).
    fn truncate(&mut self, len: usize);
}

/// Two optimisers (with their own moment estimates): one for the head, one for the upper layers.
pub struct TwoRateOptimizer {
    pub head: ModuleOptimizer,
    pub upper: ModuleOptimizer,
}

impl TwoRateOptimizer {
    /// Steps `head` at `learning_rate` and `upper` at `backbone_learning_rate` (skipped when it has
    /// no parameters).
    pub fn step<H: Module, U: Module>(&mut self, grads: &mut Gradients, head: H, upper: U, learning_rate: f64, backbone_learning_rate: f64) -> (H, U) {
        let head_grads = GradientsParams::from_module(grads, &head);
        let upper_grads = GradientsParams::from_module(grads, &upper);
        let head = self.head.step(learning_rate, head, head_grads);
        let upper = if upper.num_params() > 0 { self.upper.step(backbone_learning_rate, upper, upper_grads) } else { upper };
        (head, upper)
    }
}

/// Implements [`TrainableTop`] for a classifier with a `head: Linear` and `upper` layers, whose
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
    };
}
