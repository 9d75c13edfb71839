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
    let value = serde_json::from_slice::<serde_json::Value>(json).map_err(|e| format!("it is not JSON ({e})"))?;
    check_merges(&value["model"])?;
    let tokenizer = Tokenizer::from_bytes(json).map_err(|e| e.to_string())?;
    // The post-processor as loaded (its variants are tried in turn, whatever the file's "type"
    // says), in its canonical form.
    if let Some(processor) = tokenizer.get_post_processor() {
        check_templates(&serde_json::to_value(processor).map_err(|e| e.to_string())?)?;
    }
    Ok(tokenizer)
}

/// `tokenizers` 0.22 cuts a BPE model's continuing-subword prefix off each merge's second token
/// unchecked (`&b[prefix_len..]`): a merge whose token lacks the prefix panics while loading
/// (found by the `tokenizer` fuzz target). Such merges are refused here.
fn check_merges(model: &serde_json::Value) -> Result<(), String> {
    let prefix = model["continuing_subword_prefix"].as_str().unwrap_or("");
    // Whatever "type" says: the model's variants are tried in turn (a misspelt one loads as BPE).
    if prefix.is_empty() {
        return Ok(());
    }
    for merge in model["merges"].as_array().into_iter().flatten() {
        let second = match merge {
            serde_json::Value::String(pair) => pair.split_once(' ').map(|(_, b)| b),
            serde_json::Value::Array(pair) => pair.get(1).and_then(|b| b.as_str()),
            _ => None,
        };
        if let Some(b) = second
            && !b.starts_with(prefix)
        {
            return Err(format!("its BPE merge of '{b}' lacks the continuing-subword prefix '{prefix}'"));
        }
    }
    Ok(())
}

/// `tokenizers` 0.22 indexes a template's special tokens by name when it encodes, unchecked: a
/// `TemplateProcessing` naming a token its `special_tokens` lacks loads, then panics on the first
/// text (found by the `tokenizer` fuzz target; again with a misspelt "type", which loads as a
/// template all the same: hence the check of the loaded processor). A single-text template that
/// takes a second sequence (`$B`) panics the same way. Refused here, in nested `Sequence`s too.
fn check_templates(processor: &serde_json::Value) -> Result<(), String> {
    match processor["type"].as_str() {
        Some("Sequence") => processor["processors"].as_array().into_iter().flatten().try_for_each(check_templates),
        Some("TemplateProcessing") => {
            let known = processor["special_tokens"].as_object();
            for piece in ["single", "pair"].iter().filter_map(|k| processor[*k].as_array()).flatten() {
                if let Some(id) = piece["SpecialToken"]["id"].as_str()
                    && !known.is_some_and(|k| k.contains_key(id))
                {
                    return Err(format!("its post-processor's template uses the special token '{id}', which its special tokens lack"));
                }
            }
            if processor["single"].as_array().into_iter().flatten().any(|piece| piece["Sequence"]["id"].as_str() == Some("B")) {
                return Err("its post-processor's template for one text takes a second one ($B)".into());
            }
            Ok(())
        }
        _ => Ok(()),
    }
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

    /// Found by the `tokenizer` fuzz target: files that made `tokenizers` panic while loading (an
    /// error inside a `decoder` value) or on the first text (a template naming a special token it
    /// lacks) — a crashed engine in the browser; now both tokenizers refuse them.
    #[test]
    fn files_that_make_tokenizers_panic_are_refused() {
        let syntax = br#"{"version":"1.0","decoder":{"type":"ByteLevel","add_prefix_space":trutrue}}"#.to_vec();
        let not_utf8 = [&br#"{"version":"1.0","decoder":{"type":"ByteLevel","a"#[..], &[0xFF, 0xFF], br#"":true}}"#].concat();
        // The template names [CLS]; its special tokens define [CL:] only.
        let template = br###"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],"special_tokens":{"[CL:]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]}}},"decoder":null,"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[UNK]":0,"a":1,"[CLS]":2}}}"###;
        let e = TextTokenizer::from_bytes(template).err().unwrap();
        assert!(e.contains("special token '[CLS]'"), "{e}");
        // The same with a misspelt type (it loads as a template all the same), and a template for
        // one text that takes two.
        let text = std::str::from_utf8(template).unwrap();
        let misspelt = text.replace(r#""type":"TemplateProcessing""#, r#""type":"TemplateProces?sing""#);
        let e = TextTokenizer::from_bytes(misspelt.as_bytes()).err().unwrap();
        assert!(e.contains("special token '[CLS]'"), "{e}");
        let two = text.replace("[CL:]", "[CLS]").replace(r#"{"Sequence":{"id":"A","type_id":0}}],"pair""#, r#"{"Sequence":{"id":"B","type_id":0}}],"pair""#);
        let e = TextTokenizer::from_bytes(two.as_bytes()).err().unwrap();
        assert!(e.contains("takes a second one"), "{e}");
        assert!(TextTokenizer::from_bytes(text.replace("[CL:]", "[CLS]").as_bytes()).is_ok(), "the mended file loads");
        // A BPE continuing-subword prefix longer than a merge's token.
        let merges = br#"{"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":null,"post_processor":null,"decoder":null,"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":"OOOOOOOO","end_of_word_suffix":"","fuse_unk":false,"byte_fallback":false,"vocab":{"p":0,"r":1,"pr":2},"merges":["p r"]}}"#;
        let e = TranscriptTokenizer::from_bytes(merges).err().unwrap();
        assert!(e.contains("lacks the continuing-subword prefix"), "{e}");
        let misspelt = std::str::from_utf8(merges).unwrap().replace(r#""type":"BPE""#, r#""tyte":"BPE""#);
        let e = TranscriptTokenizer::from_bytes(misspelt.as_bytes()).err().unwrap();
        assert!(e.contains("lacks the continuing-subword prefix"), "{e}");
        for json in [syntax, not_utf8] {
            assert!(TextTokenizer::from_bytes(&json).err().unwrap().contains("not JSON"));
            assert!(TranscriptTokenizer::from_bytes(&json).err().unwrap().contains("not JSON"));
        }
    }
}
