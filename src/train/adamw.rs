//! AdamW with burn's defaults and state, each parameter updated in one fused pass
//! ([`crate::ops::adamw_update`]) instead of burn's chain of element-wise ops.

use burn::optim::{AdamWState, AdaptiveMomentumState, LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::ops::adamw_update::{AdamWBackend, AdamWStep};

/// AdamW (decoupled weight decay), burn's `AdamWConfig` defaults: β = (0.9, 0.999), ε = 1e-5.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FusedAdamW {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    pub weight_decay: f32,
}

impl FusedAdamW {
    pub fn new(weight_decay: f32) -> Self {
        Self { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-5, weight_decay }
    }
}

impl Optimizer for FusedAdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (moment_1, moment_2, time) = match state {
            Some(s) => (s.momentum.moment_1, s.momentum.moment_2, s.momentum.time + 1),
            None => (grad.zeros_like(), grad.zeros_like(), 1),
        };
        let step = AdamWStep {
            lr: lr as f32,
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            weight_decay: self.weight_decay,
            correction_1: 1.0 - self.beta_1.powi(time as i32),
            correction_2: 1.0 - self.beta_2.powi(time as i32),
        };
        let (param, moment_1, moment_2) = <burn::backend::Dispatch as AdamWBackend>::adamw_update(
            tensor.into_dispatch(),
            grad.into_dispatch(),
            moment_1.into_dispatch(),
            moment_2.into_dispatch(),
            step,
        );
        let momentum = AdaptiveMomentumState {
            time,
            moment_1: Tensor::from_dispatch(moment_1),
            moment_2: Tensor::from_dispatch(moment_2),
            max_moment_2: None,
        };
        (Tensor::from_dispatch(param), Some(AdamWState { momentum }))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::Flex;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamWConfig, GradientsParams};
    use burn::tensor::{Distribution, Tolerance};

    use super::*;
    use crate::ops::adamw_update::{AdamWBackend, portable};

    fn params(linear: &Linear) -> Vec<burn::tensor::TensorData> {
        vec![linear.weight.val().into_data(), linear.bias.as_ref().unwrap().val().into_data()]
    }

    /// Five steps on a small layer (changing inputs, so the moments matter) give burn's `AdamW`.
    #[test]
    fn steps_like_burns_adamw() {
        let device = Device::flex().autodiff();
        let layer = LinearConfig::new(6, 3).init(&device);
        let (mut ours, mut theirs) = (layer.clone(), layer);
        let mut fused = burn::optim::ModuleOptimizer::from(FusedAdamW::new(1e-2));
        let mut reference = AdamWConfig::new().with_weight_decay(1e-2).init();
        for step in 0..5 {
            let x = Tensor::<2>::random([4, 6], Distribution::Normal(0.0, 1.0), &device);
            let lr = 1e-2 * (step + 1) as f64;
            let grads = GradientsParams::from_grads(ours.forward(x.clone()).powi_scalar(2).sum().backward(), &ours);
            ours = fused.step(lr, ours, grads);
            let grads = GradientsParams::from_grads(theirs.forward(x).powi_scalar(2).sum().backward(), &theirs);
            theirs = reference.step(lr, theirs, grads);
        }
        for (a, b) in params(&ours).iter().zip(&params(&theirs)) {
            a.assert_approx_eq::<f32>(b, Tolerance::absolute(1e-5));
        }
        assert!(ours.weight.val().into_data() != LinearConfig::new(6, 3).init(&device).weight.val().into_data());
    }

    /// The GPU's body (burn ops) and the CPU's fused loop agree.
    #[test]
    fn portable_body_matches_the_cpu_loop() {
        let device = Device::flex();
        let t = || Tensor::<2>::random([5, 7], Distribution::Normal(0.0, 1.0), &device);
        let flex = |x: Tensor<2>| x.try_into_primitive::<Flex>().unwrap();
        let (p, g, m) = (t(), t(), t());
        let v = t().abs();
        let step = AdamWStep {
            lr: 1e-2,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            weight_decay: 1e-2,
            correction_1: 0.19,
            correction_2: 0.002,
        };
        let ours = Flex::adamw_update(flex(p.clone()), flex(g.clone()), flex(m.clone()), flex(v.clone()), step);
        let theirs = portable::<Flex>(flex(p), flex(g), flex(m), flex(v), step);
        for (a, b) in [(ours.0, theirs.0), (ours.1, theirs.1), (ours.2, theirs.2)] {
            a.into_data().assert_approx_eq::<f32>(&b.into_data(), Tolerance::absolute(1e-6));
        }
    }
}
