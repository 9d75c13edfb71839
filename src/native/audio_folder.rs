//! Sound classes on disk: one subfolder per class, audio files inside (any format symphonia
//! decodes, 8–48 kHz), decoded to 16 kHz mono. Files that are not audio, or are silent-empty, are
//! skipped and listed.

use std::path::{Path, PathBuf};

use super::audio_file::read_audio;
use super::folder::list_folder;
use crate::error::Error;
use crate::task::{AddReport, AudioClips, AudioFineTuner};

/// Clips per call into the engine.
const BATCH: usize = 16;

/// One decoded clip of a class.
#[derive(Clone, Debug)]
pub struct LabelledClip {
    pub path: PathBuf,
    /// 16 kHz mono.
    pub audio: Vec<f32>,
    /// Index into [`AudioFolder::classes`].
    pub label: usize,
}

/// A folder-per-class sound set, decoded.
#[derive(Debug, Default)]
pub struct AudioFolder {
    pub classes: Vec<String>,
    pub clips: Vec<LabelledClip>,
    /// Files that could not be used, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Reads `root/<class>/<file>`; `only`: these classes (all when empty; a name that is not a
/// subfolder is an error).
pub fn read_audio_folder(root: &Path, only: &[String]) -> Result<AudioFolder, Error> {
    let listed = list_folder(root)?;
    if let Some(missing) = only.iter().find(|c| !listed.classes.contains(c)) {
        return Err(Error::Data(format!("{} has no class folder '{missing}' (it has {})", root.display(), listed.classes.join(", "))));
    }
    let keep = |name: &String| only.is_empty() || only.contains(name);
    let classes: Vec<String> = listed.classes.iter().filter(|c| keep(c)).cloned().collect();
    let mut set = AudioFolder { classes, skipped: listed.skipped, ..AudioFolder::default() };
    for (path, label) in listed.files {
        let name = &listed.classes[label];
        if !keep(name) {
            continue;
        }
        let label = set.classes.iter().position(|c| c == name).expect("a kept class");
        match read_audio(&path) {
            Ok(audio) if audio.is_empty() => set.skipped.push((path, "it has no audio samples".into())),
            Ok(audio) => set.clips.push(LabelledClip { path, audio, label }),
            Err(why) => set.skipped.push((path, why)),
        }
    }
    Ok(set)
}

/// Adds `clips` to `tuner` (whose classes are `classes`, by name) in batches; `holdout`:
/// validation-only.
pub async fn add_clips(tuner: &mut AudioFineTuner, classes: &[String], clips: &[&LabelledClip], holdout: bool) -> Result<AddReport, Error> {
    let mut report = AddReport::default();
    for batch in clips.chunks(BATCH) {
        let audio: Vec<f32> = batch.iter().flat_map(|c| c.audio.iter().copied()).collect();
        let lengths: Vec<usize> = batch.iter().map(|c| c.audio.len()).collect();
        let labels = batch
            .iter()
            .map(|c| {
                let name = &classes[c.label];
                tuner.classes().iter().position(|t| t == name).ok_or_else(|| Error::Data(format!("class '{name}' is not among the training classes")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let added = tuner.add(AudioClips { audio: &audio, lengths: &lengths }, &labels, holdout).await?;
        report.added += added.added;
        report.truncated += added.truncated;
    }
    Ok(report)
}
