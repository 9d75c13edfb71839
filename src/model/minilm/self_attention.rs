//! BERT self-attention: the query/key/value projections as one product, the fused attention op
//! of [`crate::ops::attention`] and the output projection.
//!
//! The parameters are named as in burn's `MultiHeadAttention` (`query`, `key`, `value`,
//! `output`), so exported model files are the same.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Bool, Tensor};

use crate::model::dropout::SeededDropout;
use crate::ops::{dense, linear, self_attention};

#[derive(Module, Debug)]
pub struct SelfAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub output: Linear,
    pub heads: usize,
    /// Dropout of the attention weights (after softmax), while training.
    pub dropout: SeededDropout,
}

impl SelfAttention {
    /// # Shapes
    /// - x: `[batch, len, hidden]`
    /// - mask_pad: `[batch, len]`, `true` at padding
    /// - output: `[batch, len, hidden]`
    pub fn forward(&self, x: Tensor<3>, mask_pad: Tensor<2, Bool>) -> Tensor<3> {
        let [batch, len, hidden] = x.dims();
        let qkv = dense(x.reshape([batch * len, hidden]), self.qkv_weight(), self.qkv_bias()).reshape([
            batch,
            len,
            3 * hidden,
        ]);
        let dropout = if self.dropout.active(&qkv) { self.dropout.prob } else { 0.0 };
        linear(&self.output, self_attention(qkv, mask_pad, dropout, self.heads))
    }

    /// The three projections' weights side by side, `[hidden, 3 · hidden]`: one matrix product
    /// for all three (the input is read once, and its gradient is one product instead of three
    /// and two sums).
    fn qkv_weight(&self) -> Tensor<2> {
        Tensor::cat(vec![self.query.weight.val(), self.key.weight.val(), self.value.weight.val()], 1)
    }

    fn qkv_bias(&self) -> Tensor<1> {
        let bias = |l: &Linear| l.bias.as_ref().expect("BERT projections have a bias").val();
        Tensor::cat(vec![bias(&self.query), bias(&self.key), bias(&self.value)], 0)
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::nn::attention::{MhaInput, MultiHeadAttentionConfig};
    use burn::tensor::{Device, Distribution, TensorData, Tolerance};

    use super::*;

    /// The module (without dropout) gives burn's `MultiHeadAttention` with the same weights: the
    /// output and the gradients of the input and of every projection, on a padded batch.
    #[test]
    fn matches_burns_multi_head_attention() {
        let device = Device::flex().autodiff();
        let (batch, len, hidden, heads) = (3, 6, 16, 4);
        let reference = MultiHeadAttentionConfig::new(hidden, heads).with_dropout(0.0).init(&device);
        let ours = SelfAttention {
            query: reference.query.clone(),
            key: reference.key.clone(),
            value: reference.value.clone(),
            output: reference.output.clone(),
            heads,
            dropout: SeededDropout::new(0.0),
        };
        let x = Tensor::<3>::random([batch, len, hidden], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let pad: Vec<bool> = (0..batch * len).map(|i| i % len >= len - (i / len)).collect();
        let pad = Tensor::<2, Bool>::from_data(TensorData::new(pad, [batch, len]), &device);
        let upstream = Tensor::<3>::random([batch, len, hidden], Distribution::Normal(0.0, 1.0), &device);

        let expected = reference.forward(MhaInput::self_attn(x.clone()).mask_pad(pad.clone())).context;
        let out = ours.forward(x.clone(), pad);
        out.to_data().assert_approx_eq::<f32>(&expected.to_data(), Tolerance::rel_abs(1e-4, 1e-5));

        let grads = (out * upstream.clone()).sum().backward();
        let reference_grads = (expected * upstream).sum().backward();
        let grad = |t: &Tensor<3>, g| t.grad(g).expect("input gradient").to_data();
        grad(&x, &grads).assert_approx_eq::<f32>(&grad(&x, &reference_grads), Tolerance::rel_abs(1e-4, 1e-5));
        let weight = |p: &Param<Tensor<2>>, g| p.val().grad(g).expect("weight gradient").to_data();
        for (a, b) in [(&ours.query, &reference.query), (&ours.key, &reference.key), (&ours.value, &reference.value)] {
            weight(&a.weight, &grads)
                .assert_approx_eq::<f32>(&weight(&b.weight, &reference_grads), Tolerance::rel_abs(1e-4, 1e-5));
        }
    }
}
