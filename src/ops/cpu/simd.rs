//! Running a kernel with the widest SIMD the CPU offers, and the per-lane sums the kernels share.

/// Lanes of the per-lane sums and register tiles of the CPU kernels (one AVX-512 vector).
pub(crate) const LANES: usize = 16;

/// `Σ a[i] · b[i]` (`Σ a[i]` without `b`), summed per lane (one running float sum
/// is a chain of dependent adds that does not vectorise).
#[inline(always)]
pub(crate) fn lane_dot(a: &[f32], b: Option<&[f32]>) -> f32 {
    let mut lanes = [0.0f32; LANES];
    match b {
        Some(b) => {
            for (a, b) in a.chunks(LANES).zip(b.chunks(LANES)) {
                for ((l, &a), &b) in lanes.iter_mut().zip(a).zip(b) {
                    *l += a * b;
                }
            }
        }
        None => {
            for a in a.chunks(LANES) {
                for (l, &a) in lanes.iter_mut().zip(a) {
                    *l += a;
                }
            }
        }
    }
    lanes.iter().sum()
}

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
