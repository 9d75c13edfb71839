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

impl Unfreeze {
    /// What trains, in words: "head only" or "head + last K {layers}" (`layers`: the model's word
    /// for its blocks, e.g. "encoder layers").
    pub fn describe(self, layers: &str) -> String {
        match self {
            Unfreeze::Head => "head only".into(),
            Unfreeze::Blocks(k) => format!("head + last {k} {layers}"),
        }
    }
}

/// The one written form, as the CLI takes it and the engine names it: `head` or the block count.
impl std::fmt::Display for Unfreeze {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unfreeze::Head => write!(f, "head"),
            Unfreeze::Blocks(k) => write!(f, "{k}"),
        }
    }
}

impl std::str::FromStr for Unfreeze {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "head" => Ok(Unfreeze::Head),
            k => k.parse().map(Unfreeze::Blocks).map_err(|_| format!("unfreeze must be \"head\" or a number of blocks, got \"{k}\"")),
        }
    }
}

/// `"head"` on the wire (numbers are block counts).
mod head_tag {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use super::Unfreeze;

    pub fn serialize<S: Serializer>(s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Unfreeze::Head.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
        match String::deserialize(d)?.parse::<Unfreeze>().map_err(D::Error::custom)? {
            Unfreeze::Head => Ok(()),
            Unfreeze::Blocks(k) => Err(D::Error::custom(format!("unfreeze takes a number of blocks as a number, not the string \"{k}\""))),
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
        for cut in [Unfreeze::Head, Unfreeze::Blocks(4)] {
            assert_eq!(cut.to_string().parse::<Unfreeze>().unwrap(), cut);
        }
        assert!("two".parse::<Unfreeze>().unwrap_err().contains("\"head\" or a number"));
    }
}
