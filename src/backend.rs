//! Choosing the compute backend: WebGPU (burn-wgpu) on a hardware adapter, else the CPU (`flex`).
//!
//! Software WebGPU adapters (SwiftShader, WARP — `isFallbackAdapter`) are 25–40× slower than the
//! CPU backend, so `Auto` treats them like no adapter at all. The user can force either.

use serde::{Deserialize, Serialize};

/// What the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendPreference {
    #[default]
    Auto,
    Webgpu,
    Cpu,
}

/// What the environment offers: the WebGPU adapter, if any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AdapterInfo {
    pub available: bool,
    pub is_fallback: bool,
    /// Vendor / architecture / description as the browser reports them.
    pub description: String,
}

/// The backend to run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Webgpu,
    Cpu,
}

/// The decision and the sentence that explains it to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendChoice {
    pub kind: BackendKind,
    pub reason: String,
}

pub fn choose_backend(preference: BackendPreference, adapter: &AdapterInfo) -> Result<BackendChoice, String> {
    let name = if adapter.description.is_empty() { "unnamed adapter" } else { adapter.description.as_str() };
    let choice = |kind, reason: String| Ok(BackendChoice { kind, reason });
    match preference {
        BackendPreference::Cpu => choice(BackendKind::Cpu, "CPU (chosen by you)".into()),
        BackendPreference::Webgpu if !adapter.available => {
            Err("WebGPU was requested but this browser offers no WebGPU adapter; choose CPU or Auto".into())
        }
        BackendPreference::Webgpu => {
            let soft = if adapter.is_fallback { ", a software adapter: expect it to be slow" } else { "" };
            choice(BackendKind::Webgpu, format!("WebGPU on {name} (chosen by you{soft})"))
        }
        BackendPreference::Auto if !adapter.available => {
            choice(BackendKind::Cpu, "CPU: this browser offers no WebGPU adapter".into())
        }
        BackendPreference::Auto if adapter.is_fallback => choice(
            BackendKind::Cpu,
            format!("CPU: the only WebGPU adapter ({name}) is a software one, slower than the CPU backend"),
        ),
        BackendPreference::Auto => choice(BackendKind::Webgpu, format!("WebGPU on {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(available: bool, is_fallback: bool) -> AdapterInfo {
        AdapterInfo { available, is_fallback, description: "SwiftShader".into() }
    }

    #[test]
    fn auto_prefers_hardware_webgpu_and_avoids_software_adapters() {
        let pick = |a| choose_backend(BackendPreference::Auto, &a).unwrap().kind;
        assert_eq!(pick(adapter(true, false)), BackendKind::Webgpu);
        assert_eq!(pick(adapter(true, true)), BackendKind::Cpu);
        assert_eq!(pick(adapter(false, false)), BackendKind::Cpu);
    }

    #[test]
    fn forcing_is_honoured_or_explained() {
        let forced = choose_backend(BackendPreference::Webgpu, &adapter(true, true)).unwrap();
        assert_eq!(forced.kind, BackendKind::Webgpu);
        assert!(forced.reason.contains("software"));
        assert!(choose_backend(BackendPreference::Webgpu, &adapter(false, false)).is_err());
        assert_eq!(choose_backend(BackendPreference::Cpu, &adapter(true, false)).unwrap().kind, BackendKind::Cpu);
    }
}
