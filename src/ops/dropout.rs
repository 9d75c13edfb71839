//! Dropout, and dropout multipliers (`0` with probability `p`, else `1 / (1 − p)`), as a burn
//! backend extension.
//!
//! burn's `Dropout` samples a Bernoulli tensor with a ChaCha generator, one draw per element (~8 %
//! of a MiniLM training step on the CPU), then multiplies. The CPU here hashes (seed, element
//! index) with a counter-based integer hash in a vectorised loop; [`dropout`] applies it in the
//! same pass and its backward regenerates the mask from the seed instead of keeping it. The GPU's
//! default bodies use burn's own random Bernoulli tensor (the seed is ignored there: the device's
//! generator, seeded by `Device::seed`, is used instead) and keep the mask for the backward.
//!
//! Seeds come from [`next_seed`]: a counter per thread that [`reseed`] restarts, so that a
//! training run with a given seed draws the same masks again, whatever else runs in the process
//! (a process-wide counter let concurrent runs, such as tests, take each other's seeds).

use std::cell::Cell;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{DType, Distribution, Tensor, TensorData};
use burn_flex::FlexTensor;

use crate::ops::cpu::flex_data::update_in_place;
use crate::ops::cpu::parallel::for_each_piece;
use crate::ops::cpu::simd::widest_simd;

thread_local! {
    static SEED: Cell<u64> = const { Cell::new(0x5EED) };
}

/// Restarts this thread's sequence of dropout seeds.
pub fn reseed(seed: u64) {
    SEED.set(seed);
}

/// Where this thread's sequence of dropout seeds stands (give it to [`reseed`] to go on from
/// there: checkpoints).
pub fn seed_state() -> u64 {
    SEED.get()
}

/// This thread's next dropout seed.
pub fn next_seed() -> u64 {
    splitmix64(SEED.replace(SEED.get().wrapping_add(1)))
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 32-bit integer hash with good avalanche ("lowbias32").
#[inline(always)]
fn hash32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7FEB_352D);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846C_A68B);
    x ^ (x >> 16)
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait DropoutMaskBackend: Backend {
    /// `x` times dropout multipliers (`0` with probability `1 − keep`, else `1 / keep`), and what
    /// [`Self::dropout_apply_grad`] needs to redo them: the multipliers, or an empty tensor where
    /// the seed regenerates them (the CPU).
    fn dropout_apply(x: FloatTensor<Self>, keep: f32, seed: u64) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let _ = seed;
        let mask = bernoulli::<Self>(x.clone(), keep);
        (Self::float_mul(x, mask.clone()), mask)
    }

    /// The gradient of [`Self::dropout_apply`]'s input: `grad` times the same multipliers.
    fn dropout_apply_grad(grad: FloatTensor<Self>, mask: FloatTensor<Self>, keep: f32, seed: u64) -> FloatTensor<Self> {
        let _ = (keep, seed);
        Self::float_mul(grad, mask)
    }
}

/// The portable mask: burn's Bernoulli tensor from the device's generator, scaled.
pub fn bernoulli<B: Backend>(like: FloatTensor<B>, keep: f32) -> FloatTensor<B> {
    let (shape, device, dtype) = (like.shape(), like.device(), like.dtype());
    let random = B::float_random(shape, Distribution::Bernoulli(keep as f64), &device, dtype.into());
    B::float_mul_scalar(random, (1.0 / keep).into())
}

#[cfg(feature = "wgpu")]
impl DropoutMaskBackend for burn::backend::Cube {}

impl DropoutMaskBackend for Flex {
    fn dropout_apply(x: FlexTensor, keep: f32, seed: u64) -> (FlexTensor, FlexTensor) {
        if x.dtype() != DType::F32 {
            let mask = bernoulli::<Self>(x.clone(), keep);
            return (Self::float_mul(x, mask.clone()), mask);
        }
        let empty = FlexTensor::from_data(TensorData::new(Vec::<f32>::new(), [0]));
        (masked(x, keep, seed), empty)
    }

    fn dropout_apply_grad(grad: FlexTensor, mask: FlexTensor, keep: f32, seed: u64) -> FlexTensor {
        if mask.shape().num_elements() != 0 {
            return Self::float_mul(grad, mask); // made by the non-f32 path above
        }
        masked(grad, keep, seed)
    }
}

/// `x` times the multipliers of [`MaskKey`], in one pass, in place where `x` owns its buffer
/// alone (under autodiff nothing keeps it: the backward pass regenerates the mask).
fn masked(x: FlexTensor, keep: f32, seed: u64) -> FlexTensor {
    let key = MaskKey::new(keep, seed);
    update_in_place(x, |x| {
        for_each_piece(
            x,
            |start, x| widest_simd!(masked_loop(key: MaskKey = key, start: usize = start, x: &mut [f32] = x)),
        )
    })
    .0
}

#[inline(always)]
fn masked_loop(key: MaskKey, start: usize, x: &mut [f32]) {
    let start = start as u32;
    for (i, x) in x.iter_mut().enumerate() {
        *x *= key.multiplier(start.wrapping_add(i as u32));
    }
}

/// One CPU dropout mask (keep probability + seed) without its values: element `i` is kept when
/// `hash(hash(i ⊕ a) ⊕ b) / 2³² < keep` (`a`, `b` from the seed), so any kernel can compute the
/// multiplier of any element where it needs it instead of reading a stored mask.
#[derive(Clone, Copy, Debug)]
pub struct MaskKey {
    a: u32,
    b: u32,
    threshold: u32,
    scale: f32,
}

impl MaskKey {
    pub fn new(keep: f32, seed: u64) -> Self {
        let threshold = (keep as f64 * 4_294_967_296.0).min(u32::MAX as f64) as u32;
        Self { a: seed as u32, b: (seed >> 32) as u32, threshold, scale: 1.0 / keep }
    }

    /// Element `index`'s multiplier: `0` or `1 / keep`.
    #[inline(always)]
    pub fn multiplier(&self, index: u32) -> f32 {
        if hash32(hash32(index ^ self.a) ^ self.b) < self.threshold { self.scale } else { 0.0 }
    }

    /// The multipliers of elements `start..start + out.len()`.
    #[inline(always)]
    pub fn fill(&self, start: usize, out: &mut [f32]) {
        let start = start as u32;
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.multiplier(start.wrapping_add(i as u32));
        }
    }
}

/// The CPU mask's values (see [`MaskKey`]): the reference the fused kernels are tested against.
#[cfg(test)]
pub fn mask_values(len: usize, keep: f32, seed: u64) -> Vec<f32> {
    let key = MaskKey::new(keep, seed);
    (0..len).map(|i| key.multiplier(i as u32)).collect()
}

/// The mask is a constant: no gradient flows through it.
#[derive(Debug)]
struct MaskLeaf;

impl<B: Backend> Backward<B, 0> for MaskLeaf {
    type State = ();

    fn backward(self, _ops: Ops<Self::State, 0>, _grads: &mut Gradients, _checkpointer: &mut Checkpointer) {}
}

/// The backward step of [`DropoutMaskBackend::dropout_apply`] under autodiff.
#[derive(Debug)]
struct DropoutBackward;

impl<B: DropoutMaskBackend> Backward<B, 1> for DropoutBackward {
    /// The multipliers (or an empty tensor), the keep probability and the seed.
    type State = (FloatTensor<B>, f32, u64);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let (mask, keep, seed) = ops.state;
        if let Some(node) = &ops.parents[0] {
            grads.register::<B>(node.id, B::dropout_apply_grad(grad, mask, keep, seed));
        }
    }
}

impl<B: DropoutMaskBackend, C: CheckpointStrategy> DropoutMaskBackend for Autodiff<B, C> {
    fn dropout_apply(x: FloatTensor<Self>, keep: f32, seed: u64) -> (FloatTensor<Self>, FloatTensor<Self>) {
        match DropoutBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (y, mask) = B::dropout_apply(x.into_primitive(), keep, seed);
                let out = prep.finish((mask.clone(), keep, seed), y);
                (out, MaskLeaf.prepare::<C>([]).compute_bound().stateless(mask))
            }
            OpsKind::UnTracked(prep) => {
                let (y, mask) = B::dropout_apply(x.into_primitive(), keep, seed);
                (prep.finish(y), MaskLeaf.prepare::<C>([]).compute_bound().stateless(mask))
            }
        }
    }
}

/// Dropout of `x` with probability `prob` (`0 ≤ prob < 1`): each element zeroed or scaled by
/// `1 / (1 − prob)`, with a gradient through the same multipliers.
///
/// # Shapes
/// - x, output: any, the same
pub fn dropout<const D: usize>(x: Tensor<D>, prob: f64) -> Tensor<D> {
    let (y, _) = <Dispatch as DropoutMaskBackend>::dropout_apply(x.into_dispatch(), (1.0 - prob) as f32, next_seed());
    Tensor::from_dispatch(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_right_share_with_the_right_scale() {
        for (keep, seed) in [(0.9f32, 1u64), (0.5, 2), (0.9, 3)] {
            let mask = mask_values(200_000, keep, splitmix64(seed));
            let kept = mask.iter().filter(|&&m| m != 0.0).count() as f32 / mask.len() as f32;
            assert!((kept - keep).abs() < 0.005, "kept {kept} for {keep}");
            assert!(mask.iter().all(|&m| m == 0.0 || (m - 1.0 / keep).abs() < 1e-6));
        }
        // seeds give different masks; the same seed the same one
        let (a, b) = (mask_values(1000, 0.5, 7), mask_values(1000, 0.5, 8));
        assert!(a.iter().zip(&b).filter(|(x, y)| x != y).count() > 300);
        assert_eq!(a, mask_values(1000, 0.5, 7));
    }

    /// The fused op (CPU) drops exactly where the mask says, and its gradient under autodiff is
    /// the upstream gradient times the same multipliers.
    #[test]
    fn fused_dropout_uses_the_mask_forward_and_backward() {
        use burn::tensor::{Device, Distribution};
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::random([300, 257], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let upstream = Tensor::<2>::random([300, 257], Distribution::Normal(0.0, 1.0), &device);
        reseed(42);
        let seed = next_seed();
        reseed(42); // `dropout` draws the same seed
        let y = dropout(x.clone(), 0.25);
        let mask = mask_values(300 * 257, 0.75, seed);
        let expected: Vec<f32> = x.to_data().iter::<f32>().zip(&mask).map(|(x, m)| x * m).collect();
        assert!(y.to_data().try_to_vec::<f32>().unwrap() == expected, "forward");
        let grads = (y * upstream.clone()).sum().backward();
        let expected: Vec<f32> = upstream.to_data().iter::<f32>().zip(&mask).map(|(g, m)| g * m).collect();
        assert!(x.grad(&grads).unwrap().to_data().try_to_vec::<f32>().unwrap() == expected, "backward");
    }

    /// Neighbouring elements are not correlated (a counter hash could stripe).
    #[test]
    fn neighbours_are_independent() {
        let mask = mask_values(100_000, 0.5, 11);
        let both = mask.windows(2).filter(|w| w[0] != 0.0 && w[1] != 0.0).count() as f32 / 99_999.0;
        assert!((both - 0.25).abs() < 0.01, "P(both kept) = {both}");
    }

    /// On the CPU the fused op works in place on a tensor of its own and leaves a shared one
    /// alone; both give the same result.
    #[test]
    fn in_place_only_when_owned() {
        use crate::ops::cpu::flex_data::flex;
        let values: Vec<f32> = (0..70_000).map(|i| i as f32).collect();
        let shared = flex(values.clone(), [70_000]);
        let kept = shared.clone();
        let (from_shared, _) = Flex::dropout_apply(shared, 0.5, 9);
        let (from_owned, _) = Flex::dropout_apply(flex(values.clone(), [70_000]), 0.5, 9);
        let expected: Vec<f32> = values.iter().zip(mask_values(70_000, 0.5, 9)).map(|(x, m)| x * m).collect();
        assert_eq!(from_shared.into_data().try_to_vec::<f32>().unwrap(), expected);
        assert_eq!(from_owned.into_data().try_to_vec::<f32>().unwrap(), expected);
        assert_eq!(kept.into_data().try_to_vec::<f32>().unwrap(), values, "the shared input changed");
    }
}
