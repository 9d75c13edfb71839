//! How examples are prepared: what the frozen trunk computes once per example and caches. Chosen
//! once per example set (`FineTuner::reset`); changing it prepares the examples again.

use serde::{Deserialize, Serialize};

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
}

impl Default for Preparation {
    fn default() -> Self {
        Self { unfreeze: Unfreeze::default(), max_length: DEFAULT_MAX_LENGTH }
    }
}

impl Preparation {
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
    }
}
