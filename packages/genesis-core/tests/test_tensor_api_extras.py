"""Small API pieces ported scripts use, each against PyTorch: Size, finfo/iinfo, hooks,
inference_mode, nbytes/itemsize, type(), memory formats, printing options, softmax methods."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import compare

FLOATS = ["float32", "float64", "float16", "bfloat16"]
INTS = ["int8", "uint8", "int16", "int32", "int64"]


def test_size_behaves_like_torch_size():
    g, t = genesis.zeros(2, 3, 4).shape, torch.zeros(2, 3, 4).shape
    assert isinstance(g, genesis.Size) and isinstance(g, tuple)
    assert g == tuple(t) and g.numel() == t.numel()
    for piece in (lambda s: s + (5,), lambda s: (5,) + s, lambda s: s * 2):
        assert type(piece(g)) is genesis.Size and tuple(piece(g)) == tuple(piece(t))
    assert tuple(g[1:]) == tuple(t[1:])  # a slice: a plain tuple here (torch: a Size)
    assert g[0] == 2 and type(g[0]) is int
    assert genesis.zeros(2, 3).size() == genesis.Size([2, 3])
    assert repr(genesis.Size([2, 3])) == "genesis.Size([2, 3])"
    assert genesis.zeros(genesis.Size([2, 3])).shape == (2, 3)
    assert genesis.zeros(0, 3).shape.numel() == 0


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    g, t = genesis.finfo(getattr(genesis, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(g, field) == getattr(t, field), field
    assert g.dtype == name


def test_finfo_defaults_to_the_default_dtype_and_refuses_integers():
    assert genesis.finfo().eps == torch.finfo().eps
    with pytest.raises(TypeError, match="finfo: type=genesis.int32"):
        genesis.finfo(genesis.int32)


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    g, t = genesis.iinfo(getattr(genesis, name)), torch.iinfo(getattr(torch, name))
    assert (g.bits, g.min, g.max) == (t.bits, t.min, t.max)
    with pytest.raises(TypeError, match="iinfo"):
        genesis.iinfo(genesis.float32)


def _hook_run(lib):
    x = lib.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.clone()) or g * 2)
    y = x * 3
    y.register_hook(lambda g: g + 1)
    z = y.tanh()
    handle = z.register_hook(lambda g: g * 10)
    handle.remove()
    z.sum().backward()
    return x.grad, seen[0]


def test_register_hook_changes_gradients_like_torch():
    (gx, gs), (tx, ts) = _hook_run(genesis), _hook_run(torch)
    np.testing.assert_allclose(gx.numpy(), tx.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gs.numpy(), ts.numpy(), rtol=1e-6)


def test_register_hook_errors():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        genesis.ones(2).register_hook(lambda g: g)
    x = genesis.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="expected a callable"):
        x.register_hook(3)
    x.register_hook(lambda g: genesis.ones(3))
    with pytest.raises(RuntimeError, match="expected"):
        (x * 2).sum().backward()


def test_inference_mode_like_no_grad():
    x = genesis.ones(2, requires_grad=True)
    with genesis.inference_mode():
        assert not (x * 2).requires_grad and genesis.is_inference_mode_enabled()
    assert (x * 2).requires_grad and not genesis.is_inference_mode_enabled()
    with genesis.inference_mode(False):
        assert (x * 2).requires_grad

    @genesis.inference_mode()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    with pytest.raises(TypeError, match="mode=1"):
        genesis.inference_mode(1)


@pytest.mark.parametrize("name", FLOATS + INTS + ["bool"])
def test_nbytes_itemsize_element_size(name):
    g = genesis.zeros(3, 5, dtype=getattr(genesis, "bool" if name == "bool" else name))
    t = torch.zeros(3, 5, dtype=getattr(torch, name))
    assert (g.nbytes, g.itemsize, g.element_size()) == (t.nbytes, t.itemsize, t.element_size())
    assert g[:, ::2].nbytes == t[:, ::2].nbytes


@pytest.mark.parametrize("name", FLOATS + INTS + ["bool"])
def test_type_names_and_casts(name):
    g = genesis.zeros(2, dtype=getattr(genesis, "bool" if name == "bool" else name))
    t = torch.zeros(2, dtype=getattr(torch, name))
    assert g.type() == t.type().replace("torch.", "genesis.")
    assert g.type("torch.LongTensor").dtype is genesis.int64
    assert g.type(genesis.float64).dtype is genesis.float64
    with pytest.raises(ValueError, match="type: dtype='torch.Nope'"):
        g.type("torch.Nope")


@pytest.mark.parametrize("make", [
    lambda lib: lib.zeros(2, 3, 4, 5), lambda lib: lib.zeros(2, 3, 4, 5).permute(0, 2, 3, 1),
    lambda lib: lib.zeros(2, 4, 5, 3).permute(0, 3, 1, 2), lambda lib: lib.zeros(2, 1, 4, 5),
    lambda lib: lib.zeros(0, 3, 4, 5), lambda lib: lib.zeros(2, 3, 4, 5)[:, :, ::2],
    lambda lib: lib.zeros(1, 4, 1, 1).expand(3, 4, 1, 1)])
def test_is_contiguous_with_memory_formats(make):
    g, t = make(genesis), make(torch)
    for fmt in ("contiguous_format", "channels_last"):
        assert g.is_contiguous(memory_format=getattr(genesis, fmt)) == \
            t.is_contiguous(memory_format=getattr(torch, fmt)), fmt
    assert g.is_contiguous() == t.is_contiguous()
    with pytest.raises(ValueError, match="memory_format"):
        g.is_contiguous(memory_format="nope")


def test_channels_last_3d():
    g, t = genesis.zeros(2, 3, 4, 5, 6).permute(0, 2, 3, 4, 1), \
        torch.zeros(2, 3, 4, 5, 6).permute(0, 2, 3, 4, 1)
    assert g.is_contiguous(memory_format=genesis.channels_last_3d) == \
        t.is_contiguous(memory_format=torch.channels_last_3d)


def test_is_tensor_and_numel():
    assert genesis.is_tensor(genesis.ones(2)) and not genesis.is_tensor([1.0])
    assert genesis.numel(genesis.ones(2, 3)) == torch.numel(torch.ones(2, 3))


def test_set_printoptions():
    x = genesis.tensor([1.23456789, 100.5])
    try:
        genesis.set_printoptions(precision=2)
        assert "1.23" in repr(x) and "1.235" not in repr(x)
        genesis.set_printoptions(sci_mode=True)
        assert "e+00" in repr(x)
        genesis.set_printoptions(profile="full")
        assert "..." not in repr(genesis.arange(5000.0))
        genesis.set_printoptions(profile="default")
        assert "..." in repr(genesis.arange(5000.0))
        with pytest.raises(ValueError, match="profile='loud'"):
            genesis.set_printoptions(profile="loud")
        with pytest.raises(ValueError, match="precision=-1"):
            genesis.set_printoptions(precision=-1)
    finally:
        genesis.set_printoptions(profile="default")


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_functions_and_methods(dim):
    compare(lambda lib, x: x.softmax(dim) + x.log_softmax(dim) + lib.softmax(x, dim) +
            lib.log_softmax(x, dim), [(3, 4)])


@pytest.mark.parametrize("args", [dict(), dict(bins=7), dict(bins=5, min=-1, max=1),
                                  dict(bins=4, min=0.5, max=0.5), dict(bins=3, min=-3, max=3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_matches_torch(args, dtype):
    compare(lambda lib, x: lib.histc(x, **args) + x.histc(**args), [(50,)], dtype=dtype,
            grad=False)


def test_histc_edges_and_errors():
    x = np.array([0.0, 1.0, 1.0, 2.0, 3.0, -1.0, 4.0])
    compare(lambda lib, t: lib.histc(t, bins=3, min=0, max=3), arrays=[x], grad=False)
    compare(lambda lib, t: lib.histc(t, bins=4), arrays=[np.zeros(0)], grad=False)
    compare(lambda lib, t: lib.histc(t, bins=4), arrays=[np.full(3, 2.0)], grad=False)
    with pytest.raises(RuntimeError, match="bins=0"):
        genesis.histc(genesis.ones(3), bins=0)
    with pytest.raises(NotImplementedError, match="dtype"):
        genesis.histc(genesis.ones(3, dtype=genesis.int64))


def test_top_level_aliases_and_is_floating_point():
    for alias, name in [("divide", "div"), ("true_divide", "div"), ("multiply", "mul"),
                        ("subtract", "sub"), ("negative", "neg")]:
        assert getattr(genesis, alias) is getattr(genesis, name)
        assert getattr(torch, alias) is not None
    compare(lambda lib, a, b: lib.divide(a, b) + lib.subtract(a, b) * lib.multiply(a, b) +
            lib.negative(a) + lib.true_divide(b, a), [(3,), (3,)], low=0.5, high=2)
    assert genesis.is_floating_point(genesis.ones(2)) == torch.is_floating_point(torch.ones(2))
    assert genesis.is_floating_point(genesis.ones(2, dtype=genesis.int64)) is False
