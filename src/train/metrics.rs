//! Classification metrics: accuracy, macro-F1 and the confusion matrix.

use std::collections::BTreeMap;

use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Deserializer, Serialize};

/// One class's scores; `support`: how many examples of the class there were.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    pub support: u32,
}

/// Up to this many classes a matrix also carries its dense `counts` (what a table can show);
/// beyond, only the non-zero cells.
pub const DENSE_CLASSES: usize = 64;

/// Counts of (actual, predicted) pairs; row = actual class, column = predicted class. Kept
/// sparse: its size grows with the examples counted, never with classes² (a thousand classes
/// would be a million counts per matrix, and one is made per epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    pub classes: usize,
    cells: BTreeMap<(usize, usize), u32>,
}

/// Row sums, column sums and the diagonal of a matrix.
struct Margins {
    actual: Vec<u32>,
    predicted: Vec<u32>,
    correct: Vec<u32>,
}

impl ConfusionMatrix {
    pub fn new(classes: usize) -> Self {
        Self { classes, cells: BTreeMap::new() }
    }

    pub fn add(&mut self, actual: usize, predicted: usize) {
        assert!(actual < self.classes && predicted < self.classes, "class out of range");
        *self.cells.entry((actual, predicted)).or_default() += 1;
    }

    pub fn from_pairs(classes: usize, actual: &[usize], predicted: &[usize]) -> Self {
        let mut m = Self::new(classes);
        actual.iter().zip(predicted).for_each(|(&a, &p)| m.add(a, p));
        m
    }

    pub fn get(&self, actual: usize, predicted: usize) -> u32 {
        self.cells.get(&(actual, predicted)).copied().unwrap_or(0)
    }

    /// The non-zero cells `[actual, predicted, count]`, by actual class, then predicted.
    pub fn cells(&self) -> Vec<[u32; 3]> {
        self.cells.iter().map(|(&(a, p), &n)| [a as u32, p as u32, n]).collect()
    }

    /// Row-major `classes × classes` counts.
    pub fn dense(&self) -> Vec<u32> {
        let mut counts = vec![0; self.classes * self.classes];
        self.cells.iter().for_each(|(&(a, p), &n)| counts[a * self.classes + p] = n);
        counts
    }

    pub fn total(&self) -> u32 {
        self.cells.values().sum()
    }

    fn margins(&self) -> Margins {
        let mut m = Margins { actual: vec![0; self.classes], predicted: vec![0; self.classes], correct: vec![0; self.classes] };
        for (&(a, p), &n) in &self.cells {
            m.actual[a] += n;
            m.predicted[p] += n;
            if a == p {
                m.correct[a] += n;
            }
        }
        m
    }

    /// Fraction of examples on the diagonal (0 when empty).
    pub fn accuracy(&self) -> f32 {
        let correct: u32 = self.cells.iter().filter(|((a, p), _)| a == p).map(|(_, &n)| n).sum();
        if self.total() == 0 { 0.0 } else { correct as f32 / self.total() as f32 }
    }

    /// Per class `(precision, recall, f1)`; a class never predicted has precision 0.
    pub fn per_class(&self) -> Vec<(f32, f32, f32)> {
        let m = self.margins();
        (0..self.classes)
            .map(|c| {
                let (tp, predicted, actual) = (m.correct[c] as f32, m.predicted[c], m.actual[c]);
                let precision = if predicted == 0 { 0.0 } else { tp / predicted as f32 };
                let recall = if actual == 0 { 0.0 } else { tp / actual as f32 };
                let f1 = if predicted + actual == 0 { 0.0 } else { 2.0 * tp / (predicted + actual) as f32 };
                (precision, recall, f1)
            })
            .collect()
    }

    /// [`Self::per_class`] with each class's support.
    pub fn class_scores(&self) -> Vec<ClassScores> {
        let support = self.margins().actual;
        self.per_class()
            .into_iter()
            .zip(support)
            .map(|((precision, recall, f1), support)| ClassScores { precision, recall, f1, support })
            .collect()
    }

    /// Unweighted mean F1 over the classes that occur (as actual or predicted), like
    /// scikit-learn's `f1_score(average="macro")`.
    pub fn macro_f1(&self) -> f32 {
        let m = self.margins();
        let present: Vec<usize> = (0..self.classes).filter(|&c| m.actual[c] + m.predicted[c] > 0).collect();
        if present.is_empty() {
            return 0.0;
        }
        let f1 = self.per_class();
        present.iter().map(|&c| f1[c].2).sum::<f32>() / present.len() as f32
    }
}

/// `{classes, cells: [[actual, predicted, count], …], counts}`: `counts` is the dense row-major
/// matrix up to [`DENSE_CLASSES`] classes, empty beyond.
impl Serialize for ConfusionMatrix {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ConfusionMatrix", 3)?;
        s.serialize_field("classes", &self.classes)?;
        s.serialize_field("cells", &self.cells())?;
        s.serialize_field("counts", &if self.classes <= DENSE_CLASSES { self.dense() } else { Vec::new() })?;
        s.end()
    }
}

/// Reads what [`Serialize`] wrote (`classes` and `cells`; `counts` is ignored), refusing cells
/// outside the matrix.
impl<'de> Deserialize<'de> for ConfusionMatrix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            classes: usize,
            cells: Vec<[u32; 3]>,
        }
        let stored = Stored::deserialize(deserializer)?;
        let mut m = ConfusionMatrix::new(stored.classes);
        for [a, p, n] in stored.cells {
            if a as usize >= m.classes || p as usize >= m.classes {
                return Err(serde::de::Error::custom(format!("a confusion cell ({a}, {p}) outside {} classes", m.classes)));
            }
            m.cells.insert((a as usize, p as usize), n);
        }
        Ok(m)
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
        assert_eq!(m.dense(), vec![2, 1, 0, 0, 1, 1, 0, 0, 1]);
        assert_eq!(m.cells(), vec![[0, 0, 2], [0, 1, 1], [1, 1, 1], [1, 2, 1], [2, 2, 1]]);
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

    /// Many classes cost what the examples cost: 20 000 classes, 2 000 pairs — scores in one
    /// pass, the JSON without the dense matrix (it would be 400 million counts).
    #[test]
    fn many_classes_stay_sparse() {
        let classes = 20_000;
        let actual: Vec<usize> = (0..2000).map(|i| i * 7 % classes).collect();
        let predicted: Vec<usize> = actual.iter().enumerate().map(|(i, &a)| if i % 4 == 0 { (a + 1) % classes } else { a }).collect();
        let m = ConfusionMatrix::from_pairs(classes, &actual, &predicted);
        assert_eq!(m.cells().len(), 2000);
        assert!((m.accuracy() - 0.75).abs() < 1e-6);
        assert_eq!(m.class_scores().len(), classes);
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["counts"].as_array().unwrap().len(), 0);
        assert_eq!(json["cells"].as_array().unwrap().len(), 2000);
        let small = serde_json::to_value(ConfusionMatrix::from_pairs(2, &[0, 1], &[1, 1])).unwrap();
        assert_eq!(small["counts"], serde_json::json!([0, 1, 0, 1]));
        assert_eq!(small["cells"], serde_json::json!([[0, 1, 1], [1, 1, 1]]));
    }
}
