# Sourced by the scripts: where downloads, builds and installed tools are kept between runs (CI
# keeps $FINETUNE_CACHE, not the clone). Tools installed by the scripts (trunk, wasm-bindgen) go
# to $FINETUNE_CACHE/tools/bin, first on PATH.
export FINETUNE_CACHE=${FINETUNE_CACHE:-$HOME/.cache/burn-finetune}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$FINETUNE_CACHE/target}
export PATH="$FINETUNE_CACHE/tools/bin:$PATH"
