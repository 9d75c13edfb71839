//! Running a kernel with the widest SIMD the CPU offers.

/// Calls `kernel` compiled for the widest SIMD of this CPU: natively on x86-64 AVX-512 or
/// AVX2 + FMA, chosen at run time (the baseline x86-64 build only has SSE2); elsewhere (wasm:
/// SIMD128 from the build flags) as built. The kernel must be `#[inline(always)]` so that it is
/// compiled into each variant:
///
/// ```ignore
/// widest_simd!(forward_item(x: &[f32] = input, out: &mut [f32] = out))
/// widest_simd!(mask(len: usize = n) -> Vec<f32>)
/// ```
macro_rules! widest_simd {
    ($kernel:ident($($name:ident: $ty:ty = $arg:expr),* $(,)?) $(-> $ret:ty)?) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f")]
            fn avx512($($name: $ty),*) $(-> $ret)? {
                $kernel($($name),*)
            }
            #[target_feature(enable = "avx2,fma")]
            fn avx2($($name: $ty),*) $(-> $ret)? {
                $kernel($($name),*)
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has the feature (checked just above).
                unsafe { avx512($($arg),*) }
            } else if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: as above.
                unsafe { avx2($($arg),*) }
            } else {
                $kernel($($arg),*)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            $kernel($($arg),*)
        }
    }};
}

pub(crate) use widest_simd;
