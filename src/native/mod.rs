//! Native-only helpers for the CLI and benchmarks: reading a folder-per-class image or sound set,
//! a text file or an audio file from disk, and choosing a native device.

pub mod audio_file;
pub mod audio_folder;
pub mod bench;
pub mod folder;
pub mod speech_data;
pub mod text_file;

use burn::tensor::Device;

use crate::backend::BackendKind;
use crate::error::Error;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (index 15 in versions 2 and 3; the Rust
/// bindings have no constant for it): milliseconds before freed memory goes back to the OS.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells the allocator (mimalloc, the binaries' global allocator) to keep freed memory instead
/// of returning it to the OS after a delay: a training step frees and reallocates the same large
/// buffers, and each return made a later step fault the pages in again (the kernel zeroing
/// fresh 2 MiB pages: ~4 % of a MiniLM step, on the main thread while the others wait). Peak
/// memory is unchanged. Does nothing unless the option reads as a delay (≥ 0).
pub fn keep_freed_memory() {
    // SAFETY: plain option getters/setters of the linked mimalloc.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) >= 0 {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
        }
    }
}

/// A native device: the CPU backend, or wgpu (Vulkan/Metal/DX12) when asked for (initialised
/// once per process: a second initialisation fails, so later calls get the same device).
pub fn native_device(kind: BackendKind) -> Result<Device, Error> {
    match kind {
        BackendKind::Cpu => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        BackendKind::Webgpu => {
            static WGPU: std::sync::OnceLock<Result<Device, String>> = std::sync::OnceLock::new();
            let device = WGPU.get_or_init(|| Device::wgpu_options().init().map_err(|e| format!("{e:?}")));
            device.clone().map_err(|e| Error::Backend(format!("no GPU adapter: {e}")))
        }
        #[cfg(not(feature = "wgpu"))]
        BackendKind::Webgpu => Err(Error::Backend("built without the `wgpu` feature".into())),
    }
}
