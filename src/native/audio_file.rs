//! Audio files for the CLI and the benchmarks: decoded by symphonia (WAV, MP3, FLAC, Ogg Vorbis,
//! M4A/AAC), channels averaged to mono, resampled to 16 kHz by rubato (FFT resampler). The
//! browser does the same with `decodeAudioData` and an `OfflineAudioContext`.

use std::path::Path;

use rubato::{FftFixedIn, Resampler};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as AudioError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::data::mel::SAMPLE_RATE;

/// Sample rates accepted (telephone to studio).
pub const RATES: std::ops::RangeInclusive<u32> = 8_000..=48_000;

/// Mono samples at their own rate.
pub struct Decoded {
    pub samples: Vec<f32>,
    pub rate: u32,
    pub channels: usize,
}

/// Decodes an audio file's bytes; `extension` helps the format probe. A panic inside the decoder
/// library becomes an error naming the file as damaged: symphonia 0.5's AAC (ADTS) reader
/// subtracts with overflow on some streams, a panic where overflow checks are on (found by the
/// `audio_file` fuzz target).
pub fn decode(bytes: Vec<u8>, extension: Option<&str>) -> Result<Decoded, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode_unguarded(bytes, extension)))
        .unwrap_or_else(|_| Err("the audio decoder failed on it: the file is damaged, or not the format its name says".into()))
}

fn decode_unguarded(bytes: Vec<u8>, extension: Option<&str>) -> Result<Decoded, String> {
    let stream = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    if let Some(e) = extension {
        hint.with_extension(e);
    }
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(|_| "not an audio file this tool reads (WAV, MP3, FLAC, Ogg Vorbis, M4A)".to_string())?;
    let mut format = probed.format;
    let track = format.tracks().iter().find(|t| t.codec_params.codec != CODEC_TYPE_NULL).ok_or("the file has no audio track")?;
    let track_id = track.id;
    let rate = track.codec_params.sample_rate.ok_or("the file does not state its sample rate")?;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| format!("its audio codec is not supported ({e})"))?;
    let (mut samples, mut channels) = (Vec::new(), 1);
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(AudioError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(AudioError::ResetRequired) => break,
            Err(e) => return Err(format!("the audio cannot be read ({e})")),
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => {
                let spec = *buffer.spec();
                channels = spec.channels.count().max(1);
                let mut interleaved = SampleBuffer::<f32>::new(buffer.capacity() as u64, spec);
                interleaved.copy_interleaved_ref(buffer);
                samples.extend(interleaved.samples().chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() / channels as f32));
            }
            Err(AudioError::DecodeError(_)) => continue, // a damaged packet: skip it, as players do
            Err(e) => return Err(format!("the audio cannot be decoded ({e})")),
        }
    }
    Ok(Decoded { samples, rate, channels })
}

/// `samples` at `from` Hz resampled to `to` Hz (the same length in time).
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, String> {
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let fail = |e: &dyn std::fmt::Display| format!("resampling {from} Hz → {to} Hz failed: {e}");
    let mut resampler = FftFixedIn::<f32>::new(from as usize, to as usize, 1024, 2, 1).map_err(|e| fail(&e))?;
    let delay = resampler.output_delay();
    let mut out = Vec::with_capacity(samples.len() * to as usize / from as usize + 2048);
    let mut pos = 0;
    while pos + resampler.input_frames_next() <= samples.len() {
        let n = resampler.input_frames_next();
        out.extend_from_slice(&resampler.process(&[&samples[pos..pos + n]], None).map_err(|e| fail(&e))?[0]);
        pos += n;
    }
    if pos < samples.len() {
        out.extend_from_slice(&resampler.process_partial(Some(&[&samples[pos..]]), None).map_err(|e| fail(&e))?[0]);
    }
    let expected = (samples.len() as u64 * to as u64 / from as u64) as usize;
    while out.len() < expected + delay {
        let tail = resampler.process_partial::<&[f32]>(None, None).map_err(|e| fail(&e))?;
        if tail[0].is_empty() {
            break;
        }
        out.extend_from_slice(&tail[0]);
    }
    out.drain(..delay.min(out.len()));
    out.truncate(expected);
    Ok(out)
}

/// An audio file as Whisper hears it: 16 kHz mono.
pub fn read_audio(path: &Path) -> Result<Vec<f32>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it ({e})"))?;
    let decoded = decode(bytes, path.extension().and_then(|e| e.to_str()))?;
    if !RATES.contains(&decoded.rate) {
        return Err(format!("its sample rate is {} Hz; 8 000 to 48 000 Hz are accepted", decoded.rate));
    }
    resample(&decoded.samples, decoded.rate, SAMPLE_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `audio_file` fuzz target (debug assertions on): 62 bytes on which symphonia's
    /// AAC (ADTS) reader subtracts with overflow — a panic with overflow checks, a wrapped value
    /// without (release). Either way the file is refused with a reason.
    #[test]
    fn a_decoder_panic_is_a_damaged_file() {
        let bytes = vec![0x84, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xB5, 0xFF, 0xF1, 0x66, 0x07, 0x00, 0x00, 0x00, 0x79, 0x84, 0x69, 0x5D, 0x84, 0x84, 0x84, 0x00, 0x00, 0x1D, 0xCB, 0x89, 0x1A, 0x20, 0x1D, 0x1E, 0x6A, 0x6C, 0x1C, 0x43, 0x19, 0x52, 0x74];
        let error = decode(bytes, None).err().unwrap();
        assert!(error.contains("damaged") || error.contains("not supported"), "{error}");
    }

    #[test]
    fn resampling_keeps_a_tone_and_the_duration() {
        let tone = |rate: u32, n: usize| (0..n).map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin()).collect::<Vec<_>>();
        let up = resample(&tone(8_000, 8_000), 8_000, 16_000).unwrap();
        assert_eq!(up.len(), 16_000);
        let want = tone(16_000, 16_000);
        // Away from the edges the resampled tone is the tone at the new rate.
        let err = up[2000..14_000].iter().zip(&want[2000..14_000]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(err < 0.02, "max error {err}");
        assert_eq!(resample(&tone(44_100, 44_100), 44_100, 16_000).unwrap().len(), 16_000);
    }

    #[test]
    fn non_audio_bytes_are_refused_with_the_reason() {
        let e = decode(b"this is a text file, not audio".to_vec(), Some("wav")).err().unwrap();
        assert!(e.contains("not an audio file"), "{e}");
    }
}
