"""genesis.tensor on nested sequences against torch.tensor: shapes, dtypes, and the refusals."""

import genesis
import numpy as np
import pytest
import torch


def build(lib, spec: str):
    """Evaluate ``spec`` with ``T`` bound to ``lib.tensor`` and ``ones`` to ``lib.ones``."""
    dtypes = {name: getattr(lib, name) for name in ("int32", "uint8", "int8", "float16",
                                                   "bfloat16", "float64")}
    return eval(spec, {"T": lib.tensor, "ones": lib.ones, "np": np, **dtypes})


ACCEPTED = [
    "[ones(1), T(2.0)]",
    "[ones(1, 1), ones(1)]",
    "[[T(1.0)], [T(2.0)]]",
    "[T(1), T(2)]",
    "[T(1), 2.5]",
    "[T(True), 1.5]",
    "[T(True), T(False)]",
    "[T(1, dtype=int32), T(2, dtype=int32)]",
    "[T(1, dtype=int32), 2]",
    "[T(1.0, dtype=float64), 2.0]",
    "[T(1.0, dtype=float16), 2]",
    "[T(1, dtype=uint8), T(2, dtype=int8)]",
    "[T(1.0, dtype=bfloat16), T(1.0, dtype=float16)]",
    "[T(3.5, dtype=bfloat16), 1]",
    "[[1, 2], [3, 4]]",
]


@pytest.mark.parametrize("spec", ACCEPTED)
def test_lists_of_one_element_tensors_and_numbers_match_torch(spec):
    ours, theirs = genesis.tensor(build(genesis, spec)), torch.tensor(build(torch, spec))
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("spec, message", [
    ("[ones(2), ones(2)]", r"data\[0\] is a tensor of shape \(2,\): only one element tensors "
                           r"can be converted to Python scalars \(join tensors with "
                           r"genesis.stack"),
    ("[T(1.0), ones(0)]", r"data\[1\] is a tensor of shape \(0,\): only one element tensors"),
    ("[[1, 2], [3]]", r"expected sequence of length 2 at dim 1 \(got 1\): data\[1\] has length "
                      r"1 but data\[0\] has length 2"),
    ("[[1, 2], [3, 4, 5]]", r"expected sequence of length 2 at dim 1 \(got 3\)"),
    ("[[[1, 2], [3, 4]], [[1, 2], [3]]]", r"expected sequence of length 2 at dim 2 \(got 1\): "
                                          r"data\[1\]\[1\] has length 1"),
    ("[np.ones(2), np.ones(3)]", r"expected sequence of length 2 at dim 1 \(got 3\)"),
])
def test_ragged_data_and_multi_element_tensors_raise_value_error_as_torch_does(spec, message):
    with pytest.raises(ValueError):
        torch.tensor(build(torch, spec))
    with pytest.raises(ValueError, match="^tensor: " + message):
        genesis.tensor(build(genesis, spec))


@pytest.mark.parametrize("spec, message", [
    ("[[1, 2], 3]", r"expected sequence of length 2 at dim 1, got int 3 at data\[1\]; nested "
                    r"sequences must have shape \(2, 2\)"),
    ("[1, [2, 3]]", r"expected a number at dim 1 \(as in data\[0\]\), got a sequence of length "
                    r"2 at data\[1\]"),
])
def test_a_number_where_a_sequence_belongs_or_the_reverse_raises_type_error(spec, message):
    with pytest.raises(TypeError):
        torch.tensor(build(torch, spec))
    with pytest.raises(TypeError, match="^tensor: " + message):
        genesis.tensor(build(genesis, spec))


def test_an_element_of_no_number_type_is_named_with_its_place():
    with pytest.raises(TypeError, match=r"could not infer dtype of NoneType None at data\[1\]"):
        genesis.tensor([1.0, None])


def test_explicit_dtype_and_grad_of_tensor_elements():
    x = genesis.tensor(2.0, requires_grad=True)
    y = genesis.tensor([x, genesis.ones(1)], dtype=genesis.float64)
    assert y.dtype is genesis.float64 and y.tolist() == [2.0, 1.0]
    assert not y.requires_grad and y.is_leaf  # a copy of the values, as torch.tensor makes
