//! The image task: EfficientNet-Lite0. Inputs are 224×224 images; the cache keeps the trunk's
//! channels-last output per image in f16.

use burn::tensor::{Device, Tensor, TensorData};

use super::{AddReport, Preparation, Task, read_f32};
use crate::data::augment::{ViewParams, view_seed, write_view};
use crate::data::{FeatureCache, PixelLayout, preprocess};
use crate::error::Error;
use crate::model::efficientnet::{INPUT_SIZE, check_unfreeze};
use crate::model::{EfficientNetClassifier, EfficientNetClassifierConfig, EfficientNetTrunk, EfficientNetWeights, feature_shape};
use crate::train::{FeatureSource, TrainOptions};

/// `count` 224×224 images, pixel after pixel in `layout`.
#[derive(Clone, Copy, Debug)]
pub struct ImageBatch<'a> {
    pub pixels: &'a [u8],
    pub layout: PixelLayout,
    pub count: usize,
}

/// EfficientNet-Lite0's pretrained weights (batch-norm folded).
pub struct ImageTask {
    pub weights: EfficientNetWeights,
}

impl Task for ImageTask {
    const NAME: &'static str = "image";
    const BASE_MODEL: &'static str = "efficientnet-lite0";
    const LAYERS: &'static str = "blocks (+ the top 1×1 conv)";
    const NO_EXAMPLES: &'static str = "No examples yet: drop a folder with one subfolder per class.";
    const AUGMENTS: bool = true;
    type Inputs<'a> = ImageBatch<'a>;
    type Trunk = EfficientNetTrunk;
    type Top = EfficientNetClassifier;
    type Cache = FeatureCache;

    fn check(prep: &Preparation) -> Result<(), String> {
        check_unfreeze(prep.unfreeze)
    }

    fn count(inputs: ImageBatch<'_>) -> usize {
        inputs.count
    }

    fn slice<'a>(inputs: Self::Inputs<'a>, range: std::ops::Range<usize>) -> Self::Inputs<'a> {
        let per_image = inputs.pixels.len() / inputs.count.max(1);
        if per_image * inputs.count != inputs.pixels.len() {
            return inputs;
        }
        ImageBatch { pixels: &inputs.pixels[range.start * per_image..range.end * per_image], count: range.len(), ..inputs }
    }

    fn hashes(inputs: ImageBatch<'_>) -> Vec<u64> {
        let per_image = inputs.pixels.len() / inputs.count.max(1);
        inputs.pixels.chunks(per_image.max(1)).take(inputs.count).map(super::resume::content_hash).collect()
    }

    fn trunk(&self, prep: &Preparation, device: &Device) -> EfficientNetTrunk {
        self.weights.trunk(prep.unfreeze, device)
    }

    fn empty_cache(&self, prep: &Preparation) -> FeatureCache {
        FeatureCache::with_views(feature_shape(prep.unfreeze), 1 + prep.augment)
    }

    /// The trunk's output of each image, then of each of its `prep.augment` views (a trunk pass
    /// per view: preparation takes `1 + augment` times as long).
    async fn encode(&self, trunk: &EfficientNetTrunk, prep: &Preparation, inputs: Self::Inputs<'_>, cache: &mut FeatureCache, device: &Device) -> Result<AddReport, Error> {
        let ImageBatch { pixels, layout, count } = inputs;
        let shape = [count, 3, INPUT_SIZE, INPUT_SIZE];
        let values = preprocess(pixels, layout, count).map_err(Error::Data)?;
        let mut views = vec![read_f32(trunk.forward(Tensor::from_data(TensorData::new(values, shape), device))).await?];
        let hashes = (prep.augment > 0).then(|| Self::hashes(inputs)).unwrap_or_default();
        for view in 1..=prep.augment {
            let per_image = 3 * INPUT_SIZE * INPUT_SIZE;
            let mut values = vec![0.0f32; count * per_image];
            for ((image, out), hash) in pixels.chunks_exact((pixels.len() / count.max(1)).max(1)).zip(values.chunks_exact_mut(per_image)).zip(&hashes) {
                write_view(image, layout, &ViewParams::draw(view_seed(*hash, view), prep.flip), out);
            }
            views.push(read_f32(trunk.forward(Tensor::from_data(TensorData::new(values, shape), device))).await?);
        }
        cache.push_views(&views.iter().map(Vec::as_slice).collect::<Vec<_>>());
        Ok(AddReport { added: count, ..AddReport::default() })
    }

    fn top(&self, classes: usize, prep: &Preparation, dropout: f64, device: &Device) -> EfficientNetClassifier {
        EfficientNetClassifierConfig { classes, unfreeze: prep.unfreeze, dropout }.init(&self.weights, device)
    }

    /// No dropout by default (the image numbers of docs/benchmarks.md were measured without);
    /// `dropout` puts it before the head (EfficientNet's own classifier used 0.2).
    fn train_defaults() -> TrainOptions {
        TrainOptions { dropout: 0.0, ..TrainOptions::default() }
    }

    fn preprocessing(_: &Preparation) -> String {
        "RGB; shorter side resized to 224, centre crop 224x224; (x - 127) / 128".into()
    }
}

crate::trainable_top!(EfficientNetClassifier, Tensor<4>);

impl FeatureSource for FeatureCache {
    type Input = Tensor<4>;

    fn len(&self) -> usize {
        FeatureCache::len(self)
    }

    fn bytes(&self) -> usize {
        FeatureCache::bytes(self)
    }

    fn batch(&self, indices: &[usize], device: &Device) -> Tensor<4> {
        let [h, w, c] = self.shape(); // channels-last, as the trunk writes it
        Tensor::from_data(TensorData::new(self.gather(indices), [indices.len(), h, w, c]), device)
    }

    fn train_batch(&self, indices: &[usize], epoch_draw: u64, device: &Device) -> Tensor<4> {
        let [h, w, c] = self.shape();
        let values = self.gather_views(indices, |i| self.drawn_view(epoch_draw, i));
        Tensor::from_data(TensorData::new(values, [indices.len(), h, w, c]), device)
    }

    fn truncate(&mut self, len: usize) {
        FeatureCache::truncate(self, len);
    }
}
