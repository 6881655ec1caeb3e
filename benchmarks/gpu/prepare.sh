#!/usr/bin/env bash
# Prepares, on the development machine, everything the GPU host needs for device_check.sh,
# in the repository's ignored folder .whl/ (the GPU host has no network):
#
#   bash benchmarks/gpu/prepare.sh
#
# - wheels of this checkout's five packages (built from the working tree, without stale
#   build/ folders);
# - pycuda's sdist (it ships as source only; device_check.sh builds it there with nvcc)
#   and its pure-Python dependencies as wheels for the host's Python (3.12 by default,
#   GPU_PYTHON=3.11 etc. to change).
# Downloads already in .whl/ are kept. Then carry the folder to the GPU host and run device_check.sh there (see the README of
# genesis-backend-triton, "Checking on a GPU").
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
GPU_PYTHON=${GPU_PYTHON:-3.12}
PYCUDA=${PYCUDA:-pycuda==2026.1}
DEST=.whl
# kept: a pycuda wheel and autotune/ copied here from an earlier check's $OUT (that
# wheel skips the build on the host; those configs skip the tuning)
mkdir -p "$DEST" && rm -f "$DEST"/genesis_*.whl

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for pkg in genesis-core genesis-backend-cpu genesis-backend-triton genesis-optim genesis-models; do
  cp -r "packages/$pkg" "$tmp/$pkg"
  rm -rf "$tmp/$pkg/build" "$tmp/$pkg"/src/*.egg-info
  "$PY" -m pip wheel -q --no-deps -w "$DEST" "$tmp/$pkg"
done

# --no-binary for pycuda alone: its build dependencies still come as wheels
"$PY" -m pip download -q --no-deps --no-binary pycuda -d "$DEST" "$PYCUDA"
# pycuda's runtime needs (pytools, platformdirs, mako and theirs) that the host lacks
"$PY" -m pip download -q --only-binary=:all: --python-version "$GPU_PYTHON" \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d "$DEST" pytools platformdirs mako
# the commit the wheels were built from (the GPU host's copy may carry no usable .git)
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- packages || commit="$commit+uncommitted changes in packages/"
echo "$commit" > "$DEST/COMMIT"
ls -1 "$DEST"
du -sh "$DEST"
