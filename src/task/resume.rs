//! Going on with a classifier's training from a checkpoint: what a run was ([`RunContext`]:
//! task, classes, preparation, options, and a manifest of its examples — a content hash, class
//! and validation flag each, in order), written into every checkpoint, and the check that the
//! fine-tuner now holds the same, naming the first difference.

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use super::Preparation;
use crate::error::Error;
use crate::train::{Checkpoint, TrainOptions};

/// What a run was: a checkpoint goes on only with the same.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunContext {
    pub task: String,
    pub base_model: String,
    pub classes: Vec<String>,
    pub preparation: Preparation,
    pub options: TrainOptions,
    /// Per example, in the order added: its content's hash ([`content_hash`]).
    pub hashes: Vec<u64>,
    pub labels: Vec<usize>,
    /// Per example: validation-only.
    pub holdout: Vec<bool>,
}

/// Where a kept run stands: what a host shows before offering to resume it, and how to prepare
/// the examples for it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointSummary {
    pub task: String,
    /// Epochs done, of at most `epochs`.
    pub epoch: usize,
    pub epochs: usize,
    pub preparation: Preparation,
    pub options: TrainOptions,
    pub classes: Vec<String>,
    pub examples: usize,
}

/// A checkpoint of a classifier's run and that run's context, read back (not yet compared with
/// any examples).
pub fn read_checkpoint(bytes: Vec<u8>) -> Result<(Checkpoint, RunContext), Error> {
    let checkpoint = Checkpoint::read(bytes)?;
    let saved: RunContext = serde_json::from_str(&checkpoint.context)
        .map_err(|e| Error::Data(format!("This checkpoint was not made by a classifier's training ({e}).")))?;
    Ok((checkpoint, saved))
}

/// A stable 64-bit hash of an example's bytes (XXH3).
pub fn content_hash(bytes: &[u8]) -> u64 {
    xxh3_64(bytes)
}

/// [`content_hash`] of samples, as their little-endian bytes.
pub fn samples_hash(samples: &[f32]) -> u64 {
    let mut hasher = Xxh3::new();
    for chunk in samples.chunks(1024) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|s| s.to_le_bytes()).collect();
        hasher.update(&bytes);
    }
    hasher.digest()
}

impl RunContext {
    /// What `checkpoint` (of this run) says about where it stands.
    pub fn summary(&self, checkpoint: &Checkpoint) -> CheckpointSummary {
        CheckpointSummary {
            task: self.task.clone(),
            epoch: checkpoint.progress.epoch,
            epochs: self.options.epochs,
            preparation: self.preparation,
            options: self.options.clone(),
            classes: self.classes.clone(),
            examples: self.hashes.len(),
        }
    }

    /// Why a run on `self` cannot go on from a checkpoint of `saved` (its options aside: the
    /// run takes the checkpoint's), naming the first difference.
    pub fn check_resumes(&self, saved: &RunContext) -> Result<(), String> {
        if (&self.task, &self.base_model) != (&saved.task, &saved.base_model) {
            return Err(format!(
                "This checkpoint is of the {} task ({}); this is the {} task: switch to it to resume.",
                saved.task, saved.base_model, self.task
            ));
        }
        if self.classes != saved.classes {
            return Err(format!(
                "The checkpoint's run had the classes {}; the examples now have {}.",
                listed(&saved.classes),
                listed(&self.classes)
            ));
        }
        if self.preparation != saved.preparation {
            return Err(format!(
                "The checkpoint's run was prepared with {}; the examples now are prepared with {}: prepare them as it was.",
                describe(&saved.preparation),
                describe(&self.preparation)
            ));
        }
        let (now, then) = (self.hashes.len(), saved.hashes.len());
        if saved.labels.len() != then || saved.holdout.len() != then || saved.labels.iter().any(|&l| l >= saved.classes.len()) {
            // Found by the `checkpoint` fuzz target: a manifest of unequal lists was indexed past its end.
            return Err("The checkpoint is damaged: its manifest of examples does not add up.".into());
        }
        if now != then {
            return Err(format!("The checkpoint's run had {then} examples; there are {now} now: add the same examples to resume it."));
        }
        let differs = |i: usize| self.hashes[i] != saved.hashes[i] || self.labels[i] != saved.labels[i] || self.holdout[i] != saved.holdout[i];
        let changed: Vec<usize> = (0..now).filter(|&i| differs(i)).collect();
        if let Some(&first) = changed.first() {
            let mut ours: Vec<_> = (0..now).map(|i| (self.hashes[i], self.labels[i], self.holdout[i])).collect();
            let mut theirs: Vec<_> = (0..then).map(|i| (saved.hashes[i], saved.labels[i], saved.holdout[i])).collect();
            ours.sort_unstable();
            theirs.sort_unstable();
            if ours == theirs {
                return Err("These are the checkpoint's examples in another order: add them in the order of that run (the split and the shuffles depend on it).".into());
            }
            return Err(format!(
                "{} of the {now} examples are not the checkpoint's (the first is example {}): its run cannot go on with other data.",
                changed.len(),
                first + 1
            ));
        }
        Ok(())
    }
}

/// The first class names, the rest counted.
fn listed(classes: &[String]) -> String {
    let shown: Vec<&str> = classes.iter().take(10).map(String::as_str).collect();
    match classes.len() {
        n if n > 10 => format!("{} and {} more", shown.join(", "), n - 10),
        _ => shown.join(", "),
    }
}

fn describe(prep: &Preparation) -> String {
    let views = match (prep.augment, prep.flip) {
        (0, _) => String::new(),
        (n, flip) => format!(", {n} augmented views{}", if flip { "" } else { " without flips" }),
    };
    format!("unfreeze {} and max length {}{views}", prep.unfreeze, prep.max_length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RunContext {
        RunContext {
            task: "text".into(),
            base_model: "all-minilm-l6-v2".into(),
            classes: vec!["neg".into(), "pos".into()],
            preparation: Preparation::default(),
            options: TrainOptions::default(),
            hashes: vec![content_hash(b"a"), content_hash(b"b"), content_hash(b"c")],
            labels: vec![0, 1, 0],
            holdout: vec![false; 3],
        }
    }

    #[test]
    fn names_the_first_difference() {
        let saved = context();
        assert_eq!(context().check_resumes(&saved), Ok(()));
        let other = RunContext { options: TrainOptions { epochs: 3, ..TrainOptions::default() }, ..context() };
        assert_eq!(other.check_resumes(&saved), Ok(()), "options come from the checkpoint");
        let other = RunContext { classes: vec!["neg".into(), "positive".into()], ..context() };
        assert!(other.check_resumes(&saved).unwrap_err().contains("classes neg, pos"));
        let other = RunContext { labels: vec![0, 1, 1], ..context() };
        assert!(other.check_resumes(&saved).unwrap_err().contains("1 of the 3 examples are not the checkpoint's (the first is example 3)"));
        let mut other = context();
        other.hashes.swap(0, 1);
        other.labels.swap(0, 1);
        assert!(other.check_resumes(&saved).unwrap_err().contains("another order"));
        let other = RunContext { hashes: vec![1, 2], labels: vec![0, 1], holdout: vec![false; 2], ..context() };
        assert!(other.check_resumes(&saved).unwrap_err().contains("had 3 examples; there are 2 now"));
        let other = RunContext { task: "image".into(), ..context() };
        assert!(other.check_resumes(&saved).unwrap_err().contains("of the text task"));
        // A damaged manifest (lists of unequal length, a label past the classes) is refused.
        for damaged in [RunContext { labels: vec![0, 1], ..context() }, RunContext { holdout: vec![], ..context() }, RunContext { labels: vec![0, 1, 2], ..context() }] {
            assert!(context().check_resumes(&damaged).unwrap_err().contains("damaged"));
        }
    }

    #[test]
    fn hashes_are_stable() {
        // XXH3-64 of "abc" (the reference implementation's value): a hash that changed between
        // versions would refuse every kept checkpoint.
        assert_eq!(content_hash(b"abc"), 0x78af5f94892f3950);
        assert_eq!(samples_hash(&[1.0, -0.5]), content_hash(&[1.0f32.to_le_bytes(), (-0.5f32).to_le_bytes()].concat()));
    }
}
