//! Multi-head self-attention as one burn backend extension op with its own backward pass.
//!
//! - CPU (`Flex`): the fused kernels of [`super::attention_cpu`] on the projections' layout.
//! - GPU (`Cube`, i.e. wgpu): the trait's default bodies ([`portable`]) — split heads, batched
//!   matrix products, softmax — the same work as burn's `MultiHeadAttention`.
//! - `Autodiff<B>`: records one node; its backward calls [`AttentionBackend::self_attention_backward`]
//!   with the attention weights kept from the forward pass. burn 0.22's module is a chain of ~12
//!   recorded ops whose backward re-runs the swaps, masks and softmax pieces separately.
//!
//! Softmax runs over the keys that are not padding; `keep` holds dropout multipliers of the
//! attention weights (after softmax, as in BERT), or nothing outside training.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Bool, DType, Shape, Tensor, TensorData};
use burn_flex::FlexTensor;

use super::attention_cpu::{self, AttentionGeometry, AttentionInputs};

fn geometry(q: &Shape, heads: usize) -> AttentionGeometry {
    AttentionGeometry { batch: q[0], len: q[1], heads, head_dim: q[2] / heads }
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait AttentionBackend: Backend {
    /// # Shapes
    /// - q, k, v: `[batch, len, heads · head_dim]`
    /// - pad: `[batch, len]`, 1 at padding, else 0
    /// - keep: `[batch, heads, len, len]` dropout multipliers, or an empty tensor (`[0]`) for none
    /// - returns the context `[batch, len, heads · head_dim]`
    fn self_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        pad: FloatTensor<Self>,
        keep: FloatTensor<Self>,
        heads: usize,
    ) -> FloatTensor<Self> {
        portable::forward::<Self>(q, k, v, pad, keep, heads).0
    }

    /// [`Self::self_attention`] and the attention weights before dropout (`[batch, heads, len, len]`).
    fn self_attention_with_weights(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        pad: FloatTensor<Self>,
        keep: FloatTensor<Self>,
        heads: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        portable::forward::<Self>(q, k, v, pad, keep, heads)
    }

    /// Gradients of `q`, `k`, `v` from the context's gradient `grad`.
    #[allow(clippy::too_many_arguments)]
    fn self_attention_backward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        weights: FloatTensor<Self>,
        keep: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        heads: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        portable::backward::<Self>(q, k, v, weights, keep, grad, heads)
    }
}

/// Attention from burn's backend ops (what the GPU runs).
pub mod portable {
    use super::*;

    /// `[batch, len, heads · d]` → `[batch, heads, len, d]`.
    fn split<B: Backend>(x: FloatTensor<B>, heads: usize) -> FloatTensor<B> {
        let s = x.shape();
        B::float_swap_dims(B::float_reshape(x, Shape::new([s[0], s[1], heads, s[2] / heads])), 1, 2)
    }

    /// The inverse of [`split`].
    fn merge<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
        let s = x.shape();
        B::float_reshape(B::float_swap_dims(x, 1, 2), Shape::new([s[0], s[2], s[1] * s[3]]))
    }

    /// An empty `keep` tensor stands for "no dropout".
    pub fn is_none<B: Backend>(keep: &FloatTensor<B>) -> bool {
        keep.shape().num_elements() == 0
    }

    fn expand_rows<B: Backend>(x: FloatTensor<B>, to: &Shape) -> FloatTensor<B> {
        B::float_expand(x, to.clone())
    }

    pub fn forward<B: Backend>(
        q: FloatTensor<B>,
        k: FloatTensor<B>,
        v: FloatTensor<B>,
        pad: FloatTensor<B>,
        keep: FloatTensor<B>,
        heads: usize,
    ) -> (FloatTensor<B>, FloatTensor<B>) {
        let g = geometry(&q.shape(), heads);
        let scale = 1.0 / (g.head_dim as f32).sqrt();
        let (q, k, v) = (split::<B>(q, heads), split::<B>(k, heads), split::<B>(v, heads));
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
        q: FloatTensor<B>,
        k: FloatTensor<B>,
        v: FloatTensor<B>,
        weights: FloatTensor<B>,
        keep: FloatTensor<B>,
        grad: FloatTensor<B>,
        heads: usize,
    ) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
        let g = geometry(&q.shape(), heads);
        let scale = 1.0 / (g.head_dim as f32).sqrt();
        let (q, k, v, dc) = (split::<B>(q, heads), split::<B>(k, heads), split::<B>(v, heads), split::<B>(grad, heads));
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
        (merge::<B>(dq), merge::<B>(dk), merge::<B>(dv))
    }
}

#[cfg(feature = "wgpu")]
impl AttentionBackend for burn::backend::Cube {}

/// Calls `f` with the f32 contents of a CPU tensor in row-major order (no copy when contiguous).
fn with_contents<R>(t: FlexTensor, f: impl FnOnce(&[f32]) -> R) -> R {
    match t.as_slice::<f32>() {
        Some(values) => f(values),
        None => f(t.to_contiguous().as_slice::<f32>().expect("attention: f32 tensors")),
    }
}

fn with_inputs<R>([q, k, v, pad, keep]: [FlexTensor; 5], f: impl FnOnce(AttentionInputs) -> R) -> R {
    with_contents(q, |q| {
        with_contents(k, |k| {
            with_contents(v, |v| {
                with_contents(pad, |pad| {
                    with_contents(keep, |keep| {
                        f(AttentionInputs { q, k, v, pad, keep: (!keep.is_empty()).then_some(keep) })
                    })
                })
            })
        })
    })
}

fn flex(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn all_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}

impl AttentionBackend for Flex {
    fn self_attention(
        q: FlexTensor,
        k: FlexTensor,
        v: FlexTensor,
        pad: FlexTensor,
        keep: FlexTensor,
        heads: usize,
    ) -> FlexTensor {
        if !all_f32(&[&q, &k, &v, &pad]) {
            return portable::forward::<Self>(q, k, v, pad, keep, heads).0;
        }
        let (shape, g) = (q.shape(), geometry(&q.shape(), heads));
        let (ctx, _) = with_inputs([q, k, v, pad, keep], |x| attention_cpu::forward(x, &g, false));
        flex(ctx, shape)
    }

    fn self_attention_with_weights(
        q: FlexTensor,
        k: FlexTensor,
        v: FlexTensor,
        pad: FlexTensor,
        keep: FlexTensor,
        heads: usize,
    ) -> (FlexTensor, FlexTensor) {
        if !all_f32(&[&q, &k, &v, &pad]) {
            return portable::forward::<Self>(q, k, v, pad, keep, heads);
        }
        let (shape, g) = (q.shape(), geometry(&q.shape(), heads));
        let (ctx, weights) = with_inputs([q, k, v, pad, keep], |x| attention_cpu::forward(x, &g, true));
        (flex(ctx, shape), flex(weights, Shape::new([g.batch, g.heads, g.len, g.len])))
    }

    fn self_attention_backward(
        q: FlexTensor,
        k: FlexTensor,
        v: FlexTensor,
        weights: FlexTensor,
        keep: FlexTensor,
        grad: FlexTensor,
        heads: usize,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        if !all_f32(&[&q, &k, &v, &weights, &grad]) {
            return portable::backward::<Self>(q, k, v, weights, keep, grad, heads);
        }
        let (shape, g) = (q.shape(), geometry(&q.shape(), heads));
        // the backward kernels do not read the padding: masked weights are already 0
        let no_pad = flex(Vec::new(), Shape::new([0]));
        let [dq, dk, dv] = with_contents(weights, |w| {
            with_contents(grad, |dc| with_inputs([q, k, v, no_pad, keep], |x| attention_cpu::backward(x, w, dc, &g)))
        });
        (flex(dq, shape.clone()), flex(dk, shape.clone()), flex(dv, shape))
    }
}

/// The backward step of [`AttentionBackend::self_attention`] under autodiff.
#[derive(Debug)]
struct AttentionBackward;

impl<B: AttentionBackend> Backward<B, 3> for AttentionBackward {
    /// Checkpointed q, k, v; the attention weights and dropout multipliers; the head count.
    type State = (NodeId, NodeId, NodeId, FloatTensor<B>, FloatTensor<B>, usize);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_q, node_k, node_v] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (q, k, v, weights, keep, heads) = ops.state;
        let [q, k, v] = [q, k, v].map(|id| checkpointer.retrieve_node_output::<FloatTensor<B>>(id));
        let (dq, dk, dv) = B::self_attention_backward(q, k, v, weights, keep, grad, heads);
        for (node, g) in [(node_q, dq), (node_k, dk), (node_v, dv)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

impl<B: AttentionBackend, C: CheckpointStrategy> AttentionBackend for Autodiff<B, C> {
    fn self_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        pad: FloatTensor<Self>,
        keep: FloatTensor<Self>,
        heads: usize,
    ) -> FloatTensor<Self> {
        let (pad, keep) = (pad.into_primitive(), keep.into_primitive());
        match AttentionBackward.prepare::<C>([q.node(), k.node(), v.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let ids = (prep.checkpoint(&q), prep.checkpoint(&k), prep.checkpoint(&v));
                let (ctx, weights) = B::self_attention_with_weights(
                    q.into_primitive(),
                    k.into_primitive(),
                    v.into_primitive(),
                    pad,
                    keep.clone(),
                    heads,
                );
                prep.finish((ids.0, ids.1, ids.2, weights, keep, heads), ctx)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::self_attention(
                q.into_primitive(),
                k.into_primitive(),
                v.into_primitive(),
                pad,
                keep,
                heads,
            )),
        }
    }
}

/// Multi-head self-attention on any device (see the module docs).
///
/// # Shapes
/// - q, k, v: `[batch, len, heads · head_dim]` (the projections)
/// - pad: `[batch, len]`, `true` at padding
/// - keep: `[batch, heads, len, len]` dropout multipliers (training), or none
/// - output: `[batch, len, heads · head_dim]`
pub fn self_attention(
    q: Tensor<3>,
    k: Tensor<3>,
    v: Tensor<3>,
    pad: Tensor<2, Bool>,
    keep: Option<Tensor<4>>,
    heads: usize,
) -> Tensor<3> {
    let device = q.device();
    let keep = keep.map(|k| k.into_dispatch());
    let out = <Dispatch as AttentionBackend>::self_attention(
        q.into_dispatch(),
        k.into_dispatch(),
        v.into_dispatch(),
        pad.float().into_dispatch(),
        keep.unwrap_or_else(|| Tensor::<1>::empty([0], &device).into_dispatch()),
        heads,
    );
    Tensor::from_dispatch(out)
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Distribution, Tolerance};

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
    /// the context, the attention weights and the three gradients, with and without dropout
    /// multipliers, on padded batches of odd sizes.
    #[test]
    fn cpu_kernels_match_the_portable_bodies() {
        let device = Device::flex();
        for (batch, len, heads, d, dropout) in [(2, 5, 3, 4, false), (3, 7, 2, 8, true), (1, 16, 4, 8, true)] {
            let width = heads * d;
            let [q, k, v, dc] = [0, 1, 2, 3].map(|_| random([batch, len, width], &device));
            let pad: Vec<f32> = (0..batch * len).map(|i| if i % len >= len - (i / len) { 1.0 } else { 0.0 }).collect();
            let pad = Tensor::<2>::from_data(TensorData::new(pad, [batch, len]), &device);
            let keep = if dropout {
                let values = super::super::dropout::mask_values(batch * heads * len * len, 0.7, 5);
                FlexTensor::from_data(TensorData::new(values, [batch, heads, len, len]))
            } else {
                FlexTensor::from_data(TensorData::new(Vec::<f32>::new(), [0]))
            };
            let inputs = || (flex_of(&q), flex_of(&k), flex_of(&v), flex_of(&pad), keep.clone());
            let (a, b, c, p, m) = inputs();
            let (ctx, weights) = Flex::self_attention_with_weights(a, b, c, p, m, heads);
            let (a, b, c, p, m) = inputs();
            let (ctx_ref, weights_ref) = portable::forward::<Flex>(a, b, c, p, m, heads);
            let case = format!("{:?}", (batch, len, heads, d, dropout));
            data(ctx).assert_approx_eq::<f32>(&data(ctx_ref), Tolerance::rel_abs(1e-4, 1e-5));
            data(weights.clone()).assert_approx_eq::<f32>(&data(weights_ref), Tolerance::rel_abs(1e-4, 1e-5));
            let (a, b, c, _, m) = inputs();
            let ours = Flex::self_attention_backward(a, b, c, weights.clone(), m, flex_of(&dc), heads);
            let (a, b, c, _, m) = inputs();
            let theirs = portable::backward::<Flex>(a, b, c, weights, m, flex_of(&dc), heads);
            for (o, t, what) in [(ours.0, theirs.0, "dq"), (ours.1, theirs.1, "dk"), (ours.2, theirs.2, "dv")] {
                let (o, t) = (data(o), data(t));
                assert!(o.as_slice::<f32>().unwrap().iter().any(|x| x.abs() > 1e-3), "{what} {case}: all zero");
                o.assert_approx_eq::<f32>(&t, Tolerance::rel_abs(1e-4, 1e-5));
            }
        }
    }
}
