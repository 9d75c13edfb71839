//! [`FineTuner`]: one task's state between calls — the example set (classes, labels, which are
//! validation-only), its feature cache for the current [`Preparation`], and the last fine-tuned
//! model with the class names and preparation it was trained with.

use burn::tensor::Device;
use burn::tensor::activation::softmax;
use serde::Serialize;

use super::model_file::{FORMAT, ModelInfo, check_base_model, export_model, load_params, read_info};
use super::{AddReport, DEFAULT_MAX_LENGTH, Prediction, Preparation, Task, read_f32, top_k};
use crate::data::{MAX_CLASSES, Split};
use crate::error::Error;
use super::resume::{RunContext, read_checkpoint};
use crate::train::probe::{ProbeStep, probe_gradients};
use crate::train::{Checkpoint, Checkpoints, ClassScores, ConfusionMatrix, FeatureSource, TrainData, TrainHooks, TrainOptions, TrainReport, TrainableTop, fine_tune_auto, fine_tune_with};

/// Examples per batch of the top when predicting (the trunk runs in passes of `Task::PASS`):
/// memory stays what one batch needs however many inputs a call brings (1 000 images in one
/// batch asked for gigabytes).
const TOP_BATCH: usize = 32;

/// Class names a message lists (the rest are counted).
const LISTED_CLASSES: usize = 20;

/// `inputs` in passes of `T::PASS` (what one `encode` is given).
fn passes<T: Task>(inputs: T::Inputs<'_>) -> impl Iterator<Item = T::Inputs<'_>> {
    let count = T::count(inputs);
    (0..count).step_by(T::PASS).map(move |start| T::slice(inputs, start..(start + T::PASS).min(count)))
}

/// A fine-tuned top with what it needs to classify new inputs the same way.
struct TrainedModel<T: Task> {
    top: T::Top,
    classes: Vec<String>,
    prep: Preparation,
}

/// Scores of the fine-tuned model on labelled examples.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    pub examples: usize,
    pub accuracy: f32,
    pub macro_f1: f32,
    pub classes: Vec<String>,
    pub confusion: ConfusionMatrix,
    pub per_class: Vec<ClassScores>,
}

pub struct FineTuner<T: Task> {
    task: T,
    device: Device,
    prep: Preparation,
    trunk: T::Trunk,
    cache: T::Cache,
    labels: Vec<usize>,
    /// Per example: `true` when the user supplied it as a validation example.
    holdout: Vec<bool>,
    /// Per example: its content hash (a checkpoint's manifest).
    hashes: Vec<u64>,
    classes: Vec<String>,
    trained: Option<TrainedModel<T>>,
}

impl<T: Task> FineTuner<T> {
    /// `device` is a plain (non-autodiff) device; training uses its autodiff twin.
    pub fn new(task: T, device: Device) -> Self {
        let prep = T::default_preparation();
        Self {
            trunk: task.trunk(&prep, &device),
            cache: task.empty_cache(&prep),
            task,
            device,
            prep,
            labels: Vec::new(),
            holdout: Vec::new(),
            hashes: Vec::new(),
            classes: Vec::new(),
            trained: None,
        }
    }

    /// Starts a new set of examples for these class names, prepared as `prep` says. A trained
    /// model is kept (for prediction and export) until the next training.
    pub fn reset(&mut self, classes: Vec<String>, prep: Preparation) -> Result<(), Error> {
        T::check(&prep).map_err(Error::Options)?;
        prep.check_augment(T::AUGMENTS, T::NAME).map_err(Error::Options)?;
        let prep = prep.normalized();
        check_classes(&classes).map_err(Error::Data)?;
        if prep.unfreeze != self.prep.unfreeze {
            self.trunk = self.task.trunk(&prep, &self.device);
        }
        self.prep = prep;
        self.cache = self.task.empty_cache(&prep);
        self.labels.clear();
        self.holdout.clear();
        self.hashes.clear();
        self.classes = classes;
        Ok(())
    }

    pub fn task(&self) -> &T {
        &self.task
    }

    pub fn preparation(&self) -> Preparation {
        self.prep
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

    /// Runs the frozen trunk on `inputs` and caches its outputs; `labels[i]` indexes the classes
    /// of [`Self::reset`]. `holdout`: validation-only examples (once any exist, they replace the
    /// random split).
    pub async fn add(&mut self, inputs: T::Inputs<'_>, labels: &[usize], holdout: bool) -> Result<AddReport, Error> {
        let count = T::count(inputs);
        if count != labels.len() {
            return Err(Error::Data(format!("{count} examples but {} labels", labels.len())));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= self.classes.len()) {
            return Err(Error::Data(format!("label {bad} is not one of the {} classes", self.classes.len())));
        }
        T::validate(inputs)?;
        let (mut report, before) = (AddReport::default(), self.cache.len());
        // Validation-only examples never train: no augmented views are computed for them.
        let prep = if holdout { self.prep.for_prediction() } else { self.prep };
        for part in passes::<T>(inputs) {
            match self.task.encode(&self.trunk, &prep, part, &mut self.cache, &self.device).await {
                Ok(more) => report = report.and(more),
                Err(e) => {
                    self.cache.truncate(before); // all of them or none
                    return Err(e);
                }
            }
        }
        self.labels.extend_from_slice(labels);
        self.holdout.extend(labels.iter().map(|_| holdout));
        self.hashes.extend(T::hashes(inputs));
        Ok(report)
    }

    /// Why training cannot start yet, if it cannot.
    pub fn readiness(&self) -> Result<(), String> {
        readiness(&self.classes, &self.class_counts(), T::NO_EXAMPLES)
    }

    /// Fine-tunes a new top on the cached examples. On error the previous model is kept. Hooks
    /// that keep checkpoints get one after each epoch ([`Self::resume`] goes on from it).
    pub async fn train(&mut self, opts: &TrainOptions, hooks: &mut impl TrainHooks) -> Result<TrainReport, Error> {
        self.train_from(opts, hooks, None).await
    }

    /// What a run with `opts` on the current examples is (a checkpoint's context).
    pub fn run_context(&self, opts: &TrainOptions) -> RunContext {
        RunContext {
            task: T::NAME.into(),
            base_model: T::BASE_MODEL.into(),
            classes: self.classes.clone(),
            preparation: self.prep,
            options: opts.clone(),
            hashes: self.hashes.clone(),
            labels: self.labels.clone(),
            holdout: self.holdout.clone(),
        }
    }

    /// Reads a checkpoint and checks that its run can go on here (the same task, classes,
    /// preparation and examples, in the same order); returns it with its run's context.
    pub fn check_checkpoint(&self, bytes: Vec<u8>) -> Result<(Checkpoint, RunContext), Error> {
        let (checkpoint, saved) = read_checkpoint(bytes)?;
        self.run_context(&saved.options).check_resumes(&saved).map_err(Error::Data)?;
        Ok((checkpoint, saved))
    }

    /// Goes on with the run of `checkpoint` (its options): the result is the uninterrupted run's.
    pub async fn resume(&mut self, bytes: Vec<u8>, hooks: &mut impl TrainHooks) -> Result<TrainReport, Error> {
        let (checkpoint, saved) = self.check_checkpoint(bytes)?;
        self.train_from(&saved.options, hooks, Some(&checkpoint)).await
    }

    async fn train_from(&mut self, opts: &TrainOptions, hooks: &mut impl TrainHooks, resume: Option<&Checkpoint>) -> Result<TrainReport, Error> {
        self.readiness().map_err(Error::Data)?;
        let autodiff = self.device.clone().autodiff();
        let new_top = || {
            autodiff.seed(opts.seed);
            crate::ops::dropout::reseed(opts.seed);
            self.task.top(self.classes.len(), &self.prep, opts.dropout, &autodiff)
        };
        let split = self.holdout.contains(&true).then(|| Split {
            train: (0..self.labels.len()).filter(|&i| !self.holdout[i]).collect(),
            val: (0..self.labels.len()).filter(|&i| self.holdout[i]).collect(),
        });
        if opts.auto {
            if resume.is_some() {
                return Err(Error::Options("an automatic run writes no checkpoint to go on from".into()));
            }
            let data = TrainData { features: &self.cache, labels: &self.labels, classes: self.classes.len(), split };
            let trained = fine_tune_auto(new_top, data, opts, hooks).await?;
            self.trained = Some(TrainedModel { top: trained.model, classes: self.classes.clone(), prep: self.prep });
            return Ok(trained.report);
        }
        let top = new_top();
        let context = hooks.keeps_checkpoints().then(|| serde_json::to_string(&self.run_context(opts))).transpose().map_err(|e| Error::Backend(e.to_string()))?;
        let data = TrainData { features: &self.cache, labels: &self.labels, classes: self.classes.len(), split };
        let checkpoints = Checkpoints { context: context.as_deref(), resume };
        let trained = fine_tune_with(top, data, opts, hooks, checkpoints).await?;
        self.trained = Some(TrainedModel { top: trained.model, classes: self.classes.clone(), prep: self.prep });
        Ok(trained.report)
    }

    /// `steps` training steps of the fine-tuned (or imported) model on the prepared examples, in
    /// order, with each step's loss and gradients ([`probe_gradients`]; `opts`' rates, batch size
    /// and dropout; without `update` every step's gradients are at the model's weights): the same
    /// model and examples on two backends give the same numbers, within rounding. The model is
    /// left as it is.
    pub async fn probe_gradients(&self, steps: usize, update: bool, opts: &TrainOptions) -> Result<Vec<ProbeStep>, Error> {
        let trained = self.trained.as_ref().ok_or(Error::NotTrained)?;
        opts.validate().map_err(Error::Options)?;
        if trained.prep.for_prediction() != self.prep.for_prediction() || trained.classes != self.classes {
            return Err(Error::Data("the examples are prepared for other classes or another cut than the model's: add them for its classes and prepare them as it was".into()));
        }
        let autodiff = self.device.clone().autodiff();
        autodiff.seed(opts.seed);
        crate::ops::dropout::reseed(opts.seed);
        let bytes = self.export_model().await?;
        let top = load_params(self.task.top(self.classes.len(), &self.prep, opts.dropout, &autodiff), &bytes)?;
        probe_gradients(top, &self.cache, &self.labels, steps, update, opts).await
    }

    /// Top-`k` classes of each input.
    pub async fn predict(&self, inputs: T::Inputs<'_>, k: usize) -> Result<Vec<Vec<Prediction>>, Error> {
        let trained = self.trained.as_ref().ok_or(Error::NotTrained)?;
        let probs = self.probabilities(trained, inputs).await?;
        Ok(top_k(&probs, &trained.classes, k))
    }

    /// Accuracy, macro-F1, confusion matrix and per-class scores on labelled inputs (`labels`:
    /// class names of the fine-tuned model).
    pub async fn evaluate(&self, inputs: T::Inputs<'_>, labels: &[String]) -> Result<Evaluation, Error> {
        let trained = self.trained.as_ref().ok_or(Error::NotTrained)?;
        if T::count(inputs) != labels.len() {
            return Err(Error::Data(format!("{} examples but {} labels", T::count(inputs), labels.len())));
        }
        let actual = self.label_indices(labels)?;
        let n = trained.classes.len();
        let probs = self.probabilities(trained, inputs).await?;
        let predicted: Vec<usize> = probs
            .chunks_exact(n)
            .map(|row| row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i))
            .collect();
        self.score(&actual, &predicted)
    }

    /// Each label's index among the fine-tuned model's classes; a label it does not know is
    /// refused by name.
    pub fn label_indices(&self, labels: &[String]) -> Result<Vec<usize>, Error> {
        let trained = self.trained.as_ref().ok_or(Error::NotTrained)?;
        let index: std::collections::HashMap<&str, usize> = trained.classes.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
        labels
            .iter()
            .map(|l| {
                index.get(l.as_str()).copied().ok_or_else(|| {
                    let listed = trained.classes.iter().take(LISTED_CLASSES).cloned().collect::<Vec<_>>().join(", ");
                    let more = trained.classes.len().saturating_sub(LISTED_CLASSES);
                    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                    Error::Data(format!("The label '{l}' is not one of the model's classes ({listed}{more})."))
                })
            })
            .collect()
    }

    /// The scores of predicted against actual class indices of the fine-tuned model (what
    /// [`Self::evaluate`] returns; the worker predicts in batches and scores once).
    pub fn score(&self, actual: &[usize], predicted: &[usize]) -> Result<Evaluation, Error> {
        let trained = self.trained.as_ref().ok_or(Error::NotTrained)?;
        let n = trained.classes.len();
        if actual.len() != predicted.len() || actual.iter().chain(predicted).any(|&c| c >= n) {
            return Err(Error::Data(format!("{} actual and {} predicted classes, each below {n}, were expected", actual.len(), predicted.len())));
        }
        let confusion = ConfusionMatrix::from_pairs(n, actual, predicted);
        Ok(Evaluation {
            examples: actual.len(),
            accuracy: confusion.accuracy(),
            macro_f1: confusion.macro_f1(),
            classes: trained.classes.clone(),
            per_class: confusion.class_scores(),
            confusion,
        })
    }

    /// Softmax outputs `[inputs, classes]` (row-major) of the trained model.
    async fn probabilities(&self, trained: &TrainedModel<T>, inputs: T::Inputs<'_>) -> Result<Vec<f32>, Error> {
        let count = T::count(inputs);
        if count == 0 {
            return Ok(Vec::new());
        }
        let rebuilt;
        let trunk = if trained.prep.unfreeze == self.prep.unfreeze {
            &self.trunk
        } else {
            // The examples were prepared for another cut since training.
            rebuilt = self.task.trunk(&trained.prep, &self.device);
            &rebuilt
        };
        T::validate(inputs)?;
        let mut probs = Vec::with_capacity(count * trained.classes.len());
        let prep = trained.prep.for_prediction();
        for part in passes::<T>(inputs) {
            let mut cache = self.task.empty_cache(&prep);
            self.task.encode(trunk, &prep, part, &mut cache, &self.device).await?;
            let all: Vec<usize> = (0..T::count(part)).collect();
            for rows in all.chunks(TOP_BATCH) {
                probs.extend(read_f32(softmax(trained.top.forward(cache.batch(rows, &self.device)), 1)).await?);
            }
        }
        Ok(probs)
    }

    /// The last fine-tuned model as one file: the trained layers, class names and preparation.
    pub async fn export_model(&self) -> Result<Vec<u8>, Error> {
        let trained = self.trained.as_ref().ok_or(Error::NotTrained)?;
        let info = ModelInfo {
            format: FORMAT.into(),
            base_model: T::BASE_MODEL.into(),
            task: T::NAME.into(),
            classes: trained.classes.clone(),
            unfreeze: trained.prep.unfreeze,
            max_length: T::uses_max_length().then_some(trained.prep.max_length),
            preprocessing: T::preprocessing(&trained.prep),
        };
        export_model(&trained.top, &info).await
    }

    /// Loads a file made by [`Self::export_model`]: it becomes the model `predict` uses. Files
    /// of another tool, another base model or a damaged file are refused with the reason, and the
    /// current model is kept.
    pub fn import_model(&mut self, bytes: &[u8]) -> Result<ModelInfo, Error> {
        let info = read_info(bytes)?;
        check_base_model(&info, T::BASE_MODEL, T::NAME)?;
        let prep = Preparation { unfreeze: info.unfreeze, max_length: info.max_length.unwrap_or(DEFAULT_MAX_LENGTH), ..Preparation::default() };
        T::check(&prep).map_err(Error::Options)?;
        let top = load_params(self.task.top(info.classes.len(), &prep, 0.0, &self.device), bytes)?;
        self.trained = Some(TrainedModel { top, classes: info.classes.clone(), prep });
        Ok(info)
    }
}

/// Why these class names cannot be a model's classes, if they cannot: more than [`MAX_CLASSES`],
/// a blank name, or one name twice.
pub fn check_classes(classes: &[String]) -> Result<(), String> {
    if classes.len() > MAX_CLASSES {
        return Err(format!(
            "{} classes: at most {MAX_CLASSES} can be fine-tuned. If each example got its own class, the labels may have been read from the wrong column or folder level.",
            classes.len()
        ));
    }
    if let Some(i) = classes.iter().position(|c| c.trim().is_empty()) {
        return Err(format!("Class {} has a blank name.", i + 1));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(c) = classes.iter().find(|c| !seen.insert(c.as_str())) {
        return Err(format!("The class '{}' is named twice.", c.escape_debug()));
    }
    Ok(())
}

/// Why examples with these per-class counts cannot train yet, if they cannot: each of at least two
/// classes needs two examples. `no_examples`: what to say when there are none.
pub fn readiness(classes: &[String], counts: &[usize], no_examples: &str) -> Result<(), String> {
    if counts.iter().all(|&c| c == 0) {
        return Err(no_examples.to_string());
    }
    let populated = counts.iter().filter(|&&c| c > 0).count();
    if populated < 2 {
        return Err(format!("Need at least 2 classes with examples; found {populated}."));
    }
    if let Some((i, c)) = counts.iter().enumerate().find(|&(_, &c)| c < 2) {
        return Err(format!("Class '{}' has {c} example(s): each class needs at least 2.", classes[i]));
    }
    Ok(())
}
