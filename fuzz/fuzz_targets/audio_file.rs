//! Audio files read natively (symphonia + the resampler: WAV, MP3, FLAC, Ogg Vorbis, M4A): any
//! bytes, under any extension, are refused with a reason or decoded to finite samples — never a
//! panic out of `decode`.
#![no_main]

use burn_finetune::native::audio_file::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `decode` catches a panic of the decoder library and says the file is damaged; libFuzzer's
    // hook would abort on it first. A panic `decode` lets out still aborts (the macro catches it).
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Some((&control, bytes)) = data.split_first() else { return };
    let extension = [None, Some("wav"), Some("mp3"), Some("flac"), Some("ogg"), Some("m4a")][control as usize % 6];
    if let Ok(decoded) = decode(bytes.to_vec(), extension) {
        assert!(decoded.samples.iter().all(|s| s.is_finite()));
    }
});
