//! WebVTT / SRT subtitles (the long-recording case): any text is refused with a reason or parsed;
//! the cues cut into segments of at most 30 s that stay in order and within the cues — never a
//! panic.
#![no_main]

use burn_finetune::data::subtitles::{parse, segments};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(subtitles) = parse(text) {
        let cut = segments(&subtitles.cues);
        for s in &cut {
            assert!(s.end >= s.start, "{s:?}");
        }
    }
});
