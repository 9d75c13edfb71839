//! Speech training data from disk (the CLI, the benchmarks), in the three shapes users have:
//! - a folder of clips with a transcript beside each (`x.wav` + `x.txt`);
//! - a CSV/TSV/JSON Lines manifest of (file, text) rows naming clips beside it;
//! - one long recording with its WebVTT or SRT subtitles, cut at cue boundaries into segments
//!   of at most 30 s.
//!
//! Whatever cannot be used (unreadable audio, clips without transcripts and transcripts without
//! clips, missing files, bad cues) is listed with the reason; the rest is kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::audio_file::read_audio;
use crate::data::mel::SAMPLE_RATE;
use crate::data::subtitles::{parse, segments};
use crate::data::{TableFormat, read_table};
use crate::error::Error;

/// Audio file extensions read (what symphonia decodes here).
pub const AUDIO_EXTENSIONS: [&str; 6] = ["wav", "mp3", "flac", "ogg", "m4a", "aac"];

/// One usable clip: where it came from, 16 kHz mono audio, its transcript.
pub struct SpeechClip {
    pub name: String,
    pub audio: Vec<f32>,
    pub text: String,
}

#[derive(Default)]
pub struct SpeechSet {
    pub clips: Vec<SpeechClip>,
    /// (what, why)
    pub skipped: Vec<(String, String)>,
}

fn is_audio(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads `path` (a folder, a manifest, or a recording when `subtitles` is given).
pub fn read_speech(path: &Path, subtitles: Option<&Path>) -> Result<SpeechSet, Error> {
    match subtitles {
        Some(subs) => read_recording(path, subs),
        None if path.is_dir() => read_folder(path),
        None if is_audio(path) => Err(Error::Data(format!(
            "'{}' is one recording: give its subtitles (--subtitles FILE.vtt or .srt) to cut it into clips with their text",
            path.display()
        ))),
        None => read_manifest(path),
    }
}

fn read_folder(dir: &Path) -> Result<SpeechSet, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::Data(format!("'{}' cannot be read ({e})", dir.display())))?;
    // stem → (audio file, transcript file)
    let mut pairs: BTreeMap<String, (Option<PathBuf>, Option<PathBuf>)> = BTreeMap::new();
    let mut set = SpeechSet::default();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || !path.is_file() {
            continue;
        }
        let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        if is_audio(&path) {
            pairs.entry(stem).or_default().0 = Some(path);
        } else if path.extension().is_some_and(|e| e == "txt") {
            pairs.entry(stem).or_default().1 = Some(path);
        } else {
            set.skipped.push((name, format!("not an audio file ({}) or a transcript (.txt)", AUDIO_EXTENSIONS.join(", "))));
        }
    }
    for (stem, pair) in pairs {
        match pair {
            (Some(audio), Some(text)) => match std::fs::read_to_string(&text) {
                Ok(t) => push(&mut set, &audio, t),
                Err(e) => set.skipped.push((text.display().to_string(), format!("the transcript cannot be read as UTF-8 text ({e})"))),
            },
            (Some(audio), None) => set.skipped.push((audio.display().to_string(), format!("no transcript beside it ({stem}.txt)"))),
            (None, Some(text)) => set.skipped.push((text.display().to_string(), format!("no clip for this transcript ({stem}.wav, .mp3, …)"))),
            (None, None) => {}
        }
    }
    Ok(set)
}

fn push(set: &mut SpeechSet, audio: &Path, text: String) {
    match read_audio(audio) {
        Ok(samples) => set.clips.push(SpeechClip { name: audio.display().to_string(), audio: samples, text: text.trim().to_string() }),
        Err(reason) => set.skipped.push((audio.display().to_string(), reason)),
    }
}

/// Column `names` (case-insensitive) or the `fallback`-th one.
fn column(columns: &[String], names: &[&str], fallback: usize) -> usize {
    columns.iter().position(|c| names.contains(&c.trim().to_ascii_lowercase().as_str())).unwrap_or(fallback)
}

fn read_manifest(path: &Path) -> Result<SpeechSet, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Data(format!("'{}' cannot be read ({e})", path.display())))?;
    let format = TableFormat::from_name(&path.to_string_lossy()).unwrap_or_else(|| TableFormat::sniff(&bytes));
    let table = read_table(&bytes, format).map_err(|e| Error::Data(format!("'{}': {e}", path.display())))?;
    let file_col = column(&table.columns, &["file", "path", "audio", "filename", "clip"], 0);
    let text_col = column(&table.columns, &["text", "transcript", "transcription", "sentence"], 1);
    if file_col == text_col || table.columns.len() < 2 {
        return Err(Error::Data(format!("'{}' needs a file column and a text column (found: {})", path.display(), table.columns.join(", "))));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut set = SpeechSet::default();
    for row in &table.skipped {
        set.skipped.push((format!("line {}", row.line), row.reason.clone()));
    }
    for row in &table.rows {
        let field = |i: usize| row.fields.get(i).cloned().flatten().unwrap_or_default();
        let (file, text) = (field(file_col), field(text_col));
        if file.trim().is_empty() {
            set.skipped.push((format!("line {}", row.line), "no file named".into()));
            continue;
        }
        let audio = base.join(file.trim());
        if !audio.is_file() {
            set.skipped.push((format!("line {}", row.line), format!("the manifest names '{file}', which is not there")));
            continue;
        }
        push(&mut set, &audio, text);
    }
    Ok(set)
}

fn read_recording(path: &Path, subtitles: &Path) -> Result<SpeechSet, Error> {
    let audio = read_audio(path).map_err(|e| Error::Data(format!("'{}': {e}", path.display())))?;
    let text = std::fs::read_to_string(subtitles).map_err(|e| Error::Data(format!("'{}' cannot be read ({e})", subtitles.display())))?;
    let subs = parse(&text).map_err(|e| Error::Data(format!("'{}': {e}", subtitles.display())))?;
    let mut set = SpeechSet::default();
    for cue in &subs.skipped {
        set.skipped.push((format!("{} line {}", subtitles.display(), cue.line), cue.reason.clone()));
    }
    let duration = audio.len() as f64 / SAMPLE_RATE as f64;
    for seg in segments(&subs.cues) {
        let name = format!("{} {:.2}–{:.2} s", path.display(), seg.start, seg.end);
        if seg.start >= duration {
            set.skipped.push((name, format!("the cue starts after the recording ends ({duration:.1} s)")));
            continue;
        }
        let from = (seg.start * SAMPLE_RATE as f64) as usize;
        let to = ((seg.end * SAMPLE_RATE as f64) as usize).min(audio.len());
        set.clips.push(SpeechClip { name, audio: audio[from..to].to_vec(), text: seg.text });
    }
    Ok(set)
}
