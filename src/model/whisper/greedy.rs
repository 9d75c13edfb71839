//! Greedy transcription with a key/value cache, and teacher-forced logits, over a decoder stack
//! whose layers may come from two places (the frozen lower layers and the fine-tuned top).
//!
//! Decoding starts from `<|startoftranscript|><|notimestamps|>` and takes the most likely token at
//! each step among the allowed ones ([`Suppression`]) until `<|endoftext|>`.

use burn::nn::LayerNorm;
use burn::tensor::{Int, Tensor, TensorData};

use super::decoder::LayerCache;
use super::{DecoderLayer, DecoderState, EncodedAudio, MAX_TRANSCRIPT_TOKENS, TokenEmbedding, VOCAB, normalize, tokens};
use crate::error::Error;

/// Tokens greedy decoding never picks: every special token but `<|endoftext|>`, the model's list
/// of non-speech symbols (`suppress_ids` of its config), and at the first step also a bare space
/// and `<|endoftext|>` (`suppress_ids_begin`): an empty transcript is not an answer.
#[derive(Clone, Debug, Default)]
pub struct Suppression {
    pub always: Vec<u32>,
    pub at_begin: Vec<u32>,
}

impl Suppression {
    /// From the model's `config.json` (`suppress_ids`, `suppress_ids_begin`).
    pub fn from_config(json: &str) -> Result<Self, String> {
        let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("the Whisper config is not JSON: {e}"))?;
        let ids = |key: &str| -> Result<Vec<u32>, String> {
            v.get(key)
                .and_then(|a| a.as_array())
                .ok_or_else(|| format!("the Whisper config has no '{key}' list"))?
                .iter()
                .map(|x| x.as_u64().filter(|&i| (i as usize) < VOCAB).map(|i| i as u32).ok_or_else(|| format!("'{key}' holds {x}, not a token id")))
                .collect()
        };
        Ok(Self { always: ids("suppress_ids")?, at_begin: ids("suppress_ids_begin")? })
    }

    /// Additive masks `[vocab]`: 0 for allowed tokens, −∞ for suppressed ones; (later steps, first step).
    fn masks(&self) -> (Vec<f32>, Vec<f32>) {
        let mut later = vec![0.0f32; VOCAB];
        for t in (tokens::END_OF_TEXT as usize + 1)..VOCAB {
            later[t] = f32::NEG_INFINITY;
        }
        for &t in &self.always {
            later[t as usize] = f32::NEG_INFINITY;
        }
        let mut first = later.clone();
        for &t in &self.at_begin {
            first[t as usize] = f32::NEG_INFINITY;
        }
        (later, first)
    }
}

/// A whole decoder, borrowed from wherever its parts live.
pub struct GreedyDecoder<'a> {
    pub embedding: &'a TokenEmbedding,
    /// Bottom to top.
    pub layers: Vec<&'a DecoderLayer>,
    pub norm: &'a LayerNorm,
    pub suppression: &'a Suppression,
}

impl GreedyDecoder<'_> {
    /// Teacher-forced logits of every position.
    ///
    /// # Shapes
    /// - ids: `[batch, len]` (the prompt and the transcript's tokens)
    /// - audio: `[batch, positions, d]` (the encoder output)
    /// - output: `[batch, len, vocab]`
    pub fn logits(&self, ids: Tensor<2, Int>, audio: &EncodedAudio) -> Tensor<3> {
        let [batch, len] = ids.dims();
        let mut x = self.embedding.embed(ids, 0);
        for layer in &self.layers {
            x = layer.forward(x, audio);
        }
        let d = x.dims()[2];
        let x = normalize(self.norm, x).reshape([batch * len, d]);
        self.embedding.logits(x).reshape([batch, len, VOCAB])
    }

    /// The transcript tokens of each clip (without prompt and `<|endoftext|>`), at most
    /// `max_tokens` each; one asynchronous read of the chosen tokens per step.
    ///
    /// # Shapes
    /// - audio: `[batch, positions, d]` (the encoder output)
    pub async fn transcribe(&self, audio: &EncodedAudio, max_tokens: usize) -> Result<Vec<Vec<u32>>, Error> {
        let [batch, _, d] = audio.states.dims();
        let device = audio.states.device();
        let (later, first) = self.suppression.masks();
        let later = Tensor::<1>::from_data(TensorData::new(later, [VOCAB]), &device).unsqueeze::<2>();
        let first = Tensor::<1>::from_data(TensorData::new(first, [VOCAB]), &device).unsqueeze::<2>();
        let mut state = DecoderState {
            layers: self.layers.iter().map(|l| l.start(audio)).collect::<Vec<LayerCache>>(),
            offset: 0,
        };
        let prompt: Vec<i64> = (0..batch).flat_map(|_| tokens::PROMPT.map(i64::from)).collect();
        let mut next = Tensor::<2, Int>::from_data(TensorData::new(prompt, [batch, tokens::PROMPT.len()]), &device);
        let mut out = vec![Vec::new(); batch];
        let mut done = vec![false; batch];
        for step in 0..max_tokens.min(MAX_TRANSCRIPT_TOKENS) {
            let len = next.dims()[1];
            let mut x = self.embedding.embed(next, state.offset);
            for (layer, cache) in self.layers.iter().zip(&mut state.layers) {
                x = layer.forward_cached(x, cache);
            }
            state.offset += len;
            let last = normalize(self.norm, x.slice([0..batch, len - 1..len]).reshape([batch, d]));
            let mask = if step == 0 { first.clone() } else { later.clone() };
            let chosen = (self.embedding.logits(last) + mask).argmax(1); // [batch, 1]
            let ids: Vec<i64> = chosen.clone().into_data_async().await.map_err(|e| Error::Backend(format!("{e:?}")))?.convert::<i64>().try_into_vec::<i64>().map_err(|e| Error::Backend(format!("{e:?}")))?;
            for (b, &id) in ids.iter().enumerate() {
                if done[b] {
                    continue;
                }
                if id as u32 == tokens::END_OF_TEXT {
                    done[b] = true;
                } else {
                    out[b].push(id as u32);
                }
            }
            if done.iter().all(|&d| d) {
                break;
            }
            next = chosen;
        }
        Ok(out)
    }
}
