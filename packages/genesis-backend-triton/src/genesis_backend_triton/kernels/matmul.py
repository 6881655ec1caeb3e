"""Batched matmul ``(B, M, K) @ (B, K, N)`` over strided operands.

Tiles of ``BLOCK_M x BLOCK_N`` accumulate in ``ACC`` (float32 for
float32/float16/bfloat16, via ``tl.dot``); float64 and integer types
accumulate broadcast products instead (``USE_DOT=False``), which every GPU
and the interpreter run. ``program_id(0)`` walks the tiles in groups of
``GROUP_M`` rows so neighbouring programs share operand tiles in L2.
"""

# ruff: noqa: N803  (Triton's convention: compile-time constexpr parameters in capitals)

import triton
import triton.language as tl


@triton.jit
def matmul_kernel(a, b, c, a_off, b_off, M, N, K,
                  sab, sam, sak, sbb, sbk, sbn,
                  ACC: tl.constexpr, USE_DOT: tl.constexpr, PRECISION: tl.constexpr,
                  UPCAST: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                  BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
    pid = tl.program_id(0)
    batch = tl.program_id(1).to(tl.int64)
    grid_m = tl.cdiv(M, BLOCK_M)
    grid_n = tl.cdiv(N, BLOCK_N)
    width = GROUP_M * grid_n
    group = pid // width
    first_m = group * GROUP_M
    size_m = tl.minimum(grid_m - first_m, GROUP_M)
    pid_m = first_m + (pid % width) % size_m
    pid_n = (pid % width) // size_m
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    a_ptrs = a + a_off + batch * sab + rm[:, None] * sam + rk[None, :] * sak
    b_ptrs = b + b_off + batch * sbb + rk[:, None] * sbk + rn[None, :] * sbn
    acc = tl.zeros([BLOCK_M, BLOCK_N], ACC)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        k_left = K - k * BLOCK_K
        ta = tl.load(a_ptrs, mask=(rm[:, None] < M) & (rk[None, :] < k_left), other=0.0)
        tb = tl.load(b_ptrs, mask=(rk[:, None] < k_left) & (rn[None, :] < N), other=0.0)
        if UPCAST:  # the interpreter keeps bfloat16 as raw bits: multiply in float32
            ta = ta.to(tl.float32)
            tb = tb.to(tl.float32)
        if USE_DOT:
            acc = tl.dot(ta, tb, acc, input_precision=PRECISION)
        else:
            acc += tl.sum(ta[:, :, None].to(ACC) * tb[None, :, :].to(ACC), axis=1)
        a_ptrs += BLOCK_K * sak
        b_ptrs += BLOCK_K * sbk
    c_ptrs = c + batch * M * N + rm[:, None] * N + rn[None, :]
    tl.store(c_ptrs, acc.to(c.dtype.element_ty), mask=(rm[:, None] < M) & (rn[None, :] < N))


_GPU_CONFIGS = [
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 256, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    {"BLOCK_M": 128, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    {"BLOCK_M": 64, "BLOCK_N": 128, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    {"BLOCK_M": 32, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 4},
    # deeper pipelines for Hopper's 227 KB of shared memory (the 3-stage versions above
    # reached 84-86 % of cuBLAS on an H100)
    {"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 4},
    {"BLOCK_M": 256, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 4},
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8, "num_stages": 4},
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 4, "num_stages": 5},
]
_GPU_FP32_CONFIGS = [
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 16, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 64, "BLOCK_N": 128, "BLOCK_K": 16, "GROUP_M": 8, "num_warps": 4, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 64, "BLOCK_K": 16, "GROUP_M": 8, "num_warps": 4, "num_stages": 3},
    {"BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 4, "num_stages": 3},
    # more warps per tile, fewer registers per thread (110-123, per ptxas for sm_90; the
    # tiles above need 168-174 with 4-8 warps, and the 64x64 one won at 82 % of cuBLAS)
    {"BLOCK_M": 64, "BLOCK_N": 128, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 64, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 32, "GROUP_M": 8, "num_warps": 16, "num_stages": 3},
]
_DOT_TYPES = ("float32", "float16", "bfloat16")

#: products m*n*k below this use a fixed tile instead of autotuning
TUNE_ABOVE = 1 << 24

#: float32 matmul precision: "ieee" (PyTorch's default) or "tf32" (allow_tf32=True).
FLOAT32_PRECISION = {"value": "ieee"}


def _p2(n: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, triton.next_power_of_2(max(n, 1))))


def launch_matmul(rt, a, b, out, batch: int, m: int, n: int, k: int, sab: int, sbb: int) -> None:
    """``out = a @ b`` over ``batch`` matrices (autotuned tiles on a GPU)."""
    name = a.dtype.name
    use_dot = name in _DOT_TYPES
    acc = tl.float32 if use_dot else tl.float64 if name == "float64" else tl.int64
    precision = FLOAT32_PRECISION["value"] if name == "float32" else "tf32"
    args = (rt.ptr(a), rt.ptr(b), rt.ptr(out), a.offset, b.offset, m, n, k,
            sab, a.strides[-2], a.strides[-1], sbb, b.strides[-2], b.strides[-1])

    def launch(cfg: dict) -> None:
        grid = (triton.cdiv(m, cfg["BLOCK_M"]) * triton.cdiv(n, cfg["BLOCK_N"]), batch)
        matmul_kernel[grid](*args, ACC=acc, USE_DOT=use_dot, PRECISION=precision,
                            UPCAST=rt.interpret and name == "bfloat16", **cfg)

    small = {"BLOCK_M": _p2(m, 16, 64), "BLOCK_N": _p2(n, 16, 64), "BLOCK_K": _p2(k, 16, 32),
             "GROUP_M": 8}
    if rt.interpret:
        configs = [small, dict(small, BLOCK_K=16)]
    elif m * n * k < TUNE_ABOVE:  # tuning costs a compile per config: not for tiny products
        configs = [dict(small, num_warps=4, num_stages=3)] if use_dot else \
            [{"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 8, "GROUP_M": 8, "num_warps": 4}]
    elif not use_dot:
        configs = [{"BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 8, "GROUP_M": 8, "num_warps": 4}]
    else:
        configs = _GPU_FP32_CONFIGS if precision == "ieee" else _GPU_CONFIGS
    layout = (a.strides[-1] == 1, b.strides[-1] == 1, batch > 1)
    key = (triton.next_power_of_2(m), triton.next_power_of_2(n), triton.next_power_of_2(k), name,
           precision) + layout
    launch(rt.tuner.pick("matmul", key, configs, lambda: launch))
