//! The sequence feature cache: frozen-trunk outputs per example, `[len, width]` with each
//! example's own length (a text's tokens, an audio clip's frames), stored as f16 and padded only
//! when a batch is built.

use burn::tensor::{Device, Tensor, TensorData};
use half::f16;

use crate::model::sequence::SequenceBatch;
use crate::train::FeatureSource;

#[derive(Clone, Debug)]
pub struct TokenCache {
    width: usize,
    /// Start (in rows of `width`) and length of each example.
    spans: Vec<(usize, usize)>,
    data: Vec<f16>,
}

/// A padded batch: `values` is `[batch, len, width]`, `pad` is `[batch, len]` (`true` at padding).
pub struct PaddedBatch {
    pub values: Vec<f32>,
    pub pad: Vec<bool>,
    pub len: usize,
}

impl TokenCache {
    pub fn new(width: usize) -> Self {
        Self { width, spans: Vec::new(), data: Vec::new() }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.data.len() * 2
    }

    /// Keeps the first `len` examples.
    pub fn truncate(&mut self, len: usize) {
        self.spans.truncate(len);
        self.data.truncate(self.spans.last().map_or(0, |&(start, rows)| (start + rows) * self.width));
    }

    /// Appends one example of `values.len() / width` token rows.
    pub fn push(&mut self, values: &[f32]) {
        assert_eq!(values.len() % self.width, 0, "token rows of the wrong size");
        let start = self.data.len() / self.width;
        self.data.extend(values.iter().map(|&v| f16::from_f32(v)));
        self.spans.push((start, values.len() / self.width));
    }

    /// The examples `indices`, zero-padded to the longest of them.
    pub fn gather(&self, indices: &[usize]) -> PaddedBatch {
        let len = indices.iter().map(|&i| self.spans[i].1).max().unwrap_or(0);
        let w = self.width;
        let mut values = vec![0.0; indices.len() * len * w];
        let mut pad = vec![true; indices.len() * len];
        for (b, &i) in indices.iter().enumerate() {
            let (start, n) = self.spans[i];
            let src = &self.data[start * w..(start + n) * w];
            let dst = &mut values[b * len * w..(b * len + n) * w];
            dst.iter_mut().zip(src).for_each(|(d, s)| *d = s.to_f32());
            pad[b * len..b * len + n].iter_mut().for_each(|p| *p = false);
        }
        PaddedBatch { values, pad, len }
    }
}

impl FeatureSource for TokenCache {
    type Input = SequenceBatch;

    fn len(&self) -> usize {
        TokenCache::len(self)
    }

    fn bytes(&self) -> usize {
        TokenCache::bytes(self)
    }

    fn batch(&self, indices: &[usize], device: &Device) -> SequenceBatch {
        let b = self.gather(indices);
        let n = indices.len();
        SequenceBatch {
            hidden: Tensor::from_data(TensorData::new(b.values, [n, b.len, self.width()]), device),
            mask_pad: Tensor::from_data(TensorData::new(b.pad, [n, b.len]), device),
        }
    }

    fn truncate(&mut self, len: usize) {
        TokenCache::truncate(self, len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_each_batch_to_its_longest_example() {
        let mut c = TokenCache::new(2);
        c.push(&[1.0, 2.0]);
        c.push(&[3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        let b = c.gather(&[0, 1]);
        assert_eq!(b.len, 3);
        assert_eq!(b.values, vec![1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert_eq!(b.pad, vec![false, true, true, false, false, false]);
        assert_eq!(c.gather(&[0]).len, 1);
        assert_eq!(c.bytes(), 16);
    }
}
