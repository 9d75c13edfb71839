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
