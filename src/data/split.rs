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
/// of them. The same `seed` gives the same split. Linear in examples + classes.
pub fn stratified_split(labels: &[usize], validation_split: f32, seed: u64) -> Split {
    let classes = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut split = Split { train: Vec::new(), val: Vec::new() };
    // Each class's examples in index order, gathered in one pass (not one pass per class).
    let mut by_class = vec![Vec::new(); classes];
    labels.iter().enumerate().for_each(|(i, &l)| by_class[l].push(i));
    for mut members in by_class {
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
    fn one_pass_split_equals_filtering_each_class() {
        // The former definition (one pass over the examples per class), on interleaved labels:
        // splits made before stay the same.
        let l: Vec<usize> = (0..500).map(|i| (i * 7 + i / 3) % 13).collect();
        let mut rng = StdRng::seed_from_u64(3);
        let mut expected = Split { train: Vec::new(), val: Vec::new() };
        for class in 0..13 {
            let mut members: Vec<usize> = (0..l.len()).filter(|&i| l[i] == class).collect();
            members.shuffle(&mut rng);
            let n_val = ((members.len() as f32 * 0.2).round() as usize).clamp(1, members.len() - 1);
            expected.val.extend_from_slice(&members[..n_val]);
            expected.train.extend_from_slice(&members[n_val..]);
        }
        expected.train.sort_unstable();
        expected.val.sort_unstable();
        assert_eq!(stratified_split(&l, 0.2, 3), expected);
        // 20 000 classes of 2 examples: linear, not classes × examples.
        let many: Vec<usize> = (0..40_000).map(|i| i / 2).collect();
        assert_eq!(stratified_split(&many, 0.2, 0).val.len(), 20_000);
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
