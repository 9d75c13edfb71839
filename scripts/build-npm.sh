#!/usr/bin/env bash
# Builds the npm package into npm/dist from the wasm engine scripts/build-web.sh put in npm/pkg:
# index.js (the createFineTuner wrapper, ES module), its .d.ts types, worker.js (the engine's
# worker with the wasm-bindgen glue, one file) and the three engine modules beside it
# (burn_finetune_cpu_bg.wasm, CPU; burn_finetune_cpu_mt_bg.wasm, CPU on every core;
# burn_finetune_bg.wasm, with WebGPU). No weights:
# the host app passes their URL. Then `npm pack` in npm/ gives the tarball.
# Usage: scripts/build-npm.sh   (needs npm/pkg: run scripts/build-web.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f npm/pkg/burn_finetune_bg.wasm ] || { echo "npm/pkg is missing: run scripts/build-web.sh first" >&2; exit 1; }
rm -rf npm/dist
node_modules/.bin/tsc -p npm
node_modules/.bin/esbuild npm/src/index.ts --bundle --format=esm --target=es2022 --outfile=npm/dist/index.js --log-level=warning
node_modules/.bin/esbuild npm/src/worker.ts --bundle --format=esm --target=es2022 --outfile=npm/dist/worker.js --log-level=warning
cp npm/pkg/burn_finetune_bg.wasm npm/pkg-cpu/burn_finetune_cpu_bg.wasm npm/pkg-cpu-mt/burn_finetune_cpu_mt_bg.wasm npm/dist/
cp LICENSE-MIT LICENSE-APACHE npm/
echo "== built npm/dist ($(du -sh npm/dist | cut -f1))"
