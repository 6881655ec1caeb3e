"""Indexing for reading and writing, basic and advanced, against PyTorch."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import LAYOUTS, compare, make_pair


def _idx(m, spec):
    """Build an index in library ``m`` from a spec (tensors become ``m`` tensors)."""
    if isinstance(spec, tuple):
        return tuple(_idx(m, s) for s in spec)
    if isinstance(spec, np.ndarray):
        return m.tensor(spec)
    return spec


KEYS = {
    "int": 1,
    "neg_int": -1,
    "slice": slice(1, 3),
    "slice_step": slice(None, None, 2),
    "slice_neg": slice(-3, -1),
    "slice_past_end": slice(2, 100),
    "slice_empty": slice(3, 1),
    "int_slice": (0, slice(1, None, 2)),
    "none": None,
    "none_mid": (slice(None), None, 1),
    "ellipsis": (Ellipsis, 1),
    "ellipsis_mid": (1, Ellipsis, slice(None, 2)),
    "ellipsis_none": (Ellipsis, None),
    "all_ints": (1, 2, 3),
    "bool_mask": np.array([True, False, True]),
    "bool_mask_2d": np.arange(12).reshape(3, 4) % 3 == 0,
    "bool_mask_empty": np.zeros(3, dtype=bool),
    "int_tensor": np.array([2, 0, 2]),
    "int_tensor_neg": np.array([-1, 0]),
    "int_tensor_2d": np.array([[0, 1], [2, 2]]),
    "list": [0, 2],
    "list_neg": [-1, -3, 1],
    "adjacent_adv": (slice(None), np.array([0, 3, 1]), np.array([1, 0, 4])),
    "non_adjacent_adv": (np.array([0, 2]), slice(None), np.array([1, 3])),
    "adv_broadcast": (np.array([[0], [2]]), np.array([1, 2, 3])),
    "adv_with_int": (1, slice(None), np.array([0, 4])),
    "adv_with_slice_step": (np.array([2, 1]), slice(None, None, -1) if False else slice(0, 4, 3)),
    "adv_none": (None, np.array([1, 0]), Ellipsis),
    "mask_and_slice": (slice(None), np.array([True, False, False, True])),
    "mask_and_int": (np.array([True, False, True]), 2),
    "scalar_tensor_int": np.array(1),
}


@pytest.mark.parametrize("name", sorted(KEYS))
@pytest.mark.parametrize("layout", LAYOUTS)
def test_getitem(name, layout):
    compare(lambda m, x: x[_idx(m, KEYS[name])], [(3, 4, 5)], layout=layout)


@pytest.mark.parametrize("name", ["int", "slice", "slice_step", "none", "ellipsis_mid",
                                  "all_ints", "int_slice"])
def test_basic_getitem_is_a_view(name):
    g, t = make_pair(np.arange(60.0).reshape(3, 4, 5), "float32")
    vg, vt = g[KEYS[name]], t[KEYS[name]]
    assert vg.stride() == vt.stride() and vg.storage_offset() == vt.storage_offset()
    vg.fill_(-1)
    vt.fill_(-1)
    assert g.tolist() == t.tolist()


@pytest.mark.parametrize("name", ["int_tensor", "list", "bool_mask"])
def test_advanced_getitem_copies(name):
    g = genesis.zeros(3, 4)
    out = g[_idx(genesis, KEYS[name])]
    out.fill_(5)
    assert g.sum().item() == 0


def test_getitem_0d_and_edge_shapes():
    compare(lambda m, x: x[...], [()])
    compare(lambda m, x: x[None], [()])
    compare(lambda m, x: x[m.tensor(True)], [()]) if False else None
    compare(lambda m, x: x[1:1], [(3, 2)])
    compare(lambda m, x: x[:, m.tensor([], dtype=m.int64)], [(3, 2)])
    compare(lambda m, x: x[0], [(1, 0)])


@pytest.mark.parametrize("key,error", [((3,), IndexError), ((0, 5), IndexError),
                                       ((-4,), IndexError), ((0, 0, 0, 0), IndexError),
                                       ((np.array([3]),), IndexError),
                                       ((np.array([True, False]),), IndexError)], ids=str)
def test_getitem_errors(key, error):
    g, t = make_pair(np.zeros((3, 4, 5)), "float32")
    with pytest.raises(error):
        t[_idx(torch, key)]
    with pytest.raises(error):
        g[_idx(genesis, key)]


def test_two_ellipses_are_rejected():
    # Divergence: torch 2.13 accepts x[..., ...] (both expand to nothing useful); genesis
    # raises like numpy, since a second ellipsis is always a mistake in user code.
    with pytest.raises(IndexError, match="single ellipsis"):
        genesis.zeros(3, 4)[..., ...]


def test_float_index_is_rejected():
    with pytest.raises(IndexError):
        genesis.zeros(3)[genesis.tensor([0.0])]


SET_KEYS = ["int", "neg_int", "slice_step", "int_slice", "ellipsis_mid", "all_ints", "bool_mask",
            "bool_mask_2d", "int_tensor_neg", "list", "adjacent_adv", "non_adjacent_adv",
            "adv_broadcast", "adv_with_int", "mask_and_slice", "none_mid"]


@pytest.mark.parametrize("name", SET_KEYS)
@pytest.mark.parametrize("value", ["scalar", "tensor", "broadcast"])
def test_setitem(name, value):
    g, t = make_pair(np.arange(60.0).reshape(3, 4, 5), "float32")
    key_g, key_t = _idx(genesis, KEYS[name]), _idx(torch, KEYS[name])
    target_shape = tuple(t[key_t].shape)
    if value == "scalar":
        vg = vt = -2.5
    elif value == "tensor":
        vg, vt = make_pair(np.arange(np.prod(target_shape)).reshape(target_shape) + 100.0,
                           "float32")
    else:
        shape = target_shape[-1:] if target_shape else ()
        vg, vt = make_pair(np.arange(np.prod(shape)).reshape(shape) - 50.0, "float32")
    g[key_g] = vg
    t[key_t] = vt
    assert g.tolist() == t.tolist()


def test_setitem_on_non_contiguous_view_writes_base():
    g, t = make_pair(np.arange(24.0).reshape(4, 6), "float32")
    g.T[::2, 1] = 0.0
    t.T[::2, 1] = 0.0
    g[:, 1::2][genesis.tensor([0, 2])] = -1.0
    t[:, 1::2][torch.tensor([0, 2])] = -1.0
    assert g.tolist() == t.tolist()


def test_setitem_casts_value_and_accepts_lists():
    g, t = make_pair(np.zeros((2, 3), dtype=np.int64), "int64")
    g[0] = genesis.tensor([1.7, 2.2, -3.9])
    t[0] = torch.tensor([1.7, 2.2, -3.9])
    g[1] = [4, 5, 6]
    t[1] = torch.tensor([4, 5, 6])
    assert g.tolist() == t.tolist() and g.dtype is genesis.int64


def test_setitem_duplicate_indices_last_write_wins_for_equal_values():
    g = genesis.zeros(4)
    g[genesis.tensor([1, 1, 3])] = 2.0
    assert g.tolist() == [0.0, 2.0, 0.0, 2.0]


def test_setitem_errors():
    with pytest.raises(IndexError):
        genesis.zeros(3)[3] = 1.0
    with pytest.raises(RuntimeError):
        genesis.zeros(3, 4)[0] = genesis.ones(3)


def test_setitem_leaf_requiring_grad_raises():
    x = genesis.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0
    with genesis.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize("name", ["int", "slice_step", "bool_mask", "int_tensor", "adjacent_adv"])
def test_setitem_in_graph_gradients(name):
    def fn(m, x, v):
        y = x * 2
        key = _idx(m, KEYS[name])
        y[key] = v[:1].expand(y[key].shape) * 3
        return y * y
    compare(fn, [(3, 4, 5), (1,)])


def test_getitem_gradient_accumulates_over_repeated_indices():
    compare(lambda m, x: x[m.tensor([0, 0, 2, 0])], [(3, 4)])
    compare(lambda m, x: x[:, [1, 1]] * 2, [(3, 4)])
    compare(lambda m, x: x[1] + x[1, [0, 0, 1, 3]], [(3, 4)])


# -- gather / scatter / index_select / masked_fill / nonzero --------------------------------

def _index(shape, high, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_gather(dim, layout):
    idx = _index((2, 3), 4)
    compare(lambda m, x: x.gather(dim, m.tensor(idx)), [(4, 4)], layout=layout)
    compare(lambda m, x: m.gather(x, dim, m.tensor(idx)), [(4, 5)])


@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("op", ["scatter", "scatter_add", "scatter_scalar", "scatter_reduce_add"])
def test_scatter(dim, op):
    idx = np.array([[0, 1, 2], [2, 0, 1]]) if op == "scatter" else _index((2, 3), 3)
    # torch has no derivative for scatter(reduce=...), and its scatter backward returns a
    # gradient of the index's shape for a larger src: compare src of the index's shape.
    fns = {"scatter": lambda m, x, s: x.scatter(dim, m.tensor(idx), s),
           "scatter_add": lambda m, x, s: m.scatter_add(x, dim, m.tensor(idx), s),
           "scatter_scalar": lambda m, x, s: x.scatter(dim, m.tensor(idx), 1.5) * s.sum(),
           "scatter_reduce_add": lambda m, x, s: x.scatter(dim, m.tensor(idx), s, reduce="add")}
    compare(fns[op], [(3, 3), (2, 3)], grad=op != "scatter_reduce_add")
    compare(fns[op], [(3, 3), (2, 4)], grad=False)


def test_scatter_inplace():
    for op in ("scatter_", "scatter_add_"):
        g, t = make_pair(np.zeros((3, 4)), "float32")
        sg, st = make_pair(np.arange(8.0).reshape(2, 4), "float32")
        idx = np.array([[1, 0, 2, 1], [0, 0, 1, 2]])
        getattr(g, op)(0, genesis.tensor(idx), sg)
        getattr(t, op)(0, torch.tensor(idx), st)
        assert g.tolist() == t.tolist(), op


def test_gather_scatter_errors():
    x = genesis.zeros(3, 4)
    with pytest.raises(RuntimeError, match="int64"):
        x.gather(0, genesis.tensor([[0]], dtype=genesis.int32))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(0, genesis.tensor([0]))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("index", [[2, 0, 2], [1], [], [0]], ids=str)
def test_index_select(dim, index):
    compare(lambda m, x: x.index_select(dim, m.tensor(index, dtype=m.int64)), [(3, 4)])


@pytest.mark.parametrize("index", [[3], [-1]])
def test_index_select_out_of_range(index):
    with pytest.raises(IndexError):
        torch.zeros(3).index_select(0, torch.tensor(index))
    with pytest.raises(IndexError, match="out of range"):
        genesis.zeros(3).index_select(0, genesis.tensor(index))


@pytest.mark.parametrize("value", [0.0, -2, 3.5])
@pytest.mark.parametrize("mask_shape", [(3, 4), (4,), (3, 1), ()], ids=str)
def test_masked_fill(value, mask_shape):
    mask = np.random.default_rng(1).random(mask_shape) < 0.5
    compare(lambda m, x: x.masked_fill(m.tensor(mask), value), [(3, 4)])
    compare(lambda m, x: m.masked_fill(x, m.tensor(mask), value), [(3, 4)], layout="transposed")


def test_masked_fill_tensor_value_and_integer_input():
    mask = np.array([True, False, True])
    compare(lambda m, x, v: x.masked_fill(m.tensor(mask), v.sum()), [(3,), (2,)])
    compare(lambda m, x: x.masked_fill(m.tensor(mask), 7), arrays=[np.array([1, 2, 3])])


def test_masked_fill_inplace():
    g, t = make_pair(np.arange(6.0).reshape(2, 3), "float32")
    g.masked_fill_(genesis.tensor([True, False, True]), -1)
    t.masked_fill_(torch.tensor([True, False, True]), -1)
    assert g.tolist() == t.tolist()


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2), (), (0, 3)], ids=str)
def test_nonzero(shape):
    a = (np.random.default_rng(0).random(shape) < 0.5).astype(np.float32)
    compare(lambda m, x: x.nonzero(), arrays=[a], grad=False)
    compare(lambda m, x: m.nonzero(x, as_tuple=True), arrays=[a], grad=False)
