#!/usr/bin/env bash
# Installs the build tools both README commands need (idempotent, fast when present):
# the wasm32 target and rust-src, wasm-bindgen-cli at exactly Cargo.lock's version and trunk
# 0.21.14 (into $FINETUNE_CACHE/tools), and the npm dependencies; with --browser also Debian's
# chromium for the browser tests and Mesa's lavapipe (a Vulkan driver on the CPU, unpacked into
# $FINETUNE_CACHE/vulkan, not installed: Chromium keeps its SwiftShader) for the native wgpu tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
if [ "${1:-}" = --browser ] && [ ! -x /usr/lib/chromium/chromium ]; then
  echo "== installing Debian chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ "${1:-}" = --browser ] && [ ! -f "$FINETUNE_CACHE/vulkan/lvp_icd.json" ]; then
  echo "== unpacking Mesa's lavapipe (Vulkan on the CPU) into $FINETUNE_CACHE/vulkan"
  apt-cache policy mesa-vulkan-drivers | grep -q 'Candidate: [0-9]' || apt-get update -qq
  rm -rf "$FINETUNE_CACHE/vulkan" && mkdir -p "$FINETUNE_CACHE/vulkan/debs"
  (cd "$FINETUNE_CACHE/vulkan/debs" && apt-get download -qq mesa-vulkan-drivers libvulkan1 2>/dev/null)
  for deb in "$FINETUNE_CACHE"/vulkan/debs/*.deb; do dpkg -x "$deb" "$FINETUNE_CACHE/vulkan/root"; done
  printf '{"file_format_version": "1.0.0", "ICD": {"api_version": "1.1.230", "library_path": "%s"}}\n' \
    "$FINETUNE_CACHE/vulkan/root/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" >"$FINETUNE_CACHE/vulkan/lvp_icd.json"
fi
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
# The threaded engine rebuilds std with atomics (-Z build-std): it needs std's sources.
rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src
WB=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p')
if [ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$WB" ]; then
  echo "== installing wasm-bindgen-cli $WB (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$WB" --root "$FINETUNE_CACHE/tools"   # no --locked: a locked dependency is not in the registry
fi
# Trunk serves the demo (scripts/demo.sh); 0.22 needs a newer rustc.
if [ "$(trunk --version 2>/dev/null)" != "trunk 0.21.14" ]; then
  echo "== installing trunk 0.21.14 (10-15 minutes, once)"
  cargo install trunk --locked --version 0.21.14 --root "$FINETUNE_CACHE/tools"
fi
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
