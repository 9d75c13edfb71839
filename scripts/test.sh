#!/usr/bin/env bash
# Installs what the tests need and runs every test: native unit + integration tests (model parity,
# training guarantees, a real fine-tune), a smoke run of every fuzz target, the npm package's unit tests, then the browser end-to-end
# tests in headless Chromium (CPU wasm and WebGPU/SwiftShader; the packed package in apps built
# with Vite, webpack and none), and last the demo command itself (scripts/demo.sh --check).
# Idempotent; fast when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

bash scripts/tools.sh --browser
bash scripts/setup.sh

echo "== native tests (cargo test --release; wgpu on Mesa's lavapipe, unpacked by tools.sh)"
VK_ICD_FILENAMES="$FINETUNE_CACHE/vulkan/lvp_icd.json" LD_LIBRARY_PATH="$FINETUNE_CACHE/vulkan/root/usr/lib/x86_64-linux-gnu" FINETUNE_VULKAN=1 \
  cargo test --release 2>&1 | tee "${TMPDIR:-/tmp}/finetune-cargo-test.log"

echo "== fuzz smoke (every parser of untrusted bytes: its seeds + 2 000 new inputs; fuzz/README.md)"
bash scripts/fuzz.sh --smoke

echo "== browser build (page + npm package)"
bash scripts/build-web.sh
echo "== npm package unit tests (wrapper against a scripted worker, API reference in sync)"
node --test npm/test/
echo "== browser end-to-end tests"
node --test --test-concurrency=1 tests/e2e/
echo "== the demo command, checked (trunk serve, the sample trained one epoch in Chromium)"
bash scripts/demo.sh --check
