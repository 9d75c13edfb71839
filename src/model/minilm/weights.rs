//! MiniLM-L6 weights (Hugging Face BERT tensor names) read from safetensors into host memory, and
//! the modules built from them: the frozen [`TextTrunk`] and the trainable upper layers.

use burn::module::{Module, Param};
use burn::nn::{Embedding, LayerNorm, LayerNormConfig, Linear};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::norm::EPS;
use super::{Embeddings, EncoderLayer, SelfAttention, mean_pool};
use crate::model::dropout::SeededDropout;
use crate::model::Unfreeze;
use crate::weights::{WeightError, WeightFile};

pub const HIDDEN: usize = 384;
pub const LAYERS: usize = 6;
const HEADS: usize = 12;
const FFN: usize = 1536;
const VOCAB: usize = 30522;
/// Position embeddings: the longest sequence the model accepts.
pub const MAX_POSITIONS: usize = 512;
/// BERT's fine-tuning dropout, used in the trainable layers only.
const DROPOUT: f64 = 0.1;

/// `unfreeze` is valid for a 6-layer encoder.
pub fn check_text_unfreeze(unfreeze: Unfreeze) -> Result<(), String> {
    match unfreeze {
        Unfreeze::Blocks(k) if k > LAYERS => Err(format!("cannot unfreeze {k} layers: MiniLM-L6 has {LAYERS}")),
        _ => Ok(()),
    }
}

/// A dense layer, weight stored as burn wants it: `[in, out]`.
struct LinearWeights {
    weight: Vec<f32>,
    bias: Vec<f32>,
    shape: [usize; 2],
}

impl LinearWeights {
    /// Reads `{name}.weight` (`[out, in]`, PyTorch layout) and `{name}.bias`.
    fn load(file: &WeightFile, name: &str, d_in: usize, d_out: usize) -> Result<Self, WeightError> {
        let w = file.tensor(&format!("{name}.weight"), &[d_out, d_in])?;
        let mut weight = vec![0.0; w.len()];
        for o in 0..d_out {
            for i in 0..d_in {
                weight[i * d_out + o] = w[o * d_in + i];
            }
        }
        Ok(Self { weight, bias: file.tensor(&format!("{name}.bias"), &[d_out])?, shape: [d_in, d_out] })
    }

    fn init(&self, device: &Device) -> Linear {
        Linear {
            weight: Param::from_data(TensorData::new(self.weight.clone(), self.shape), device),
            bias: Some(Param::from_data(TensorData::new(self.bias.clone(), [self.shape[1]]), device)),
        }
    }
}

struct NormWeights {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl NormWeights {
    fn load(file: &WeightFile, name: &str) -> Result<Self, WeightError> {
        Ok(Self { gamma: file.tensor(&format!("{name}.weight"), &[HIDDEN])?, beta: file.tensor(&format!("{name}.bias"), &[HIDDEN])? })
    }

    fn init(&self, device: &Device) -> LayerNorm {
        let mut norm = LayerNormConfig::new(HIDDEN).with_epsilon(EPS).init(device);
        norm.gamma = Param::from_data(TensorData::new(self.gamma.clone(), [HIDDEN]), device);
        norm.beta = Some(Param::from_data(TensorData::new(self.beta.clone(), [HIDDEN]), device));
        norm
    }
}

struct LayerWeights {
    query: LinearWeights,
    key: LinearWeights,
    value: LinearWeights,
    attention_out: LinearWeights,
    attention_norm: NormWeights,
    intermediate: LinearWeights,
    output: LinearWeights,
    output_norm: NormWeights,
}

impl LayerWeights {
    fn load(file: &WeightFile, i: usize) -> Result<Self, WeightError> {
        let p = format!("encoder.layer.{i}");
        let lin = |name: &str, d_in, d_out| LinearWeights::load(file, &format!("{p}.{name}"), d_in, d_out);
        Ok(Self {
            query: lin("attention.self.query", HIDDEN, HIDDEN)?,
            key: lin("attention.self.key", HIDDEN, HIDDEN)?,
            value: lin("attention.self.value", HIDDEN, HIDDEN)?,
            attention_out: lin("attention.output.dense", HIDDEN, HIDDEN)?,
            attention_norm: NormWeights::load(file, &format!("{p}.attention.output.LayerNorm"))?,
            intermediate: lin("intermediate.dense", HIDDEN, FFN)?,
            output: lin("output.dense", FFN, HIDDEN)?,
            output_norm: NormWeights::load(file, &format!("{p}.output.LayerNorm"))?,
        })
    }

    /// The layer on `device`; `dropout` is used only where it trains.
    fn init(&self, dropout: f64, device: &Device) -> EncoderLayer {
        let attention = SelfAttention {
            query: self.query.init(device),
            key: self.key.init(device),
            value: self.value.init(device),
            output: self.attention_out.init(device),
            heads: HEADS,
            dropout: SeededDropout::new(dropout),
        };
        EncoderLayer {
            attention,
            attention_norm: self.attention_norm.init(device),
            intermediate: self.intermediate.init(device),
            output: self.output.init(device),
            output_norm: self.output_norm.init(device),
            dropout: SeededDropout::new(dropout),
        }
    }
}

/// The pretrained encoder in host memory (~90 MB of f32).
pub struct MiniLmWeights {
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: NormWeights,
    layers: Vec<LayerWeights>,
}

impl MiniLmWeights {
    /// Parses a safetensors file; `name` appears in error messages.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, WeightError> {
        let file = WeightFile::from_bytes(name, "MiniLM-L6 (all-MiniLM-L6-v2)", bytes)?;
        let types = file.tensor("embeddings.token_type_embeddings.weight", &[2, HIDDEN])?;
        Ok(Self {
            word: file.tensor("embeddings.word_embeddings.weight", &[VOCAB, HIDDEN])?,
            position: file.tensor("embeddings.position_embeddings.weight", &[MAX_POSITIONS, HIDDEN])?,
            token_type: types[..HIDDEN].to_vec(),
            embedding_norm: NormWeights::load(&file, "embeddings.LayerNorm")?,
            layers: (0..LAYERS).map(|i| LayerWeights::load(&file, i)).collect::<Result<_, _>>()?,
        })
    }

    fn embeddings(&self, device: &Device) -> Embeddings {
        let table = |values: &Vec<f32>, rows| Embedding { weight: Param::from_data(TensorData::new(values.clone(), [rows, HIDDEN]), device) };
        Embeddings {
            word: table(&self.word, VOCAB),
            position: table(&self.position, MAX_POSITIONS),
            token_type: Param::from_data(TensorData::new(self.token_type.clone(), [HIDDEN]), device),
            norm: self.embedding_norm.init(device),
        }
    }

    /// The frozen part below the cut, on `device` (a plain, non-autodiff device). For
    /// [`Unfreeze::Head`] it is the whole encoder and its output is the pooled sentence vector.
    pub fn trunk(&self, unfreeze: Unfreeze, device: &Device) -> TextTrunk {
        let frozen = LAYERS - unfreeze.blocks();
        TextTrunk {
            embeddings: self.embeddings(device),
            layers: self.layers[..frozen].iter().map(|l| l.init(0.0, device)).collect(),
            pool: unfreeze == Unfreeze::Head,
        }
        .no_grad()
    }

    /// The pretrained layers above the cut, on `device`, with training dropout.
    pub fn upper(&self, unfreeze: Unfreeze, device: &Device) -> Vec<EncoderLayer> {
        self.layers[LAYERS - unfreeze.blocks()..].iter().map(|l| l.init(DROPOUT, device)).collect()
    }
}

/// Embeddings and the frozen encoder layers. Runs without autodiff; its outputs are cached.
#[derive(Module, Debug)]
pub struct TextTrunk {
    pub embeddings: Embeddings,
    pub layers: Vec<EncoderLayer>,
    /// Mean-pool the output to one vector per text (the head-only cut).
    #[module(skip)]
    pub pool: bool,
}

impl TextTrunk {
    /// # Shapes
    /// - ids: `[batch, len]`; mask_pad: `[batch, len]`, `true` at padding
    /// - output: `[batch, len, hidden]`, or `[batch, 1, hidden]` (pooled) for the head-only cut
    pub fn forward(&self, ids: Tensor<2, Int>, mask_pad: Tensor<2, Bool>) -> Tensor<3> {
        let mut x = self.embeddings.forward(ids);
        for layer in &self.layers {
            x = layer.forward(x, mask_pad.clone());
        }
        if self.pool { mean_pool(x, mask_pad).unsqueeze_dim(1) } else { x }
    }
}
