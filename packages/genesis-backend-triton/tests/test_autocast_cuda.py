"""Autocast on device "cuda" (the interpreter here): every op of the CUDA table returns the
dtype PyTorch's CUDA autocast documents for it, and ops in no list keep PyTorch's dtypes
(their own, or for composites of listed ops such as ``x @ w`` or ``hstack``, the listed op's).

PyTorch's CUDA policy is transcribed below from ``aten/src/ATen/autocast_mode.h`` (2.13:
``AT_FORALL_LOWER_PRECISION_FP``, ``AT_FORALL_FP32``, ``AT_FORALL_FP32_SET_OPT_DTYPE``,
``AT_FORALL_DIFFERENT_REDISPATCH_SIGNATURE``, ``AT_FORALL_PROMOTE``, the banned
``binary_cross_entropy``) plus the ops PyTorch runs as one native kernel that Genesis
composes from listed ops, independently of Genesis's own table; PyTorch cannot run CUDA here.
"""

from __future__ import annotations

import itertools

import genesis
import pytest
from genesis._ops.autocast_policy import CUDA
from genesis.testing.autocast_cases import CASES, UNLISTED, make_operand

TORCH_CUDA = {
    "lower": "conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d prelu "
             "addmm addmv addr matmul einsum mm mv linalg_vecdot linear addbmm baddbmm bmm "
             "linalg_multi_dot scaled_dot_product_attention",
    "fp32": "acos asin cosh erfinv exp expm1 log log10 log2 log1p reciprocal rsqrt sinh tan pow "
            "softplus layer_norm group_norm cosine_similarity poisson_nll_loss "
            "cosine_embedding_loss nll_loss kl_div l1_loss smooth_l1_loss huber_loss mse_loss "
            "margin_ranking_loss triplet_margin_loss binary_cross_entropy_with_logits cdist "
            "logsumexp prod softmax log_softmax cumprod cumsum linalg_vector_norm "
            "linalg_matrix_norm sum norm upsample_nearest1d upsample_nearest2d "
            "upsample_nearest3d _upsample_nearest_exact1d _upsample_nearest_exact2d "
            "_upsample_nearest_exact3d upsample_linear1d upsample_bilinear2d "
            "upsample_trilinear3d upsample_bicubic2d "
            "cross_entropy",  # log_softmax (fp32_set_opt_dtype) then nll_loss (fp32)
    "widest": "atan2 bilinear cross dot vdot grid_sample tensordot scatter_add",
    "banned": "binary_cross_entropy",
    # in no list, native kernels in PyTorch: no cast (Genesis composes them from listed ops)
    "input": "celu logsigmoid mish avg_pool1d avg_pool2d adaptive_avg_pool1d "
             "adaptive_avg_pool2d pad interpolate",
}
EXPECTED = {name: rule for rule, names in TORCH_CUDA.items() for name in names.split()}

# ops in no list: their own dtype ("input"), or, for composites of listed ops, the listed op's
UNLISTED_RULES = {"gelu": "input", "silu": "input", "tanh": "input", "sigmoid": "input",
                  "relu": "input", "mean": "input", "dropout_eval": "input",
                  "max_pool2d": "input", "embedding": "input",
                  "mul": "widest", "add": "widest", "where": "widest", "hstack": "widest",
                  "matmul_operator": "lower", "multihead_attention": "lower",
                  "sum_method": "fp32", "linalg_norm": "fp32", "circular_pad": "input",
                  "reflection_pad3d": "input"}
F16, F32 = "float16", "float32"
MIXES = [(F16, F16), (F32, F16)]  # float16 kept/upcast; float32 cast down/kept as widest


def expected_dtype(rule: str, x_dtype: str, w_dtype: str, region: str) -> str:
    if rule == "lower":
        return region
    if rule == "fp32":
        return F32
    if rule == "input":
        return x_dtype
    return F32 if F32 in (x_dtype, w_dtype) else region  # widest


def run(case, x_dtype, w_dtype, region):
    x = make_operand(genesis, getattr(genesis, x_dtype), "cuda", seed=1)
    w = make_operand(genesis, getattr(genesis, w_dtype), "cuda", seed=2)
    with genesis.autocast("cuda", dtype=getattr(genesis, region)):
        return case(genesis, x, w).dtype.name


def test_table_is_torchs_cuda_policy():
    kinds = {"lower_precision_fp": "lower", "fp32": "fp32", "promote": "widest",
             "banned": "banned", "native": "input"}
    assert {name: kinds[policy] for name, policy in CUDA.items()} == EXPECTED


@pytest.mark.parametrize("name", sorted(CUDA) + sorted(UNLISTED_RULES))
def test_cuda_autocast_dtypes(name):
    rule = EXPECTED.get(name) or UNLISTED_RULES[name]
    case = CASES.get(name) or UNLISTED[name]
    for (x_dtype, w_dtype), region in itertools.chain(
            itertools.product(MIXES, ["float16"]), [((F32, F32), "bfloat16")]):
        if rule == "banned":
            with pytest.raises(RuntimeError, match="unsafe to autocast"):
                run(case, x_dtype, w_dtype, region)
            continue
        if region == "bfloat16":
            x_dtype = w_dtype = F32
        got = run(case, x_dtype, w_dtype, region)
        want = expected_dtype(rule, x_dtype, w_dtype, region)
        assert got == want, (f"{name} under autocast('cuda', {region}) with {x_dtype}/"
                             f"{w_dtype} inputs: {got}, PyTorch's CUDA policy gives {want}")


def test_cpu_tensors_are_not_cast_by_a_cuda_region():
    with genesis.autocast("cuda"):
        assert (genesis.ones(2, 2) @ genesis.ones(2, 2)).dtype is genesis.float32
        cuda = genesis.ones(2, 2, device="cuda")
        assert (cuda @ cuda).dtype is genesis.float16
