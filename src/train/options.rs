//! Fine-tuning options, with the defaults the seed teaches. Deserialised from JavaScript
//! (camelCase, every field optional) and from the CLI.

use serde::{Deserialize, Serialize};

use crate::model::Unfreeze;
use crate::model::efficientnet::check_unfreeze;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainOptions {
    /// What trains: `"head"` or a number of top blocks (plus the head and the top feature layer).
    pub unfreeze: Unfreeze,
    pub epochs: usize,
    pub batch_size: usize,
    /// Learning rate of the new head.
    pub head_lr: f64,
    /// Learning rate of the unfrozen pretrained layers (lower: they are already good).
    pub backbone_lr: f64,
    pub weight_decay: f32,
    /// Share of each class held out for validation.
    pub val_share: f32,
    pub seed: u64,
    /// Epochs without validation-loss improvement before stopping early.
    pub patience: usize,
    /// Share of the steps spent warming the learning rate up.
    pub warmup_share: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            unfreeze: Unfreeze::default(),
            epochs: 10,
            batch_size: 32,
            head_lr: 1e-3,
            backbone_lr: 1e-4,
            weight_decay: 1e-4,
            val_share: 0.2,
            seed: 0,
            patience: 3,
            warmup_share: 0.1,
        }
    }
}

impl TrainOptions {
    /// A message naming the first invalid option, if any.
    pub fn validate(&self) -> Result<(), String> {
        let lr_ok = |lr: f64| lr.is_finite() && lr > 0.0;
        if self.epochs == 0 || self.epochs > 1000 {
            return Err(format!("epochs must be between 1 and 1000, got {}", self.epochs));
        }
        if self.batch_size == 0 || self.batch_size > 4096 {
            return Err(format!("batch size must be between 1 and 4096, got {}", self.batch_size));
        }
        if !lr_ok(self.head_lr) || !lr_ok(self.backbone_lr) {
            return Err(format!(
                "learning rates must be positive numbers, got head {} and backbone {}",
                self.head_lr, self.backbone_lr
            ));
        }
        if !(self.val_share > 0.0 && self.val_share <= 0.5) {
            return Err(format!(
                "validation share must be above 0 and at most 0.5 (a validation set is always kept), got {}",
                self.val_share
            ));
        }
        check_unfreeze(self.unfreeze)?;
        if self.patience == 0 {
            return Err("patience must be at least 1 epoch".into());
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
        let o: TrainOptions = serde_json::from_str(r#"{"epochs": 3, "unfreeze": "head"}"#).unwrap();
        assert_eq!((o.epochs, o.unfreeze, o.batch_size), (3, Unfreeze::Head, 32));
        assert!(o.validate().is_ok());
        let bad = TrainOptions { val_share: 0.0, ..o.clone() };
        assert!(bad.validate().unwrap_err().contains("validation share"));
        let bad = TrainOptions { head_lr: f64::NAN, ..o };
        assert!(bad.validate().unwrap_err().contains("learning rates"));
        assert!(serde_json::from_str::<TrainOptions>(r#"{"epoch": 3}"#).is_err());
    }
}
