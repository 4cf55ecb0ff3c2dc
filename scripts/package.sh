#!/usr/bin/env bash
# Build the Lambda asset (see scripts/package.py): only what the handlers import, as wheels for the
# Lambda platform (no Docker), compiled by the runtime's own Python.
#   scripts/package.sh [x86_64|arm64]   ->  build/lambda/<arch>/
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  # Under `uv run`, uv names itself in $UV; otherwise it was pip-installed into python3.
  if [ -n "${UV:-}" ]; then uv() { "$UV" "$@"; }; else uv() { python3 -m uv "$@"; }; fi
fi
uv run --quiet python scripts/package.py "${1:-x86_64}"
