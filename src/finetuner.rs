//! `ImageFineTuner`: the engine's state between calls — pretrained weights, the frozen trunk, the
//! feature cache of the examples added so far, and the last fine-tuned classifier. Used as it is
//! by the CLI and wrapped for JavaScript by `web.rs`.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;

use crate::data::{FeatureCache, PixelLayout, Split, preprocess};
use crate::error::Error;
use crate::model::efficientnet::{INPUT_SIZE, check_unfreeze};
use crate::model::{Classifier, ClassifierConfig, EfficientNetWeights, Trunk, Unfreeze, feature_shape};
use crate::train::{TrainData, TrainHooks, TrainOptions, TrainReport, fine_tune};

/// One class score.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Prediction {
    pub label: String,
    pub score: f32,
}

pub struct ImageFineTuner {
    device: Device,
    weights: EfficientNetWeights,
    unfreeze: Unfreeze,
    trunk: Trunk,
    cache: FeatureCache,
    labels: Vec<usize>,
    /// Per example: `true` when the user supplied it as a validation example.
    holdout: Vec<bool>,
    classes: Vec<String>,
    /// The last fine-tuned classifier and the class names it was trained on (`reset` may
    /// change `classes` before the next training).
    trained: Option<(Classifier, Vec<String>)>,
}

impl ImageFineTuner {
    /// `device` is a plain (non-autodiff) device; training uses its autodiff twin.
    pub fn new(weights: EfficientNetWeights, device: Device) -> Self {
        let unfreeze = Unfreeze::default();
        let trunk = weights.trunk(unfreeze, &device);
        Self {
            device,
            weights,
            unfreeze,
            trunk,
            cache: FeatureCache::new(feature_shape(unfreeze)),
            labels: Vec::new(),
            holdout: Vec::new(),
            classes: Vec::new(),
            trained: None,
        }
    }

    /// Starts a new set of examples for these class names, cached for the cut `unfreeze`.
    /// A previously trained model is kept (for prediction) until the next training.
    pub fn reset(&mut self, classes: Vec<String>, unfreeze: Unfreeze) -> Result<(), Error> {
        check_unfreeze(unfreeze).map_err(Error::Options)?;
        if unfreeze != self.unfreeze {
            self.trunk = self.weights.trunk(unfreeze, &self.device);
            self.unfreeze = unfreeze;
        }
        self.cache = FeatureCache::new(feature_shape(unfreeze));
        self.labels.clear();
        self.holdout.clear();
        self.classes = classes;
        Ok(())
    }

    pub fn unfreeze(&self) -> Unfreeze {
        self.unfreeze
    }

    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Examples per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        self.labels.iter().for_each(|&l| counts[l] += 1);
        counts
    }

    /// Bytes of the feature cache.
    pub fn cache_bytes(&self) -> usize {
        self.cache.bytes()
    }

    /// Runs the frozen trunk on a batch of 224×224 images and caches the features.
    /// `holdout` marks them as validation examples: once any exist, they replace the random split.
    pub async fn add_images(&mut self, pixels: &[u8], layout: PixelLayout, labels: &[usize], holdout: bool) -> Result<(), Error> {
        if let Some(&bad) = labels.iter().find(|&&l| l >= self.classes.len()) {
            return Err(Error::Data(format!("label {bad} is not one of the {} classes", self.classes.len())));
        }
        let features = self.trunk_forward(pixels, layout, labels.len()).await?;
        self.cache.push(&features);
        self.labels.extend_from_slice(labels);
        self.holdout.extend(labels.iter().map(|_| holdout));
        Ok(())
    }

    /// Preprocessed images as a `[count, 3, 224, 224]` tensor on the engine's device.
    fn images(&self, pixels: &[u8], layout: PixelLayout, count: usize) -> Result<Tensor<4>, Error> {
        let input = preprocess(pixels, layout, count).map_err(Error::Data)?;
        Ok(Tensor::from_data(TensorData::new(input, [count, 3, INPUT_SIZE, INPUT_SIZE]), &self.device))
    }

    async fn trunk_forward(&self, pixels: &[u8], layout: PixelLayout, count: usize) -> Result<Vec<f32>, Error> {
        let features = self.trunk.forward(self.images(pixels, layout, count)?);
        read_f32(features).await
    }

    /// Why training cannot start yet, if it cannot.
    pub fn readiness(&self) -> Result<(), String> {
        if self.labels.is_empty() {
            return Err("No examples yet: drop a folder with one subfolder per class.".into());
        }
        let counts = self.class_counts();
        let populated = counts.iter().filter(|&&c| c > 0).count();
        if populated < 2 {
            return Err(format!("Need at least 2 classes with examples; found {populated}."));
        }
        if let Some((i, c)) = counts.iter().enumerate().find(|&(_, &c)| c < 2) {
            return Err(format!("Class '{}' has {c} example(s): each class needs at least 2.", self.classes[i]));
        }
        Ok(())
    }

    /// Fine-tunes a new classifier on the cached examples. On error the previous model is kept.
    pub async fn train(&mut self, opts: &TrainOptions, hooks: &mut impl TrainHooks) -> Result<TrainReport, Error> {
        self.readiness().map_err(Error::Data)?;
        if opts.unfreeze != self.unfreeze {
            return Err(Error::Options(format!(
                "examples were prepared for '{}' but training asks for '{}': prepare them again",
                self.unfreeze, opts.unfreeze
            )));
        }
        let autodiff = self.device.clone().autodiff();
        let config = ClassifierConfig { classes: self.classes.len(), unfreeze: self.unfreeze };
        autodiff.seed(opts.seed);
        let model = config.init(&self.weights, &autodiff);
        let split = self.holdout.contains(&true).then(|| Split {
            train: (0..self.labels.len()).filter(|&i| !self.holdout[i]).collect(),
            val: (0..self.labels.len()).filter(|&i| self.holdout[i]).collect(),
        });
        let data = TrainData { cache: &self.cache, labels: &self.labels, classes: self.classes.len(), split };
        let trained = fine_tune(model, data, opts, hooks).await?;
        self.trained = Some((trained.model, self.classes.clone()));
        Ok(trained.report)
    }

    /// Top-`k` classes for each of `count` images.
    pub async fn predict(&self, pixels: &[u8], layout: PixelLayout, count: usize, k: usize) -> Result<Vec<Vec<Prediction>>, Error> {
        let (model, classes) = self.trained.as_ref().ok_or(Error::NotTrained)?;
        let features = self.trunk.forward(self.images(pixels, layout, count)?);
        let probs = read_f32(softmax(model.forward(features), 1)).await?;
        Ok(probs
            .chunks_exact(classes.len())
            .map(|row| {
                let mut scored: Vec<Prediction> = row
                    .iter()
                    .zip(classes)
                    .map(|(&score, label)| Prediction { label: label.clone(), score })
                    .collect();
                scored.sort_by(|a, b| b.score.total_cmp(&a.score));
                scored.truncate(k.max(1));
                scored
            })
            .collect())
    }
}

/// Reads a tensor's values asynchronously (a synchronous read panics in wasm on WebGPU).
async fn read_f32<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, Error> {
    let data = tensor.into_data_async().await.map_err(|e| Error::Backend(format!("{e:?}")))?;
    data.try_to_vec::<f32>().map_err(|e| Error::Backend(format!("{e:?}")))
}
