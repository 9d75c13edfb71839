//! The image task: EfficientNet-Lite0's frozen trunk, the f16 feature cache of the images added so
//! far, and the last fine-tuned [`Classifier`].

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Gradients, Tensor, TensorData};

use super::model_file::{FORMAT, ModelInfo, check_base_model, export_model, load_params, read_info};
use super::{Prediction, read_f32, top_k};
use crate::data::{FeatureCache, PixelLayout, Split, preprocess};
use crate::error::Error;
use crate::model::efficientnet::{INPUT_SIZE, check_unfreeze};
use crate::model::{Classifier, ClassifierConfig, EfficientNetWeights, Trunk, Unfreeze, feature_shape};
use crate::train::{FeatureSource, TrainData, TrainHooks, TrainOptions, TrainReport, TrainableTop, TwoRateOptimizer, fine_tune};

/// The base model's name in exported files.
const BASE_MODEL: &str = "efficientnet-lite0";

impl TrainableTop for Classifier {
    type Input = Tensor<4>;

    fn forward(&self, input: Tensor<4>) -> Tensor<2> {
        Classifier::forward(self, input)
    }

    fn device(&self) -> Device {
        self.head.weight.device()
    }

    fn step(mut self, grads: &mut Gradients, optim: &mut TwoRateOptimizer, head_lr: f64, upper_lr: f64) -> Self {
        (self.head, self.upper) = optim.step(grads, self.head, self.upper, head_lr, upper_lr);
        self
    }
}

impl FeatureSource for FeatureCache {
    type Input = Tensor<4>;

    fn len(&self) -> usize {
        FeatureCache::len(self)
    }

    fn batch(&self, indices: &[usize], device: &Device) -> Tensor<4> {
        let [h, w, c] = self.shape(); // channels-last, as the trunk writes it
        Tensor::from_data(TensorData::new(self.gather(indices), [indices.len(), h, w, c]), device)
    }
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
    /// The last fine-tuned classifier, the class names and cut it was trained with (`reset` may
    /// change both before the next training).
    trained: Option<(Classifier, Vec<String>, Unfreeze)>,
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
        crate::data::class_counts(&self.labels, self.classes.len())
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
        super::readiness(&self.class_counts(), &self.classes, "No examples yet: drop a folder with one subfolder per class.")
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
        let data = TrainData { features: &self.cache, labels: &self.labels, classes: self.classes.len(), split };
        let trained = fine_tune(model, data, opts, hooks).await?;
        self.trained = Some((trained.model, self.classes.clone(), self.unfreeze));
        Ok(trained.report)
    }

    /// Top-`k` classes for each of `count` images.
    pub async fn predict(&self, pixels: &[u8], layout: PixelLayout, count: usize, k: usize) -> Result<Vec<Vec<Prediction>>, Error> {
        let (model, classes, cut) = self.trained.as_ref().ok_or(Error::NotTrained)?;
        let images = self.images(pixels, layout, count)?;
        let features = if *cut == self.unfreeze {
            self.trunk.forward(images)
        } else {
            // The examples were re-prepared for another cut since training.
            self.weights.trunk(*cut, &self.device).forward(images)
        };
        let probs = read_f32(softmax(model.forward(features), 1)).await?;
        Ok(top_k(&probs, classes, k))
    }

    /// The last fine-tuned classifier as one file (trained layers + class names + cut).
    pub async fn export_model(&self) -> Result<Vec<u8>, Error> {
        let (model, classes, cut) = self.trained.as_ref().ok_or(Error::NotTrained)?;
        let info = ModelInfo {
            format: FORMAT.into(),
            base_model: BASE_MODEL.into(),
            task: "image".into(),
            classes: classes.clone(),
            unfreeze: *cut,
            max_length: None,
            preprocessing: "RGB; shorter side resized to 224, centre crop 224x224; (x - 127) / 128".into(),
        };
        export_model(model, &info).await
    }

    /// Loads a file made by [`Self::export_model`]: it becomes the model `predict` uses. Files
    /// of another tool, another base model or a damaged file are refused with the reason.
    pub fn import_model(&mut self, bytes: &[u8]) -> Result<ModelInfo, Error> {
        let info = read_info(bytes)?;
        check_base_model(&info, BASE_MODEL, "image")?;
        check_unfreeze(info.unfreeze).map_err(Error::Options)?;
        let model = ClassifierConfig { classes: info.classes.len(), unfreeze: info.unfreeze }.init(&self.weights, &self.device);
        let model = load_params(model, bytes)?;
        self.trained = Some((model, info.classes.clone(), info.unfreeze));
        Ok(info)
    }
}
