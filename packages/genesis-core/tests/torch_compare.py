"""One helper compares Genesis with PyTorch: the same lambda runs through both libraries.

``compare(fn, shapes)`` builds identical inputs (same numpy values) for genesis and torch,
calls ``fn(lib, *inputs)`` with ``lib`` the library module, and checks that the outputs agree
in shape, dtype and values; with ``grad=True`` it also back-propagates the same random
projection of the outputs through both and compares the input gradients.

Inputs can be laid out as non-contiguous views (``layout=``): the same view op is applied in
both libraries, so genesis kernels really see strided operands.
"""

from __future__ import annotations

import genesis
import numpy as np
import torch

DTYPES = ("float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16", "int32",
          "int64", "bool")
FLOAT_DTYPES = ("float32", "float64", "float16", "bfloat16")
LAYOUTS = ("contiguous", "transposed", "sliced", "expanded")

# (rtol, atol) per dtype: half types round at 3 and 2 significant digits
TOLERANCES = {"float64": (1e-7, 1e-9), "float32": (1e-5, 1e-6), "float16": (2e-3, 2e-3),
              "bfloat16": (1.6e-2, 1.6e-2)}


def gdtype(name: str) -> genesis.DType:
    return getattr(genesis, "bool" if name == "bool" else name)


def tdtype(name: str) -> torch.dtype:
    return getattr(torch, name)


def dtype_name(dtype) -> str:
    """The dtype's name for either library (``torch.float32`` -> ``"float32"``)."""
    return dtype.name if isinstance(dtype, genesis.DType) else str(dtype).removeprefix("torch.")


def random_array(shape, dtype: str, rng: np.random.Generator, low: float = -2.0,
                 high: float = 2.0) -> np.ndarray:
    """Values that every dtype represents (ints in range, floats rounded to the dtype)."""
    shape = tuple(shape)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in FLOAT_DTYPES:
        a = rng.uniform(low, high, shape)
        # round through torch so both libraries start from exactly representable values
        return torch.from_numpy(a).to(tdtype(dtype)).double().numpy()
    lo, hi = (0, 10) if dtype == "uint8" else (int(min(low, -5)), int(max(high, 6)))
    return rng.integers(lo, hi, shape).astype(dtype)


def to_numpy(t) -> np.ndarray:
    """Host values of a genesis or torch tensor (half types widened to float64)."""
    if isinstance(t, torch.Tensor):
        t = t.detach()
        if t.dtype in (torch.float16, torch.bfloat16):
            t = t.double()
        return t.numpy()
    a = t.detach().numpy()
    return a.astype(np.float64) if dtype_name(t.dtype) in ("float16", "bfloat16") else a


def make_pair(array: np.ndarray, dtype: str, requires_grad: bool = False):
    """A genesis and a torch tensor holding ``array`` as ``dtype`` (leaves)."""
    t = torch.from_numpy(np.array(array, order="C")).to(tdtype(dtype))  # keeps 0-d arrays
    g = genesis.tensor(to_numpy(t) if dtype in ("float16", "bfloat16") else t.numpy(),
                       dtype=gdtype(dtype))
    if requires_grad:
        t.requires_grad_(True)
        g.requires_grad_(True)
    return g, t


def _base_shape(shape: tuple, layout: str) -> tuple:
    if layout == "transposed" and len(shape) >= 2:
        return shape[:-2] + (shape[-1], shape[-2])
    if layout == "sliced" and shape:
        return shape[:-1] + (2 * shape[-1],)
    if layout == "expanded" and shape:
        return (1,) + shape[1:]
    return shape


def _apply_layout(x, shape: tuple, layout: str):
    """The view of base ``x`` with ``shape`` for ``layout`` (same code for both libraries)."""
    if layout == "transposed" and len(shape) >= 2:
        return x.transpose(-1, -2)
    if layout == "sliced" and shape:
        return x[..., ::2]
    if layout == "expanded" and shape:
        return x.expand(*shape)
    return x


def assert_close(g, t, *, rtol: float | None = None, atol: float | None = None,
                 check_dtype: bool = True, what: str = "output") -> None:
    """Genesis tensor ``g`` equals torch tensor ``t`` in shape, dtype and values."""
    assert isinstance(g, genesis.Tensor), f"{what}: expected a genesis.Tensor, got {type(g)}"
    assert tuple(g.shape) == tuple(t.shape), f"{what}: shape {g.shape} != torch {tuple(t.shape)}"
    if check_dtype:
        assert dtype_name(g.dtype) == dtype_name(t.dtype), \
            f"{what}: dtype {g.dtype} != torch {t.dtype}"
    name = dtype_name(t.dtype)
    r, a = TOLERANCES.get(name, (0, 0))
    np.testing.assert_allclose(to_numpy(g), to_numpy(t), rtol=r if rtol is None else rtol,
                               atol=a if atol is None else atol, equal_nan=True, err_msg=what)


def _flat_outputs(out) -> list:
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in _flat_outputs(x)]
    return [out]


def compare(fn, shapes=(), *, arrays=None, dtype: str = "float32", grad=True,
            layout: str = "contiguous", low: float = -2.0, high: float = 2.0,
            rtol: float | None = None, atol: float | None = None,
            grad_rtol: float | None = None, grad_atol: float | None = None, seed: int = 0):
    """Run ``fn(lib, *inputs)`` with ``lib`` = genesis and = torch and compare everything.

    ``shapes``: one shape per random input (``dtype``, uniform in ``[low, high)``), or
    ``arrays``: explicit numpy inputs (their own dtypes). ``layout`` makes every input a
    non-contiguous view (transposed / sliced with a step / expanded). Gradients are compared
    for floating inputs when ``grad`` (a bool, or one bool per input).
    Returns ``(genesis_outputs, torch_outputs)``.
    """
    rng = np.random.default_rng(seed)
    if arrays is None:
        arrays = [random_array(_base_shape(tuple(s), layout), dtype, rng, low, high)
                  for s in shapes]
        dtypes = [dtype] * len(arrays)
        views = [tuple(s) for s in shapes]
    else:
        arrays = [np.asarray(a) for a in arrays]
        dtypes = [str(a.dtype) if a.dtype != bool else "bool" for a in arrays]
        views = [a.shape for a in arrays]
        layout = "contiguous"
    g_leaves, t_leaves, g_in, t_in = [], [], [], []
    wants = list(grad) if isinstance(grad, (list, tuple)) else [grad] * len(arrays)
    for a, d, shape, want in zip(arrays, dtypes, views, wants):
        g, t = make_pair(a, d, requires_grad=bool(want) and d in FLOAT_DTYPES)
        g_leaves.append(g)
        t_leaves.append(t)
        gv, tv = _apply_layout(g, shape, layout), _apply_layout(t, shape, layout)
        if tv.numel():  # strides of empty tensors carry no meaning
            assert gv.stride() == tv.stride(), f"input layout: {gv.stride()} != {tv.stride()}"
        g_in.append(gv)
        t_in.append(tv)
    t_out = fn(torch, *t_in)
    g_out = fn(genesis, *g_in)
    t_flat, g_flat = _flat_outputs(t_out), _flat_outputs(g_out)
    assert len(g_flat) == len(t_flat), f"{len(g_flat)} outputs, torch has {len(t_flat)}"
    for i, (g, t) in enumerate(zip(g_flat, t_flat)):
        if isinstance(t, torch.Tensor):
            assert_close(g, t, rtol=rtol, atol=atol, what=f"output {i}")
        else:
            assert g == t, f"output {i}: {g!r} != torch {t!r}"
    if any(x.requires_grad for x in t_leaves):
        _compare_grads(g_leaves, t_leaves, g_flat, t_flat, rng, grad_rtol, grad_atol)
    return g_out, t_out


def _compare_grads(g_leaves, t_leaves, g_flat, t_flat, rng, rtol, atol) -> None:
    """Back-propagate the same random projection of every differentiable output."""
    t_loss = g_loss = None
    for g, t in zip(g_flat, t_flat):
        if not (isinstance(t, torch.Tensor) and t.requires_grad):
            continue
        assert g.requires_grad, "genesis output does not require grad but torch's does"
        w = random_array(t.shape, "float64", rng)
        tw, gw = torch.from_numpy(w).to(t.dtype), genesis.tensor(w, dtype=g.dtype)
        t_loss = (t * tw).sum() if t_loss is None else t_loss + (t * tw).sum()
        g_loss = (g * gw).sum() if g_loss is None else g_loss + (g * gw).sum()
    if t_loss is None:
        return
    t_loss.backward()
    g_loss.backward()
    for i, (g, t) in enumerate(zip(g_leaves, t_leaves)):
        if not t.requires_grad:
            continue
        if t.grad is None:
            assert g.grad is None or not to_numpy(g.grad).any(), f"input {i}: unexpected grad"
            continue
        assert g.grad is not None, f"input {i}: genesis computed no gradient"
        assert_close(g.grad, t.grad, rtol=rtol, atol=atol, what=f"grad of input {i}")


def assert_raises_like_torch(call, match: str) -> None:
    """``call(lib)`` raises in both libraries, genesis with torch's exception class and a
    message matching ``match``."""
    import pytest

    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value), match=match):
        call(genesis)
