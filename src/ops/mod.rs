//! Tensor operations burn does not have in the form we need, as backend extensions.

pub mod adamw_update;
pub mod depthwise;
pub mod depthwise_cpu;
pub mod relu6;

pub use depthwise::depthwise_conv_nhwc;
pub use relu6::relu6;
