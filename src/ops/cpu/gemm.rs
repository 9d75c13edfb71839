//! One call into the `gemm` crate for every CPU kernel that multiplies matrices: strided operands
//! (a transposed or interleaved matrix is the same buffer with other strides: nothing is copied).

/// A matrix by its first element and (row, column) strides in elements.
#[derive(Clone, Copy, Debug)]
pub(crate) struct View<T> {
    pub ptr: T,
    pub strides: [isize; 2],
}

/// `dst = [dst +] scale · lhs · rhs` for an `m × n` `dst`, an `m × k` `lhs` and a `k × n` `rhs`;
/// `parallel`: split over rayon's threads where rayon is built in.
///
/// # Safety
/// The views must cover their strided matrices; `dst` must not overlap the operands.
pub(crate) unsafe fn product(
    [m, n, k]: [usize; 3],
    dst: View<*mut f32>,
    accumulate: bool,
    lhs: View<*const f32>,
    rhs: View<*const f32>,
    scale: f32,
    parallel: bool,
) {
    #[cfg(any(not(target_arch = "wasm32"), feature = "threads"))]
    let parallelism = if parallel { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
    #[cfg(not(any(not(target_arch = "wasm32"), feature = "threads")))]
    let parallelism = {
        let _ = parallel;
        gemm::Parallelism::None
    };
    // SAFETY: the caller's contract; `dst` is written whole (read only when accumulating).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.ptr,
            dst.strides[1],
            dst.strides[0],
            accumulate,
            lhs.ptr,
            lhs.strides[1],
            lhs.strides[0],
            rhs.ptr,
            rhs.strides[1],
            rhs.strides[0],
            1.0,
            scale,
            false,
            false,
            false,
            parallelism,
        );
    }
}
