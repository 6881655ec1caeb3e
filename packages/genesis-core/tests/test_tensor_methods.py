"""Conversions and in-place ops against PyTorch (values, dtypes, aliasing, autograd rules)."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import assert_close, compare, make_pair


def test_item_tolist_numpy():
    for data in ([[1.5, 2.0], [3.0, 4.0]], [1, 2], [True], 3.5, 7):
        g, t = genesis.tensor(data), torch.tensor(data)
        assert g.tolist() == t.tolist() and type(g.tolist()) is type(t.tolist())
        np.testing.assert_array_equal(g.numpy(), t.numpy())
        assert g.numpy().dtype == t.numpy().dtype
    assert genesis.tensor([2.5]).item() == 2.5 and type(genesis.tensor(3).item()) is int
    assert type(genesis.tensor(True).item()) is bool
    with pytest.raises(RuntimeError, match="cannot be converted"):
        genesis.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="detach"):
        genesis.ones(2, requires_grad=True).numpy()
    assert float(genesis.tensor(1.5)) == 1.5 and int(genesis.tensor(2.7)) == 2


def test_numpy_of_views():
    g, t = make_pair(np.arange(12.0).reshape(3, 4), "float32")
    np.testing.assert_array_equal(g.T[::2].numpy(), t.T[::2].numpy())
    np.testing.assert_array_equal(np.asarray(g[1:, ::3]), t[1:, ::3].numpy())


@pytest.mark.parametrize("conv", ["float", "half", "double", "long", "bool", "cpu", "detach",
                                  "clone", "to_dtype", "to_tensor", "to_device_dtype",
                                  "to_copy", "type_as"])
def test_conversions(conv):
    fns = {"float": lambda m, x: x.double().float(), "half": lambda m, x: x.half(),
           "double": lambda m, x: x.double(), "long": lambda m, x: (x * 3).long(),
           "bool": lambda m, x: x.bool(), "cpu": lambda m, x: x.cpu() * 2,
           "detach": lambda m, x: x.detach(), "clone": lambda m, x: x.clone(),
           "to_dtype": lambda m, x: x.to(m.float64), "to_tensor": lambda m, x: x.to(x.half()),
           "to_device_dtype": lambda m, x: x.to("cpu", m.float16),
           "to_copy": lambda m, x: x.to(m.float32, copy=True),
           "type_as": lambda m, x: x.type_as(x.double())}
    compare(fns[conv], [(2, 3)])
    compare(fns[conv], [(2, 3)], layout="transposed")


def test_to_same_dtype_returns_self_and_clone_copies():
    g = genesis.zeros(3)
    assert g.to(genesis.float32) is g and g.float() is g and g.cpu() is g
    c = g.clone()
    c[0] = 1.0
    assert g[0].item() == 0.0
    d = g.detach()
    d[0] = 2.0
    assert g[0].item() == 2.0 and not d.requires_grad


def test_clone_of_non_contiguous_keeps_values():
    compare(lambda m, x: x.clone(), [(3, 4)], layout="expanded")


INPLACE = {
    "add_": lambda m, x, y: x.add_(y),
    "add_alpha": lambda m, x, y: x.add_(y, alpha=-2),
    "sub_": lambda m, x, y: x.sub_(y[0]),
    "mul_": lambda m, x, y: x.mul_(y),
    "mul_scalar": lambda m, x, y: x.mul_(3),
    "div_": lambda m, x, y: x.div_(y.abs() + 1),
    "iadd": lambda m, x, y: x.__iadd__(y),
    "imul": lambda m, x, y: x.__imul__(2.5),
    "itruediv": lambda m, x, y: x.__itruediv__(4),
    "addcmul_": lambda m, x, y: x.addcmul_(y, y, value=0.5),
    "addcdiv_": lambda m, x, y: x.addcdiv_(y, y.abs() + 1, value=-2),
    "lerp_": lambda m, x, y: x.lerp_(y, 0.3),
    "lerp_tensor": lambda m, x, y: x.lerp_(y, y.abs() / 4),
    "clamp_": lambda m, x, y: x.clamp_(-0.5, 0.5),
    "clamp_min": lambda m, x, y: x.clamp_(min=0.0),
    "fill_": lambda m, x, y: x.fill_(1.5),
    "fill_tensor": lambda m, x, y: x.fill_(y[0, 0]),
    "zero_": lambda m, x, y: x.zero_(),
    "copy_": lambda m, x, y: x.copy_(y),
    "copy_broadcast": lambda m, x, y: x.copy_(y[0]),
    "masked_fill_": lambda m, x, y: x.masked_fill_(y > 0, -1.0),
    "relu_": lambda m, x, y: x.relu_(),
    "exp_": lambda m, x, y: x.exp_(),
    "neg_": lambda m, x, y: x.neg_(),
    "sqrt_abs": lambda m, x, y: x.abs_().sqrt_(),
    "sigmoid_": lambda m, x, y: x.sigmoid_(),
    "pow_": lambda m, x, y: x.pow_(2),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_inplace_values_and_identity(name, layout):
    def fn(m, x, y):
        x = x.clone() if layout == "contiguous" else x.detach().clone().t().contiguous().t()
        with m.no_grad():
            out = INPLACE[name](m, x, y)
        assert out is x
        return x
    compare(fn, [(3, 4), (3, 4)], grad=False, layout=layout)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_in_graph_gradients(name):
    def fn(m, x, y):
        z = x * 1.5  # a non-leaf: in-place is allowed and recorded
        INPLACE[name](m, z, y)
        return z * x
    compare(fn, [(3, 4), (3, 4)])


def test_inplace_on_view_writes_base():
    g, t = make_pair(np.arange(12.0).reshape(3, 4), "float32")
    for x in (g, t):
        x[:, 1].add_(10)
        x.T[0].mul_(-1)
        x[1:, ::2].clamp_(max=5)
    assert g.tolist() == t.tolist()


def test_inplace_integer_dtype_is_kept():
    g, t = make_pair(np.array([1, 2, 3]), "int64")
    g.add_(2)
    t.add_(2)
    g.mul_(3)
    t.mul_(3)
    assert_close(g, t)
    with pytest.raises(RuntimeError):
        t.add_(0.5)  # torch refuses to store a float result in an int tensor
    # Divergence: genesis casts the float result back into the int64 tensor (no error).
    g.add_(0.5)
    assert g.dtype is genesis.int64


def test_inplace_broadcast_shape_errors():
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        genesis.zeros(3).add_(genesis.zeros(2, 3))
    with pytest.raises(RuntimeError):
        genesis.zeros(3).copy_(genesis.zeros(4))


@pytest.mark.parametrize("name", ["add_", "mul_scalar", "fill_", "zero_", "copy_", "clamp_",
                                  "addcmul_", "lerp_", "masked_fill_", "relu_", "exp_"])
def test_inplace_on_leaf_requiring_grad_raises(name):
    gx = genesis.ones(3, 4, requires_grad=True)
    tx = torch.ones(3, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        INPLACE[name](torch, tx, torch.ones(3, 4))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        INPLACE[name](genesis, gx, genesis.ones(3, 4))
    with genesis.no_grad():
        INPLACE[name](genesis, gx, genesis.ones(3, 4))  # allowed without recording
    assert gx.requires_grad and gx.grad_fn is None


def test_inplace_uniform_normal_on_leaf_raise():
    x = genesis.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.uniform_()
    with genesis.no_grad():
        x.normal_()
    assert x.abs().sum().item() > 0


def test_new_factories_inherit_dtype():
    x = genesis.zeros(2, dtype=genesis.float64)
    assert x.new_zeros(3).dtype is genesis.float64 and x.new_ones((2, 2)).shape == (2, 2)
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_tensor([1, 2]).dtype is genesis.float64
    assert x.new_empty(4).shape == (4,)


def test_repr_and_format():
    assert repr(genesis.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=genesis.float64" in repr(genesis.tensor([1.0], dtype=genesis.float64))
    assert "requires_grad=True" in repr(genesis.ones(1, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(genesis.ones(1, requires_grad=True) * 2)
    assert f"{genesis.tensor(1.23456):.2f}" == "1.23"


def test_bool_of_tensors():
    assert bool(genesis.tensor([1.0])) and not bool(genesis.tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(genesis.tensor([1, 2]))


def test_iteration_and_index():
    g, t = make_pair(np.arange(6.0).reshape(3, 2), "float32")
    assert [r.tolist() for r in g] == [r.tolist() for r in t]
    assert [10, 20, 30][genesis.tensor(1)] == 20
    with pytest.raises(TypeError):
        [1, 2][genesis.tensor(1.0)]
