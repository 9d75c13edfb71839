//! Moving f32 data in and out of the CPU backend's tensors, for the CPU kernels of these ops.

use burn::backend::TensorMetadata;
use burn::tensor::{DType, Shape, TensorData};
use burn_flex::FlexTensor;

/// Calls `f` with the f32 contents of a CPU tensor in row-major order (no copy when contiguous).
pub fn with_contents<R>(t: FlexTensor, f: impl FnOnce(&[f32]) -> R) -> R {
    match t.as_slice::<f32>() {
        Some(values) => f(values),
        None => f(t.to_contiguous().as_slice::<f32>().expect("f32 tensors (checked by the caller)")),
    }
}

/// `t` with its f32 contents (row-major) changed in place by `f`, and what `f` returned: no new
/// buffer when `t` owns a contiguous buffer alone (the usual case for a gradient or an op's fresh
/// output), else `f` works on a copy.
pub fn update_in_place<R>(mut t: FlexTensor, f: impl FnOnce(&mut [f32]) -> R) -> (FlexTensor, R) {
    if contents_mut(&mut t).is_none() {
        t = flex(with_contents(t.clone(), <[f32]>::to_vec), t.shape());
    }
    let result = f(contents_mut(&mut t).expect("a contiguous f32 buffer of its own"));
    (t, result)
}

/// The f32 contents of a CPU tensor to overwrite, if it is f32, contiguous and owns its buffer
/// alone.
fn contents_mut(t: &mut FlexTensor) -> Option<&mut [f32]> {
    let (start, end) = t.layout().contiguous_offsets().filter(|_| t.dtype() == DType::F32)?;
    t.try_storage_mut::<f32>().map(|values| &mut values[start..end])
}

/// A CPU tensor owning `values`.
pub fn flex(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// Whether every tensor is f32, the kernels' type (others take the portable bodies).
pub fn all_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}
