//! all-MiniLM-L6-v2: a 6-layer BERT encoder (hidden 384, 12 heads) with mean pooling, cut like
//! the image model into a frozen trunk (embeddings + lower layers, outputs cached) and trainable
//! upper layers.

pub mod embeddings;
pub mod encoder_layer;
pub mod norm;
pub mod pooling;
pub mod self_attention;
pub mod text_classifier;
pub mod weights;

pub use embeddings::Embeddings;
pub use encoder_layer::EncoderLayer;
pub use pooling::mean_pool;
pub use self_attention::SelfAttention;
pub use text_classifier::{TextBatch, TextClassifier, TextClassifierConfig};
pub use weights::{HIDDEN, LAYERS, MiniLmWeights, TextTrunk, check_text_unfreeze};
