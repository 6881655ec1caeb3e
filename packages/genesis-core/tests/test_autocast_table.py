"""Autocast's op table against PyTorch 2.13 on CPU: every listed op (and a set of unlisted
ones) returns PyTorch's dtype under ``autocast("cpu")`` and outside it, for each mix of
float32 and lower-precision inputs PyTorch accepts."""

from __future__ import annotations

import itertools

import genesis
import pytest
import torch
from genesis._ops.autocast import AUTOCAST_OPS
from genesis._ops.autocast_policy import POLICIES
from genesis.testing.autocast_cases import CASES, UNLISTED, make_operand

LISTED = sorted(set().union(*POLICIES.values()))
MIXES = list(itertools.product(("float32", "bfloat16", "float16"), repeat=2))
REGIONS = [None, "bfloat16", "float16"]  # outside autocast, autocast("cpu", dtype=...)


def run(lib, case, region, x_dtype, w_dtype):
    """The output dtype's name, or the exception PyTorch/Genesis raised."""
    x = make_operand(lib, getattr(lib, x_dtype), "cpu", seed=1)
    w = make_operand(lib, getattr(lib, w_dtype), "cpu", seed=2)
    lib.manual_seed(0)
    try:
        if region is None:
            out = case(lib, x, w)
        else:
            with lib.autocast("cpu", dtype=getattr(lib, region)):
                out = case(lib, x, w)
    except Exception as err:  # noqa: BLE001 - the error is the result to compare
        return err
    return str(out.dtype).rpartition(".")[2]


def test_every_listed_op_has_a_case_and_a_wrapped_genesis_op():
    assert sorted(AUTOCAST_OPS) == LISTED
    assert set(LISTED) <= set(CASES)


@pytest.mark.parametrize("name", LISTED + sorted(UNLISTED))
def test_dtypes_match_torch_on_cpu(name):
    case = CASES.get(name) or UNLISTED[name]
    checked = 0
    for region, (x_dtype, w_dtype) in itertools.product(REGIONS, MIXES):
        expected = run(torch, case, region, x_dtype, w_dtype)
        if isinstance(expected, Exception):
            continue  # PyTorch rejects this mix (e.g. linear of bfloat16 with float32)
        got = run(genesis, case, region, x_dtype, w_dtype)
        assert got == expected, (f"{name} in region {region} with inputs {x_dtype}/{w_dtype}: "
                                 f"genesis {got!r}, torch {expected}")
        checked += 1
    assert checked >= 3


def test_lower_precision_result_is_close_to_torch():
    x = make_operand(torch, torch.float32, "cpu", seed=1)(4, 8)
    w = make_operand(torch, torch.float32, "cpu", seed=2)(3, 8)
    gx, gw = genesis.tensor(x.numpy()), genesis.tensor(w.numpy())
    with torch.autocast("cpu"), genesis.autocast("cpu"):
        expected = torch.nn.functional.linear(x, w)
        got = genesis.nn.functional.linear(gx, gw)
    assert got.dtype is genesis.bfloat16
    torch.testing.assert_close(torch.tensor(got.float().numpy()), expected.float(),
                               rtol=1e-2, atol=1e-2)
