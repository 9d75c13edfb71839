//! Sequences of per-position features padded to a batch's longest, and their mean pooling over
//! the real positions: the tokens of texts (MiniLM's sentence-transformers pooling) and the
//! frames of audio clips (Whisper's encoder, without the 30-s padding).

use burn::tensor::{Bool, Tensor};

/// A batch of cached trunk outputs, padded to the batch's longest sequence.
#[derive(Clone, Debug)]
pub struct SequenceBatch {
    /// `[batch, len, width]`
    pub hidden: Tensor<3>,
    /// `[batch, len]`, `true` at padding
    pub mask_pad: Tensor<2, Bool>,
}

/// # Shapes
/// - hidden: `[batch, len, width]`
/// - mask_pad: `[batch, len]`, `true` at padding
/// - output: `[batch, width]`
pub fn mean_pool(hidden: Tensor<3>, mask_pad: Tensor<2, Bool>) -> Tensor<2> {
    let [batch, _, width] = hidden.dims();
    let keep = mask_pad.bool_not().float().unsqueeze_dim::<3>(2); // [batch, len, 1]
    let sum = (hidden * keep.clone()).sum_dim(1).reshape([batch, width]);
    let count = keep.sum_dim(1).reshape([batch, 1]).clamp_min(1.0);
    sum / count
}
