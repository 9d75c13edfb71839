//! Whisper's multi-head attention: query, key (without bias), value and output projections; the
//! encoder's self-attention, the decoder's causal self-attention and its cross-attention on the
//! encoder output.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Tensor};

use crate::ops::{dense, linear, self_attention};

#[derive(Module, Debug)]
pub struct Attention {
    pub query: Linear,
    /// No bias (as in Whisper).
    pub key: Linear,
    pub value: Linear,
    pub output: Linear,
    pub heads: usize,
}

impl Attention {
    /// Self-attention over the positions that are not padding (the encoder), through the fused op.
    ///
    /// # Shapes
    /// - x, output: `[batch, len, d]`
    /// - pad: `[batch, len]`, `true` at padding (keys no query attends to)
    pub fn forward_self(&self, x: Tensor<3>, pad: Tensor<2, Bool>) -> Tensor<3> {
        let [batch, len, d] = x.dims();
        let weight = Tensor::cat(vec![self.query.weight.val(), self.key.weight.val(), self.value.weight.val()], 1);
        let bias = |l: &Linear| l.bias.as_ref().expect("query and value projections have a bias").val();
        let bias = Tensor::cat(vec![bias(&self.query), Tensor::zeros([d], &x.device()), bias(&self.value)], 0);
        let qkv = dense(x.reshape([batch * len, d]), weight, bias).reshape([batch, len, 3 * d]);
        linear(&self.output, self_attention(qkv, pad, 0.0, self.heads))
    }

    /// The keys and values of `source`.
    ///
    /// # Shapes
    /// - source: `[batch, len, d]`
    /// - output: keys, values `[batch, len, d]`
    pub fn keys_values(&self, source: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        (linear(&self.key, source.clone()), linear(&self.value, source))
    }

    /// Cross-attention of the queries of `x` over `source` (the encoder output), all at once
    /// (teacher forcing). A few dozen queries over 1 500 positions: projecting every position to
    /// keys and values costs more than folding the projections into the queries and the output
    /// (`q·(A·Wk)ᵀ = (q·Wkᵀ)·Aᵀ`, `P·(A·Wv + bv) = (P·A)·Wv + bv`), which is then done instead.
    ///
    /// # Shapes
    /// - x: `[batch, len_q, d]`; source: `[batch, len_k, d]`; pad: `[batch, len_k]`
    /// - output: `[batch, len_q, d]`
    pub fn attend_source(&self, x: Tensor<3>, source: Tensor<3>, pad: Option<&Tensor<2, Bool>>) -> Tensor<3> {
        let [batch, len_q, d] = x.dims();
        let len_k = source.dims()[1];
        // Multiply-adds of each way (forward): projecting the source vs folding per head.
        if len_k * (d + len_q) <= len_q * (d + self.heads * len_k) {
            let (keys, values) = self.keys_values(source);
            return self.attend(x, keys, values, false, pad);
        }
        let heads = self.heads;
        let head_dim = d / heads;
        let per_head = |w: Tensor<2>| w.reshape([d, heads, head_dim]).swap_dims(0, 1).unsqueeze::<4>(); // [1, heads, d, head_dim]
        let q = linear(&self.query, x).reshape([batch, len_q, heads, head_dim]).swap_dims(1, 2);
        let q_source = q.matmul(per_head(self.key.weight.val()).swap_dims(2, 3)); // [batch, heads, len_q, d]
        let source = source.unsqueeze_dim::<4>(1); // [batch, 1, len_k, d]
        let mut scores = q_source.matmul(source.clone().swap_dims(2, 3)) * (1.0 / (head_dim as f64).sqrt());
        if let Some(pad) = pad {
            scores = mask_padding(scores, pad);
        }
        let mixed = softmax(scores, 3).matmul(source); // [batch, heads, len_q, d]
        let bias = self.value.bias.as_ref().expect("the value projection has a bias").val().reshape([1, heads, 1, head_dim]);
        let context = mixed.matmul(per_head(self.value.weight.val())) + bias; // [batch, heads, len_q, head_dim]
        linear(&self.output, context.swap_dims(1, 2).reshape([batch, len_q, d]))
    }

    /// Attention of the queries of `x` over `keys`/`values`; `causal`: query `i` (the last
    /// `len_q` of the `len_k` positions) sees keys up to its own position only; `pad`: keys no
    /// query attends to.
    ///
    /// # Shapes
    /// - x: `[batch, len_q, d]`; keys, values: `[batch, len_k, d]`; pad: `[batch, len_k]`
    /// - output: `[batch, len_q, d]`
    pub fn attend(&self, x: Tensor<3>, keys: Tensor<3>, values: Tensor<3>, causal: bool, pad: Option<&Tensor<2, Bool>>) -> Tensor<3> {
        let [batch, len_q, d] = x.dims();
        let len_k = keys.dims()[1];
        let head_dim = d / self.heads;
        let split = |t: Tensor<3>, len| t.reshape([batch, len, self.heads, head_dim]).swap_dims(1, 2);
        let q = split(linear(&self.query, x), len_q);
        let mut scores = q.matmul(split(keys, len_k).swap_dims(2, 3)) * (1.0 / (head_dim as f64).sqrt());
        if causal && len_q > 1 {
            // `true` above the diagonal shifted by the cached keys: the positions after each query's own.
            let future = Tensor::<2, Bool>::tril_mask([len_q, len_k], (len_k - len_q) as i64, &scores.device());
            scores = scores.mask_fill(future.unsqueeze::<4>().expand([batch, self.heads, len_q, len_k]), f32::NEG_INFINITY);
        }
        if let Some(pad) = pad {
            scores = mask_padding(scores, pad);
        }
        let context = softmax(scores, 3).matmul(split(values, len_k));
        linear(&self.output, context.swap_dims(1, 2).reshape([batch, len_q, d]))
    }
}

/// `scores` with the padded keys at −∞ (no query attends to them).
///
/// # Shapes
/// - scores, output: `[batch, heads, len_q, len_k]`; pad: `[batch, len_k]`
fn mask_padding(scores: Tensor<4>, pad: &Tensor<2, Bool>) -> Tensor<4> {
    let dims = scores.dims();
    let [batch, _, _, len_k] = dims;
    scores.mask_fill(pad.clone().reshape([batch, 1, 1, len_k]).expand(dims), f32::NEG_INFINITY)
}

#[cfg(test)]
mod tests {
    use burn::nn::LinearConfig;
    use burn::tensor::{Device, Distribution, TensorData};

    use super::*;

    #[test]
    fn folded_cross_attention_equals_projecting_the_source() {
        let device = Device::flex();
        let d = 12;
        let linear = |bias| LinearConfig::new(d, d).with_bias(bias).init(&device);
        let attention = Attention { query: linear(true), key: linear(false), value: linear(true), output: linear(true), heads: 3 };
        let x = Tensor::<3>::random([2, 2, d], Distribution::Normal(0.0, 1.0), &device);
        let source = Tensor::<3>::random([2, 40, d], Distribution::Normal(0.0, 1.0), &device);
        let pad: Vec<bool> = (0..2).flat_map(|b| (0..40).map(move |p| p >= 40 - 15 * b)).collect();
        let pad = Tensor::<2, Bool>::from_data(TensorData::new(pad, [2, 40]), &device);
        // 2 queries over 40 positions: the folded way is the cheaper one here.
        let folded = attention.attend_source(x.clone(), source.clone(), Some(&pad));
        let (keys, values) = attention.keys_values(source);
        let projected = attention.attend(x, keys, values, false, Some(&pad));
        let gap: f32 = (folded - projected).abs().max().into_scalar();
        assert!(gap < 1e-4, "{gap}");
    }
}
