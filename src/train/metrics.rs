//! Classification metrics: accuracy, macro-F1 and the confusion matrix.

use serde::Serialize;

/// One class's scores; `support`: how many examples of the class there were.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassScores {
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    pub support: u32,
}

/// Counts of (actual, predicted) pairs; row = actual class, column = predicted class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    pub classes: usize,
    /// Row-major `classes × classes`.
    pub counts: Vec<u32>,
}

impl ConfusionMatrix {
    pub fn new(classes: usize) -> Self {
        Self { classes, counts: vec![0; classes * classes] }
    }

    pub fn add(&mut self, actual: usize, predicted: usize) {
        self.counts[actual * self.classes + predicted] += 1;
    }

    pub fn from_pairs(classes: usize, actual: &[usize], predicted: &[usize]) -> Self {
        let mut m = Self::new(classes);
        actual.iter().zip(predicted).for_each(|(&a, &p)| m.add(a, p));
        m
    }

    pub fn get(&self, actual: usize, predicted: usize) -> u32 {
        self.counts[actual * self.classes + predicted]
    }

    pub fn total(&self) -> u32 {
        self.counts.iter().sum()
    }

    /// Fraction of examples on the diagonal (0 when empty).
    pub fn accuracy(&self) -> f32 {
        let correct: u32 = (0..self.classes).map(|c| self.get(c, c)).sum();
        if self.total() == 0 { 0.0 } else { correct as f32 / self.total() as f32 }
    }

    /// Per class `(precision, recall, f1)`; a class never predicted has precision 0.
    pub fn per_class(&self) -> Vec<(f32, f32, f32)> {
        (0..self.classes)
            .map(|c| {
                let tp = self.get(c, c) as f32;
                let predicted: u32 = (0..self.classes).map(|a| self.get(a, c)).sum();
                let actual: u32 = (0..self.classes).map(|p| self.get(c, p)).sum();
                let precision = if predicted == 0 { 0.0 } else { tp / predicted as f32 };
                let recall = if actual == 0 { 0.0 } else { tp / actual as f32 };
                let f1 = if predicted + actual == 0 { 0.0 } else { 2.0 * tp / (predicted + actual) as f32 };
                (precision, recall, f1)
            })
            .collect()
    }

    /// [`Self::per_class`] with each class's support.
    pub fn class_scores(&self) -> Vec<ClassScores> {
        self.per_class()
            .into_iter()
            .enumerate()
            .map(|(c, (precision, recall, f1))| ClassScores {
                precision,
                recall,
                f1,
                support: (0..self.classes).map(|p| self.get(c, p)).sum(),
            })
            .collect()
    }

    /// Unweighted mean F1 over the classes that occur (as actual or predicted), like
    /// scikit-learn's `f1_score(average="macro")`.
    pub fn macro_f1(&self) -> f32 {
        let present: Vec<usize> = (0..self.classes)
            .filter(|&c| (0..self.classes).any(|o| self.get(c, o) + self.get(o, c) > 0))
            .collect();
        if present.is_empty() {
            return 0.0;
        }
        let f1 = self.per_class();
        present.iter().map(|&c| f1[c].2).sum::<f32>() / present.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_values() {
        // actual:    0 0 0 1 1 2
        // predicted: 0 0 1 1 2 2
        let m = ConfusionMatrix::from_pairs(3, &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2]);
        assert_eq!(m.counts, vec![2, 1, 0, 0, 1, 1, 0, 0, 1]);
        assert!((m.accuracy() - 4.0 / 6.0).abs() < 1e-6);
        // class 0: P=1, R=2/3, F1=0.8; class 1: P=1/2, R=1/2, F1=0.5; class 2: P=1/2, R=1, F1=2/3
        let pc = m.per_class();
        assert!((pc[0].2 - 0.8).abs() < 1e-6 && (pc[1].2 - 0.5).abs() < 1e-6);
        assert!((pc[2].0 - 0.5).abs() < 1e-6 && (pc[2].1 - 1.0).abs() < 1e-6);
        assert_eq!(m.class_scores().iter().map(|s| s.support).collect::<Vec<_>>(), vec![3, 2, 1]);
        let expected = (0.8 + 0.5 + 2.0 / 3.0) / 3.0;
        assert!((m.macro_f1() - expected).abs() < 1e-6, "{}", m.macro_f1());
    }

    #[test]
    fn absent_classes_do_not_count_in_macro_f1() {
        let m = ConfusionMatrix::from_pairs(4, &[0, 1], &[0, 1]);
        assert_eq!(m.macro_f1(), 1.0);
        assert_eq!(ConfusionMatrix::new(2).accuracy(), 0.0);
    }
}
