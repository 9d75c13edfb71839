//! Mean pooling over the real (non-padding) tokens: the sentence-transformers pooling of MiniLM.

use burn::tensor::{Bool, Tensor};

/// # Shapes
/// - hidden: `[batch, len, hidden]`
/// - mask_pad: `[batch, len]`, `true` at padding
/// - output: `[batch, hidden]`
pub fn mean_pool(hidden: Tensor<3>, mask_pad: Tensor<2, Bool>) -> Tensor<2> {
    let [batch, _, width] = hidden.dims();
    let keep = mask_pad.bool_not().float().unsqueeze_dim::<3>(2); // [batch, len, 1]
    let sum = (hidden * keep.clone()).sum_dim(1).reshape([batch, width]);
    let count = keep.sum_dim(1).reshape([batch, 1]).clamp_min(1.0);
    sum / count
}
