//! all-MiniLM-L6-v2: a 6-layer BERT encoder (hidden 384, 12 heads) with mean pooling, cut like
//! the image model into a frozen trunk (embeddings + lower layers, outputs cached) and trainable
//! upper layers.
//!
//! | source name (Hugging Face BERT)                        | here                         |
//! |--------------------------------------------------------|------------------------------|
//! | `embeddings.{word,position}_embeddings.weight`         | `embeddings.{word,position}` |
//! | `embeddings.token_type_embeddings.weight` (row 0)      | `embeddings.token_type`      |
//! | `embeddings.LayerNorm.*`                               | `embeddings.norm`            |
//! | `encoder.layer.N.*` (per tensor: `weights::LAYER_LINEARS`, `LAYER_NORMS`) | `layers[N]` |

pub mod classifier;
pub mod embeddings;
pub mod encoder_layer;
pub mod norm;
pub mod self_attention;
pub mod weights;

pub use classifier::{MiniLmClassifier, MiniLmClassifierConfig};
pub use embeddings::Embeddings;
pub use encoder_layer::EncoderLayer;
pub use self_attention::SelfAttention;
pub use weights::{MiniLmTrunk, MiniLmWeights};

use super::Unfreeze;

pub const HIDDEN: usize = 384;
pub const LAYERS: usize = 6;
pub const HEADS: usize = 12;
pub const FFN: usize = 1536;
pub const VOCAB: usize = 30522;
/// Position embeddings: the longest sequence the model accepts.
pub const MAX_POSITIONS: usize = 512;
/// BERT's fine-tuning dropout, used in the trainable layers only.
pub const DROPOUT: f64 = 0.1;

/// `Err` with a message when the encoder has no such cut.
pub fn check_unfreeze(unfreeze: Unfreeze) -> Result<(), String> {
    match unfreeze {
        Unfreeze::Blocks(k) if k > LAYERS => Err(format!("cannot unfreeze {k} layers: MiniLM-L6 has {LAYERS}")),
        _ => Ok(()),
    }
}

