//! A run's checkpoint after a completed epoch: everything [`super::fine_tune`] needs to go on
//! as if it had not stopped — the trained layers and the best ones so far, the optimiser's
//! moments, the step (the schedule's position), the guards' state, the dropout seed sequence,
//! the report so far — plus the host's context (task, classes, settings, the examples' manifest:
//! JSON it writes and checks, see `task::resume`).
//!
//! One safetensors file: tensors `model.<path>`, `best.<path>` (unless the last epoch was the
//! best), `average.<path>` (the epochs' average so far, `averageEpochs`), `moment1.<path>`,
//! `moment2.<path>` (f32), metadata [`Progress`] and the context.

use std::collections::{BTreeMap, HashMap};

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use safetensors::SafeTensors;
use serde::{Deserialize, Deserializer, Serialize};

use super::events::TrainReport;
use super::optimizer::{Moments, TwoRateOptimizer};
use crate::error::Error;
use crate::params::{NamedTensors, ParamInfo, float_params, load_module, read_f32};

pub const FORMAT: &str = "burn-finetune-checkpoint/1";
const KEY: &str = "burn-finetune-checkpoint";
const CONTEXT: &str = "context";
const WHAT: &str = "the checkpoint";

/// Where a run stands after its last completed epoch (the tensors aside).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub format: String,
    /// Epochs completed.
    pub epoch: usize,
    /// Optimiser steps taken (the schedule's position).
    pub step: usize,
    /// The divergence guard's reference loss.
    pub divergence_reference: Option<f32>,
    /// Early stopping: the best validation loss (none before a finite one) and the epochs since.
    pub stopping_best: Option<f32>,
    pub stopping_waited: usize,
    /// The next dropout seed of the training thread.
    pub dropout_seed: u64,
    /// The report so far (its epochs, best epoch, warnings).
    pub report: TrainReport,
    /// The best layers are the current ones (the last epoch was the best): stored once.
    pub best_is_current: bool,
    /// Steps taken by each parameter's optimiser state, by module path.
    pub moment_steps: BTreeMap<String, usize>,
    /// Epochs in the weights' average so far (`averageEpochs`; 0: none kept).
    #[serde(default)]
    pub averaged_epochs: usize,
}

/// A checkpoint read back; its tensors are loaded by [`Checkpoint::restore`].
pub struct Checkpoint {
    bytes: Vec<u8>,
    pub progress: Progress,
    /// What the host wrote beside it (JSON).
    pub context: String,
}

impl Checkpoint {
    /// Reads `bytes`, refusing what is not a checkpoint of this version.
    pub fn read(bytes: Vec<u8>) -> Result<Self, Error> {
        let not_one = |why: String| Error::Data(format!("This is not a training checkpoint of this fine-tuner ({why})."));
        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| {
            // A header that names us, in a file that does not parse: ours, cut short or altered.
            let header_len = bytes.get(..8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()) as usize);
            let header = bytes.get(8..8usize.saturating_add(header_len)).unwrap_or(&[]);
            if header.windows(KEY.len()).any(|w| w == KEY.as_bytes()) {
                Error::Data(format!("the checkpoint is damaged or truncated ({e})"))
            } else {
                not_one(format!("not a readable safetensors file: {e}"))
            }
        })?;
        let metadata = header.metadata().as_ref().ok_or_else(|| not_one("no metadata".into()))?;
        let progress = metadata.get(KEY).ok_or_else(|| not_one("no checkpoint metadata".into()))?;
        let progress: Progress = serde_json::from_str(progress).map_err(|e| not_one(format!("unreadable metadata: {e}")))?;
        if progress.format != FORMAT {
            return Err(Error::Data(format!("This checkpoint has format '{}'; this version reads '{FORMAT}'.", progress.format)));
        }
        let context = metadata.get(CONTEXT).cloned().unwrap_or_default();
        SafeTensors::deserialize(&bytes).map_err(|e| Error::Data(format!("the checkpoint is damaged or truncated: {e}")))?;
        Ok(Self { bytes, progress, context })
    }

    /// The run's layers, its best layers and the epochs' average if it keeps one (`model`'s
    /// structure, the checkpoint's values), and `optim`'s moments for the former.
    pub fn restore<M: Module>(&self, model: M, optim: &mut TwoRateOptimizer) -> Result<(M, M, Option<M>), Error> {
        let file = SafeTensors::deserialize(&self.bytes).map_err(|e| Error::Data(format!("the checkpoint is damaged: {e}")))?;
        let best_prefix = if self.progress.best_is_current { "model." } else { "best." };
        let (best, _) = load_module(model.clone(), &file, best_prefix, WHAT)?;
        let average = match self.progress.averaged_epochs {
            0 => None,
            _ => Some(load_module(model.clone(), &file, "average.", WHAT)?.0),
        };
        let (model, _) = load_module(model, &file, "model.", WHAT)?;
        let mut moments = HashMap::new();
        for ParamInfo { path, shape, device, .. } in float_params(&model) {
            let Some(&time) = self.progress.moment_steps.get(&path) else { continue };
            let n = shape.iter().product::<usize>();
            let read = |name: &str| -> Result<Tensor<1>, Error> {
                let values = read_f32(&file, &format!("{name}.{path}"), &[n], WHAT)?;
                Ok(Tensor::<1>::from_data(TensorData::new(values, [n]), &device).inner())
            };
            moments.insert(path.clone(), Moments { time, moment_1: read("moment1")?, moment_2: read("moment2")? });
        }
        optim.restore(&model, moments);
        Ok((model, best, average))
    }
}

/// The checkpoint of a run at `progress` as safetensors bytes.
pub async fn write<M: Module>(model: &M, best: &M, average: Option<&M>, optim: &TwoRateOptimizer, progress: &Progress, context: &str) -> Result<Vec<u8>, Error> {
    let mut tensors = NamedTensors::default();
    tensors.add_module(model, "model.");
    if !progress.best_is_current {
        tensors.add_module(best, "best.");
    }
    if let Some(average) = average {
        tensors.add_module(average, "average.");
    }
    for (path, m) in optim.states_by_path(model) {
        let n = m.moment_1.dims()[0];
        tensors.add(format!("moment1.{path}"), m.moment_1, vec![n]);
        tensors.add(format!("moment2.{path}"), m.moment_2, vec![n]);
    }
    let progress = serde_json::to_string(progress).map_err(|e| Error::Backend(e.to_string()))?;
    tensors.serialize(HashMap::from([(KEY.to_string(), progress), (CONTEXT.to_string(), context.to_string())])).await
}

/// An `f32` that JSON may hold as `null` (how serde_json writes NaN and infinities): NaN.
pub fn f32_or_nan<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
    Ok(Option::<f32>::deserialize(deserializer)?.unwrap_or(f32::NAN))
}
