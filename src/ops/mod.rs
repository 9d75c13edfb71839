//! Tensor operations burn does not have in the form we need, as backend extensions.

pub mod adamw_update;
pub mod attention;
pub mod attention_cpu;
pub mod attention_tiles;
pub mod depthwise;
pub mod depthwise_cpu;
pub mod dropout;
pub mod fast_math;
pub mod flex_data;
pub mod gelu;
pub mod layer_norm;
pub mod layer_norm_cpu;
pub mod linear;
pub mod linear_cpu;
pub mod parallel;
pub mod relu6;
pub mod simd;

pub use attention::self_attention;
pub use depthwise::depthwise_conv_nhwc;
pub use dropout::dropout;
pub use gelu::gelu;
pub use layer_norm::layer_norm;
pub use linear::{dense, linear};
pub use relu6::relu6;
