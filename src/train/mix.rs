//! Weight-space ensembling with the pretrained model (WiSE-FT, Wortsman et al., CVPR 2022):
//! `share · fine-tuned + (1 − share) · pretrained`, parameter by parameter. Fine-tuning moves the
//! upper layers towards the user's data; mixing part of the way back keeps more of what the
//! pretrained model knew (out-of-domain audio, other speakers) and often scores as well or better
//! in domain. The share is chosen on the validation split by the training loop.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::events::TrainEvent;
use super::hooks::TrainHooks;
use super::top::{ClassifierTop, FeatureSource};
use super::trainer::{TrainData, evaluate};
use crate::error::Error;

/// The shares of the fine-tuned weights tried after training, from the most fine-tuned; 1 (the
/// fine-tuned weights as they are) is already scored by then.
pub const SHARES: [f32; 3] = [0.75, 0.5, 0.25];

/// `share · fine_tuned + (1 − share) · pretrained` for every float parameter. Both modules must
/// have the same structure (the same top, before and after training).
pub fn mix_weights<M: Module>(fine_tuned: M, pretrained: &M, share: f32) -> M {
    let mut flat = Flatten::default();
    pretrained.visit(&mut flat);
    let mut mix = Mix { pretrained: flat.tensors.into_iter(), share };
    fine_tuned.map(&mut mix)
}

/// A classifier's mix, scored on the validation split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MixScore {
    /// The share of the fine-tuned weights.
    pub share: f32,
    pub val_loss: f32,
    pub val_accuracy: f32,
}

/// The mix of a classifier `fine_tuned` (validation loss `fine_tuned_loss`) and `pretrained` (the
/// pretrained upper layers with the head fitted on them alone, or the fine-tuned head) with the
/// lowest validation loss among [`SHARES`], and each mix's scores. Both in inference mode.
pub async fn choose_mix<M: ClassifierTop, S: FeatureSource<Input = M::Input>>(
    fine_tuned: &M,
    fine_tuned_loss: f32,
    pretrained: &M,
    data: &TrainData<'_, S>,
    val: &[usize],
    batch_size: usize,
    hooks: &mut impl TrainHooks,
) -> Result<(M, f32, Vec<MixScore>), Error> {
    let (mut kept, mut kept_share, mut kept_loss, mut tried) = (fine_tuned.clone(), 1.0, fine_tuned_loss, Vec::new());
    for (done, share) in SHARES.into_iter().enumerate() {
        let mixed = mix_weights(fine_tuned.clone(), pretrained, share);
        let (val_loss, confusion) = evaluate(&mixed, data, val, batch_size).await?;
        let score = MixScore { share, val_loss, val_accuracy: confusion.accuracy() };
        hooks.on_event(&TrainEvent::MixScored { mix: score.clone(), done: done + 1, total: SHARES.len() });
        tried.push(score);
        if val_loss < kept_loss {
            (kept, kept_share, kept_loss) = (mixed, share, val_loss);
        }
        hooks.yield_now().await;
    }
    Ok((kept, kept_share, tried))
}

/// Every float parameter, flattened, in visiting order.
#[derive(Default)]
struct Flatten {
    tensors: Vec<Tensor<1>>,
}

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let n: usize = tensor.dims().iter().product();
        self.tensors.push(tensor.reshape([n]));
    }
}

struct Mix {
    pretrained: std::vec::IntoIter<Tensor<1>>,
    share: f32,
}

impl ModuleMapper for Mix {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let pretrained = self.pretrained.next().expect("the pretrained module has the fine-tuned one's parameters");
        let share = self.share;
        param.map(|tensor| {
            let dims = tensor.dims();
            assert_eq!(dims.iter().product::<usize>(), pretrained.dims()[0], "mixed parameters differ in size");
            tensor * share + pretrained.reshape(dims) * (1.0 - share)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::Device;

    #[test]
    fn mixes_every_parameter_by_the_share() {
        let device = Device::flex();
        let a: Linear = LinearConfig::new(3, 2).init(&device);
        let b: Linear = LinearConfig::new(3, 2).init(&device);
        let mixed = mix_weights(a.clone(), &b, 0.25);
        let expect = |x: &Tensor<2>, y: &Tensor<2>| (x.clone() * 0.25 + y.clone() * 0.75).into_data();
        mixed.weight.val().into_data().assert_approx_eq::<f32>(&expect(&a.weight.val(), &b.weight.val()), Default::default());
        let bias = |l: &Linear| l.bias.as_ref().unwrap().val().unsqueeze::<2>();
        mixed.bias.as_ref().unwrap().val().unsqueeze::<2>().into_data().assert_approx_eq::<f32>(&expect(&bias(&a), &bias(&b)), Default::default());
        // Share 1 is the fine-tuned module itself.
        let same = mix_weights(a.clone(), &b, 1.0);
        assert_eq!(same.weight.val().into_data(), a.weight.val().into_data());
    }
}
