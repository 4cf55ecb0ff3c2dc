#!/usr/bin/env bash
# The Lambda runtime's Python (infra/rollwise_infra/runtime.py: 3.13) on this machine, from Debian's
# packages, for compiling the Lambda asset and running bench/coldstart.py. No root and no change to
# the system: the packages are unpacked under build/runtime-python/ and run through their own loader.
# Prints the path of a python wrapper; exits non-zero, saying why, when the interpreter cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(python3 -c 'import sys; sys.path.insert(0, "infra"); from rollwise_infra.runtime import PYTHON; print(PYTHON)')
suite=$(python3 -c 'import sys; sys.path.insert(0, "infra"); from rollwise_infra.runtime import DEBIAN_SUITE; print(DEBIAN_SUITE)')
dir="$PWD/build/runtime-python"
wrapper="$dir/python$version"
if [ -x "$wrapper" ] && "$wrapper" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$version'" 2>/dev/null; then
  echo "$wrapper"; exit 0
fi
case "$(uname -m)" in
  x86_64) arch=amd64; triplet=x86_64-linux-gnu; loader=usr/lib64/ld-linux-x86-64.so.2 ;;
  aarch64) arch=arm64; triplet=aarch64-linux-gnu; loader=usr/lib/ld-linux-aarch64.so.1 ;;
  *) echo "runtime-python: no Debian build of Python $version for $(uname -m)" >&2; exit 1 ;;
esac
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { echo "runtime-python: needs apt-get and dpkg-deb (Debian)" >&2; exit 1; }
rm -rf "$dir" && mkdir -p "$dir/apt/lists/partial" "$dir/apt/archives/partial" "$dir/apt/etc" "$dir/root"
touch "$dir/apt/status"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" > "$dir/apt/etc/sources.list"
apt=(-o "Dir::State::Lists=$dir/apt/lists" -o "Dir::State::status=$dir/apt/status" -o "Dir::Cache::archives=$dir/apt/archives"
     -o "Dir::Etc::SourceList=$dir/apt/etc/sources.list" -o "Dir::Etc::SourceParts=$dir/apt/etc" -o "Dir::Etc::Preferences=$dir/apt/etc/none"
     -o "Dir::Etc::PreferencesParts=$dir/apt/etc" -o Debug::NoLocking=1 -o "APT::Architecture=$arch" -o APT::Get::Download-Only=true)
if ! apt-get "${apt[@]}" -qq update >"$dir/apt.log" 2>&1 \
   || ! apt-get "${apt[@]}" -qq -y --no-install-recommends install "python$version-minimal" "libpython$version-stdlib" >>"$dir/apt.log" 2>&1; then
  echo "runtime-python: cannot download Python $version from Debian $suite (deb.debian.org); see $dir/apt.log" >&2
  tail -5 "$dir/apt.log" >&2
  exit 1
fi
for deb in "$dir"/apt/archives/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
cat > "$wrapper" <<WRAP
#!/bin/sh
# Debian $suite's Python $version, through its own loader and libraries (this machine's may be older).
root="$dir/root"
exec env PYTHONHOME="\$root/usr" "\$root/$loader" --library-path "\$root/usr/lib/$triplet:\$root/lib/$triplet" "\$root/usr/bin/python$version" "\$@"
WRAP
chmod +x "$wrapper"
"$wrapper" -c "import sys, ssl, zlib, ctypes; assert '%d.%d' % sys.version_info[:2] == '$version'" || { echo "runtime-python: the unpacked Python $version does not run" >&2; exit 1; }
echo "$wrapper"
