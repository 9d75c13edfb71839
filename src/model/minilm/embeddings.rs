//! BERT input embeddings: word + position + token type (always 0), then LayerNorm.

use burn::module::{Module, Param};
use burn::nn::{Embedding, LayerNorm};
use burn::tensor::{Int, Tensor};

#[derive(Module, Debug)]
pub struct Embeddings {
    pub word: Embedding,
    pub position: Embedding,
    /// The token-type-0 row (single-segment input).
    pub token_type: Param<Tensor<1>>,
    pub norm: LayerNorm,
}

impl Embeddings {
    /// # Shapes
    /// - ids: `[batch, len]` token ids (`len` ≤ 512)
    /// - output: `[batch, len, hidden]`
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [_, len] = ids.dims();
        let positions = Tensor::<1, Int>::arange(0..len as i64, &ids.device()).unsqueeze::<2>(); // [1, len]
        let x = self.word.forward(ids) + self.position.forward(positions);
        let x = x + self.token_type.val().unsqueeze::<3>();
        super::norm::normalize(&self.norm, x)
    }
}
