#!/usr/bin/env bash
# Builds and serves the demo on http://127.0.0.1:8080 with Trunk (set-up included, idempotent).
# Usage: scripts/demo.sh           build, serve, rebuild on changes (Ctrl-C stops)
#        scripts/demo.sh --check   the same build, served by Trunk on a free port, opened in
#                                  Chromium: trains the sample one epoch on the threaded CPU
#                                  engine, then stops the server (scripts/test.sh runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
if [ "${1:-}" = --check ]; then bash scripts/tools.sh --browser; else bash scripts/tools.sh; fi
bash scripts/setup.sh
# Trunk refuses to start when a path its [watch] ignore list names is missing (a fresh clone).
mkdir -p npm/pkg npm/pkg-cpu npm/pkg-cpu-mt npm/dist
if [ "${1:-}" = --check ]; then
  exec node --test tests/demo/
fi
exec trunk serve
