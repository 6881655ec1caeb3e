"""Compile representative kernels for sm_90 without a GPU (run by test_compile.py).

``triton.compile`` lowers to PTX and a cubin with the ptxas bundled in the
triton wheel, so GPU-only compile errors (code the interpreter accepts but the
compiler rejects) surface on CPU machines. Prints ``ok <name>`` or
``FAIL <name> <error>`` per kernel.
"""

import os

os.environ.pop("TRITON_INTERPRET", None)

import triton  # noqa: E402
import triton.language as tl  # noqa: E402
from genesis_backend_triton.kernels import elementwise as ew  # noqa: E402
from genesis_backend_triton.kernels import (  # noqa: E402
    fused,
    indexing,
    matmul,
    reduction,
    scan,
    sorting,
)
from genesis_backend_triton.kernels import random as rnd  # noqa: E402
from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler import ASTSource  # noqa: E402

TARGET = GPUTarget("cuda", 90, 32)
F32 = ("lr", "beta1", "beta2", "eps", "weight_decay", "step_size", "bc2_sqrt", "p", "scale")


#: an H100's shared memory per block (227 KB)
SHARED_LIMIT = 232448


def compile_one(name, fn, types, consts, aligned=(), options=None, check=None):
    """Compile ``fn``: ``types`` names pointer/scalar arguments (others are i32);
    ``aligned`` arguments carry the divisibility-by-16 hint Triton gives such values at
    launch; ``check(kernel)`` returns a reason to fail, or None."""
    sig = {}
    for arg in fn.arg_names:
        if arg in consts:
            sig[arg] = "constexpr"
        else:
            sig[arg] = types.get(arg, "fp32" if arg in F32 else "i32")
    constexprs = {(fn.arg_names.index(k),): v for k, v in consts.items()}
    attrs = {(fn.arg_names.index(k),): [["tt.divisibility", 16]] for k in aligned}
    try:
        kernel = triton.compile(ASTSource(fn, signature=sig, constexprs=constexprs, attrs=attrs),
                                target=TARGET, options=options)
        problem = check(kernel) if check else None
        print(f"FAIL {name} {problem}" if problem else f"ok {name}")
    except Exception as e:  # report every kernel, not just the first failure
        print("FAIL", name, type(e).__name__, str(e).replace("\n", " ")[:400])


def pipelined_matmul(cfg):
    """A check that a tuned matmul config fits in shared memory and is software-pipelined
    (asynchronous tile copies; Hopper tensor-core ``wgmma`` for tiles of 64+ rows)."""
    def check(kernel):
        ir = kernel.asm["ttgir"]
        if kernel.metadata.shared > SHARED_LIMIT:
            return f"needs {kernel.metadata.shared} bytes of shared memory"
        if "async_copy_global_to_local" not in ir:
            return "tile loads are not pipelined"
        if cfg.get("tensor_cores") and "warp_group_dot" not in ir:
            return "no wgmma"
        return None
    return check


def matmul_config_cases():
    """Every autotuning candidate for large matmuls, specialised as a launch on contiguous,
    aligned operands would be (unit strides become constants, the rest divisible by 16)."""
    aligned = ("a", "b", "c", "a_off", "b_off", "M", "N", "K", "sab", "sam", "sbb", "sbk")
    for t, precision, configs in (("*fp16", "tf32", matmul._GPU_CONFIGS),
                                  ("*fp32", "ieee", matmul._GPU_FP32_CONFIGS)):
        for cfg in configs:
            tiles = {k: v for k, v in cfg.items() if k.isupper()}
            options = {k: v for k, v in cfg.items() if not k.isupper()}
            consts = dict(tiles, ACC=tl.float32, USE_DOT=True, PRECISION=precision,
                          UPCAST=False, sak=1, sbn=1)
            wgmma = t == "*fp16" and tiles["BLOCK_M"] >= 64
            yield (f"matmul config {t} {tiles} {options}", matmul.matmul_kernel,
                   {"a": t, "b": t, "c": t}, consts, aligned, options,
                   pipelined_matmul({"tensor_cores": wgmma}))


def cases():
    io = {"x": "*bf16", "out": "*fp32"}
    for op, acc, ident in (("sum", tl.float32, 0), ("max", tl.float32, float("-inf")),
                           ("prod", tl.int64, 1), ("min", tl.int32, 2**31 - 1)):
        yield f"reduce {op}", reduction.reduce_kernel, io, dict(
            OP=op, IDENT=ident, ACC=acc, BLOCK_M=4, BLOCK_N=512, INDEX64=False)
    for op in ("argmax", "argmin"):
        yield op, reduction.arg_reduce_kernel, {"x": "*fp16", "out": "*i64"}, dict(
            OP=op, IDENT=float("-inf"), ACC=tl.float32, BLOCK_M=4, BLOCK_N=256, INDEX64=True)
    for op, t, out, acc, ident in (
            ("cumsum", "*i1", "*i64", tl.int64, 0), ("cumprod", "*bf16", "*bf16", tl.float32, 1),
            ("cummax", "*fp16", "*fp16", tl.float32, float("-inf")),
            ("cummin", "*i1", "*i1", tl.int32, 2**31 - 1),
            ("logcumsumexp", "*fp64", "*fp64", tl.float64, float("-inf"))):
        yield f"scan {op} {t}", scan.scan_kernel, {"x": t, "out": out}, dict(
            OP=op, IDENT=ident, ACC=acc, BLOCK_M=2, BLOCK_N=1024, INDEX64=op == "cummax")
    for t, descending in (("*fp32", False), ("*bf16", True), ("*i1", False), ("*i64", True)):
        yield f"sort {t} descending={descending}", sorting.sort_kernel, {
            "x": t, "values": t, "indices": "*i64"}, dict(
            DESCENDING=descending, BLOCK_I=64, BLOCK_J=64, INDEX64=descending)
    for op, t in (("tanh", "*fp64"), ("erf", "*bf16"), ("gelu_tanh", "*fp32"), ("sign", "*fp16"),
                  ("floor", "*fp32"), ("logical_not", "*i32"), ("copy", "*bf16")):
        yield f"unary {op} {t}", ew.unary_kernel, {"x": t, "out": "*fp32"}, dict(
            OP=op, NDIM=3, BLOCK=1024, INDEX64=False)
    for op, t in (("pow", "*fp32"), ("pow", "*i32"), ("maximum", "*fp16"), ("logical_xor", "*i1"),
                  ("gelu_tanh_backward", "*fp32"), ("div", "*bf16")):
        scalar = "fp32" if "f" in t else "i32"
        yield f"binary {op} {t}", ew.binary_kernel, {
            "a": t, "b": t, "out": t, "a_val": scalar, "b_val": scalar}, dict(
            OP=op, A_SCALAR=False, B_SCALAR=True, CDT=tl.float32 if "f" in t else tl.int32,
            NDIM=6, BLOCK=1024, INDEX64=True)
    yield "where", ew.where_kernel, {"cond": "*i1", "a": "*bf16", "b": "*bf16", "out": "*bf16",
                                     "a_val": "fp32", "b_val": "fp32"}, dict(
        A_SCALAR=True, B_SCALAR=False, CDT=tl.bfloat16, NDIM=2, BLOCK=1024, INDEX64=False)
    for t, v in (("*i1", "i1"), ("*bf16", "fp32"), ("*i64", "i64")):
        yield f"fill {t}", ew.fill_kernel, {"out": t, "value": v}, dict(
            NDIM=2, BLOCK=1024, INDEX64=False)
    yield "gather", indexing.gather_kernel, {"x": "*fp32", "index": "*i64", "out": "*fp32"}, dict(
        DIM=4, BLOCK=1024, INDEX64=False)
    for t in ("*fp32", "*i64", "*fp64"):
        yield f"scatter_add {t}", indexing.scatter_kernel, {
            "dst": t, "index": "*i64", "src": t}, dict(
            DIM=5, ACCUMULATE=True, BLOCK=1024, INDEX64=False)
    for dist, t in (("uniform", "*fp32"), ("normal", "*bf16"), ("randint", "*i64"),
                    ("bernoulli", "*i1")):
        ab = "i32" if dist == "randint" else "fp32"
        yield f"random {dist}", rnd.random_kernel, {
            "out": t, "seed": "u64", "base": "i64", "a": ab, "b": ab}, dict(DIST=dist, BLOCK=1024)
    tiles = dict(BLOCK_M=32, BLOCK_N=32, BLOCK_K=8, GROUP_M=8, PRECISION="ieee", UPCAST=False)
    for t, acc, dot in (("*fp64", tl.float64, False), ("*i32", tl.int64, False),
                        ("*fp32", tl.float32, True), ("*bf16", tl.float32, True)):
        yield f"matmul {t}", matmul.matmul_kernel, {"a": t, "b": t, "c": t}, dict(
            tiles, ACC=acc, USE_DOT=dot, BLOCK_M=64, BLOCK_N=64, BLOCK_K=32)
    row = dict(ACC=tl.float32, BLOCK_N=4096, INDEX64=False)
    for one_pass in (False, True):
        yield f"softmax one_pass={one_pass}", fused.softmax_kernel, {
            "x": "*bf16", "y": "*bf16"}, dict(row, LOG=False, ONE_PASS=one_pass)
        yield f"log_softmax backward f64 one_pass={one_pass}", fused.softmax_backward_kernel, {
            "y": "*fp64", "g": "*fp64", "dx": "*fp64"}, dict(row, LOG=True, ACC=tl.float64,
                                                              ONE_PASS=one_pass)
        yield f"layer_norm one_pass={one_pass}", fused.norm_kernel, {
            "x": "*fp16", "w": "*fp16", "b": "*fp16", "y": "*fp16", "mean_out": "*fp32",
            "rstd_out": "*fp32", "eps": "fp32"}, dict(row, RMS=False, HAS_W=True, HAS_B=True,
                                                      ONE_PASS=one_pass)
    yield "rms_norm backward", fused.norm_backward_kernel, {
        "g": "*fp32", "x": "*fp32", "w": "*fp32", "mean_in": "*fp32", "rstd_in": "*fp32",
        "dx": "*fp32"}, dict(row, RMS=True, HAS_W=True)
    yield "layer_norm backward rows", fused.norm_backward_rows_kernel, {
        "g": "*bf16", "x": "*bf16", "w": "*bf16", "mean_in": "*fp32", "rstd_in": "*fp32",
        "dx": "*bf16", "dw_part": "*fp32", "db_part": "*fp32"}, dict(
        row, RMS=False, HAS_W=True, HAS_B=True)
    yield "norm param grads", fused.norm_param_grad_kernel, {
        "g": "*bf16", "x": "*bf16", "mean_in": "*fp32", "rstd_in": "*fp32", "dw": "*bf16",
        "db": "*bf16"}, dict(RMS=False, HAS_B=True, ACC=tl.float32, BLOCK_M=32, BLOCK_N=64)
    yield "cross_entropy", fused.cross_entropy_kernel, {
        "logits": "*bf16", "target": "*i64", "loss": "*bf16", "lse_out": "*fp32"}, row
    yield "cross_entropy backward", fused.cross_entropy_backward_kernel, {
        "grad": "*fp32", "logits": "*fp32", "target": "*i64", "lse_in": "*fp32",
        "dlogits": "*fp32"}, row
    yield "dropout", fused.dropout_kernel, {
        "x": "*fp16", "y": "*fp16", "keep": "*i1", "seed": "u64", "base": "i64"}, dict(BLOCK=1024)
    for aligned in (True, False):
        yield f"adamw aligned={aligned}", fused.adamw_kernel, {
            "table": "*i64", "steps": "*fp64"}, dict(
            D0=tl.bfloat16, D1=tl.bfloat16, D2=tl.float32, D3=tl.float32, D4=tl.float32,
            AMSGRAD=True, MAXIMIZE=True, DECOUPLED=False, PER_TENSOR_STEP=not aligned,
            ALIGNED=aligned, CT=tl.float32, BLOCK=1024)

if __name__ == "__main__":
    for case in cases():
        compile_one(*case)
    for case in matmul_config_cases():
        compile_one(*case)
