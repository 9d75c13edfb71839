//! Data: image preprocessing, Whisper's log-mel front end, text tables and tokenization, the train/validation split and the
//! feature caches.

pub mod augment;
pub mod cache;
pub mod image;
pub mod mel;
pub mod speech_cache;
pub mod split;
pub mod subtitles;
pub mod table;
pub mod text_dataset;
pub mod token_cache;
pub mod tokenizer;
pub mod transcript_tokenizer;

/// The most classes one model is fine-tuned for: what the page, the metrics and the head are
/// sized for (ImageNet has 1 000). More usually means the labels were read from the wrong column.
pub const MAX_CLASSES: usize = 1000;

pub use cache::FeatureCache;
pub use image::{PixelLayout, preprocess};
pub use speech_cache::SpeechCache;
pub use split::{Split, class_counts, stratified_split};
pub use table::{Row, SkippedRow, Table, TableFormat, TableReader, read_table};
pub use text_dataset::{ColumnGuess, TextDataset, guess_columns, text_dataset};
pub use token_cache::{PaddedBatch, TokenCache};
pub use tokenizer::{Encoded, TextTokenizer, check_max_length};
pub use transcript_tokenizer::TranscriptTokenizer;
