//! The model's own WordPiece tokenizer (`tokenizer.json`, Hugging Face `tokenizers`): uncased
//! normalisation, `[CLS] … [SEP]`. Truncation keeps the first tokens and the closing `[SEP]` (what
//! `tokenizers`' own truncation does for one sequence); padding is ours, per batch.

use tokenizers::Tokenizer;

/// Texts are cut at this many characters per allowed token before tokenizing: a longer text is
/// truncated anyway, and a 100 000-character text then costs next to nothing.
const CHARS_PER_TOKEN_BOUND: usize = 32;

/// Reads `tokenizer.json` bytes with `tokenizers`, after checking that they are JSON at all:
/// `tokenizers` 0.22 panics (`expect("Helper")` in its decoder's deserializer) on an error inside
/// a `decoder` value — a syntax error, or bytes that are not UTF-8 in a string (found by the
/// `tokenizer` fuzz target). The check parses every value (skipping them would not validate
/// strings).
pub fn read_tokenizer(json: &[u8]) -> Result<Tokenizer, String> {
    serde_json::from_slice::<serde_json::Value>(json).map_err(|e| format!("it is not JSON ({e})"))?;
    Tokenizer::from_bytes(json).map_err(|e| e.to_string())
}

/// Token ids of one text.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    /// The text had more tokens than the maximum length.
    pub truncated: bool,
}

/// Checks a user-chosen maximum length (in tokens, `[CLS]` and `[SEP]` included).
pub fn check_max_length(max_length: usize) -> Result<(), String> {
    match max_length {
        8..=512 => Ok(()),
        _ => Err(format!("max length must be between 8 and 512 tokens, got {max_length}")),
    }
}

pub struct TextTokenizer {
    inner: Tokenizer,
}

impl TextTokenizer {
    /// Reads a `tokenizer.json`; its own padding and truncation settings are switched off.
    pub fn from_bytes(json: &[u8]) -> Result<Self, String> {
        let mut inner = read_tokenizer(json).map_err(|e| format!("tokenizer.json cannot be read: {e}"))?;
        inner.with_padding(None);
        inner.with_truncation(None).map_err(|e| e.to_string())?;
        Ok(Self { inner })
    }

    /// Tokens it knows, added ones included: ids run below it.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Token ids of `text`, at most `max_length` of them (a length outside 8–512 is refused).
    pub fn encode(&self, text: &str, max_length: usize) -> Result<Encoded, String> {
        check_max_length(max_length)?;
        let (text, cut) = match text.char_indices().nth(max_length * CHARS_PER_TOKEN_BOUND) {
            Some((byte, _)) => (&text[..byte], true),
            None => (text, false),
        };
        let encoding = self.inner.encode(text, true).map_err(|e| format!("tokenizer failed: {e}"))?;
        let mut ids = encoding.get_ids().to_vec();
        let truncated = cut || ids.len() > max_length;
        if ids.len() > max_length {
            let sep = ids[ids.len() - 1];
            ids.truncate(max_length - 1);
            ids.push(sep);
        }
        Ok(Encoded { ids, truncated })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::TranscriptTokenizer;

    /// Found by the `tokenizer` fuzz target: a syntax error inside a `decoder` value made
    /// `tokenizers` panic (a crashed engine in the browser); now both tokenizers refuse it.
    #[test]
    fn a_syntax_error_in_the_decoder_is_refused_not_a_panic() {
        let syntax = br#"{"version":"1.0","decoder":{"type":"ByteLevel","add_prefix_space":trutrue}}"#.to_vec();
        let not_utf8 = [&br#"{"version":"1.0","decoder":{"type":"ByteLevel","a"#[..], &[0xFF, 0xFF], br#"":true}}"#].concat();
        for json in [syntax, not_utf8] {
            assert!(TextTokenizer::from_bytes(&json).err().unwrap().contains("not JSON"));
            assert!(TranscriptTokenizer::from_bytes(&json).err().unwrap().contains("not JSON"));
        }
    }
}
