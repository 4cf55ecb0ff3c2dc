#!/usr/bin/env bash
# Build the Lambda asset: rollwise and its runtime dependencies (no dev or deploy groups),
# as wheels for the Lambda platform (manylinux, CPython 3.12), without Docker.
#   scripts/package.sh [x86_64|arm64]   ->  build/lambda/<arch>/
set -euo pipefail
cd "$(dirname "$0")/.."
arch="${1:-x86_64}"
case "$arch" in
  x86_64) platform=x86_64-manylinux_2_28 ;;  # python3.12 on Lambda is Amazon Linux 2023 (glibc 2.34)
  arm64) platform=aarch64-manylinux_2_28 ;;
  *) echo "architecture must be x86_64 or arm64, got $arch" >&2; exit 2 ;;
esac
if ! command -v uv >/dev/null 2>&1; then
  # Under `uv run`, uv names itself in $UV; otherwise it was pip-installed into python3.
  if [ -n "${UV:-}" ]; then uv() { "$UV" "$@"; }; else uv() { python3 -m uv "$@"; }; fi
fi
out="build/lambda/$arch"
rm -rf "$out" && mkdir -p "$out"
uv export --locked --no-dev --no-emit-project --no-hashes --format requirements-txt --quiet > build/requirements-lambda.txt
uv pip install --quiet --target "$out" --python-platform "$platform" --python-version 3.12 --only-binary :all: -r build/requirements-lambda.txt
cp -r src/rollwise "$out/rollwise"
find "$out" -name "__pycache__" -type d -prune -exec rm -rf {} +
echo "$out: $(du -sh "$out" | cut -f1) unzipped"
