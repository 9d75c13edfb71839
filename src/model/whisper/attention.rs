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
            scores = scores.mask_fill(pad.clone().reshape([batch, 1, 1, len_k]).expand([batch, self.heads, len_q, len_k]), f32::NEG_INFINITY);
        }
        let context = softmax(scores, 3).matmul(split(values, len_k));
        linear(&self.output, context.swap_dims(1, 2).reshape([batch, len_q, d]))
    }
}
