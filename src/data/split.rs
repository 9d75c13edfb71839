//! Labels per class: counts and the stratified, seeded train/validation split.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Example indices of each side of the split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
}

/// Examples per class (`labels` holds one class index below `classes` per example).
pub fn class_counts(labels: &[usize], classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    labels.iter().for_each(|&l| counts[l] += 1);
    counts
}

/// Splits `labels` (one class index per example) so that every class keeps about `validation_split` of
/// its examples for validation: at least one of each class with two or more examples, never all
/// of them. The same `seed` gives the same split.
pub fn stratified_split(labels: &[usize], validation_split: f32, seed: u64) -> Split {
    let classes = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut split = Split { train: Vec::new(), val: Vec::new() };
    for class in 0..classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        members.shuffle(&mut rng);
        let n = members.len();
        let n_val = if n < 2 || validation_split <= 0.0 {
            0
        } else {
            ((n as f32 * validation_split).round() as usize).clamp(1, n - 1)
        };
        split.val.extend_from_slice(&members[..n_val]);
        split.train.extend_from_slice(&members[n_val..]);
    }
    split.train.sort_unstable();
    split.val.sort_unstable();
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<usize> {
        // 10 of class 0, 20 of class 1, 5 of class 2
        [vec![0; 10], vec![1; 20], vec![2; 5]].concat()
    }

    #[test]
    fn split_is_stratified_and_disjoint() {
        let l = labels();
        let s = stratified_split(&l, 0.2, 7);
        let count = |idx: &[usize], c| idx.iter().filter(|&&i| l[i] == c).count();
        assert_eq!([count(&s.val, 0), count(&s.val, 1), count(&s.val, 2)], [2, 4, 1]);
        assert_eq!(s.train.len() + s.val.len(), l.len());
        assert!(s.train.iter().all(|i| !s.val.contains(i)), "train and val overlap");
        let mut all = [s.train.clone(), s.val.clone()].concat();
        all.sort_unstable();
        assert_eq!(all, (0..l.len()).collect::<Vec<_>>());
    }

    #[test]
    fn split_is_seeded() {
        let l = labels();
        assert_eq!(stratified_split(&l, 0.2, 1), stratified_split(&l, 0.2, 1));
        assert_ne!(stratified_split(&l, 0.2, 1).val, stratified_split(&l, 0.2, 2).val);
    }

    #[test]
    fn tiny_classes_keep_a_training_example() {
        let l = vec![0, 0, 1, 1, 1];
        let s = stratified_split(&l, 0.9, 0);
        assert_eq!(s.val.iter().filter(|&&i| l[i] == 0).count(), 1);
        assert_eq!(s.train.iter().filter(|&&i| l[i] == 1).count(), 1);
    }
}
