//! How examples are prepared: what the frozen trunk computes once per example and caches. Chosen
//! once per example set (`FineTuner::reset`); changing it prepares the examples again.

use serde::{Deserialize, Serialize};

use crate::data::augment::MAX_VIEWS;
use crate::model::Unfreeze;

/// Tokens per text unless the caller says otherwise.
pub const DEFAULT_MAX_LENGTH: usize = 128;

/// Deserialised from JavaScript (camelCase, every field optional) and built by the CLI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Preparation {
    /// Where the cut is: `"head"` or the number of top blocks / layers that train with the head.
    /// Each model checks its own cuts.
    pub unfreeze: Unfreeze,
    /// Text: tokens per text, longer texts are cut. Other tasks ignore it.
    pub max_length: usize,
    /// Images: augmented views cached per image besides the original (0–8; each costs a trunk
    /// pass at preparation and a cache row); each training epoch draws one view per image.
    pub augment: usize,
    /// Images: whether augmented views may be mirrored left–right (off for text, digits, arrows).
    pub flip: bool,
}

impl Default for Preparation {
    fn default() -> Self {
        Self { unfreeze: Unfreeze::default(), max_length: DEFAULT_MAX_LENGTH, augment: 0, flip: true }
    }
}

impl Preparation {
    /// `Err` when views are asked of a task that `augments` not, or more than [`MAX_VIEWS`].
    pub fn check_augment(&self, augments: bool, task: &str) -> Result<(), String> {
        if self.augment > 0 && !augments {
            return Err(format!("augment: only images are augmented, not the {task} task's inputs (leave it at 0)"));
        }
        if self.augment > MAX_VIEWS {
            return Err(format!("augment: at most {MAX_VIEWS} views per image, not {} (each is a trunk pass and a cache row)", self.augment));
        }
        Ok(())
    }

    /// The same preparation with settings that do nothing at their defaults (flips without
    /// views), so that equal caches compare equal.
    pub fn normalized(&self) -> Preparation {
        if self.augment == 0 { Preparation { flip: true, ..*self } } else { *self }
    }

    /// What prediction prepares (and the model needs): the same cut and length, no augmented
    /// views.
    pub fn for_prediction(&self) -> Preparation {
        Preparation { augment: 0, flip: true, ..*self }
    }

    /// `partial` (a JSON object of some settings, camelCase; `null` ones left out) over
    /// `defaults`; unknown names are refused with their name.
    pub fn over(defaults: &Preparation, partial: serde_json::Value) -> Result<Preparation, String> {
        let mut merged = serde_json::to_value(defaults).map_err(|e| e.to_string())?;
        match (partial, merged.as_object_mut()) {
            (serde_json::Value::Null, _) => {}
            (serde_json::Value::Object(given), Some(all)) => all.extend(given.into_iter().filter(|(_, v)| !v.is_null())),
            (other, _) => return Err(format!("the preparation is an object of settings, not {other}")),
        }
        serde_json::from_value(merged).map_err(|e| format!("preparation: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_left_out_keep_the_tasks_default() {
        let audio = Preparation { unfreeze: Unfreeze::Head, ..Preparation::default() };
        assert_eq!(Preparation::over(&audio, serde_json::json!({"maxLength": 64, "unfreeze": null})).unwrap(), Preparation { max_length: 64, ..audio });
        assert_eq!(Preparation::over(&audio, serde_json::Value::Null).unwrap(), audio);
        assert_eq!(Preparation::over(&audio, serde_json::json!({"unfreeze": 1})).unwrap().unfreeze, Unfreeze::Blocks(1));
        assert!(Preparation::over(&audio, serde_json::json!({"unfrezze": 1})).unwrap_err().contains("unfrezze"));
        let views = Preparation::over(&audio, serde_json::json!({"augment": 4, "flip": false})).unwrap();
        assert_eq!((views.augment, views.flip, views.for_prediction().augment), (4, false, 0));
    }

    #[test]
    fn augmentation_is_for_images_and_bounded() {
        let views = |augment| Preparation { augment, ..Preparation::default() };
        assert!(views(8).check_augment(true, "image").is_ok());
        assert!(views(9).check_augment(true, "image").unwrap_err().contains("at most 8"));
        assert!(views(2).check_augment(false, "text").unwrap_err().contains("only images"));
        assert!(views(0).check_augment(false, "text").is_ok());
    }
}
