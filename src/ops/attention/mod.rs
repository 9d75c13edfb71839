//! Multi-head self-attention as one burn backend extension op with its own backward pass.
//!
//! - CPU (`Flex`): the fused kernels of [`cpu`] on the projections' layout.
//! - GPU (`Cube`, i.e. wgpu): the trait's default bodies ([`portable`]) — split heads, batched
//!   matrix products, softmax — the same work as burn's `MultiHeadAttention`.
//! - `Autodiff<B>`: records one node; its backward calls [`AttentionBackend::self_attention_backward`]
//!   with the attention weights kept from the forward pass. burn 0.22's module is a chain of ~12
//!   recorded ops whose backward re-runs the swaps, masks and softmax pieces separately.
//!
//! Softmax runs over the keys that are not padding; while training, dropout of the attention
//! weights (after softmax, as in BERT) with keep probability `keep` (`1`: none) and a `seed`. The
//! CPU kernels compute each multiplier from the seed where they need it ([`MaskKey`]): no mask is
//! stored, written or read. The portable bodies draw the multipliers once in the forward pass and
//! keep them for the backward one.

pub mod cpu;
pub mod long;
pub mod tiles;

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Bool, Shape, Tensor};
use burn_flex::FlexTensor;

use cpu::{AttentionGeometry, AttentionInputs};
use crate::ops::dropout::{MaskKey, bernoulli, next_seed};
use crate::ops::cpu::flex_data::{all_f32, flex, with_contents};

fn geometry(qkv: &Shape, heads: usize) -> AttentionGeometry {
    AttentionGeometry { batch: qkv[0], len: qkv[1], heads, head_dim: qkv[2] / 3 / heads }
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait AttentionBackend: Backend {
    /// # Shapes
    /// - qkv: `[batch, len, 3 · heads · head_dim]`, the projections side by side (q, k, v)
    /// - pad: `[batch, len]`, 1 at padding, else 0
    /// - returns the context `[batch, len, heads · head_dim]`
    ///
    /// `keep`: the dropout keep probability (`1`: no dropout); `seed` fixes the multipliers where
    /// the backend derives them from it (the CPU), elsewhere they are drawn.
    fn self_attention(
        qkv: FloatTensor<Self>,
        pad: FloatTensor<Self>,
        keep: f32,
        seed: u64,
        heads: usize,
    ) -> FloatTensor<Self> {
        let _ = seed;
        portable::attend::<Self>(qkv, pad, keep, heads).0
    }

    /// [`Self::self_attention`], the attention weights before dropout (`[batch, heads, len, len]`)
    /// and what [`Self::self_attention_backward`] needs to redo the dropout: the multipliers, or
    /// an empty tensor where the seed regenerates them (the CPU).
    fn self_attention_with_weights(
        qkv: FloatTensor<Self>,
        pad: FloatTensor<Self>,
        keep: f32,
        seed: u64,
        heads: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let _ = seed;
        portable::attend::<Self>(qkv, pad, keep, heads)
    }

    /// The gradient of `qkv` from the context's gradient `grad`.
    #[allow(clippy::too_many_arguments)]
    fn self_attention_backward(
        qkv: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        mask: FloatTensor<Self>,
        keep: f32,
        seed: u64,
        grad: FloatTensor<Self>,
        heads: usize,
    ) -> FloatTensor<Self> {
        let _ = (keep, seed);
        portable::backward::<Self>(qkv, weights, mask, grad, heads)
    }
}

/// Attention from burn's backend ops (what the GPU runs).
pub mod portable {
    use burn::tensor::Slice;

    use super::*;

    /// An empty `keep` tensor stands for "no dropout".
    pub fn is_none<B: Backend>(keep: &FloatTensor<B>) -> bool {
        keep.shape().num_elements() == 0
    }

    /// The forward pass with freshly drawn dropout multipliers (keep probability `keep`; `1`:
    /// none, an empty tensor): context, weights and the multipliers.
    pub fn attend<B: Backend>(
        qkv: FloatTensor<B>,
        pad: FloatTensor<B>,
        keep: f32,
        heads: usize,
    ) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
        let g = geometry(&qkv.shape(), heads);
        let (device, dtype) = (qkv.device(), qkv.dtype());
        let mask = if keep < 1.0 {
            let like = B::float_zeros(Shape::new([g.batch, g.heads, g.len, g.len]), &device, dtype.into());
            bernoulli::<B>(like, keep)
        } else {
            B::float_zeros(Shape::new([0]), &device, dtype.into())
        };
        let (ctx, weights) = forward::<B>(qkv, pad, mask.clone(), heads);
        (ctx, weights, mask)
    }

    fn expand_rows<B: Backend>(x: FloatTensor<B>, to: &Shape) -> FloatTensor<B> {
        B::float_expand(x, to.clone())
    }

    /// Part `part` (0 q, 1 k, 2 v) of `qkv` as `[batch, heads, len, d]`.
    fn split<B: Backend>(qkv: &FloatTensor<B>, part: usize, heads: usize) -> FloatTensor<B> {
        let s = qkv.shape();
        let width = s[2] / 3;
        let columns = Slice { start: (part * width) as isize, end: Some(((part + 1) * width) as isize), step: 1 };
        let x = B::float_slice(qkv.clone(), &[Slice::full(), Slice::full(), columns]);
        B::float_swap_dims(B::float_reshape(x, Shape::new([s[0], s[1], heads, width / heads])), 1, 2)
    }

    /// `[batch, heads, len, d]` → `[batch, len, heads · d]`.
    fn merge<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
        let s = x.shape();
        B::float_reshape(B::float_swap_dims(x, 1, 2), Shape::new([s[0], s[2], s[1] * s[3]]))
    }

    pub fn forward<B: Backend>(
        qkv: FloatTensor<B>,
        pad: FloatTensor<B>,
        keep: FloatTensor<B>,
        heads: usize,
    ) -> (FloatTensor<B>, FloatTensor<B>) {
        let g = geometry(&qkv.shape(), heads);
        let scale = 1.0 / (g.head_dim as f32).sqrt();
        let (q, k, v) = (split::<B>(&qkv, 0, heads), split::<B>(&qkv, 1, heads), split::<B>(&qkv, 2, heads));
        let scores = B::float_mul_scalar(B::float_matmul(q, B::float_swap_dims(k, 2, 3)), scale.into());
        let full = scores.shape();
        // padded keys: −10⁹ before softmax (exp underflows to 0), as burn's module does with −10⁴
        let bias = B::float_reshape(B::float_mul_scalar(pad, (-1.0e9f32).into()), Shape::new([g.batch, 1, 1, g.len]));
        let scores = B::float_add(scores, expand_rows::<B>(bias, &full));
        let max = expand_rows::<B>(B::float_max_dim(scores.clone(), 3), &full);
        let exp = B::float_exp(B::float_sub(scores, max));
        let sum = expand_rows::<B>(B::float_sum_dim(exp.clone(), 3), &full);
        let weights = B::float_div(exp, sum);
        let dropped = if is_none::<B>(&keep) { weights.clone() } else { B::float_mul(weights.clone(), keep) };
        (merge::<B>(B::float_matmul(dropped, v)), weights)
    }

    pub fn backward<B: Backend>(
        qkv: FloatTensor<B>,
        weights: FloatTensor<B>,
        keep: FloatTensor<B>,
        grad: FloatTensor<B>,
        heads: usize,
    ) -> FloatTensor<B> {
        let g = geometry(&qkv.shape(), heads);
        let scale = 1.0 / (g.head_dim as f32).sqrt();
        let (q, k, v) = (split::<B>(&qkv, 0, heads), split::<B>(&qkv, 1, heads), split::<B>(&qkv, 2, heads));
        let s = grad.shape();
        let dc = B::float_swap_dims(B::float_reshape(grad, Shape::new([s[0], s[1], heads, s[2] / heads])), 1, 2);
        let full = weights.shape();
        let dropped = if is_none::<B>(&keep) { weights.clone() } else { B::float_mul(weights.clone(), keep.clone()) };
        let dv = B::float_matmul(B::float_swap_dims(dropped, 2, 3), dc.clone());
        let mut dw = B::float_matmul(dc, B::float_swap_dims(v, 2, 3));
        if !is_none::<B>(&keep) {
            dw = B::float_mul(dw, keep);
        }
        let dot = expand_rows::<B>(B::float_sum_dim(B::float_mul(dw.clone(), weights.clone()), 3), &full);
        let ds = B::float_mul_scalar(B::float_mul(weights, B::float_sub(dw, dot)), scale.into());
        let dq = B::float_matmul(ds.clone(), k);
        let dk = B::float_matmul(B::float_swap_dims(ds, 2, 3), q);
        B::float_cat(vec![merge::<B>(dq), merge::<B>(dk), merge::<B>(dv)], 2)
    }
}

#[cfg(feature = "wgpu")]
impl AttentionBackend for burn::backend::Cube {}

fn with_inputs<R>(qkv: FlexTensor, pad: FlexTensor, keep: f32, seed: u64, f: impl FnOnce(AttentionInputs) -> R) -> R {
    let keep = (keep < 1.0).then(|| MaskKey::new(keep, seed));
    with_contents(qkv, |qkv| with_contents(pad, |pad| f(AttentionInputs { qkv, pad, keep })))
}

impl AttentionBackend for Flex {
    fn self_attention(qkv: FlexTensor, pad: FlexTensor, keep: f32, seed: u64, heads: usize) -> FlexTensor {
        if !all_f32(&[&qkv, &pad]) {
            return portable::attend::<Self>(qkv, pad, keep, heads).0;
        }
        let g = geometry(&qkv.shape(), heads);
        let (ctx, _) = with_inputs(qkv, pad, keep, seed, |x| cpu::forward(x, &g, false));
        flex(ctx, Shape::new([g.batch, g.len, g.heads * g.head_dim]))
    }

    fn self_attention_with_weights(
        qkv: FlexTensor,
        pad: FlexTensor,
        keep: f32,
        seed: u64,
        heads: usize,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        if !all_f32(&[&qkv, &pad]) {
            return portable::attend::<Self>(qkv, pad, keep, heads);
        }
        let g = geometry(&qkv.shape(), heads);
        let (ctx, weights) = with_inputs(qkv, pad, keep, seed, |x| cpu::forward(x, &g, true));
        let weights = flex(weights, Shape::new([g.batch, g.heads, g.len, g.len]));
        (flex(ctx, Shape::new([g.batch, g.len, g.heads * g.head_dim])), weights, flex(Vec::new(), [0]))
    }

    fn self_attention_backward(
        qkv: FlexTensor,
        weights: FlexTensor,
        mask: FlexTensor,
        keep: f32,
        seed: u64,
        grad: FlexTensor,
        heads: usize,
    ) -> FlexTensor {
        if !all_f32(&[&qkv, &weights, &grad]) || !portable::is_none::<Self>(&mask) {
            return portable::backward::<Self>(qkv, weights, mask, grad, heads);
        }
        let (shape, g) = (qkv.shape(), geometry(&qkv.shape(), heads));
        // the backward kernels do not read the padding: masked weights are already 0
        let no_pad = flex(Vec::new(), Shape::new([0]));
        let d_qkv = with_contents(weights, |w| {
            with_contents(grad, |dc| with_inputs(qkv, no_pad, keep, seed, |x| cpu::backward(x, w, dc, &g)))
        });
        flex(d_qkv, shape)
    }
}

/// The backward step of [`AttentionBackend::self_attention`] under autodiff.
#[derive(Debug)]
struct AttentionBackward;

impl<B: AttentionBackend> Backward<B, 1> for AttentionBackward {
    /// Checkpointed `qkv`; the attention weights; the dropout multipliers (or an empty tensor),
    /// keep probability and seed; the head count.
    type State = (NodeId, FloatTensor<B>, FloatTensor<B>, f32, u64, usize);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let (qkv, weights, mask, keep, seed, heads) = ops.state;
        let qkv = checkpointer.retrieve_node_output::<FloatTensor<B>>(qkv);
        if let Some(node) = &ops.parents[0] {
            grads.register::<B>(node.id, B::self_attention_backward(qkv, weights, mask, keep, seed, grad, heads));
        }
    }
}

impl<B: AttentionBackend, C: CheckpointStrategy> AttentionBackend for Autodiff<B, C> {
    fn self_attention(
        qkv: FloatTensor<Self>,
        pad: FloatTensor<Self>,
        keep: f32,
        seed: u64,
        heads: usize,
    ) -> FloatTensor<Self> {
        let pad = pad.into_primitive();
        match AttentionBackward.prepare::<C>([qkv.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let id = prep.checkpoint(&qkv);
                let (ctx, weights, mask) = B::self_attention_with_weights(qkv.into_primitive(), pad, keep, seed, heads);
                prep.finish((id, weights, mask, keep, seed, heads), ctx)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::self_attention(qkv.into_primitive(), pad, keep, seed, heads)),
        }
    }
}

/// Multi-head self-attention on any device (see the module docs), with dropout of the attention
/// weights with probability `dropout` (`0` outside training).
///
/// # Shapes
/// - qkv: `[batch, len, 3 · heads · head_dim]`: the query, key and value projections side by side
/// - pad: `[batch, len]`, `true` at padding
/// - output: `[batch, len, heads · head_dim]`
pub fn self_attention(qkv: Tensor<3>, pad: Tensor<2, Bool>, dropout: f64, heads: usize) -> Tensor<3> {
    let seed = if dropout > 0.0 { next_seed() } else { 0 };
    let out = <Dispatch as AttentionBackend>::self_attention(
        qkv.into_dispatch(),
        pad.float().into_dispatch(),
        (1.0 - dropout) as f32,
        seed,
        heads,
    );
    Tensor::from_dispatch(out)
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, TensorData, Tolerance};

    use crate::ops::dropout::mask_values;
    use super::*;

    fn random(shape: [usize; 3], device: &Device) -> Tensor<3> {
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
    }

    fn flex_of<const D: usize>(t: &Tensor<D>) -> FlexTensor {
        FlexTensor::from_data(t.to_data())
    }

    fn data(t: FlexTensor) -> TensorData {
        t.into_data()
    }

    /// The CPU kernels against the portable bodies (burn ops, run here on the CPU backend) for
    /// the context, the attention weights and the gradient of q, k and v, with and without dropout
    /// multipliers, on padded batches of odd sizes.
    #[test]
    fn cpu_kernels_match_the_portable_bodies() {
        let device = Device::flex();
        for (batch, len, heads, d, dropout) in
            [(2, 5, 3, 4, false), (3, 7, 2, 8, true), (1, 16, 4, 8, true), (2, 19, 2, 32, true), (3, 6, 1, 16, false)]
        {
            let width = heads * d;
            let (qkv, dc) = (random([batch, len, 3 * width], &device), random([batch, len, width], &device));
            let pad: Vec<f32> = (0..batch * len).map(|i| if i % len >= len - (i / len) { 1.0 } else { 0.0 }).collect();
            let pad = Tensor::<2>::from_data(TensorData::new(pad, [batch, len]), &device);
            // the CPU kernels compute the multipliers from the seed; the portable bodies get them
            let (keep, seed) = if dropout { (0.7, 5) } else { (1.0, 0) };
            let mask = match dropout {
                true => flex(mask_values(batch * heads * len * len, keep, seed), [batch, heads, len, len]),
                false => flex(Vec::new(), [0]),
            };
            let (ctx, weights, none) =
                Flex::self_attention_with_weights(flex_of(&qkv), flex_of(&pad), keep, seed, heads);
            assert!(portable::is_none::<Flex>(&none), "the CPU keeps no mask");
            let (ctx_ref, weights_ref) = portable::forward::<Flex>(flex_of(&qkv), flex_of(&pad), mask.clone(), heads);
            let case = format!("{:?}", (batch, len, heads, d, dropout));
            data(ctx).assert_approx_eq::<f32>(&data(ctx_ref), Tolerance::rel_abs(1e-4, 1e-5));
            data(weights.clone()).assert_approx_eq::<f32>(&data(weights_ref), Tolerance::rel_abs(1e-4, 1e-5));
            let ours =
                Flex::self_attention_backward(flex_of(&qkv), weights.clone(), none, keep, seed, flex_of(&dc), heads);
            let theirs = portable::backward::<Flex>(flex_of(&qkv), weights, mask, flex_of(&dc), heads);
            let (ours, theirs) = (data(ours), data(theirs));
            let values = ours.as_slice::<f32>().unwrap();
            for (part, what) in ["dq", "dk", "dv"].iter().enumerate() {
                let nonzero = values.chunks(width).skip(part).step_by(3).flatten().any(|x| x.abs() > 1e-3);
                assert!(nonzero, "{what} {case}: all zero");
            }
            ours.assert_approx_eq::<f32>(&theirs, Tolerance::rel_abs(1e-4, 1e-5));
        }
    }

    /// Long sequences outside training (the `gemm` path of [`long`]) against the portable
    /// bodies: padded items, a head size that is no multiple of the SIMD width, a length that is
    /// no multiple of the query block, with and without dropout multipliers.
    #[test]
    fn long_sequences_match_the_portable_bodies() {
        let device = Device::flex();
        for (batch, len, heads, d, dropout) in [(2, long::MIN_LEN + 45, 3, 24, false), (1, 2 * long::MIN_LEN + 3, 2, 64, true)] {
            let qkv = random([batch, len, 3 * heads * d], &device);
            let pad: Vec<f32> = (0..batch * len).map(|i| if i % len >= len - 100 * (i / len) { 1.0 } else { 0.0 }).collect();
            let pad = Tensor::<2>::from_data(TensorData::new(pad, [batch, len]), &device);
            let (keep, seed) = if dropout { (0.7, 9) } else { (1.0, 0) };
            let mask = match dropout {
                true => flex(mask_values(batch * heads * len * len, keep, seed), [batch, heads, len, len]),
                false => flex(Vec::new(), [0]),
            };
            let ctx = Flex::self_attention(flex_of(&qkv), flex_of(&pad), keep, seed, heads);
            let (ctx_ref, _) = portable::forward::<Flex>(flex_of(&qkv), flex_of(&pad), mask, heads);
            data(ctx).assert_approx_eq::<f32>(&data(ctx_ref), Tolerance::rel_abs(1e-4, 1e-5));
        }
    }

    /// Under autodiff the backward pass redoes the forward pass's dropout (the seed travels in
    /// the node's state).
    #[test]
    fn autodiff_backward_redoes_the_forward_dropout() {
        let device = Device::flex().autodiff();
        let (batch, len, heads, d, seed) = (2, 9, 2, 16, 77);
        let qkv = random([batch, len, 3 * heads * d], &device).require_grad();
        let dc = random([batch, len, heads * d], &device);
        let pad = Tensor::<2>::zeros([batch, len], &device);
        let ctx = <Dispatch as AttentionBackend>::self_attention(
            qkv.clone().into_dispatch(),
            pad.clone().into_dispatch(),
            0.7,
            seed,
            heads,
        );
        let ctx = Tensor::<3>::from_dispatch(ctx);
        let grads = (ctx.clone() * dc.clone()).sum().backward();
        let mask = flex(mask_values(batch * heads * len * len, 0.7, seed), [batch, heads, len, len]);
        let (ctx_ref, weights) = portable::forward::<Flex>(flex_of(&qkv), flex_of(&pad), mask.clone(), heads);
        let grad_ref = portable::backward::<Flex>(flex_of(&qkv), weights, mask, flex_of(&dc), heads);
        let tolerance = Tolerance::rel_abs(1e-4, 1e-5);
        data(flex_of(&ctx)).assert_approx_eq::<f32>(&data(ctx_ref), tolerance);
        data(flex_of(&qkv.grad(&grads).expect("a gradient"))).assert_approx_eq::<f32>(&data(grad_ref), tolerance);
    }
}
