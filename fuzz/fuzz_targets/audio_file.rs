//! Audio files read natively (symphonia + the resampler: WAV, MP3, FLAC, Ogg Vorbis, M4A): any
//! bytes, under any extension, are refused with a reason or decoded to finite samples — never a
//! panic.
#![no_main]

use burn_finetune::native::audio_file::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, bytes)) = data.split_first() else { return };
    let extension = [None, Some("wav"), Some("mp3"), Some("flac"), Some("ogg"), Some("m4a")][control as usize % 6];
    if let Ok(decoded) = decode(bytes.to_vec(), extension) {
        assert!(decoded.samples.iter().all(|s| s.is_finite()));
    }
});
