//! Speech data from disk in its three shapes (a folder of clips with transcripts, a manifest, a
//! recording with subtitles): what is usable is read at 16 kHz, everything else is listed with
//! its reason.

mod common;

use std::path::Path;

use burn_finetune::native::audio_file::read_audio;
use burn_finetune::native::speech_data::read_speech;

/// A 16-bit mono WAV file of `samples` at `rate`.
fn write_wav(path: &Path, samples: &[f32], rate: u32) {
    let data: Vec<u8> = samples.iter().flat_map(|&s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes()).collect();
    let mut wav = Vec::new();
    wav.extend(b"RIFF");
    wav.extend((36 + data.len() as u32).to_le_bytes());
    wav.extend(b"WAVEfmt ");
    wav.extend(16u32.to_le_bytes());
    wav.extend(1u16.to_le_bytes()); // PCM
    wav.extend(1u16.to_le_bytes()); // mono
    wav.extend(rate.to_le_bytes());
    wav.extend((rate * 2).to_le_bytes());
    wav.extend(2u16.to_le_bytes());
    wav.extend(16u16.to_le_bytes());
    wav.extend(b"data");
    wav.extend((data.len() as u32).to_le_bytes());
    wav.extend(data);
    std::fs::write(path, wav).unwrap();
}

fn tone(seconds: f32, rate: u32) -> Vec<f32> {
    (0..(seconds * rate as f32) as usize).map(|i| (i as f32 * 0.05).sin() * 0.3).collect()
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("speech-data-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_folder_pairs_clips_with_transcripts_and_lists_the_rest() {
    let dir = temp("folder");
    write_wav(&dir.join("a.wav"), &tone(1.0, 8_000), 8_000);
    std::fs::write(dir.join("a.txt"), "  Press one.\n").unwrap();
    write_wav(&dir.join("b.wav"), &tone(1.0, 44_100), 44_100);
    std::fs::write(dir.join("c.txt"), "orphan").unwrap();
    std::fs::write(dir.join("notes.pdf"), "%PDF").unwrap();
    std::fs::write(dir.join("broken.wav"), "not really audio").unwrap();
    std::fs::write(dir.join("broken.txt"), "text").unwrap();
    std::fs::write(dir.join(".hidden.wav"), "x").unwrap();
    let set = read_speech(&dir, None).unwrap();
    assert_eq!(set.clips.len(), 1);
    assert_eq!(set.clips[0].text, "Press one.");
    assert_eq!(set.clips[0].audio.len(), 16_000, "8 kHz → 16 kHz");
    let reasons: Vec<String> = set.skipped.iter().map(|(w, r)| format!("{w}: {r}")).collect();
    assert_eq!(reasons.len(), 4, "{reasons:#?}");
    assert!(reasons.iter().any(|r| r.contains("notes.pdf") && r.contains("not an audio file")), "{reasons:#?}");
    assert!(reasons.iter().any(|r| r.contains("b.wav") && r.contains("no transcript beside it (b.txt)")), "{reasons:#?}");
    assert!(reasons.iter().any(|r| r.contains("c.txt") && r.contains("no clip for this transcript")), "{reasons:#?}");
    assert!(reasons.iter().any(|r| r.contains("broken.wav") && r.contains("not an audio file")), "{reasons:#?}");
}

#[test]
fn a_manifest_names_clips_beside_it() {
    let dir = temp("manifest");
    write_wav(&dir.join("one.wav"), &tone(0.5, 16_000), 16_000);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    write_wav(&dir.join("sub/two.wav"), &tone(0.5, 48_000), 48_000);
    std::fs::write(dir.join("m.tsv"), "transcript\tpath\nfirst\tone.wav\nsecond\tsub/two.wav\nthird\tmissing.wav\n").unwrap();
    let set = read_speech(&dir.join("m.tsv"), None).unwrap();
    let texts: Vec<&str> = set.clips.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["first", "second"]);
    assert_eq!(set.clips[1].audio.len(), 8_000);
    assert_eq!(set.skipped.len(), 1);
    assert!(set.skipped[0].0.contains("line 4") && set.skipped[0].1.contains("'missing.wav', which is not there"), "{:?}", set.skipped);

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "only\none.wav\n").unwrap();
    assert!(read_speech(&bad, None).err().unwrap().to_string().contains("a file column and a text column"));
}

#[test]
fn a_recording_is_cut_at_cues_into_segments_of_at_most_thirty_seconds() {
    let dir = temp("recording");
    // 70 s of real speech: Asterisk prompts back to back.
    let mut recording = Vec::new();
    let manifest = common::repo().join("assets/asterisk");
    for name in ["agent-pass", "vm-tocallnum", "privacy-incorrect"] {
        recording.extend(read_audio(&manifest.join(format!("{name}.wav"))).unwrap());
    }
    let recording: Vec<f32> = recording.iter().cycle().take(70 * 16_000).copied().collect();
    write_wav(&dir.join("podcast.wav"), &recording, 16_000);
    let vtt = "WEBVTT\n\n00:00.000 --> 00:12.000\nfirst\n\n00:12.000 --> 00:25.000\nsecond\n\n00:24.000 --> 00:26.000\noverlapping\n\n00:26.000 --> 00:40.000\nthird\n\n00:40.000 --> 00:55.000\nfourth\n\n01:20.000 --> 01:25.000\nafter the end\n";
    std::fs::write(dir.join("podcast.vtt"), vtt).unwrap();
    let set = read_speech(&dir.join("podcast.wav"), Some(&dir.join("podcast.vtt"))).unwrap();
    let segs: Vec<(&str, usize)> = set.clips.iter().map(|c| (c.text.as_str(), c.audio.len())).collect();
    assert_eq!(segs, [("first second", 25 * 16_000), ("third fourth", 29 * 16_000)]);
    let reasons: Vec<&str> = set.skipped.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("before the previous one ends"));
    assert!(reasons[1].contains("after the recording ends"));

    let e = read_speech(&dir.join("podcast.wav"), None).err().unwrap().to_string();
    assert!(e.contains("--subtitles"), "{e}");
}
