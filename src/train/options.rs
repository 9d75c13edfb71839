//! Fine-tuning options, with the defaults the seed teaches. Deserialised from JavaScript
//! (camelCase, every field optional) and from the CLI.

use serde::{Deserialize, Serialize};


#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainOptions {
    pub epochs: usize,
    pub batch_size: usize,
    /// Learning rate of the new head (`headLr` is accepted as its former name).
    #[serde(alias = "headLr")]
    pub learning_rate: f64,
    /// Learning rate of the unfrozen pretrained (upper) layers, lower: they are already good
    /// (`backboneLr` is accepted as its former name).
    #[serde(alias = "backboneLr")]
    pub backbone_learning_rate: f64,
    pub weight_decay: f64,
    /// Share of each class held out for validation (`valShare` is accepted as its former name).
    #[serde(alias = "valShare")]
    pub validation_split: f64,
    pub seed: u64,
    /// Epochs without validation-loss improvement before stopping early.
    pub patience: usize,
    /// Share of the steps spent warming the learning rate up.
    pub warmup_share: f64,
    /// Fit the head alone on the pretrained upper layers' features first, then fine-tune from it
    /// (LP-FT): a random head's first gradients do not distort the pretrained features.
    /// Classifiers (images, text, sounds).
    pub linear_probe: bool,
    /// Average the weights of the epochs from the second on (SWA) and keep the average when its
    /// validation loss beats the best epoch's. Classifiers.
    pub average_epochs: bool,
    /// After training, mix the fine-tuned weights with the pretrained ones (WiSE-FT), the share
    /// chosen on the validation split: keeps more of what the model knew. Classifiers mix with
    /// the pretrained upper layers and the probed head (else their own head).
    pub mix_pretrained: bool,
    /// Label smoothing of the training loss (0: none; 0.1 moves a tenth of each target's
    /// probability to the other classes): against over-confident heads. Validation losses are
    /// always plain cross-entropy.
    pub label_smoothing: f64,
    /// The automatic mode: the head alone and head + upper layers at three learning rates
    /// (these, ×1/3, ×3) tried on the same cached features, the lowest validation loss kept
    /// ([`super::auto`]); about four runs' time. Classifiers.
    pub auto: bool,
    /// Dropout probability of the trained layers while training (each task's default: 0.1 for
    /// text, sounds and speech, 0 for images; 0 turns it off).
    pub dropout: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 32,
            learning_rate: 1e-3,
            backbone_learning_rate: 1e-4,
            weight_decay: 1e-4,
            validation_split: 0.2,
            seed: 0,
            patience: 3,
            warmup_share: 0.1,
            linear_probe: false,
            average_epochs: false,
            mix_pretrained: false,
            label_smoothing: 0.0,
            auto: false,
            dropout: 0.1,
        }
    }
}

impl TrainOptions {
    /// `partial` (a JSON object of some options, camelCase) over `defaults`; unknown names are
    /// refused with their name.
    pub fn over(defaults: &TrainOptions, partial: serde_json::Value) -> Result<TrainOptions, String> {
        let mut merged = serde_json::to_value(defaults).map_err(|e| e.to_string())?;
        match (partial, merged.as_object_mut()) {
            (serde_json::Value::Object(given), Some(all)) => {
                for (name, value) in given {
                    // A former name replaces the field it names.
                    let name = match name.as_str() {
                        "headLr" => "learningRate".to_string(),
                        "backboneLr" => "backboneLearningRate".to_string(),
                        "valShare" => "validationSplit".to_string(),
                        _ => name,
                    };
                    all.insert(name, value);
                }
            }
            (serde_json::Value::Null, _) => {}
            (other, _) => return Err(format!("training options must be an object, got {other}")),
        }
        serde_json::from_value(merged).map_err(|e| format!("training options: {e}"))
    }

    /// A message naming the first invalid option, if any.
    pub fn validate(&self) -> Result<(), String> {
        let lr_ok = |lr: f64| lr.is_finite() && lr > 0.0;
        // 0 keeps the upper layers as they were (only the head trains).
        let backbone_ok = |lr: f64| lr.is_finite() && lr >= 0.0;
        if self.epochs == 0 || self.epochs > 1000 {
            return Err(format!("epochs must be between 1 and 1000, got {}", self.epochs));
        }
        if self.batch_size == 0 || self.batch_size > 4096 {
            return Err(format!("batch size must be between 1 and 4096, got {}", self.batch_size));
        }
        if !lr_ok(self.learning_rate) || !backbone_ok(self.backbone_learning_rate) {
            return Err(format!(
                "learning rates must be positive numbers (the backbone's may be 0: frozen), got head {} and backbone {}",
                self.learning_rate, self.backbone_learning_rate
            ));
        }
        if !(self.validation_split > 0.0 && self.validation_split <= 0.5) {
            return Err(format!(
                "validation share must be above 0 and at most 0.5 (a validation set is always kept), got {}",
                self.validation_split
            ));
        }
        if self.patience == 0 {
            return Err("patience must be at least 1 epoch".into());
        }
        if !(0.0..=0.5).contains(&self.label_smoothing) {
            return Err(format!("label smoothing must be between 0 and 0.5, got {}", self.label_smoothing));
        }
        if !(0.0..=0.9).contains(&self.dropout) {
            return Err(format!("dropout must be between 0 and 0.9, got {}", self.dropout));
        }
        if !(0.0..=0.5).contains(&self.warmup_share) || !(0.0..1.0).contains(&self.weight_decay) {
            return Err("warm-up share must be in [0, 0.5] and weight decay in [0, 1)".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_json_takes_defaults_and_bad_values_are_named() {
        let o: TrainOptions = serde_json::from_str(r#"{"epochs": 3, "headLr": 0.01}"#).unwrap();
        assert_eq!((o.epochs, o.learning_rate, o.batch_size), (3, 0.01, 32));
        assert!(o.validate().is_ok());
        let bad = TrainOptions { validation_split: 0.0, ..o.clone() };
        assert!(bad.validate().unwrap_err().contains("validation share"));
        let bad = TrainOptions { learning_rate: f64::NAN, ..o };
        assert!(bad.validate().unwrap_err().contains("learning rates"));
        assert!(serde_json::from_str::<TrainOptions>(r#"{"epoch": 3}"#).is_err());
        // The cut is a preparation setting now: training options do not take it.
        assert!(serde_json::from_str::<TrainOptions>(r#"{"unfreeze": 2}"#).is_err());
    }

    #[test]
    fn given_options_go_over_a_task_s_defaults() {
        let defaults = TrainOptions { epochs: 3, ..TrainOptions::default() };
        let o = TrainOptions::over(&defaults, serde_json::json!({"backboneLr": 1e-5, "seed": 7})).unwrap();
        assert_eq!((o.epochs, o.backbone_learning_rate, o.seed), (3, 1e-5, 7));
        assert_eq!(TrainOptions::over(&defaults, serde_json::Value::Null).unwrap(), defaults);
        assert!(TrainOptions::over(&defaults, serde_json::json!({"epoch": 3})).unwrap_err().contains("epoch"));
    }
}
