//! MiniLM-L6 weights read into host memory by their Hugging Face BERT names (the tables below and
//! in [`super`]), and the modules built from them: the frozen [`MiniLmTrunk`] and the trainable
//! upper layers.

use burn::module::{Module, Param};
use burn::nn::{Embedding, LayerNorm, Linear};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::norm::EPS;
use super::{FFN, HEADS, HIDDEN, LAYERS, MAX_POSITIONS, VOCAB};
use super::{Embeddings, EncoderLayer, SelfAttention};
use crate::model::sequence::mean_pool;
use crate::model::dropout::SeededDropout;
use crate::model::Unfreeze;
use crate::model::pretrained::{LinearWeights, NormWeights};
use crate::weights::{WeightError, WeightFile};

/// The dense layers of encoder layer `i`: where each goes in [`EncoderLayer`], the Hugging Face
/// BERT name after `encoder.layer.{i}.` (`.weight` `[out, in]` + `.bias`), and `[in, out]`.
const LAYER_LINEARS: [(&str, &str, [usize; 2]); 6] = [
    ("attention.query", "attention.self.query", [HIDDEN, HIDDEN]),
    ("attention.key", "attention.self.key", [HIDDEN, HIDDEN]),
    ("attention.value", "attention.self.value", [HIDDEN, HIDDEN]),
    ("attention.output", "attention.output.dense", [HIDDEN, HIDDEN]),
    ("intermediate", "intermediate.dense", [HIDDEN, FFN]),
    ("output", "output.dense", [FFN, HIDDEN]),
];
/// The layer norms of encoder layer `i` (`.weight` = gamma, `.bias` = beta).
const LAYER_NORMS: [(&str, &str); 2] = [("attention_norm", "attention.output.LayerNorm"), ("output_norm", "output.LayerNorm")];

/// One encoder layer's tensors, in the order of [`LAYER_LINEARS`] and [`LAYER_NORMS`].
struct LayerWeights {
    linears: Vec<LinearWeights>,
    norms: Vec<NormWeights>,
}

impl LayerWeights {
    fn load(file: &WeightFile, i: usize) -> Result<Self, WeightError> {
        let p = format!("encoder.layer.{i}");
        Ok(Self {
            linears: LAYER_LINEARS
                .iter()
                .map(|&(_, name, [d_in, d_out])| LinearWeights::load(file, &format!("{p}.{name}"), d_in, d_out))
                .collect::<Result<_, _>>()?,
            norms: LAYER_NORMS.iter().map(|&(_, name)| NormWeights::load(file, &format!("{p}.{name}"), HIDDEN)).collect::<Result<_, _>>()?,
        })
    }

    /// The dense layer that goes to `place` (a name of [`LAYER_LINEARS`]) on `device`.
    fn linear(&self, place: &str, device: &Device) -> Linear {
        let i = LAYER_LINEARS.iter().position(|&(p, _, _)| p == place).expect("a place of LAYER_LINEARS");
        self.linears[i].init(device)
    }

    fn norm(&self, place: &str, device: &Device) -> LayerNorm {
        let i = LAYER_NORMS.iter().position(|&(p, _)| p == place).expect("a place of LAYER_NORMS");
        self.norms[i].init(EPS, device)
    }

    /// The layer on `device`; `dropout` is used only where it trains.
    fn init(&self, dropout: f64, device: &Device) -> EncoderLayer {
        let attention = SelfAttention {
            query: self.linear("attention.query", device),
            key: self.linear("attention.key", device),
            value: self.linear("attention.value", device),
            output: self.linear("attention.output", device),
            heads: HEADS,
            dropout: SeededDropout::new(dropout),
        };
        EncoderLayer {
            attention,
            attention_norm: self.norm("attention_norm", device),
            intermediate: self.linear("intermediate", device),
            output: self.linear("output", device),
            output_norm: self.norm("output_norm", device),
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
            embedding_norm: NormWeights::load(&file, "embeddings.LayerNorm", HIDDEN)?,
            layers: (0..LAYERS).map(|i| LayerWeights::load(&file, i)).collect::<Result<_, _>>()?,
        })
    }

    fn embeddings(&self, device: &Device) -> Embeddings {
        let table = |values: &Vec<f32>, rows| Embedding { weight: Param::from_data(TensorData::new(values.clone(), [rows, HIDDEN]), device) };
        Embeddings {
            word: table(&self.word, VOCAB),
            position: table(&self.position, MAX_POSITIONS),
            token_type: Param::from_data(TensorData::new(self.token_type.clone(), [HIDDEN]), device),
            norm: self.embedding_norm.init(EPS, device),
        }
    }

    /// The frozen part below the cut, on `device` (a plain, non-autodiff device). For
    /// [`Unfreeze::Head`] it is the whole encoder and its output is the pooled sentence vector.
    pub fn trunk(&self, unfreeze: Unfreeze, device: &Device) -> MiniLmTrunk {
        let frozen = LAYERS - unfreeze.blocks();
        MiniLmTrunk {
            embeddings: self.embeddings(device),
            layers: self.layers[..frozen].iter().map(|l| l.init(0.0, device)).collect(),
            pool: unfreeze == Unfreeze::Head,
        }
        .no_grad()
    }

    /// The pretrained layers above the cut, on `device`, with training dropout `dropout`.
    pub fn upper(&self, unfreeze: Unfreeze, dropout: f64, device: &Device) -> Vec<EncoderLayer> {
        self.layers[LAYERS - unfreeze.blocks()..].iter().map(|l| l.init(dropout, device)).collect()
    }
}

/// Embeddings and the frozen encoder layers. Runs without autodiff; its outputs are cached.
#[derive(Module, Debug)]
pub struct MiniLmTrunk {
    pub embeddings: Embeddings,
    pub layers: Vec<EncoderLayer>,
    /// Mean-pool the output to one vector per text (the head-only cut).
    #[module(skip)]
    pub pool: bool,
}

impl MiniLmTrunk {
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
