//! Whisper tiny.en: a log-mel speech encoder (two convolutions + 4 transformer layers over 1 500
//! positions = 30 s) and a text decoder (4 layers of causal self-attention + cross-attention on the
//! encoder output, output tied to the token embedding), as in Radford et al. 2022.
//!
//! Transcription cuts it like the other models: the encoder (and the decoder layers below the cut)
//! stay frozen and their outputs are cached; the top `K` decoder layers train (teacher forcing).
//! The token embedding, which is also the output projection, stays frozen. Audio classes use the
//! encoder alone ([`classifier`]): frozen below the cut, mean-pooled over the clip's frames, a new
//! head.
//!
//! | source name (Hugging Face `WhisperForConditionalGeneration`)           | here                          |
//! |-------------------------------------------------------------------------|-------------------------------|
//! | `model.encoder.conv{1,2}.*`                                             | `AudioEncoder.conv{1,2}`      |
//! | `model.encoder.embed_positions.weight` (sinusoids)                      | `AudioEncoder.positions`      |
//! | `model.encoder.layers.N.*` (per tensor: `weights::ENCODER_LINEARS`, `ENCODER_NORMS`) | `AudioEncoder.layers[N]` |
//! | `model.encoder.layer_norm.*`                                            | `AudioEncoder.norm`           |
//! | `model.decoder.embed_tokens.weight` (also the output projection)        | `TokenEmbedding`              |
//! | `model.decoder.embed_positions.weight`                                  | `DecoderLayers.positions`     |
//! | `model.decoder.layers.N.*` (`weights::DECODER_LINEARS`, `DECODER_NORMS`) | `DecoderLayer`               |
//! | `model.decoder.layer_norm.*`                                            | the top's `norm`              |
//! | `mel_filters` (openai-whisper's `mel_80`, added at set-up)              | [`crate::data::mel`]          |

pub mod attention;
pub mod classifier;
pub mod decoder;
pub mod encoder;
pub mod frames;
pub mod greedy;
pub mod top;
pub mod weights;

pub use attention::Attention;
pub use classifier::{AudioClassifier, AudioClassifierConfig, AudioTrunk, check_encoder_cut};
pub use decoder::{DecoderLayer, DecoderState, EncodedAudio, TokenEmbedding};
pub use encoder::{AudioEncoder, EncoderLayer};
pub use frames::{ClipFrames, real_positions};
pub use greedy::{GreedyDecoder, Suppression};
pub use top::{TranscriptBatch, WhisperTop, WhisperTopConfig};
pub use weights::WhisperWeights;

use super::Unfreeze;

/// Model width.
pub const D: usize = 384;
pub const HEADS: usize = 6;
pub const FFN: usize = 1536;
pub const ENCODER_LAYERS: usize = 4;
pub const DECODER_LAYERS: usize = 4;
pub const MELS: usize = 80;
/// Mel frames in one 30-s window.
pub const FRAMES: usize = 3000;
/// Encoder positions (after the stride-2 convolution).
pub const AUDIO_POSITIONS: usize = 1500;
/// Decoder positions: the longest token sequence, prompt included.
pub const TEXT_POSITIONS: usize = 448;
pub const VOCAB: usize = 51864;
/// LayerNorm epsilon (PyTorch's default, which Whisper uses).
pub const EPS: f64 = 1e-5;
/// Dropout of the trainable decoder layers (Whisper was trained without; a little helps small
/// fine-tuning sets).
pub const DROPOUT: f64 = 0.1;

/// Special tokens of the English-only vocabulary.
pub mod tokens {
    pub const END_OF_TEXT: u32 = 50256;
    pub const START_OF_TRANSCRIPT: u32 = 50257;
    pub const NO_TIMESTAMPS: u32 = 50362;
    /// The prompt for English transcription without timestamps.
    pub const PROMPT: [u32; 2] = [START_OF_TRANSCRIPT, NO_TIMESTAMPS];
}

/// Tokens a transcript may have (its own plus the end-of-text token) with the prompt.
pub const MAX_TRANSCRIPT_TOKENS: usize = TEXT_POSITIONS - tokens::PROMPT.len() - 1;

/// `Err` with a message when the decoder has no such cut.
pub fn check_unfreeze(unfreeze: Unfreeze) -> Result<(), String> {
    match unfreeze {
        Unfreeze::Blocks(k) if k > DECODER_LAYERS => {
            Err(format!("cannot unfreeze {k} decoder layers: Whisper tiny.en has {DECODER_LAYERS}"))
        }
        _ => Ok(()),
    }
}

/// `norm` (Whisper's ε) over the last dimension of `x`, through the fused op.
///
/// # Shapes
/// - x, output: `[..., D]`
pub fn normalize<const N: usize>(norm: &burn::nn::LayerNorm, x: burn::tensor::Tensor<N>) -> burn::tensor::Tensor<N> {
    let beta = norm.beta.as_ref().expect("Whisper's norms have a shift").val();
    crate::ops::layer_norm(x, norm.gamma.val(), beta, EPS as f32)
}
