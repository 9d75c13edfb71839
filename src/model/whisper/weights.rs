//! Whisper tiny.en weights read into host memory by their Hugging Face names (the tables below and
//! in [`super`]), and the modules built from them: the frozen encoder, the token embedding and the
//! decoder layers (frozen below the cut, trainable above it).

use burn::module::{Module, Param};
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{LayerNorm, Linear, PaddingConfig1d};
use burn::tensor::{Device, TensorData};

use super::{AUDIO_POSITIONS, D, DECODER_LAYERS, ENCODER_LAYERS, EPS, FFN, HEADS, MELS, TEXT_POSITIONS, VOCAB};
use super::{Attention, AudioEncoder, DecoderLayer, EncoderLayer, TokenEmbedding};
use crate::data::mel::FILTER_BINS;
use crate::model::dropout::SeededDropout;
use crate::model::pretrained::{LinearWeights, NormWeights};
use crate::weights::{WeightError, WeightFile};

/// A dense layer's place in a layer module, its name after `model.{encoder,decoder}.layers.{i}.`,
/// `[in, out]`, and whether it has a bias (Whisper's key projections have none).
type LinearEntry = (&'static str, &'static str, [usize; 2], bool);

const ENCODER_LINEARS: [LinearEntry; 6] = [
    ("attention.query", "self_attn.q_proj", [D, D], true),
    ("attention.key", "self_attn.k_proj", [D, D], false),
    ("attention.value", "self_attn.v_proj", [D, D], true),
    ("attention.output", "self_attn.out_proj", [D, D], true),
    ("fc1", "fc1", [D, FFN], true),
    ("fc2", "fc2", [FFN, D], true),
];
const ENCODER_NORMS: [(&str, &str); 2] = [("attention_norm", "self_attn_layer_norm"), ("ffn_norm", "final_layer_norm")];

const DECODER_LINEARS: [LinearEntry; 10] = [
    ("self_attention.query", "self_attn.q_proj", [D, D], true),
    ("self_attention.key", "self_attn.k_proj", [D, D], false),
    ("self_attention.value", "self_attn.v_proj", [D, D], true),
    ("self_attention.output", "self_attn.out_proj", [D, D], true),
    ("cross_attention.query", "encoder_attn.q_proj", [D, D], true),
    ("cross_attention.key", "encoder_attn.k_proj", [D, D], false),
    ("cross_attention.value", "encoder_attn.v_proj", [D, D], true),
    ("cross_attention.output", "encoder_attn.out_proj", [D, D], true),
    ("fc1", "fc1", [D, FFN], true),
    ("fc2", "fc2", [FFN, D], true),
];
const DECODER_NORMS: [(&str, &str); 3] = [
    ("self_attention_norm", "self_attn_layer_norm"),
    ("cross_attention_norm", "encoder_attn_layer_norm"),
    ("ffn_norm", "final_layer_norm"),
];

/// One transformer layer's tensors, in the order of its tables.
struct LayerWeights {
    linears: Vec<(&'static str, LinearWeights)>,
    norms: Vec<(&'static str, NormWeights)>,
}

impl LayerWeights {
    fn load(file: &WeightFile, prefix: &str, linears: &[LinearEntry], norms: &[(&'static str, &str)]) -> Result<Self, WeightError> {
        Ok(Self {
            linears: linears
                .iter()
                .map(|&(place, name, [d_in, d_out], bias)| {
                    let name = format!("{prefix}.{name}");
                    let layer = if bias { LinearWeights::load(file, &name, d_in, d_out) } else { LinearWeights::load_without_bias(file, &name, d_in, d_out) };
                    layer.map(|l| (place, l))
                })
                .collect::<Result<_, _>>()?,
            norms: norms.iter().map(|&(place, name)| NormWeights::load(file, &format!("{prefix}.{name}"), D).map(|n| (place, n))).collect::<Result<_, _>>()?,
        })
    }

    fn linear(&self, place: &str, device: &Device) -> Linear {
        self.linears.iter().find(|(p, _)| *p == place).expect("a place of the layer's table").1.init(device)
    }

    fn norm(&self, place: &str, device: &Device) -> LayerNorm {
        self.norms.iter().find(|(p, _)| *p == place).expect("a place of the layer's table").1.init(EPS, device)
    }

    fn attention(&self, prefix: &str, device: &Device) -> Attention {
        Attention {
            query: self.linear(&format!("{prefix}.query"), device),
            key: self.linear(&format!("{prefix}.key"), device),
            value: self.linear(&format!("{prefix}.value"), device),
            output: self.linear(&format!("{prefix}.output"), device),
            heads: HEADS,
        }
    }

    fn encoder_layer(&self, device: &Device) -> EncoderLayer {
        EncoderLayer {
            attention: self.attention("attention", device),
            attention_norm: self.norm("attention_norm", device),
            fc1: self.linear("fc1", device),
            fc2: self.linear("fc2", device),
            ffn_norm: self.norm("ffn_norm", device),
        }
    }

    fn decoder_layer(&self, dropout: f64, device: &Device) -> DecoderLayer {
        DecoderLayer {
            self_attention: self.attention("self_attention", device),
            self_attention_norm: self.norm("self_attention_norm", device),
            cross_attention: self.attention("cross_attention", device),
            cross_attention_norm: self.norm("cross_attention_norm", device),
            fc1: self.linear("fc1", device),
            fc2: self.linear("fc2", device),
            ffn_norm: self.norm("ffn_norm", device),
            dropout: SeededDropout::new(dropout),
        }
    }
}

/// A convolution's weight `[out, in, 3]` and bias.
struct ConvWeights {
    weight: Vec<f32>,
    bias: Vec<f32>,
    shape: [usize; 3],
}

impl ConvWeights {
    fn load(file: &WeightFile, name: &str, d_in: usize) -> Result<Self, WeightError> {
        Ok(Self { weight: file.tensor(&format!("{name}.weight"), &[D, d_in, 3])?, bias: file.tensor(&format!("{name}.bias"), &[D])?, shape: [D, d_in, 3] })
    }

    fn init(&self, stride: usize, device: &Device) -> Conv1d {
        let mut conv = Conv1dConfig::new(self.shape[1], D, 3).with_stride(stride).with_padding(PaddingConfig1d::Explicit(1, 1)).init(device);
        conv.weight = Param::from_data(TensorData::new(self.weight.clone(), self.shape), device);
        conv.bias = Some(Param::from_data(TensorData::new(self.bias.clone(), [D]), device));
        conv
    }
}

/// The pretrained model in host memory (~150 MB of f32, widened from the file's float16).
pub struct WhisperWeights {
    conv1: ConvWeights,
    conv2: ConvWeights,
    audio_positions: Vec<f32>,
    encoder_layers: Vec<LayerWeights>,
    encoder_norm: NormWeights,
    tokens: Vec<f32>,
    text_positions: Vec<f32>,
    decoder_layers: Vec<LayerWeights>,
    decoder_norm: NormWeights,
    /// `[mels, FILTER_BINS]`
    pub mel_filters: Vec<f32>,
}

impl WhisperWeights {
    /// Parses a safetensors file (made by `scripts/make_speech_sets.py`); `name` appears in error
    /// messages.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self, WeightError> {
        let file = WeightFile::from_bytes(name, "Whisper tiny.en", bytes)?;
        let (e, d) = ("model.encoder", "model.decoder");
        Ok(Self {
            conv1: ConvWeights::load(&file, &format!("{e}.conv1"), MELS)?,
            conv2: ConvWeights::load(&file, &format!("{e}.conv2"), D)?,
            audio_positions: file.tensor(&format!("{e}.embed_positions.weight"), &[AUDIO_POSITIONS, D])?,
            encoder_layers: (0..ENCODER_LAYERS)
                .map(|i| LayerWeights::load(&file, &format!("{e}.layers.{i}"), &ENCODER_LINEARS, &ENCODER_NORMS))
                .collect::<Result<_, _>>()?,
            encoder_norm: NormWeights::load(&file, &format!("{e}.layer_norm"), D)?,
            tokens: file.tensor(&format!("{d}.embed_tokens.weight"), &[VOCAB, D])?,
            text_positions: file.tensor(&format!("{d}.embed_positions.weight"), &[TEXT_POSITIONS, D])?,
            decoder_layers: (0..DECODER_LAYERS)
                .map(|i| LayerWeights::load(&file, &format!("{d}.layers.{i}"), &DECODER_LINEARS, &DECODER_NORMS))
                .collect::<Result<_, _>>()?,
            decoder_norm: NormWeights::load(&file, &format!("{d}.layer_norm"), D)?,
            mel_filters: file.tensor("mel_filters", &[MELS, FILTER_BINS])?,
        })
    }

    /// The encoder on `device`, frozen.
    pub fn encoder(&self, device: &Device) -> AudioEncoder {
        self.encoder_below(ENCODER_LAYERS, device)
    }

    /// The encoder with only its first `layers` layers (and the final norm) on `device`, frozen.
    pub fn encoder_below(&self, layers: usize, device: &Device) -> AudioEncoder {
        AudioEncoder {
            conv1: self.conv1.init(1, device),
            conv2: self.conv2.init(2, device),
            positions: Param::from_data(TensorData::new(self.audio_positions.clone(), [AUDIO_POSITIONS, D]), device),
            layers: self.encoder_layers(0..layers, device),
            norm: self.encoder_norm(device),
        }
        .no_grad()
    }

    /// Encoder layers `range` on `device`.
    pub fn encoder_layers(&self, range: std::ops::Range<usize>, device: &Device) -> Vec<EncoderLayer> {
        self.encoder_layers[range].iter().map(|l| l.encoder_layer(device)).collect()
    }

    /// The encoder's final LayerNorm on `device`.
    pub fn encoder_norm(&self, device: &Device) -> LayerNorm {
        self.encoder_norm.init(EPS, device)
    }

    /// The token embedding and positions on `device`, frozen.
    pub fn embedding(&self, device: &Device) -> TokenEmbedding {
        TokenEmbedding {
            tokens: Param::from_data(TensorData::new(self.tokens.clone(), [VOCAB, D]), device),
            positions: Param::from_data(TensorData::new(self.text_positions.clone(), [TEXT_POSITIONS, D]), device),
        }
        .no_grad()
    }

    /// Decoder layers `range` on `device`, with `dropout` (used only where they train).
    pub fn decoder_layers(&self, range: std::ops::Range<usize>, dropout: f64, device: &Device) -> Vec<DecoderLayer> {
        self.decoder_layers[range].iter().map(|l| l.decoder_layer(dropout, device)).collect()
    }

    /// The decoder's final LayerNorm on `device`.
    pub fn decoder_norm(&self, device: &Device) -> LayerNorm {
        self.decoder_norm.init(EPS, device)
    }
}
