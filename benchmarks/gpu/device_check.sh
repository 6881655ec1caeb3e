#!/usr/bin/env bash
# GPU checks of genesis-backend-triton, run on a GPU host from the repository root:
#
#   OUT=/some/dir bash benchmarks/gpu/device_check.sh [tests|bench|all]   (default: all)
#
# Needs Python with torch (CUDA), triton >= 3.6, numpy, ml_dtypes, pluggy, pytest, and nvcc;
# the benchmark's LLM rows also transformers, safetensors, tokenizers and jinja2.
# pycuda is not on the host: it is installed from .whl/ -- a prebuilt pycuda wheel when one
# is there (a previous run leaves one in $OUT/wheels), else built from the pycuda sdist
# (with its pure-Python dependencies as wheels). The genesis packages are installed without
# dependencies into $SITE. BENCH_ARGS passes options to bench_triton.py (e.g.
# BENCH_ARGS="--groups matmul,softmax"). Results: $OUT/{gpu.txt,install.log,gpu_tests.txt,
# bench.txt,bench.json,conformance.txt}.
set -u -o pipefail
WHAT=${1:-all}
OUT=${OUT:-/tmp/genesis-gpu-check}
SITE=${SITE:-/tmp/genesis-site}
mkdir -p "$OUT/wheels" "$SITE"
export PYTHONUNBUFFERED=1 PYTHONPATH=$SITE PATH=$PATH:/usr/local/cuda/bin
export GENESIS_TRITON_GPU=1 GENESIS_TRITON_CACHE_DIR=$OUT/autotune
unset TRITON_INTERPRET
PIP="python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target $SITE"

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.txt" 2>&1
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" \
  >> "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"

install() {
  $PIP $(ls .whl/*.whl | grep -v pycuda) || return 1
  if ls .whl/pycuda-*.whl >/dev/null 2>&1; then
    $PIP .whl/pycuda-*.whl || return 1
  else
    rm -rf /tmp/pycuda-src && mkdir -p /tmp/pycuda-src
    tar xzf .whl/pycuda-*.tar.gz -C /tmp/pycuda-src --strip-components=1 || return 1
    (cd /tmp/pycuda-src && python3 setup.py -q build_ext -j "$(nproc)" bdist_wheel \
       -d "$OUT/wheels") || echo "bdist_wheel failed; trying an in-place build"
    if ls "$OUT"/wheels/pycuda-*.whl >/dev/null 2>&1; then
      $PIP "$OUT"/wheels/pycuda-*.whl || return 1
    else  # no bdist_wheel here: use the in-place build
      (cd /tmp/pycuda-src && python3 setup.py -q build_ext -j "$(nproc)" --inplace) || return 1
      export PYTHONPATH=$SITE:/tmp/pycuda-src
    fi
  fi
  # one pip call: --target skips a top-level folder (genesis/) that already exists there
  python3 -m pip install -q --no-deps --no-build-isolation --no-index --target "$SITE" \
    packages/genesis-core packages/genesis-backend-cpu packages/genesis-backend-triton \
    packages/genesis-optim packages/genesis-models || return 1
  python3 -c "import pycuda.driver as d; d.init(); print('pycuda ok,', d.Device(0).name())"
}

if [[ -d .whl/autotune ]]; then  # configs tuned by an earlier run on this kind of GPU
  mkdir -p "$OUT/autotune" && cp -r .whl/autotune/. "$OUT/autotune/"
fi
start=$(date +%s)
install > "$OUT/install.log" 2>&1 || { echo "install failed"; tail -40 "$OUT/install.log"; exit 1; }
echo "installed in $(( $(date +%s) - start )) s"; tail -1 "$OUT/install.log"

if [[ $WHAT == tests || $WHAT == all ]]; then
  python3 -m pytest packages/genesis-backend-triton/tests -m gpu -q -rs -p no:cacheprovider \
    2>&1 | tee "$OUT/gpu_tests.txt" | tail -15
fi
if [[ $WHAT == bench || $WHAT == all ]]; then
  python3 benchmarks/gpu/bench_triton.py --json "$OUT/bench.json" ${BENCH_ARGS:-} 2>&1 \
    | tee "$OUT/bench.txt"
  echo "bench exit ${PIPESTATUS[0]} (1: a check failed or a group raised; see bench.json)"
fi
if [[ $WHAT == tests || $WHAT == all ]]; then
  timeout "${CONFORMANCE_TIMEOUT:-150}" python3 -m pytest \
    packages/genesis-backend-triton/tests/test_conformance.py -q -rf -p no:cacheprovider \
    > "$OUT/conformance.txt" 2>&1
  echo "conformance exit $?"; tail -12 "$OUT/conformance.txt"
fi
echo "total $(( $(date +%s) - start )) s"
