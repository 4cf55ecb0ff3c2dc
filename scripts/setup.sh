#!/usr/bin/env bash
# Install everything rollwise and its tests need, from a fresh clone: uv, the locked
# Python environment (.venv) and the npm emulators (dynalite). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check uv
  command -v uv >/dev/null 2>&1 || uv() { python3 -m uv "$@"; }
fi
uv sync --locked --all-groups --quiet "$@"
# The real cdk-factory in its own locked environment: it pins an older aws-cdk-lib than infra/ uses.
uv sync --project tools/cdk-factory --locked --quiet

if [ ! -x tools/emulators/node_modules/.bin/dynalite ] || [ tools/emulators/package-lock.json -nt tools/emulators/node_modules/.package-lock.json ]; then
  npm ci --prefix tools/emulators --no-audit --no-fund --loglevel=error
fi
