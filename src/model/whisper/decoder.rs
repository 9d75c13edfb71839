//! Whisper's text decoder: token + learned position embeddings, pre-LN layers of causal
//! self-attention, cross-attention on the encoder output and a GELU feed-forward; the logits are
//! the final hidden states against the token embedding (tied output projection).

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, Linear};
use burn::tensor::{Bool, Int, Tensor};

use super::{Attention, normalize};
use crate::model::dropout::SeededDropout;
use crate::ops::{dense, gelu, linear};

/// The token embedding (also the output projection) and the learned positions. Frozen.
#[derive(Module, Debug)]
pub struct TokenEmbedding {
    /// `[vocab, d]`
    pub tokens: Param<Tensor<2>>,
    /// `[text positions, d]`
    pub positions: Param<Tensor<2>>,
}

impl TokenEmbedding {
    /// # Shapes
    /// - ids: `[batch, len]`, at positions `offset..offset + len`
    /// - output: `[batch, len, d]`
    pub fn embed(&self, ids: Tensor<2, Int>, offset: usize) -> Tensor<3> {
        let [batch, len] = ids.dims();
        let d = self.tokens.dims()[1];
        let x = self.tokens.val().select(0, ids.reshape([batch * len])).reshape([batch, len, d]);
        x + self.positions.val().slice(offset..offset + len).unsqueeze::<3>()
    }

    /// Logits over the vocabulary.
    ///
    /// # Shapes
    /// - x: `[rows, d]` (after the final LayerNorm)
    /// - output: `[rows, vocab]`
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        let table = self.tokens.val();
        let vocab = table.dims()[0];
        let bias = Tensor::zeros([vocab], &table.device());
        dense(x, table.transpose(), bias)
    }
}

/// The encoder output a decoder attends to.
#[derive(Clone, Debug)]
pub struct EncodedAudio {
    /// `[batch, positions, d]`
    pub states: Tensor<3>,
    /// `[batch, positions]`, `true` past a clip's own positions; `None`: every position counts
    /// (one clip, or a whole 30-s window each).
    pub pad: Option<Tensor<2, Bool>>,
}

impl EncodedAudio {
    /// Every position counts.
    pub fn whole(states: Tensor<3>) -> Self {
        Self { states, pad: None }
    }
}

/// Keys and values one decoder layer keeps while decoding token by token.
#[derive(Clone, Debug)]
pub struct LayerCache {
    /// Self-attention keys and values of the tokens so far, `[batch, tokens, d]`.
    pub keys: Option<Tensor<3>>,
    pub values: Option<Tensor<3>>,
    /// Cross-attention keys and values of the encoder output, `[batch, positions, d]`.
    pub audio_keys: Tensor<3>,
    pub audio_values: Tensor<3>,
    pub audio_pad: Option<Tensor<2, Bool>>,
}

/// The key/value caches of a decoder stack, one per layer.
#[derive(Clone, Debug)]
pub struct DecoderState {
    pub layers: Vec<LayerCache>,
    /// Tokens decoded so far (the next position).
    pub offset: usize,
}

#[derive(Module, Debug)]
pub struct DecoderLayer {
    pub self_attention: Attention,
    pub self_attention_norm: LayerNorm,
    pub cross_attention: Attention,
    pub cross_attention_norm: LayerNorm,
    pub fc1: Linear,
    pub fc2: Linear,
    pub ffn_norm: LayerNorm,
    /// Active only while training (on an autodiff device).
    pub dropout: SeededDropout,
}

impl DecoderLayer {
    /// Teacher forcing: every position at once, each seeing the tokens up to itself.
    ///
    /// # Shapes
    /// - x: `[batch, len, d]`; audio: `[batch, positions, d]` (the encoder output)
    /// - output: `[batch, len, d]`
    pub fn forward(&self, x: Tensor<3>, audio: &EncodedAudio) -> Tensor<3> {
        let h = normalize(&self.self_attention_norm, x.clone());
        let (keys, values) = self.self_attention.keys_values(h.clone());
        let x = x + self.dropout.forward(self.self_attention.attend(h, keys, values, true, None));
        let h = normalize(&self.cross_attention_norm, x.clone());
        let x = x + self.dropout.forward(self.cross_attention.attend_source(h, audio.states.clone(), audio.pad.as_ref()));
        self.feed_forward(x)
    }

    /// The cross-attention keys and values of `audio` for [`Self::forward_cached`].
    pub fn start(&self, audio: &EncodedAudio) -> LayerCache {
        let (audio_keys, audio_values) = self.cross_attention.keys_values(audio.states.clone());
        LayerCache { keys: None, values: None, audio_keys, audio_values, audio_pad: audio.pad.clone() }
    }

    /// The next tokens given the cached keys and values of the earlier ones (appended to).
    ///
    /// # Shapes
    /// - x: `[batch, new tokens, d]`
    /// - output: `[batch, new tokens, d]`
    pub fn forward_cached(&self, x: Tensor<3>, cache: &mut LayerCache) -> Tensor<3> {
        let h = normalize(&self.self_attention_norm, x.clone());
        let (k, v) = self.self_attention.keys_values(h.clone());
        let grow = |old: Option<Tensor<3>>, new: Tensor<3>| match old {
            Some(old) => Tensor::cat(vec![old, new], 1),
            None => new,
        };
        let keys = grow(cache.keys.take(), k);
        let values = grow(cache.values.take(), v);
        let x = x + self.self_attention.attend(h, keys.clone(), values.clone(), true, None);
        (cache.keys, cache.values) = (Some(keys), Some(values));
        let h = normalize(&self.cross_attention_norm, x.clone());
        let x = x + self.cross_attention.attend(h, cache.audio_keys.clone(), cache.audio_values.clone(), false, cache.audio_pad.as_ref());
        self.feed_forward(x)
    }

    /// The feed-forward block.
    fn feed_forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = linear(&self.fc2, gelu(linear(&self.fc1, normalize(&self.ffn_norm, x.clone()))));
        x + self.dropout.forward(h)
    }
}
