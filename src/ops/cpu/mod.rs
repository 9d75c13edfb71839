//! Helpers shared by the CPU kernels: SIMD variants chosen at run time, work split over threads,
//! vectorisable `exp`/`erf`, matrix products through `gemm`, and f32 data in and out of burn-flex tensors.

pub mod fast_math;
pub mod flex_data;
pub mod gemm;
pub mod parallel;
pub mod simd;
