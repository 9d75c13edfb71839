#!/usr/bin/env bash
# Fuzzes every parser of untrusted bytes with cargo fuzz (libFuzzer; fuzz/README.md).
#   bash scripts/fuzz.sh --smoke            each target over its seeds + 2 000 new inputs (the test command runs this)
#   bash scripts/fuzz.sh TARGET [RUNS [SECONDS]]   one target for RUNS executions (default 10 000 000), at most SECONDS
# New inputs go to a scratch corpus ($FINETUNE_CACHE/fuzz-corpus), never into fuzz/corpus/ (the
# seeds kept in the repository); a crash is written to fuzz/artifacts/TARGET/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# cargo fuzz needs nightly flags (-Z): the stable toolchain accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$FINETUNE_CACHE/fuzz-target"
TARGETS=(table model_file checkpoint weights tokenizer subtitles audio_file)
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (a few minutes, once)"
  cargo install cargo-fuzz --locked --version 0.13.2 --root "$FINETUNE_CACHE/tools"
fi
# No sanitizer: the parsers are safe Rust; libFuzzer finds panics, aborts, timeouts and
# allocations over its limit (-malloc_limit_mb: a head built from unchecked sizes). Debug
# assertions on: integer overflows panic.
build() { cargo fuzz build --sanitizer none --debug-assertions "$@"; }
run() {
  local target=$1 runs=$2 seconds=${3:-0} scratch=${4:-"$FINETUNE_CACHE/fuzz-corpus/$1"} log status=0
  mkdir -p "$scratch" "fuzz/artifacts/$target"
  log=$(mktemp)
  cargo fuzz run --sanitizer none --debug-assertions "$target" "$scratch" "fuzz/corpus/$target" -- \
    -runs="$runs" -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=4096 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="fuzz/artifacts/$target/" >"$log" 2>&1 || status=$?
  grep -E "^(stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)|SUMMARY|.*panicked at|artifact_prefix|Test unit written)" "$log" || true
  [ "$status" -eq 0 ] || { tail -40 "$log"; rm -f "$log"; echo "fuzz target $target failed: reproduce with cargo fuzz run $target fuzz/artifacts/$target/<file>"; return 1; }
  rm -f "$log"
}
if [ "${1:-}" = --smoke ]; then
  build
  # A fresh scratch corpus: the seeds and 2 000 new inputs, however long the last long run grew its own.
  smoke=$(mktemp -d)
  for t in "${TARGETS[@]}"; do echo "== fuzz smoke: $t"; run "$t" 2000 0 "$smoke/$t"; done
  rm -rf "$smoke"
else
  build "$1"
  run "$1" "${2:-10000000}" "${3:-0}"
fi
