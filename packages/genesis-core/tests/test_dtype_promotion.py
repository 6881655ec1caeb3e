"""dtypes and PyTorch's type promotion: promote_types, result_type and what ops return."""

from __future__ import annotations

import itertools

import genesis
import numpy as np
import pytest
import torch
from torch_compare import DTYPES, compare, gdtype, make_pair, tdtype

PAIRS = list(itertools.combinations_with_replacement(DTYPES, 2))
SCALARS = [True, 2, -3, 2.5]


@pytest.mark.parametrize("a,b", PAIRS)
def test_promote_types(a, b):
    expected = torch.promote_types(tdtype(a), tdtype(b))
    assert genesis.promote_types(gdtype(a), gdtype(b)).name == str(expected)[6:]
    assert genesis.promote_types(gdtype(b), gdtype(a)).name == str(expected)[6:]


def _operand(kind: str, dtype: str):
    """A genesis and a torch operand: a 1-D tensor, a 0-d tensor, or a Python scalar."""
    if kind == "dim":
        return make_pair(np.ones(2), dtype)
    if kind == "zero":
        return make_pair(np.array(1), dtype)
    return dtype, dtype  # here ``dtype`` is the scalar itself


OPERAND_KINDS = [("dim", "dim"), ("dim", "zero"), ("zero", "dim"), ("zero", "zero")]


@pytest.mark.parametrize("a,b", PAIRS)
@pytest.mark.parametrize("kinds", OPERAND_KINDS, ids="-".join)
def test_result_type_tensors(a, b, kinds):
    ga, ta = _operand(kinds[0], a)
    gb, tb = _operand(kinds[1], b)
    expected = str(torch.result_type(ta, tb))[6:]
    assert genesis.result_type(ga, gb).name == expected
    if "bool" not in (a, b):  # + on two bools is logical or in torch; check with mul instead
        assert (ga + gb).dtype.name == expected
        assert (ga * gb).dtype.name == str((ta * tb).dtype)[6:]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("kind", ["dim", "zero"])
def test_result_type_with_python_scalars(dtype, scalar, kind):
    g, t = _operand(kind, dtype)
    expected = str(torch.result_type(t, scalar))[6:]
    assert genesis.result_type(g, scalar).name == expected
    assert genesis.result_type(scalar, g).name == expected
    assert (g * scalar).dtype.name == str((t * scalar).dtype)[6:]
    assert (scalar * g).dtype.name == str((scalar * t).dtype)[6:]


@pytest.mark.parametrize("scalars", list(itertools.combinations(SCALARS, 2)), ids=repr)
def test_result_type_of_scalars_only(scalars):
    assert genesis.result_type(*scalars).name == str(torch.result_type(
        torch.tensor(scalars[0]), scalars[1]))[6:]


@pytest.mark.parametrize("default", ["float64", "float16", "bfloat16"])
def test_default_dtype_drives_float_scalars_and_factories(default):
    genesis.set_default_dtype(gdtype(default))
    torch.set_default_dtype(tdtype(default)) if default == "float64" else None
    assert genesis.tensor(1.5).dtype.name == default
    assert genesis.zeros(2).dtype.name == default
    assert (genesis.tensor([1, 2]) * 0.5).dtype.name == default
    assert (genesis.tensor([1, 2]) / 2).dtype.name == default
    assert genesis.get_default_dtype().name == default


def test_set_default_dtype_rejects_integers():
    with pytest.raises(TypeError, match="set_default_dtype"):
        genesis.set_default_dtype(genesis.int64)


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_cast_values_match_torch(src, dst):
    values = np.array([-3.7, -1.0, 0.0, 0.5, 1.0, 2.6, 100.0, 200.0])
    if src == "uint8" or dst == "uint8":
        values = np.abs(values)  # torch's negative float -> uint8 is undefined behaviour
    if src in ("int8",) or dst == "int8":
        values = values.clip(-100, 100)
    arr = torch.from_numpy(values).to(tdtype(src)).to(torch.float64).numpy()
    compare(lambda m, x: x.to(getattr(m, dst)), arrays=[arr.astype(np.float64)], grad=False)


@pytest.mark.parametrize("method,dtype", [("float", "float32"), ("double", "float64"),
                                          ("half", "float16"), ("bfloat16", "bfloat16"),
                                          ("long", "int64"), ("int", "int32"), ("short", "int16"),
                                          ("char", "int8"), ("byte", "uint8"), ("bool", "bool")])
def test_cast_methods(method, dtype):
    g, t = compare(lambda m, x: getattr(x, method)(), [(2, 3)], low=0, high=5)
    assert g.dtype.name == dtype


def test_dtype_aliases_and_attributes():
    assert genesis.float is genesis.float32 and genesis.double is genesis.float64
    assert genesis.half is genesis.float16 and genesis.long is genesis.int64
    assert genesis.int is genesis.int32 and genesis.short is genesis.int16
    for name in DTYPES:
        d, t = gdtype(name), tdtype(name)
        assert d.itemsize == t.itemsize, name
        assert d.is_floating_point == t.is_floating_point, name
        assert d.is_signed == t.is_signed, name
        assert genesis.zeros(2, dtype=d).element_size() == t.itemsize
    assert repr(genesis.float32) == "genesis.float32"


def test_dtypes_survive_copy_and_pickle():
    import copy
    import pickle
    for d in (genesis.float32, genesis.bfloat16, genesis.bool):
        assert copy.deepcopy(d) is d
        assert pickle.loads(pickle.dumps(d)) is d


def test_integer_ops_stay_exact_in_int64():
    big = 2 ** 53 + 1
    g = genesis.tensor([big, -big])
    assert (g + 1).tolist() == [big + 1, -big + 1]
    assert (g * 1).tolist() == [big, -big]
    assert g.sum().item() == 0
    assert (g - g).tolist() == [0, 0]


def test_integer_overflow_wraps_like_torch():
    g, t = make_pair(np.array([100, 120], dtype=np.int8), "int8")
    assert (g + g).tolist() == (t + t).tolist()
    g, t = make_pair(np.array([250, 3], dtype=np.uint8), "uint8")
    assert (g + 10).tolist() == (t + 10).tolist()
    assert (g - 5).tolist() == (t - 5).tolist()


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16"])
@pytest.mark.parametrize("scalar", [-3, 300, -251, 70000])
@pytest.mark.parametrize("op", ["add", "mul", "sub", "gt", "eq"])
def test_out_of_range_python_ints_wrap_like_torch(dtype, scalar, op):
    fns = {"add": lambda x: x + scalar, "mul": lambda x: x * scalar, "sub": lambda x: scalar - x,
           "gt": lambda x: x > scalar, "eq": lambda x: x == scalar}
    g, t = make_pair(np.array([1, 5, 100], dtype=dtype), dtype)
    assert fns[op](g).tolist() == fns[op](t).tolist()
    assert fns[op](g).dtype.name == str(fns[op](t).dtype)[6:]
