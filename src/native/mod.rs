//! Native-only helpers for the CLI and benchmarks: reading a folder-per-class image set or a text
//! file from disk, and choosing a native device.

pub mod bench;
pub mod folder;
pub mod text_file;

use burn::tensor::Device;

use crate::backend::BackendKind;
use crate::error::Error;

/// A native device: the CPU backend, or wgpu (Vulkan/Metal/DX12) when asked for.
pub fn native_device(kind: BackendKind) -> Result<Device, Error> {
    match kind {
        BackendKind::Cpu => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        BackendKind::Webgpu => Device::wgpu_options().init().map_err(|e| Error::Backend(format!("no GPU adapter: {e:?}"))),
        #[cfg(not(feature = "wgpu"))]
        BackendKind::Webgpu => Err(Error::Backend("built without the `wgpu` feature".into())),
    }
}
