//! The text task: MiniLM-L6's tokenizer and frozen trunk, the per-token f16 cache of the texts
//! added so far, and the last fine-tuned [`TextClassifier`].

use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Gradients, Int, Tensor, TensorData};
use serde::Serialize;

use super::model_file::{FORMAT, ModelInfo, check_base_model, export_model, load_params, read_info};
use super::{Prediction, read_f32, top_k};
use crate::data::{Encoded, TextTokenizer, TokenCache, check_max_length};
use crate::error::Error;
use crate::model::Unfreeze;
use crate::model::minilm::{HIDDEN, MiniLmWeights, TextBatch, TextClassifier, TextClassifierConfig, TextTrunk, check_text_unfreeze};
use crate::train::{FeatureSource, TrainData, TrainHooks, TrainOptions, TrainReport, TrainableTop, TwoRateOptimizer, fine_tune};

/// The base model's name in exported files.
const BASE_MODEL: &str = "all-minilm-l6-v2";

/// Texts per trunk forward pass (sorted by length first, so padding stays small).
const TRUNK_BATCH: usize = 32;

impl TrainableTop for TextClassifier {
    type Input = TextBatch;

    fn forward(&self, input: TextBatch) -> Tensor<2> {
        TextClassifier::forward(self, input)
    }

    fn device(&self) -> Device {
        self.head.weight.device()
    }

    fn step(mut self, grads: &mut Gradients, optim: &mut TwoRateOptimizer, head_lr: f64, upper_lr: f64) -> Self {
        (self.head, self.upper) = optim.step(grads, self.head, self.upper, head_lr, upper_lr);
        self
    }
}

impl FeatureSource for TokenCache {
    type Input = TextBatch;

    fn len(&self) -> usize {
        TokenCache::len(self)
    }

    fn batch(&self, indices: &[usize], device: &Device) -> TextBatch {
        let b = self.gather(indices);
        let n = indices.len();
        TextBatch {
            hidden: Tensor::from_data(TensorData::new(b.values, [n, b.len, self.width()]), device),
            mask_pad: Tensor::from_data(TensorData::new(b.pad, [n, b.len]), device),
        }
    }
}

/// What adding a batch of texts did.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AddTextsReport {
    pub added: usize,
    /// Texts longer than the maximum length (cut to it).
    pub truncated: usize,
    /// Tokens (with `[CLS]`/`[SEP]`) of the added texts.
    pub tokens: usize,
}

/// A fine-tuned model with what it needs to classify new text the same way.
struct TrainedText {
    model: TextClassifier,
    classes: Vec<String>,
    unfreeze: Unfreeze,
    max_length: usize,
}

pub struct TextFineTuner {
    device: Device,
    weights: MiniLmWeights,
    tokenizer: TextTokenizer,
    unfreeze: Unfreeze,
    max_length: usize,
    trunk: TextTrunk,
    cache: TokenCache,
    labels: Vec<usize>,
    classes: Vec<String>,
    trained: Option<TrainedText>,
}

/// The default maximum length in tokens.
pub const DEFAULT_MAX_LENGTH: usize = 128;

impl TextFineTuner {
    /// `device` is a plain (non-autodiff) device; training uses its autodiff twin.
    pub fn new(weights: MiniLmWeights, tokenizer: TextTokenizer, device: Device) -> Self {
        let unfreeze = Unfreeze::default();
        let trunk = weights.trunk(unfreeze, &device);
        Self {
            device,
            weights,
            tokenizer,
            unfreeze,
            max_length: DEFAULT_MAX_LENGTH,
            trunk,
            cache: TokenCache::new(HIDDEN),
            labels: Vec::new(),
            classes: Vec::new(),
            trained: None,
        }
    }

    /// Starts a new set of examples for these classes, cached for the cut `unfreeze` and
    /// tokenized to at most `max_length` tokens. A trained model is kept until the next training.
    pub fn reset(&mut self, classes: Vec<String>, unfreeze: Unfreeze, max_length: usize) -> Result<(), Error> {
        check_text_unfreeze(unfreeze).map_err(Error::Options)?;
        check_max_length(max_length).map_err(Error::Options)?;
        self.max_length = max_length;
        if unfreeze != self.unfreeze {
            self.trunk = self.weights.trunk(unfreeze, &self.device);
            self.unfreeze = unfreeze;
        }
        self.cache = TokenCache::new(HIDDEN);
        self.labels.clear();
        self.classes = classes;
        Ok(())
    }

    pub fn unfreeze(&self) -> Unfreeze {
        self.unfreeze
    }

    pub fn max_length(&self) -> usize {
        self.max_length
    }

    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    pub fn class_counts(&self) -> Vec<usize> {
        crate::data::class_counts(&self.labels, self.classes.len())
    }

    pub fn cache_bytes(&self) -> usize {
        self.cache.bytes()
    }

    /// Token ids of `texts` at most `max_length` long.
    pub fn encode(&self, texts: &[String], max_length: usize) -> Result<Vec<Encoded>, Error> {
        texts.iter().map(|t| self.tokenizer.encode(t, max_length).map_err(Error::Data)).collect()
    }

    /// Tokenizes the texts, runs the frozen trunk on them and caches its outputs.
    pub async fn add_texts(&mut self, texts: &[String], labels: &[usize]) -> Result<AddTextsReport, Error> {
        if texts.len() != labels.len() {
            return Err(Error::Data(format!("{} texts but {} labels", texts.len(), labels.len())));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= self.classes.len()) {
            return Err(Error::Data(format!("label {bad} is not one of the {} classes", self.classes.len())));
        }
        let encoded = self.encode(texts, self.max_length)?;
        let features = trunk_features(&self.trunk, &encoded, &self.device).await?;
        features.iter().for_each(|f| self.cache.push(f));
        self.labels.extend_from_slice(labels);
        Ok(AddTextsReport {
            added: texts.len(),
            truncated: encoded.iter().filter(|e| e.truncated).count(),
            tokens: encoded.iter().map(|e| e.ids.len()).sum(),
        })
    }

    /// Why training cannot start yet, if it cannot.
    pub fn readiness(&self) -> Result<(), String> {
        super::readiness(&self.class_counts(), &self.classes, "No examples yet: drop a CSV, TSV or JSON Lines file of texts and labels.")
    }

    /// Fine-tunes a new classifier on the cached texts. On error the previous model is kept.
    pub async fn train(&mut self, opts: &TrainOptions, hooks: &mut impl TrainHooks) -> Result<TrainReport, Error> {
        self.readiness().map_err(Error::Data)?;
        if opts.unfreeze != self.unfreeze {
            return Err(Error::Options(format!(
                "texts were prepared for '{}' but training asks for '{}': prepare them again",
                describe_cut(self.unfreeze),
                describe_cut(opts.unfreeze)
            )));
        }
        let autodiff = self.device.clone().autodiff();
        autodiff.seed(opts.seed);
        crate::ops::dropout::reseed(opts.seed);
        let model = TextClassifierConfig { classes: self.classes.len(), unfreeze: self.unfreeze }.init(&self.weights, &autodiff);
        let data = TrainData { features: &self.cache, labels: &self.labels, classes: self.classes.len(), split: None };
        let trained = fine_tune(model, data, opts, hooks).await?;
        self.trained = Some(TrainedText {
            model: trained.model,
            classes: self.classes.clone(),
            unfreeze: self.unfreeze,
            max_length: self.max_length,
        });
        Ok(trained.report)
    }

    /// Top-`k` classes for each text.
    pub async fn predict(&self, texts: &[String], k: usize) -> Result<Vec<Vec<Prediction>>, Error> {
        let trained = self.trained.as_ref().ok_or(Error::NotTrained)?;
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encoded = self.encode(texts, trained.max_length)?;
        let rebuilt;
        let trunk = if trained.unfreeze == self.unfreeze {
            &self.trunk
        } else {
            rebuilt = self.weights.trunk(trained.unfreeze, &self.device);
            &rebuilt
        };
        let features = trunk_features(trunk, &encoded, &self.device).await?;
        let mut cache = TokenCache::new(HIDDEN);
        features.iter().for_each(|f| cache.push(f));
        let all: Vec<usize> = (0..texts.len()).collect();
        let logits = trained.model.forward(cache.batch(&all, &self.device));
        let probs = read_f32(softmax(logits, 1)).await?;
        Ok(top_k(&probs, &trained.classes, k))
    }

    /// The last fine-tuned model as one file (trained layers + class names + cut + max length).
    pub async fn export_model(&self) -> Result<Vec<u8>, Error> {
        let trained = self.trained.as_ref().ok_or(Error::NotTrained)?;
        let info = ModelInfo {
            format: FORMAT.into(),
            base_model: BASE_MODEL.into(),
            task: "text".into(),
            classes: trained.classes.clone(),
            unfreeze: trained.unfreeze,
            max_length: Some(trained.max_length),
            preprocessing: format!(
                "WordPiece (uncased, the model's tokenizer.json), [CLS] text [SEP], at most {} tokens; mean pooling",
                trained.max_length
            ),
        };
        export_model(&trained.model, &info).await
    }

    /// Loads a file made by [`Self::export_model`]: it becomes the model `predict` uses. Files
    /// of another tool, another base model or a damaged file are refused with the reason.
    pub fn import_model(&mut self, bytes: &[u8]) -> Result<ModelInfo, Error> {
        let info = read_info(bytes)?;
        check_base_model(&info, BASE_MODEL, "text")?;
        check_text_unfreeze(info.unfreeze).map_err(Error::Options)?;
        let max_length = info.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
        check_max_length(max_length).map_err(Error::Options)?;
        let config = TextClassifierConfig { classes: info.classes.len(), unfreeze: info.unfreeze };
        let model = load_params(config.init(&self.weights, &self.device), bytes)?;
        self.trained = Some(TrainedText { model, classes: info.classes.clone(), unfreeze: info.unfreeze, max_length });
        Ok(info)
    }
}

/// What trains, in words: "head only" or "head + last K encoder layers".
pub fn describe_cut(unfreeze: Unfreeze) -> String {
    match unfreeze {
        Unfreeze::Head => "head only".into(),
        Unfreeze::Blocks(k) => format!("head + last {k} encoder layers"),
    }
}

/// The trunk's output for each encoded text, in input order: `[len, hidden]` values (`len` = the
/// text's token count, or 1 when the trunk pools). Padding rows are dropped.
async fn trunk_features(trunk: &TextTrunk, encoded: &[Encoded], device: &Device) -> Result<Vec<Vec<f32>>, Error> {
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
