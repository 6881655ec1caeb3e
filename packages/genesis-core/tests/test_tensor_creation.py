"""Factory functions against PyTorch: dtype inference, shapes, values, random streams."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import DTYPES, assert_close, gdtype, tdtype

DATA = [1.5, 3, True, [1, 2, 3], [1.0, 2], [[1, 2], [3, 4]], [True, False], [[1.5], [2]], [],
        [[]], [[[1]]], 0.0, -7]


@pytest.mark.parametrize("data", DATA, ids=repr)
def test_tensor_infers_dtype_and_shape(data):
    assert_close(genesis.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "bfloat16"])
def test_tensor_from_numpy_keeps_dtype(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    assert_close(genesis.tensor(a), torch.tensor(a))
    assert_close(genesis.from_numpy(a), torch.from_numpy(a))
    assert_close(genesis.tensor(a[0, 1]), torch.tensor(a[0, 1]))  # numpy scalar: 0-d


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_with_explicit_dtype(dtype):
    data = [[0, 1, 2], [3, 4, 5]]
    assert_close(genesis.tensor(data, dtype=gdtype(dtype)), torch.tensor(data, dtype=tdtype(dtype)))


def test_tensor_copies_its_data():
    a = np.zeros(3, dtype=np.float32)
    t = genesis.tensor(a)
    a[0] = 5
    assert t.tolist() == [0.0, 0.0, 0.0]
    t2 = genesis.tensor(t)
    t2[1] = 3.0
    assert t.tolist() == [0.0, 0.0, 0.0]


def test_tensor_from_list_of_tensors():
    assert_close(genesis.tensor([genesis.tensor(1.0), genesis.tensor(2.0)]),
                 torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]))


def test_tensor_rejects_ragged_data():
    with pytest.raises((TypeError, ValueError)):
        genesis.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="dtype"):
        genesis.tensor([1], dtype="float32")


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size", [((),), (0,), (3,), (2, 3), ((2, 3),), ([4, 1],)], ids=str)
@pytest.mark.parametrize("dtype", [None, "float64", "int32", "bool", "bfloat16"])
def test_fill_factories(name, size, dtype):
    kw_g = {} if dtype is None else {"dtype": gdtype(dtype)}
    kw_t = {} if dtype is None else {"dtype": tdtype(dtype)}
    g, t = getattr(genesis, name)(*size, **kw_g), getattr(torch, name)(*size, **kw_t)
    if name == "empty":
        assert g.shape == tuple(t.shape) and g.dtype.name == str(t.dtype)[6:]
        assert g.is_contiguous()
    else:
        assert_close(g, t)


@pytest.mark.parametrize("value", [2, 2.5, True, -1])
@pytest.mark.parametrize("dtype", [None, "float16", "int64"])
def test_full(value, dtype):
    kw_g = {} if dtype is None else {"dtype": gdtype(dtype)}
    kw_t = {} if dtype is None else {"dtype": tdtype(dtype)}
    assert_close(genesis.full((2, 3), value, **kw_g), torch.full((2, 3), value, **kw_t))
    assert_close(genesis.full([], value, **kw_g), torch.full([], value, **kw_t))


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like",
                                  "randn_like", "full_like"])
@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_like_factories_keep_shape_and_dtype(name, dtype):
    src_g = genesis.zeros(2, 3, dtype=gdtype(dtype)).transpose(0, 1)
    src_t = torch.zeros(2, 3, dtype=tdtype(dtype)).transpose(0, 1)
    args = (7,) if name == "full_like" else ()
    g, t = getattr(genesis, name)(src_g, *args), getattr(torch, name)(src_t, *args)
    assert g.shape == tuple(t.shape) and g.dtype.name == str(t.dtype)[6:]
    if name in ("zeros_like", "ones_like", "full_like"):
        assert_close(g, t)
    g = getattr(genesis, name)(src_g, *args, dtype=genesis.int32) if "rand" not in name else g
    assert g.dtype is (genesis.int32 if "rand" not in name else gdtype(dtype))


def test_randint_like():
    g = genesis.randint_like(genesis.zeros(50, dtype=genesis.int32), 3, 7)
    assert g.shape == (50,) and g.dtype is genesis.int32
    assert set(g.tolist()) <= set(range(3, 7)) and len(set(g.tolist())) > 1
    g = genesis.randint_like(genesis.zeros(50), 5)
    assert g.dtype is genesis.float32 and set(g.tolist()) <= set(map(float, range(5)))


ARANGE = [(5,), (2, 7), (0, 1, 0.25), (1, 0, -0.3), (-3, 3, 2), (0.5, 3), (0, 0), (0, 0, -1),
          (10, 0, -3), (1, 2.5, 0.5)]


@pytest.mark.parametrize("args,dtype", [(a, d) for a in ARANGE for d in (None, "float64", "int32")
                                        if d != "int32" or all(isinstance(v, int) for v in a)],
                         ids=str)
def test_arange(args, dtype):
    kw_g = {} if dtype is None else {"dtype": gdtype(dtype)}
    kw_t = {} if dtype is None else {"dtype": tdtype(dtype)}
    assert_close(genesis.arange(*args, **kw_g), torch.arange(*args, **kw_t))


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 2, 1), (3, -1, 4), (0, 1, 0), (1, 2, 2)],
                         ids=str)
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_linspace(args, dtype):
    kw_g = {} if dtype is None else {"dtype": gdtype(dtype)}
    kw_t = {} if dtype is None else {"dtype": tdtype(dtype)}
    assert_close(genesis.linspace(*args, **kw_g), torch.linspace(*args, **kw_t))


@pytest.mark.parametrize("args", [(3,), (2, 4), (4, 2), (0,), (1, 0)], ids=str)
def test_eye(args):
    assert_close(genesis.eye(*args), torch.eye(*args))
    assert_close(genesis.eye(*args, dtype=genesis.int64), torch.eye(*args, dtype=torch.int64))


def test_factories_with_requires_grad():
    for t in (genesis.zeros(2, requires_grad=True), genesis.ones(2, requires_grad=True),
              genesis.tensor([1.0], requires_grad=True), genesis.rand(2, requires_grad=True),
              genesis.full((2,), 1.0, requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.grad_fn is None
    with pytest.raises(RuntimeError, match="floating point"):
        genesis.tensor([1, 2], requires_grad=True)


def test_negative_sizes_are_rejected():
    with pytest.raises(RuntimeError, match="negative dimension"):
        genesis.zeros(2, -1)
    with pytest.raises(RuntimeError, match="negative dimension"):
        genesis.full((-2,), 1.0)


@pytest.mark.parametrize("args", [(3, 0), (0, 3, -1), (0, 1, 0)], ids=str)
def test_arange_rejects_inconsistent_steps(args):
    with pytest.raises(RuntimeError):
        torch.arange(*args)
    with pytest.raises(RuntimeError, match="arange"):
        genesis.arange(*args)


# -- random ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["rand", "randn"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_random_float_shapes_dtypes_ranges(name, dtype):
    g = getattr(genesis, name)(200, 50, dtype=gdtype(dtype))
    assert g.shape == (200, 50) and g.dtype.name == dtype
    a = g.float().numpy()
    if name == "rand":
        assert a.min() >= 0 and a.max() <= 1  # half types may round up to exactly 1
        assert abs(a.mean() - 0.5) < 0.02 and abs(a.std() - (1 / 12) ** 0.5) < 0.02
    else:
        assert abs(a.mean()) < 0.03 and abs(a.std() - 1) < 0.03
    assert len(np.unique(a)) > 100


@pytest.mark.parametrize("args", [(10, (1000,)), (-5, 5, (40, 25)), (3, 4, (100,))], ids=str)
def test_randint(args):
    g = genesis.randint(*args)
    low, high = (0, args[0]) if len(args) == 2 else args[:2]
    assert g.dtype is genesis.int64 and g.shape == args[-1]
    assert set(np.unique(g.numpy()).tolist()) == set(range(low, high))
    assert genesis.randint(0, 5, (3,), dtype=genesis.int16).dtype is genesis.int16


def test_randperm():
    p = genesis.randperm(50)
    assert p.dtype is genesis.int64 and sorted(p.tolist()) == list(range(50))
    assert p.tolist() != list(range(50))


def test_manual_seed_gives_reproducible_streams():
    genesis.manual_seed(123)
    a, b = genesis.rand(5), genesis.randn(3, 2)
    genesis.manual_seed(123)
    assert genesis.rand(5).tolist() == a.tolist() and genesis.randn(3, 2).tolist() == b.tolist()
    genesis.manual_seed(124)
    assert genesis.rand(5).tolist() != a.tolist()
    assert genesis.initial_seed() == 124


def test_consecutive_draws_differ():
    assert genesis.rand(8).tolist() != genesis.rand(8).tolist()
    assert genesis.rand(3).tolist() != genesis.rand(3).tolist()[:3]


def test_rng_state_replay():
    genesis.rand(7)
    state = genesis.get_rng_state()
    def draws():
        return [genesis.rand(4).tolist(), genesis.randn(2).tolist(),
                genesis.randint(0, 100, (5,)).tolist(), genesis.randperm(6).tolist(),
                genesis.empty(9).uniform_().tolist()]
    a = draws()
    genesis.set_rng_state(state)
    b = draws()
    assert a == b
    assert state.dtype is genesis.int64


def test_generator_objects_are_independent():
    g1, g2 = genesis.Generator().manual_seed(5), genesis.Generator().manual_seed(5)
    x = genesis.rand(4, generator=g1)
    genesis.rand(100)  # the default stream does not disturb g2
    assert genesis.rand(4, generator=g2).tolist() == x.tolist()
    state = g1.get_state()
    y = genesis.randn(3, generator=g1)
    g1.set_state(state)
    assert genesis.randn(3, generator=g1).tolist() == y.tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_uniform_and_normal_fill_statistics(dtype):
    t = genesis.empty(100, 100, dtype=gdtype(dtype))
    t.uniform_(-2, 4)
    a = t.float().numpy()
    assert a.min() >= -2 and a.max() <= 4 and abs(a.mean() - 1) < 0.05
    assert abs(a.std() - 6 / 12 ** 0.5) < 0.05
    t.normal_(3, 0.5)
    a = t.float().numpy()
    assert abs(a.mean() - 3) < 0.02 and abs(a.std() - 0.5) < 0.02


def test_random_fill_of_a_view_writes_only_the_view():
    base = genesis.zeros(4, 6)
    base[:, ::2].uniform_(1, 2)
    a = base.numpy()
    assert (a[:, 1::2] == 0).all() and (a[:, ::2] >= 1).all()
