//! Tensor operations burn does not have in the form we need, as backend extensions. One folder
//! per op with several files (`mod.rs`: the backend trait, its portable default bodies and the
//! autodiff node; `cpu.rs`: the CPU kernels), one file per small op; `cpu/` holds the helpers
//! the CPU kernels share.

pub mod adamw_update;
pub mod attention;
pub mod cpu;
pub mod depthwise;
pub mod dropout;
pub mod gelu;
pub mod layer_norm;
pub mod linear;
pub mod relu6;

pub use attention::self_attention;
pub use depthwise::depthwise_conv_nhwc;
pub use dropout::dropout;
pub use gelu::gelu;
pub use layer_norm::layer_norm;
pub use linear::{dense, linear};
pub use relu6::relu6;
