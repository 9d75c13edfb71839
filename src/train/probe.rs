//! A few training steps with their gradients read back and condensed: to check one backend
//! against another (WebGPU against the CPU) on the same weights and batches. Each step records
//! the batch loss and, per trained parameter, the gradient's norm and its dot products with fixed
//! pseudo-random ±1 vectors: two backends whose gradients differ by `Δ` differ in a projection by
//! about `|Δ|`, so `|projection difference| / norm` estimates the relative gradient error without
//! carrying whole gradients across.
//!
//! The batches are the examples in order, `batch_size` at a time, wrapping around; the steps use
//! the options' two learning rates without warm-up or decay (the updates run the optimiser's
//! kernels too: the losses after the first step depend on them). Without updates every step's
//! gradients are taken at the same weights: independent samples, one per batch. Dropout is the
//! top's: build the top with dropout 0 to compare backends (their masks are drawn differently).
//!
//! Rounding-sized differences can flip a kink's side: where a ReLU6 input lies within rounding of
//! 0 or 6, its derivative is 1 on one backend and 0 on the other, and that batch's gradients jump
//! (EfficientNet's top, the CPU against itself with its weights scaled by 1 ± 1e-7: up to 7.9e-3,
//! in half the trials). Such a jump hits the examples whose activations sit on a kink (a quarter
//! to a half of them); a wrong kernel hits every example: hence
//! [`ProbeDifference::quartile_gradient`] over a probe without updates, one example per batch.

use burn::module::{ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Gradients, Int, Tensor, TensorData, Transaction};
use serde::{Deserialize, Serialize};

use super::options::TrainOptions;
use super::top::{FeatureSource, TrainableTop, TwoRateOptimizer};
use crate::error::Error;

/// ±1 vectors each gradient is projected on.
pub const PROJECTIONS: usize = 4;

/// One step: its batch loss (before the update) and each trained parameter's gradient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeStep {
    pub loss: f32,
    pub gradients: Vec<GradientSummary>,
}

/// One parameter's gradient, condensed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GradientSummary {
    /// Module path (`head.weight`, `upper.0.attention.qkv.weight`, …).
    pub path: String,
    pub elements: usize,
    /// L2 norm.
    pub norm: f32,
    /// Dot products with [`PROJECTIONS`] pseudo-random ±1 vectors (the same on every backend).
    pub projections: Vec<f32>,
}

/// The largest differences between two probes of the same model and batches.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeDifference {
    /// `|loss a − loss b| / |loss a|`, over the steps.
    pub loss: f32,
    /// `max(|norm a − norm b|, |projection a − projection b|) / scale`, over parameters and
    /// steps; `scale`: the gradient's norm in `a`, or [`FLOOR`] × the step's whole gradient norm
    /// when that is larger.
    pub gradient: f32,
    /// Where `gradient` was found: `step N, path`.
    pub worst: String,
    /// Per parameter the lower quartile over the steps of the same relative difference (the
    /// `⌊steps / 4⌋ + 1`-th smallest), the largest over parameters: jumps at most steps (8 of 12)
    /// do not count, a difference at every step does.
    pub quartile_gradient: f32,
    /// Where `quartile_gradient` was found: the parameter's path.
    pub quartile_worst: String,
    /// Gradients compared.
    pub compared: usize,
}

/// The smallest scale a gradient's difference is measured against, as a share of the step's whole
/// gradient norm: some gradients are 0 in exact arithmetic and rounding on both backends (the
/// attention's key biases: softmax ignores a shift shared by all keys), where a relative
/// difference means nothing.
pub const FLOOR: f32 = 1e-4;

/// Compares two probes (`a` the reference); an error when they do not cover the same steps and
/// parameters.
pub fn compare(a: &[ProbeStep], b: &[ProbeStep]) -> Result<ProbeDifference, String> {
    if a.len() != b.len() {
        return Err(format!("{} steps against {}", a.len(), b.len()));
    }
    let mut d = ProbeDifference::default();
    let mut per_parameter: Vec<Vec<f32>> = Vec::new();
    for (step, (sa, sb)) in a.iter().zip(b).enumerate() {
        d.loss = d.loss.max((sa.loss - sb.loss).abs() / sa.loss.abs().max(f32::MIN_POSITIVE));
        if sa.gradients.len() != sb.gradients.len() {
            return Err(format!("step {}: {} gradients against {}", step + 1, sa.gradients.len(), sb.gradients.len()));
        }
        let whole = sa.gradients.iter().map(|g| g.norm * g.norm).sum::<f32>().sqrt();
        for (i, (ga, gb)) in sa.gradients.iter().zip(&sb.gradients).enumerate() {
            if (&ga.path, ga.elements) != (&gb.path, gb.elements) || (step > 0 && ga.path != a[0].gradients[i].path) {
                return Err(format!("step {}: {} ({}) against {} ({})", step + 1, ga.path, ga.elements, gb.path, gb.elements));
            }
            let scale = ga.norm.max(FLOOR * whole).max(f32::MIN_POSITIVE);
            let worst = ga.projections.iter().zip(&gb.projections).map(|(x, y)| (x - y).abs()).fold((ga.norm - gb.norm).abs(), f32::max) / scale;
            if !(worst <= d.gradient) {
                (d.gradient, d.worst) = (worst, format!("step {}, {}", step + 1, ga.path));
            }
            if step == 0 {
                per_parameter.push(Vec::with_capacity(a.len()));
            }
            per_parameter[i].push(worst);
            d.compared += 1;
        }
    }
    for (differences, g) in per_parameter.iter_mut().zip(&a[0].gradients) {
        differences.sort_by(f32::total_cmp);
        let quartile = differences[differences.len() / 4];
        if !(quartile <= d.quartile_gradient) {
            (d.quartile_gradient, d.quartile_worst) = (quartile, g.path.clone());
        }
    }
    Ok(d)
}

/// Runs `steps` training steps of `model` (on an autodiff device) on `features` and returns each
/// step's loss and gradients; without `update` the steps leave the weights as they are.
pub async fn probe_gradients<M: TrainableTop, S: FeatureSource<Input = M::Input>>(
    model: M,
    features: &S,
    labels: &[usize],
    steps: usize,
    update: bool,
    opts: &TrainOptions,
) -> Result<Vec<ProbeStep>, Error> {
    if features.is_empty() || steps == 0 || steps > 100 {
        return Err(Error::Options(format!("a gradient probe takes 1 to 100 steps over prepared examples ({steps} steps, {} examples)", features.len())));
    }
    let device = model.device();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut optim = TwoRateOptimizer::new(opts.weight_decay as f32);
    let mut model = model;
    let mut out = Vec::with_capacity(steps);
    for step in 0..steps {
        let batch: Vec<usize> = (0..opts.batch_size.min(features.len())).map(|i| (step * opts.batch_size + i) % features.len()).collect();
        let y: Vec<i64> = batch.iter().map(|&i| labels[i] as i64).collect();
        let targets = Tensor::<1, Int>::from_data(TensorData::new(y, [batch.len()]), &device);
        let loss = loss_fn.forward(model.forward(features.batch(&batch, &device)), targets);
        let mut grads = loss.backward();
        let loss = loss.inner();
        let mut collect = Collect { grads: &grads, path: Vec::new(), found: Vec::new() };
        model.visit(&mut collect);
        let found = collect.found;
        let mut transaction = Transaction::default().register(loss);
        for (_, g) in &found {
            transaction = transaction.register(g.clone());
        }
        let data = transaction.execute_async().await.map_err(|e| Error::Backend(format!("{e:?}")))?;
        let mut data = data.into_iter().map(|d| d.try_to_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}"))));
        let loss = data.next().transpose()?.and_then(|l| l.first().copied()).unwrap_or(f32::NAN);
        let gradients = found.into_iter().zip(data).map(|((path, _), values)| Ok(summarise(path, &values?))).collect::<Result<_, Error>>()?;
        out.push(ProbeStep { loss, gradients });
        if update {
            model = model.step(&mut grads, &mut optim, opts.learning_rate, opts.backbone_learning_rate);
        }
    }
    Ok(out)
}

/// Each float parameter's gradient (those that have one), flattened, by module path.
struct Collect<'a> {
    grads: &'a Gradients,
    path: Vec<String>,
    found: Vec<(String, Tensor<1>)>,
}

impl ModuleVisitor for Collect<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = param.val().grad(self.grads) {
            let n = grad.shape().num_elements();
            self.found.push((self.path.join("."), grad.reshape([n])));
        }
    }
}

/// The norm and projections of one gradient (sums in f64: the summary adds no error of its own).
fn summarise(path: String, values: &[f32]) -> GradientSummary {
    let norm = values.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt() as f32;
    let projections = (0..PROJECTIONS as u64)
        .map(|p| values.iter().enumerate().map(|(i, &v)| if sign_bit(p, i as u64) { -(v as f64) } else { v as f64 }).sum::<f64>() as f32)
        .collect();
    GradientSummary { path, elements: values.len(), norm, projections }
}

/// Element `i`'s sign in projection `p` (splitmix64 of both: the same on every platform).
fn sign_bit(p: u64, i: u64) -> bool {
    let mut z = (p << 40 ^ i).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) & 1 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(loss: f32, values: &[f32]) -> ProbeStep {
        ProbeStep { loss, gradients: vec![summarise("head.weight".into(), values)] }
    }

    #[test]
    fn a_difference_anywhere_in_a_gradient_shows_in_the_comparison() {
        let g: Vec<f32> = (0..1000).map(|i| ((i * 37 % 101) as f32 - 50.0) / 100.0).collect();
        let a = [step(0.7, &g)];
        assert_eq!(compare(&a, &a).unwrap().gradient, 0.0);
        // 1 % of the norm added to one element, wherever it is, is seen at about 1 %.
        let norm = a[0].gradients[0].norm;
        for at in [0, 499, 999] {
            let mut h = g.clone();
            h[at] += 0.01 * norm;
            let d = compare(&a, &[step(0.7, &h)]).unwrap();
            assert!((0.009..=0.011).contains(&d.gradient), "{at}: {d:?}");
            assert_eq!(d.worst, "step 1, head.weight");
        }
        let d = compare(&a, &[step(0.77, &g)]).unwrap();
        assert!((d.loss - 0.1).abs() < 1e-5, "{d:?}");
        assert!(compare(&a, &[step(0.7, &g[1..])]).unwrap_err().contains("999"));
        // A gradient that is rounding beside a real one is measured against the step's norm.
        let two = |noise: f32| ProbeStep { loss: 0.7, gradients: vec![summarise("head.weight".into(), &g), summarise("key.bias".into(), &[noise, -noise])] };
        let d = compare(&[two(1e-9)], &[two(3e-9)]).unwrap();
        assert!(d.gradient < 1e-4, "{d:?}");
    }

    /// Jumps at two steps of four leave the lower quartile alone; a difference at every step does
    /// not.
    #[test]
    fn the_quartile_over_steps_ignores_jumps_but_not_a_lasting_difference() {
        let g: Vec<f32> = (0..100).map(|i| (i % 7) as f32 - 3.0).collect();
        let mut jumped = g.clone();
        jumped[5] += 0.5;
        let norm = g.iter().map(|v| v * v).sum::<f32>().sqrt();
        let mut off = g.clone();
        off[50] += 0.01 * norm;
        let steps = |values: [&[f32]; 4]| values.map(|v| step(0.7, v)).to_vec();
        let reference = steps([&g, &g, &g, &g]);
        let d = compare(&reference, &steps([&jumped, &g, &jumped, &g])).unwrap();
        assert!(d.gradient > 0.01 && d.quartile_gradient == 0.0, "{d:?}");
        let d = compare(&reference, &steps([&off, &jumped, &off, &off])).unwrap();
        assert!((0.009..=0.011).contains(&d.quartile_gradient), "{d:?}");
        assert_eq!(d.quartile_worst, "head.weight");
    }
}
