//! Linear probing before fine-tuning (LP-FT, Kumar et al., ICLR 2022). A fresh head is random:
//! its large, noisy gradients in the first steps of fine-tuning reach the pretrained upper layers
//! and distort features that the new data does not cover (what the model knew about other
//! domains). So the head is first fitted alone, as a logistic regression on what the pretrained
//! upper layers give (computed once, inference mode: cheap), and fine-tuning starts from it.

use burn::module::Module;
use burn::nn::Linear;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use super::events::TrainEvent;
use super::guards::{EarlyStopping, Patience};
use super::hooks::TrainHooks;
use super::options::TrainOptions;
use super::top::{ClassifierTop, FeatureSource, TwoRateOptimizer};
use super::trainer::{labels_tensor, read_pair};
use crate::data::Split;
use crate::error::Error;
use crate::ops::linear;

/// Epochs of the head alone at most (it stops when the validation loss stops improving).
pub const MAX_EPOCHS: usize = 100;
const PATIENCE: usize = 5;
const BATCH: usize = 64;
/// The head's learning rate while probing: a convex problem on fixed features takes a larger one
/// than fine-tuning does.
const LEARNING_RATE: f64 = 1e-2;

/// What the probe did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeReport {
    /// Epochs run; the head of `best_epoch` was kept.
    pub epochs: usize,
    pub best_epoch: usize,
    pub val_loss: f32,
    pub val_accuracy: f32,
    /// Features computed and head fitted, in seconds.
    pub seconds: f32,
}

/// The head fitted alone on `model`'s features of the examples (the best epoch by validation
/// loss), or `None` when the host cancelled. `model` (on an autodiff device) is only read.
pub async fn linear_probe<M: ClassifierTop, S: FeatureSource<Input = M::Input>>(
    model: &M,
    features: &S,
    labels: &[usize],
    split: &Split,
    opts: &TrainOptions,
    hooks: &mut impl TrainHooks,
) -> Result<Option<(Linear, ProbeReport)>, Error> {
    let started = Instant::now();
    let frozen = model.valid();
    let device = frozen.device();
    let Some(x_train) = pooled(&frozen, features, &split.train, opts.batch_size, &device, hooks).await else { return Ok(None) };
    let Some(x_val) = pooled(&frozen, features, &split.val, opts.batch_size, &device, hooks).await else { return Ok(None) };
    let x_train: Tensor<2> = Tensor::from_inner(x_train);
    let autodiff = model.device();
    let y_train = labels_tensor(labels, &split.train, &autodiff);
    let y_val = labels_tensor(labels, &split.val, &device);

    let loss_fn = CrossEntropyLossConfig::new().init(&autodiff);
    let val_loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut optim = TwoRateOptimizer::new(opts.weight_decay as f32);
    let mut rng = StdRng::seed_from_u64(opts.seed.wrapping_add(2));
    let mut stopping = EarlyStopping::new(PATIENCE);
    let mut head = model.head().clone();
    let mut best = (head.clone(), ProbeReport::default());
    let mut order: Vec<usize> = (0..split.train.len()).collect();
    for epoch in 1..=MAX_EPOCHS {
        order.shuffle(&mut rng);
        for batch in order.chunks(BATCH) {
            let positions: Vec<i64> = batch.iter().map(|&p| p as i64).collect();
            let rows = Tensor::<1, Int>::from_data(TensorData::new(positions, [batch.len()]), &autodiff);
            let logits = linear(&head, x_train.clone().select(0, rows.clone()));
            let loss = loss_fn.forward(logits, y_train.clone().select(0, rows));
            let mut grads = loss.backward();
            (head, _) = optim.step(&mut grads, head, Vec::<Linear>::new(), LEARNING_RATE, LEARNING_RATE);
        }
        let logits = linear(&head.valid(), x_val.clone());
        let loss = val_loss_fn.forward(logits.clone(), y_val.clone());
        let [loss, predicted] = read_pair(loss, logits.argmax(1)).await?;
        let val_loss = loss.iter::<f32>().next().unwrap_or(f32::NAN);
        let correct = predicted.iter::<i64>().zip(&split.val).filter(|&(p, &i)| p as usize == labels[i]).count();
        let val_accuracy = correct as f32 / split.val.len() as f32;
        let verdict = stopping.update(val_loss);
        if verdict == Patience::Improved {
            best = (head.clone(), ProbeReport { epochs: epoch, best_epoch: epoch, val_loss, val_accuracy, seconds: 0.0 });
        }
        hooks.on_event(&TrainEvent::LinearProbeEpoch { epoch, max_epochs: MAX_EPOCHS, val_loss, val_accuracy });
        hooks.yield_now().await;
        if hooks.cancelled() {
            return Ok(None);
        }
        best.1.epochs = epoch;
        if verdict == Patience::Stop || !val_loss.is_finite() {
            break;
        }
    }
    best.1.seconds = started.elapsed().as_secs_f32();
    Ok(Some(best))
}

/// `model`'s features of the examples `rows`, in order, as one `[rows, features]` tensor; `None`
/// when the host cancelled.
async fn pooled<M: ClassifierTop, S: FeatureSource<Input = M::Input>>(
    model: &M,
    features: &S,
    rows: &[usize],
    batch_size: usize,
    device: &Device,
    hooks: &mut impl TrainHooks,
) -> Option<Tensor<2>> {
    let mut parts = Vec::with_capacity(rows.len().div_ceil(batch_size));
    for batch in rows.chunks(batch_size) {
        parts.push(model.features(features.batch(batch, device)));
        hooks.yield_now().await;
        if hooks.cancelled() {
            return None;
        }
    }
    Some(Tensor::cat(parts, 0))
}
