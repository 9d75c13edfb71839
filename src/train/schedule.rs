//! Learning-rate schedule: linear warm-up, then cosine decay to zero.

/// Multiplier of the base learning rates at each optimizer step.
#[derive(Clone, Copy, Debug)]
pub struct WarmupCosine {
    pub warmup_steps: usize,
    pub total_steps: usize,
}

impl WarmupCosine {
    /// Warm-up over `warmup_share` of the steps (at least one step).
    pub fn new(total_steps: usize, warmup_share: f32) -> Self {
        let warmup_steps = ((total_steps as f32 * warmup_share).round() as usize).clamp(1, total_steps.max(1));
        Self { warmup_steps, total_steps: total_steps.max(1) }
    }

    /// Factor in `(0, 1]` for 0-based `step`.
    pub fn factor(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return (step + 1) as f64 / self.warmup_steps as f64;
        }
        let decay = (self.total_steps - self.warmup_steps).max(1) as f64;
        let t = ((step - self.warmup_steps) as f64 / decay).min(1.0);
        0.5 * (1.0 + (std::f64::consts::PI * t).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays() {
        let s = WarmupCosine::new(100, 0.1);
        assert_eq!(s.warmup_steps, 10);
        assert!((s.factor(0) - 0.1).abs() < 1e-9);
        assert!((s.factor(9) - 1.0).abs() < 1e-9);
        assert!((s.factor(10) - 1.0).abs() < 1e-9);
        assert!((s.factor(55) - 0.5).abs() < 1e-9);
        assert!(s.factor(99) < 0.01 && s.factor(99) > 0.0);
        for step in 10..99 {
            assert!(s.factor(step + 1) <= s.factor(step));
        }
    }
}
