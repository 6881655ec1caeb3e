#!/usr/bin/env bash
# The GPU check of genesis-backend-triton, run on a GPU host from the repository root after
# benchmarks/gpu/prepare.sh filled .whl/ on the development machine:
#
#   OUT=/some/dir bash benchmarks/gpu/device_check.sh [all|bench|tests|extras]   (default: all)
#
# The host needs Python with a CUDA build of torch, triton >= 3.6, numpy, ml_dtypes, pluggy,
# xxhash, scipy, numba, tokenizers, jinja2, transformers, pytest (+ pytest-xdist) and nvcc;
# no network. Phases, each under its own time limit (seconds, from the environment):
#   install  the project's wheels and pycuda's dependencies from .whl/ into $SITE; pycuda
#            from a wheel in .whl/ if there is one, else built from its sdist (the wheel
#            built is left in $OUT, so a rerun can carry it in .whl/ and skip the build);
#   bench    benchmarks/gpu/bench_triton.py: every row checked, then timed (BENCH_TIMEOUT;
#            BENCH_ARGS passes options, e.g. BENCH_ARGS="--groups matmul,softmax");
#   tests    the whole Triton test suite on the GPU, in parallel (TESTS_TIMEOUT, JOBS);
#   extras   the NCCL process group of world size 1 (EXTRAS_TIMEOUT).
# $OUT gets at most eight files: summary.txt (versions, phase results and counts),
# install.log, bench.txt, results.json, tests.txt, extras.txt, the pycuda wheel and
# autotune.tgz (configs tuned on this GPU; carried back in .whl/autotune, a rerun skips them).
set -u -o pipefail
WHAT=${1:-all}
OUT=${OUT:-/tmp/genesis-gpu-check}
SITE=${SITE:-/tmp/genesis-site}
WORK=${WORK:-/tmp/genesis-gpu-work}
mkdir -p "$OUT" "$SITE" "$WORK/wheels" "$WORK/autotune"
export PYTHONUNBUFFERED=1 PYTHONPATH=$SITE PATH=$PATH:/usr/local/cuda/bin
export GENESIS_TRITON_GPU=1 GENESIS_TRITON_CACHE_DIR=$WORK/autotune
unset TRITON_INTERPRET
START=$(date +%s)
status=0

log() { echo "[$(($(date +%s) - START)) s] $*" | tee -a "$OUT/summary.txt"; }

versions() {
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  nvidia-smi | grep -o "CUDA Version: [0-9.]*"
  nvcc --version | tail -2 | head -1
  python3 - <<'PY'
import platform, torch, triton
print("python", platform.python_version(), "| torch", torch.__version__, "(CUDA",
      torch.version.cuda, ") | triton", triton.__version__)
PY
}

install() {
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" $(ls .whl/*.whl | grep -v /pycuda-) || return 1
  local wheel
  wheel=$(ls .whl/pycuda-*.whl 2>/dev/null | head -1)
  if [[ -z $wheel ]]; then
    rm -rf "$WORK/pycuda-src" && mkdir -p "$WORK/pycuda-src"
    tar xzf .whl/pycuda-*.tar.gz -C "$WORK/pycuda-src" --strip-components=1 || return 1
    (cd "$WORK/pycuda-src" && python3 setup.py -q build_ext -j "$(nproc)" \
       bdist_wheel -d "$WORK/wheels") || return 1
    wheel=$(ls "$WORK"/wheels/pycuda-*.whl | head -1)
    cp "$wheel" "$OUT/"
  fi
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" "$wheel" || return 1
  python3 -c "import pycuda.driver as d; d.init(); print('pycuda', d.Device(0).name())" || return 1
  python3 -c "import genesis; x = genesis.ones(3, device='cuda'); print('genesis on cuda:', (x + x).numpy())"
}

# phase NAME LIMIT FUNCTION: runs FUNCTION (exported) under a time limit, logs its exit status
phase() {
  local name=$1 limit=$2 t0 rc
  t0=$(date +%s)
  timeout -k 10 "$limit" bash -c "$3"
  rc=$?
  log "$name: exit $rc after $(($(date +%s) - t0)) s$([[ $rc == 124 ]] && echo " (time limit $limit s)")"
  [[ $rc == 0 ]] || status=1
  return $rc
}

run_bench() {
  python3 benchmarks/gpu/bench_triton.py --json "$OUT/results.json" ${BENCH_ARGS:-} \
    > "$OUT/bench.txt" 2>&1
}

run_tests() {
  python3 -m pytest packages/genesis-backend-triton/tests -q -rfEs -p no:cacheprovider \
    -n "${JOBS:-12}" > "$OUT/tests.txt" 2>&1
}

run_extras() {
  python3 packages/genesis-backend-triton/tests/nccl_world1.py > "$OUT/extras.txt" 2>&1
}

export OUT SITE WORK BENCH_ARGS=${BENCH_ARGS:-}
[[ -f .whl/COMMIT ]] && export GENESIS_COMMIT=$(cat .whl/COMMIT)  # what prepare.sh built
export -f install run_bench run_tests run_extras
versions > "$OUT/summary.txt" 2>&1
cat "$OUT/summary.txt"
if [[ -d .whl/autotune ]]; then cp -r .whl/autotune/. "$WORK/autotune/"; fi
phase install "${INSTALL_TIMEOUT:-300}" install >> "$OUT/install.log" 2>&1 \
  || { tail -30 "$OUT/install.log"; exit 1; }
tail -2 "$OUT/install.log" | tee -a "$OUT/summary.txt"

if [[ $WHAT == all || $WHAT == bench ]]; then
  phase bench "${BENCH_TIMEOUT:-240}" run_bench
  grep -E "MISMATCH|Error|error" "$OUT/bench.txt" | head -20 | tee -a "$OUT/summary.txt"
fi
if [[ $WHAT == all || $WHAT == tests ]]; then
  phase tests "${TESTS_TIMEOUT:-240}" run_tests
  grep -E "^(FAILED|ERROR)" "$OUT/tests.txt" | head -40 | tee -a "$OUT/summary.txt"
  tail -1 "$OUT/tests.txt" | tee -a "$OUT/summary.txt"
fi
if [[ $WHAT == all || $WHAT == extras ]]; then
  phase extras "${EXTRAS_TIMEOUT:-90}" run_extras
  tail -5 "$OUT/extras.txt" | tee -a "$OUT/summary.txt"
fi
tar czf "$OUT/autotune.tgz" -C "$WORK" autotune
log "total; check exit $status"
exit $status
