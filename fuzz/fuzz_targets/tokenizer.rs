//! Tokenizer loading (MiniLM's WordPiece, Whisper's BPE): a `tokenizer.json` of any bytes is
//! refused with a reason or loads; a loaded one encodes and decodes a text — never a panic.
#![no_main]

use burn_finetune::data::{TextTokenizer, TranscriptTokenizer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = TextTokenizer::from_bytes(data) {
        let _ = t.encode("a great film, loved it", 16);
    }
    if let Ok(t) = TranscriptTokenizer::from_bytes(data) {
        if let Ok(ids) = t.encode("press one for sales") {
            let _ = t.decode(&ids);
        }
    }
});
