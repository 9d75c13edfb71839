#!/usr/bin/env bash
# The PyTorch peer's virtual environment, made once in the cache: PyPI's torch wheel (its CUDA
# libraries come along, ~5 GB: `import torch` loads them even on a machine without a GPU; the bench
# runs it on the CPU), plus safetensors, tokenizers and Pillow to read the same files as ours, and
# transformers for the speech peer (Whisper).
# Prints the venv's python.
set -euo pipefail
VENV=${FINETUNE_CACHE:-$HOME/.cache/burn-finetune}/torch-venv
if ! "$VENV/bin/python" -c "import torch, safetensors, tokenizers, PIL, transformers" 2>/dev/null; then
  echo "== PyTorch venv in $VENV (a few minutes, once)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch==2.15.0 safetensors==0.8.0 tokenizers==0.23.3 pillow==13.0.0 numpy==2.4.6 transformers==5.24.0 >&2
fi
echo "$VENV/bin/python"
