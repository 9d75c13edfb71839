#!/usr/bin/env bash
# Builds the demo page into build/web and the npm package into npm/dist: the wasm engine
# (cargo → wasm-bindgen into npm/pkg), the TypeScript page and the engine's worker (type-checked,
# bundled by esbuild), the weights (EfficientNet-Lite0, MiniLM-L6 + tokenizer, Whisper tiny.en +
# tokenizer + config) and the sample data sets (Fashion-MNIST images, movie-review CSV, the
# Asterisk speech prompts).
# Usage: scripts/build-web.sh   (output: build/web, or $DIST; the package: scripts/build-npm.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
OUT=${DIST:-build/web}

echo "== wasm engine, full (with WebGPU), CPU-only, CPU threaded (cargo build --target wasm32-unknown-unknown --release)"
cargo build --lib --release --target wasm32-unknown-unknown
# The CPU-only module (no wgpu: a quarter of the size) builds in its own target dir: its features
# differ, and sharing one dir would rebuild one module's dependencies at each switch.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR-wasm-cpu" cargo build --lib --release --target wasm32-unknown-unknown --no-default-features
# The threaded CPU module: std rebuilt with atomics (-Z build-std, allowed on stable by
# RUSTC_BOOTSTRAP for this one build), shared imported memory (4 GiB max) and the TLS exports
# wasm-bindgen's thread support needs. RUSTFLAGS replaces .cargo config's flags, so simd128 again.
RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$CARGO_TARGET_DIR-wasm-mt" RUSTFLAGS="-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals \
  -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 \
  -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align \
  -C link-arg=--export=__tls_base" \
  cargo build --lib --release --target wasm32-unknown-unknown --no-default-features --features threads -Z build-std=panic_abort,std
mkdir -p npm/pkg npm/pkg-cpu npm/pkg-cpu-mt "$OUT"
wasm-bindgen --target web --remove-name-section --out-dir npm/pkg --out-name burn_finetune \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/burn_finetune.wasm"
wasm-bindgen --target web --remove-name-section --out-dir npm/pkg-cpu --out-name burn_finetune_cpu \
  "$CARGO_TARGET_DIR-wasm-cpu/wasm32-unknown-unknown/release/burn_finetune.wasm"
wasm-bindgen --target web --remove-name-section --out-dir npm/pkg-cpu-mt --out-name burn_finetune_cpu_mt \
  "$CARGO_TARGET_DIR-wasm-mt/wasm32-unknown-unknown/release/burn_finetune.wasm"

echo "== TypeScript (tsc --noEmit, esbuild)"
node_modules/.bin/tsc --noEmit -p www
node_modules/.bin/esbuild www/src/main.ts npm/src/worker.ts npm/src/index.ts --bundle --format=esm --target=es2022 \
  --sourcemap --entry-names='[name]' --outdir="$OUT" --log-level=warning
cp www/index.html www/style.css npm/pkg/burn_finetune_bg.wasm npm/pkg-cpu/burn_finetune_cpu_bg.wasm \
  npm/pkg-cpu-mt/burn_finetune_cpu_mt_bg.wasm "$OUT/"
cp assets/efficientnet-lite0.safetensors "$OUT/"
rm -rf "$OUT/sample" && cp -r assets/sample "$OUT/sample"
mkdir -p "$OUT/minilm-l6"
cp assets/minilm-l6/model.safetensors assets/minilm-l6/tokenizer.json "$OUT/minilm-l6/"
cp assets/movie-reviews.csv "$OUT/"
mkdir -p "$OUT/whisper-tiny-en"
cp assets/whisper-tiny-en/model.safetensors assets/whisper-tiny-en/tokenizer.json assets/whisper-tiny-en/config.json "$OUT/whisper-tiny-en/"
rm -rf "$OUT/asterisk" && cp -r assets/asterisk "$OUT/asterisk"
echo "== built $OUT/ ($(du -sh "$OUT" | cut -f1))"
bash scripts/build-npm.sh
