//! The text task: MiniLM-L6 with its WordPiece tokenizer. Inputs are texts, cut to the
//! preparation's maximum length; the cache keeps each text's per-token trunk output in f16.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::{AddReport, Preparation, Task, read_f32};
use crate::data::{Encoded, TextTokenizer, TokenCache, check_max_length};
use crate::error::Error;
use crate::model::minilm::{HIDDEN, check_unfreeze};
use crate::model::sequence::SequenceBatch;
use crate::model::{MiniLmClassifier, MiniLmClassifierConfig, MiniLmTrunk, MiniLmWeights};
use crate::train::TrainOptions;

/// Texts per trunk forward pass (sorted by length first, so padding stays small).
const TRUNK_BATCH: usize = 32;

/// MiniLM-L6's pretrained weights and tokenizer.
pub struct TextTask {
    pub weights: MiniLmWeights,
    pub tokenizer: TextTokenizer,
}

impl TextTask {
    /// The task on these weights with this tokenizer, refused when the tokenizer can produce ids
    /// that the embedding has no row for (another model's `tokenizer.json`).
    pub fn new(weights: MiniLmWeights, tokenizer: TextTokenizer) -> Result<Self, Error> {
        let (vocabulary, rows) = (tokenizer.vocab_size(), crate::model::minilm::VOCAB);
        if vocabulary > rows {
            return Err(Error::Data(format!(
                "the tokenizer has {vocabulary} tokens but the model's embedding {rows} rows: they belong to different models"
            )));
        }
        Ok(Self { weights, tokenizer })
    }

    /// Token ids of `texts`, each at most `max_length` long.
    pub fn tokenize(&self, texts: &[String], max_length: usize) -> Result<Vec<Encoded>, Error> {
        texts.iter().map(|t| self.tokenizer.encode(t, max_length).map_err(Error::Data)).collect()
    }
}

impl Task for TextTask {
    const NAME: &'static str = "text";
    const BASE_MODEL: &'static str = "all-minilm-l6-v2";
    const LAYERS: &'static str = "encoder layers";
    const NO_EXAMPLES: &'static str = "No examples yet: drop a CSV, TSV or JSON Lines file of texts and labels.";
    type Inputs<'a> = &'a [String];
    /// Texts are sorted by length within a pass and run 32 at a time (`TRUNK_BATCH`).
    const PASS: usize = 1024;
    type Trunk = MiniLmTrunk;
    type Top = MiniLmClassifier;
    type Cache = TokenCache;

    fn check(prep: &Preparation) -> Result<(), String> {
        check_unfreeze(prep.unfreeze)?;
        check_max_length(prep.max_length)
    }

    fn count(inputs: &[String]) -> usize {
        inputs.len()
    }

    fn slice<'a>(inputs: Self::Inputs<'a>, range: std::ops::Range<usize>) -> Self::Inputs<'a> {
        &inputs[range]
    }

    fn hashes(inputs: &[String]) -> Vec<u64> {
        inputs.iter().map(|t| super::resume::content_hash(t.as_bytes())).collect()
    }

    fn trunk(&self, prep: &Preparation, device: &Device) -> MiniLmTrunk {
        self.weights.trunk(prep.unfreeze, device)
    }

    fn empty_cache(&self, _: &Preparation) -> TokenCache {
        TokenCache::new(HIDDEN)
    }

    async fn encode(&self, trunk: &MiniLmTrunk, prep: &Preparation, texts: Self::Inputs<'_>, cache: &mut TokenCache, device: &Device) -> Result<AddReport, Error> {
        let encoded = self.tokenize(texts, prep.max_length)?;
        trunk_features(trunk, &encoded, device).await?.iter().for_each(|f| cache.push(f));
        Ok(AddReport {
            added: texts.len(),
            truncated: encoded.iter().filter(|e| e.truncated).count(),
            tokens: encoded.iter().map(|e| e.ids.len()).sum(),
        })
    }

    fn top(&self, classes: usize, prep: &Preparation, dropout: f64, device: &Device) -> MiniLmClassifier {
        MiniLmClassifierConfig { classes, unfreeze: prep.unfreeze, dropout }.init(&self.weights, device)
    }

    fn preprocessing(prep: &Preparation) -> String {
        format!("WordPiece (uncased, the model's tokenizer.json), [CLS] text [SEP], at most {} tokens; mean pooling", prep.max_length)
    }

    fn uses_max_length() -> bool {
        true
    }

    /// BERT-style fine-tuning converges in a few epochs (early stopping still watches).
    fn train_defaults() -> TrainOptions {
        TrainOptions { epochs: 3, dropout: crate::model::minilm::DROPOUT, ..TrainOptions::default() }
    }
}

crate::trainable_top!(MiniLmClassifier, SequenceBatch);

/// The trunk's output for each encoded text, in input order: `[len, hidden]` values (`len` = the
/// text's token count, or 1 when the trunk pools). Padding rows are dropped.
async fn trunk_features(trunk: &MiniLmTrunk, encoded: &[Encoded], device: &Device) -> Result<Vec<Vec<f32>>, Error> {
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    order.sort_by_key(|&i| encoded[i].ids.len());
    let mut out = vec![Vec::new(); encoded.len()];
    for chunk in order.chunks(TRUNK_BATCH) {
        let len = chunk.iter().map(|&i| encoded[i].ids.len()).max().unwrap_or(1);
        let mut ids = vec![0i64; chunk.len() * len];
        let mut pad = vec![true; chunk.len() * len];
        for (b, &i) in chunk.iter().enumerate() {
            for (t, &id) in encoded[i].ids.iter().enumerate() {
                ids[b * len + t] = id as i64;
                pad[b * len + t] = false;
            }
        }
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [chunk.len(), len]), device);
        let mask = Tensor::<2, Bool>::from_data(TensorData::new(pad, [chunk.len(), len]), device);
        let hidden = trunk.forward(ids, mask);
        let [_, out_len, width] = hidden.dims();
        let values = read_f32(hidden).await?;
        for (b, &i) in chunk.iter().enumerate() {
            let keep = if trunk.pool { 1 } else { encoded[i].ids.len() };
            let start = b * out_len * width;
            out[i] = values[start..start + keep * width].to_vec();
        }
    }
    Ok(out)
}
