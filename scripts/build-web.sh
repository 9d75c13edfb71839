#!/usr/bin/env bash
# Builds the demo page into build/web and the npm package into npm/dist: the wasm engine
# (cargo → wasm-bindgen into npm/pkg), the TypeScript page and the engine's worker (type-checked,
# bundled by esbuild), the weights (EfficientNet-Lite0, MiniLM-L6 + tokenizer) and the sample data
# sets (Fashion-MNIST images, movie-review CSV).
# Usage: scripts/build-web.sh   (output: build/web, or $DIST; the package: scripts/build-npm.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${FINETUNE_CACHE:-$HOME/.cache/burn-finetune}/target}
OUT=${DIST:-build/web}

echo "== wasm engine, full (with WebGPU) and CPU-only (cargo build --target wasm32-unknown-unknown --release)"
cargo build --lib --release --target wasm32-unknown-unknown
# The CPU-only module (no wgpu: a quarter of the size) builds in its own target dir: its features
# differ, and sharing one dir would rebuild one module's dependencies at each switch.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-wasm-cpu" cargo build --lib --release --target wasm32-unknown-unknown --no-default-features
mkdir -p npm/pkg npm/pkg-cpu "$OUT"
wasm-bindgen --target web --remove-name-section --out-dir npm/pkg --out-name burn_finetune \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/burn_finetune.wasm"
wasm-bindgen --target web --remove-name-section --out-dir npm/pkg-cpu --out-name burn_finetune_cpu \
  "$CARGO_TARGET_DIR-wasm-cpu/wasm32-unknown-unknown/release/burn_finetune.wasm"

echo "== TypeScript (tsc --noEmit, esbuild)"
node_modules/.bin/tsc --noEmit -p www
node_modules/.bin/esbuild www/src/main.ts npm/src/worker.ts --bundle --format=esm --target=es2022 \
  --sourcemap --entry-names='[name]' --outdir="$OUT" --log-level=warning
cp www/index.html www/style.css npm/pkg/burn_finetune_bg.wasm npm/pkg-cpu/burn_finetune_cpu_bg.wasm "$OUT/"
cp assets/efficientnet-lite0.safetensors "$OUT/"
rm -rf "$OUT/sample" && cp -r assets/sample "$OUT/sample"
mkdir -p "$OUT/minilm-l6"
cp assets/minilm-l6/model.safetensors assets/minilm-l6/tokenizer.json "$OUT/minilm-l6/"
cp assets/movie-reviews.csv "$OUT/"
echo "== built $OUT/ ($(du -sh "$OUT" | cut -f1))"
bash scripts/build-npm.sh
