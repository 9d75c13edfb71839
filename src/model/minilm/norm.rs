//! BERT's LayerNorm (ε = 10⁻¹²) through the fused op of [`crate::ops::layer_norm`].

use burn::nn::LayerNorm;
use burn::tensor::Tensor;

/// MiniLM's LayerNorm epsilon.
pub const EPS: f64 = 1e-12;

/// `norm` (built with [`EPS`]) applied to the last dimension of `x`.
///
/// # Shapes
/// - x, output: `[..., hidden]`
pub fn normalize<const D: usize>(norm: &LayerNorm, x: Tensor<D>) -> Tensor<D> {
    match &norm.beta {
        Some(beta) => crate::ops::layer_norm(x, norm.gamma.val(), beta.val(), EPS as f32),
        None => norm.forward(x),
    }
}
