//! How much of the pretrained network trains: the cut between the frozen trunk and the top.

use serde::{Deserialize, Serialize};

/// Which layers train. Everything below them is frozen, runs once per example and is cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Unfreeze {
    /// Only the new classification head trains (features are the pooled embedding).
    #[serde(with = "head_tag")]
    Head,
    /// The head, the top feature layer (`_conv_head` / pooling) and the last `k` backbone blocks
    /// (MBConv blocks for images, encoder layers for text).
    Blocks(usize),
}

impl Unfreeze {
    /// Number of unfrozen backbone blocks (0 for [`Unfreeze::Head`]).
    pub fn blocks(self) -> usize {
        match self {
            Unfreeze::Head => 0,
            Unfreeze::Blocks(k) => k,
        }
    }
}

impl Default for Unfreeze {
    /// Head + the last two blocks: the seed's advice for small data sets.
    fn default() -> Self {
        Unfreeze::Blocks(2)
    }
}

impl std::fmt::Display for Unfreeze {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unfreeze::Head => write!(f, "head only"),
            Unfreeze::Blocks(k) => write!(f, "head + top layer + last {k} blocks"),
        }
    }
}

/// `"head"` on the wire.
mod head_tag {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("head")
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        match String::deserialize(d)?.as_str() {
            "head" => Ok(()),
            other => Err(D::Error::custom(format!("unfreeze must be \"head\" or a number of blocks, got \"{other}\""))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_head_or_a_block_count() {
        assert_eq!(serde_json::from_str::<Unfreeze>("\"head\"").unwrap(), Unfreeze::Head);
        assert_eq!(serde_json::from_str::<Unfreeze>("3").unwrap(), Unfreeze::Blocks(3));
        assert!(serde_json::from_str::<Unfreeze>("\"all\"").is_err());
        assert_eq!(serde_json::to_string(&Unfreeze::Head).unwrap(), "\"head\"");
    }
}
