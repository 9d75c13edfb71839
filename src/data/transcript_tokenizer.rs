//! Whisper's byte-level BPE tokenizer (the model's own `tokenizer.json`, Hugging Face
//! `tokenizers`): transcripts to token ids for teacher forcing, decoded tokens back to text.

use tokenizers::Tokenizer;

use super::tokenizer::read_tokenizer;
use crate::model::whisper::{MAX_TRANSCRIPT_TOKENS, tokens};

pub struct TranscriptTokenizer {
    inner: Tokenizer,
}

impl TranscriptTokenizer {
    pub fn from_bytes(json: &[u8]) -> Result<Self, String> {
        let mut inner = read_tokenizer(json).map_err(|e| format!("the Whisper tokenizer.json cannot be read: {e}"))?;
        inner.with_padding(None);
        inner.with_truncation(None).map_err(|e| e.to_string())?;
        Ok(Self { inner })
    }

    /// The tokens of a transcript as Whisper writes one: a leading space, the text trimmed. `Err`
    /// when it has more tokens than the decoder's positions allow after the prompt.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        let text = format!(" {}", text.split_whitespace().collect::<Vec<_>>().join(" "));
        let encoding = self.inner.encode(text.as_str(), false).map_err(|e| format!("tokenizer failed: {e}"))?;
        let ids = encoding.get_ids().to_vec();
        if ids.len() > MAX_TRANSCRIPT_TOKENS {
            return Err(format!(
                "the transcript has {} tokens; Whisper's decoder takes at most {MAX_TRANSCRIPT_TOKENS} (448 with the prompt): split the clip",
                ids.len()
            ));
        }
        Ok(ids)
    }

    /// The text of transcript tokens (special tokens dropped), trimmed.
    pub fn decode(&self, ids: &[u32]) -> Result<String, String> {
        let text: Vec<u32> = ids.iter().copied().filter(|&t| t < tokens::END_OF_TEXT).collect();
        let text = self.inner.decode(&text, true).map_err(|e| format!("tokenizer failed: {e}"))?;
        Ok(text.trim().to_string())
    }
}
