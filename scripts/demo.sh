#!/usr/bin/env bash
# Builds and serves the demo on http://127.0.0.1:8080 with Trunk (set-up included, idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${FINETUNE_CACHE:-$HOME/.cache/burn-finetune}/target}
bash scripts/tools.sh
if [ "$(trunk --version 2>/dev/null)" != "trunk 0.21.14" ]; then
  echo "== installing trunk 0.21.14 (10-15 minutes, once)"
  cargo install trunk --locked --version 0.21.14
fi
bash scripts/setup.sh
exec trunk serve
