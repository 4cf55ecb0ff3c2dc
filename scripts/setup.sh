#!/usr/bin/env bash
# Install everything rollwise and its tests need, from a fresh clone: uv, the locked
# Python environment (.venv), the npm emulators (dynalite) and, for the report's browser
# tests, Debian's Chromium and its WebDriver. Safe to run again.
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

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || { echo "setup: the browser tests need chromium and chromedriver (Debian: apt-get install chromium chromium-driver)" >&2; exit 1; }
  as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
