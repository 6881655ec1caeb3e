"""Views are stride metadata: strides, contiguity and shared storage match PyTorch."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import LAYOUTS, compare, make_pair

VIEWS = {
    "reshape": lambda x: x.reshape(4, 6),
    "reshape_infer": lambda x: x.reshape(-1, 3),
    "view": lambda x: x.view(2, 12),
    "view_tuple": lambda x: x.view((3, 8)),
    "transpose": lambda x: x.transpose(0, 2),
    "transpose_neg": lambda x: x.transpose(-1, -2),
    "permute": lambda x: x.permute(2, 0, 1),
    "permute_tuple": lambda x: x.permute((1, 2, 0)),
    "T": lambda x: x.T,
    "mT": lambda x: x.mT,
    "squeeze_noop": lambda x: x.squeeze(),
    "unsqueeze0": lambda x: x.unsqueeze(0),
    "unsqueeze_neg": lambda x: x.unsqueeze(-1),
    "unsqueeze_mid": lambda x: x.unsqueeze(2),
    "expand": lambda x: x.unsqueeze(1).expand(2, 5, 3, 4),
    "expand_neg1": lambda x: x[:, :1].expand(-1, 3, -1),
    "flatten": lambda x: x.flatten(),
    "flatten_range": lambda x: x.flatten(1),
    "flatten_mid": lambda x: x.flatten(0, 1),
    "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "unflatten_infer": lambda x: x.unflatten(-1, (-1, 2)),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "narrow_neg": lambda x: x.narrow(-1, -3, 2),
    "contiguous": lambda x: x.contiguous(),
    "slice_step": lambda x: x[:, ::2],
    "slice_step_then_view": lambda x: x[:, 1:, 1::2].unsqueeze(0),
    "chain": lambda x: x.permute(1, 0, 2)[1:].reshape(2, 2, 2, 2).transpose(1, 3),
    "detach": lambda x: x.detach(),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
def test_view_metadata_and_values(name, layout):
    fn = VIEWS[name]
    if name in ("view", "view_tuple") and layout != "contiguous":
        return  # view of a non-contiguous input: covered by test_view_refuses_incompatible
    g, t = compare(lambda m, x: fn(x), [(2, 3, 4)], layout=layout)
    assert g.stride() == t.stride(), f"{name}: strides {g.stride()} != {t.stride()}"
    assert g.is_contiguous() == t.is_contiguous()
    assert g.storage_offset() == t.storage_offset()


SQUEEZE = {
    "squeeze": lambda x: x.squeeze(),
    "squeeze_dim": lambda x: x.squeeze(1),
    "squeeze_neg": lambda x: x.squeeze(-1),
    "squeeze_noop_dim": lambda x: x.squeeze(0),
    "squeeze_tuple": lambda x: x.squeeze((1, 3)),
    "flatten0d": lambda x: x[0, 0, :, 0].sum().flatten(),
    "unsqueeze_scalar": lambda x: x.sum().unsqueeze(0),
    "reshape_scalar": lambda x: x[0, 0, 0].reshape(1, 1),
    "reshape_to_scalar": lambda x: x[:1, :1, :1].reshape(()),
}


@pytest.mark.parametrize("name", sorted(SQUEEZE))
def test_size_one_dims(name):
    g, t = compare(lambda m, x: SQUEEZE[name](x), [(2, 1, 3, 1)])
    assert g.stride() == t.stride()


@pytest.mark.parametrize("shape,new", [((0, 3), (3, 0)), ((0, 3), (-1, 6)), ((2, 0), (0,)),
                                       ((0,), (2, 0, 5))], ids=str)
def test_reshape_empty(shape, new):
    compare(lambda m, x: x.reshape(*new), [shape])


def test_view_refuses_incompatible_strides():
    g, t = make_pair(np.arange(12.0).reshape(3, 4), "float32")
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        t.T.view(12)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        g.T.view(12)
    assert g.T.reshape(12).tolist() == t.T.reshape(12).tolist()
    # splitting a dim of a transposed tensor is still a view
    assert g.T.view(2, 2, 3).stride() == t.T.view(2, 2, 3).stride()


@pytest.mark.parametrize("bad", [(5, 5), (-1, -1), (7, -1)], ids=str)
def test_reshape_errors(bad):
    with pytest.raises(RuntimeError):
        genesis.zeros(3, 4).reshape(*bad)


def test_expand_errors():
    with pytest.raises(RuntimeError, match="expanded size"):
        genesis.zeros(3, 2).expand(3, 4)
    with pytest.raises(RuntimeError, match="number of sizes"):
        genesis.zeros(3, 2).expand(2)


@pytest.mark.parametrize("name", ["transpose", "permute", "T", "expand", "narrow", "slice_step",
                                  "unsqueeze_mid", "flatten_mid", "reshape", "detach",
                                  "squeeze_noop", "chain"])
def test_views_share_storage(name):
    base_g, base_t = make_pair(np.arange(24.0).reshape(2, 3, 4), "float32")
    vg, vt = VIEWS[name](base_g), VIEWS[name](base_t)
    vg.fill_(-1.0) if name != "expand" else vg[0, 0].fill_(-1.0)
    vt.fill_(-1.0) if name != "expand" else vt[0, 0].fill_(-1.0)
    assert base_g.tolist() == base_t.tolist()
    assert (base_g == -1).any().item()


def test_write_through_view_changes_base_and_other_views():
    base = genesis.zeros(4, 4)
    row, col = base[1], base[:, 2]
    row[2] = 5.0
    assert base[1, 2].item() == 5.0 and col[1].item() == 5.0
    col.mul_(2)
    assert row.tolist() == [0.0, 0.0, 10.0, 0.0]
    base.T[3, 0] = 7.0
    assert base[0, 3].item() == 7.0
    base.view(16)[5] = 9.0
    assert base[1, 1].item() == 9.0


def test_reshape_copies_only_when_needed():
    base = genesis.zeros(3, 4)
    base.reshape(4, 3)[0, 0] = 1.0  # a view: writes through
    assert base[0, 0].item() == 1.0
    base.T.reshape(12)[0] = 2.0  # a copy: the base is unchanged
    assert base[0, 0].item() == 1.0
    c = base.T.contiguous()
    assert c.is_contiguous() and c.stride() == (3, 1)
    c[0, 0] = 3.0
    assert base[0, 0].item() == 1.0
    assert base.contiguous() is base


@pytest.mark.parametrize("layout", LAYOUTS)
def test_contiguous_copy_of_layouts(layout):
    g, t = compare(lambda m, x: x.contiguous() * 1, [(3, 4)], layout=layout)
    assert g.is_contiguous()


def test_is_contiguous_edge_cases():
    for shape, index in [((1, 4), (slice(None), slice(None, None, 2))), ((4, 1), (slice(0, 2),)),
                         ((3, 1, 2), (slice(None), slice(None), slice(None, 1)))]:
        g, t = make_pair(np.zeros(shape), "float32")
        assert g[index].is_contiguous() == t[index].is_contiguous(), (shape, index)
        assert g[index].stride() == t[index].stride(), (shape, index)


def test_view_dtype_and_size_helpers():
    g, t = make_pair(np.zeros((2, 3, 4)), "float64")
    assert g.size() == tuple(t.size()) and g.size(-1) == t.size(-1) == 4
    assert g.dim() == g.ndim == 3 and g.numel() == 24 and len(g) == 2
    assert g.stride(1) == t.stride(1) and g.element_size() == 8
    with pytest.raises(IndexError, match="Dimension out of range"):
        g.size(3)
    with pytest.raises(TypeError):
        len(genesis.tensor(1.0))


@pytest.mark.parametrize("dims", [(0, 0, 1), (0, 1), (0, 1, 5)], ids=str)
def test_permute_errors(dims):
    with pytest.raises((RuntimeError, IndexError)):
        torch.zeros(2, 3, 4).permute(*dims)
    with pytest.raises((RuntimeError, IndexError)):
        genesis.zeros(2, 3, 4).permute(*dims)


def test_t_of_1d_and_error_for_3d():
    compare(lambda m, x: x.t(), [(3,)])
    compare(lambda m, x: x.t(), [(2, 3)])
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        genesis.zeros(2, 3, 4).t()


def test_narrow_out_of_range():
    # as torch: a start past the dim is an IndexError, a slice past its end a RuntimeError
    for lib in (torch, genesis):
        with pytest.raises(RuntimeError):
            lib.zeros(3, 4).narrow(1, 3, 2)
        with pytest.raises(IndexError):
            lib.zeros(3, 4).narrow(1, 5, 0)
