//! The optimiser of the trainable tops: AdamW ([`FusedAdamW`]) at two learning rates, with its
//! moment estimates kept here, by parameter, so that a checkpoint can save and restore them
//! ([`super::checkpoint`]). burn's `ModuleOptimizer` keeps them privately, reads them
//! synchronously to save them (a panic in wasm on WebGPU) and keys them by parameter ids that a
//! model rebuilt from a checkpoint does not have; the step itself is the same.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::{AdamWState, AdaptiveMomentumState, GradientsParams, Optimizer};
use burn::tensor::{Gradients, Tensor};

use super::adamw::FusedAdamW;
use crate::params::float_params;

/// One parameter's AdamW state, flattened.
#[derive(Clone, Debug)]
pub struct Moments {
    /// Steps taken.
    pub time: usize,
    pub moment_1: Tensor<1>,
    pub moment_2: Tensor<1>,
}

/// AdamW for the head (at `learning_rate`) and the upper layers (at `backbone_learning_rate`).
pub struct TwoRateOptimizer {
    adamw: FusedAdamW,
    /// Per parameter (head and upper layers alike: their ids differ).
    states: HashMap<ParamId, Moments>,
}

impl TwoRateOptimizer {
    pub fn new(weight_decay: f32) -> Self {
        Self { adamw: FusedAdamW::new(weight_decay), states: HashMap::new() }
    }

    /// Steps `head` at `learning_rate` and `upper` at `backbone_learning_rate`.
    pub fn step<H: Module, U: Module>(&mut self, grads: &mut Gradients, head: H, upper: U, learning_rate: f64, backbone_learning_rate: f64) -> (H, U) {
        let mut head_grads = GradientsParams::from_module(grads, &head);
        let mut upper_grads = GradientsParams::from_module(grads, &upper);
        let head = head.map(&mut Step { adamw: self.adamw, lr: learning_rate, grads: &mut head_grads, states: &mut self.states });
        let upper = upper.map(&mut Step { adamw: self.adamw, lr: backbone_learning_rate, grads: &mut upper_grads, states: &mut self.states });
        (head, upper)
    }

    /// The state of each parameter of `module` that has one, by module path.
    pub fn states_by_path(&self, module: &impl Module) -> Vec<(String, Moments)> {
        float_params(module).into_iter().filter_map(|p| self.states.get(&p.id).map(|m| (p.path, m.clone()))).collect()
    }

    /// Sets the state of `module`'s parameters from `by_path` (module path → moments).
    pub fn restore(&mut self, module: &impl Module, mut by_path: HashMap<String, Moments>) {
        for p in float_params(module) {
            if let Some(moments) = by_path.remove(&p.path) {
                self.states.insert(p.id, moments);
            }
        }
    }
}

/// One optimiser step over a module's parameters (those with a gradient).
struct Step<'a> {
    adamw: FusedAdamW,
    lr: f64,
    grads: &'a mut GradientsParams,
    states: &'a mut HashMap<ParamId, Moments>,
}

impl ModuleMapper for Step<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let dims = tensor.dims();
        let state = self.states.remove(&id).map(|m| AdamWState {
            momentum: AdaptiveMomentumState {
                time: m.time,
                moment_1: m.moment_1.reshape(dims),
                moment_2: m.moment_2.reshape(dims),
                max_moment_2: None,
            },
        });
        let (updated, state) = self.adamw.step(self.lr, tensor.inner(), grad, state);
        if let Some(AdamWState { momentum }) = state {
            let n = dims.iter().product::<usize>();
            self.states.insert(id, Moments { time: momentum.time, moment_1: momentum.moment_1.reshape([n]), moment_2: momentum.moment_2.reshape([n]) });
        }
        let mut updated = Tensor::from_inner(updated);
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}
