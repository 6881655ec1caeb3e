"""The CPU backend's layer kernels: each compiled loop agrees with the numpy reference beside
it (float32 and float64, strided inputs, NaN/inf where they matter), and the numpy kernels
(im2col/col2im, the cell forwards) agree with torch or with the direct formulas."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from genesis_backend_cpu import _batch_norm, _compiled, _conv, _pool, _rnn

DTYPES = (np.float32, np.float64)
RTOL = {np.float32: 2e-5, np.float64: 1e-12}


def _strided(a: np.ndarray) -> genesis.Tensor:
    """``a`` as a non-contiguous genesis view (the last two dims swapped back)."""
    return genesis.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2))).transpose(-1, -2)


def _close(got, want, dtype, what: str) -> None:
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64),
                               rtol=RTOL[dtype], atol=RTOL[dtype], err_msg=what)


def test_the_compiled_loops_are_available():
    for kernel in (_pool._max_pool2d_loop, _pool._max_pool2d_interior_loop,
                   _pool._max_pool2d_backward_loop,
                   _batch_norm._forward_loop, _batch_norm._backward_loop,
                   _rnn._lstm_forward_loop32, _rnn._lstm_backward_loop,
                   _rnn._gru_backward_loop, _conv._im2col_2d, _conv._col2im_2d):
        assert kernel.available(), kernel.__name__


# kernel, stride, padding, dilation: the first three keep every window inside the input (the
# interior loop: 2x2 and 3x3 specialised, any other size), the others reach into the padding
POOLS = [((2, 2), (2, 2), (0, 0), (1, 1)), ((3, 3), (2, 1), (0, 0), (1, 1)),
         ((2, 3), (1, 2), (0, 0), (2, 1)), ((3, 2), (2, 1), (1, 1), (1, 2)),
         ((3, 3), (1, 1), (1, 0), (2, 1))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geometry", POOLS)
def test_max_pool2d_compiled_matches_reference(dtype, geometry):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    x[0, 0, 1:4, 2:5] = np.nan
    x[1, 2] = -np.inf
    x[1, 1, ::2] = 0.5  # ties
    kernel, stride, padding, dilation = geometry
    out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    values, indices = _pool.max_pool2d(_strided(x), *geometry, out)
    want_v, want_i = _pool.max_pool2d_reference(x.reshape(6, 9, 8), *geometry, out)
    np.testing.assert_array_equal(values.reshape(6, *out), want_v)
    np.testing.assert_array_equal(indices.reshape(6, *out), want_i)
    tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x), kernel, stride, padding, dilation,
                                            return_indices=True)
    np.testing.assert_array_equal(values, tv.numpy())
    np.testing.assert_array_equal(indices, ti.numpy())
    g = rng.standard_normal(values.shape).astype(dtype)
    dx = _pool.max_pool2d_backward(_strided(g), genesis.tensor(indices), (9, 8))
    want = _pool.max_pool2d_backward_reference(g.reshape(6, -1), indices.reshape(6, -1), 72)
    _close(dx.reshape(6, -1), want, dtype, "max_pool2d backward")


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_compiled_matches_reference(dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((4, 3, 5, 6)) * 3 + 1).astype(dtype)
    w, b = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
    y, mean, var, rstd = _batch_norm.batch_norm(_strided(x), genesis.tensor(w),
                                                genesis.tensor(b), 1e-5)
    x3 = x.reshape(4, 3, -1)
    want = _batch_norm.batch_norm_reference(x3, w.astype(np.float64), b.astype(np.float64), 1e-5)
    for what, got, ref in zip(("y", "mean", "var", "rstd"), (y.reshape(x3.shape), mean, var,
                                                           rstd), want):
        _close(got, ref, dtype, f"batch_norm {what}")
    g = rng.standard_normal(x.shape).astype(dtype)
    got = _batch_norm.batch_norm_backward(_strided(g), genesis.tensor(x), genesis.tensor(w),
                                          genesis.tensor(mean), genesis.tensor(rstd))
    want = _batch_norm.batch_norm_backward_reference(g.reshape(x3.shape), x3,
                                                     w.astype(np.float64), mean, rstd)
    _close(got[0].reshape(x3.shape), want[0], dtype, "batch_norm dx")
    _close(got[1], want[1], dtype, "batch_norm dweight")
    _close(got[2], want[2], dtype, "batch_norm dbias")


@pytest.mark.parametrize("dtype", DTYPES)
def test_cell_backward_compiled_matches_reference(dtype):
    rng = np.random.default_rng(2)
    b, h = 3, 5
    xw, hw = (rng.standard_normal((b, 4 * h)).astype(dtype) for _ in range(2))
    c = rng.standard_normal((b, h)).astype(dtype)
    hc, ws = _rnn.lstm_cell(genesis.tensor(xw), genesis.tensor(hw), _strided(c))
    g = rng.standard_normal((b, 2 * h)).astype(dtype)
    got = _rnn.lstm_cell_backward(_strided(g), _strided(c), genesis.tensor(ws))
    for k, want in enumerate(_rnn.lstm_cell_backward_reference(g, c, ws)):
        _close(got[k], want, dtype, f"lstm backward output {k}")
    xw, hw = (rng.standard_normal((b, 3 * h)).astype(dtype) for _ in range(2))
    out, ws = _rnn.gru_cell(genesis.tensor(xw), genesis.tensor(hw), _strided(c))
    g = rng.standard_normal((b, h)).astype(dtype)
    got = _rnn.gru_cell_backward(_strided(g), _strided(c), genesis.tensor(ws))
    for k, want in enumerate(_rnn.gru_cell_backward_reference(g, c, ws)):
        _close(got[k], want, dtype, f"gru backward output {k}")


def test_lstm_forward_compiled_matches_numpy():
    """float32: the compiled loop (vectorizable exp/tanh) against the numpy ufuncs, with
    saturating, infinite and NaN gate inputs and a strided cell state."""
    rng = np.random.default_rng(5)
    b, h = 4, 37
    xw = (rng.standard_normal((b, 4 * h)) * 6).astype(np.float32)
    hw = rng.standard_normal((b, 4 * h)).astype(np.float32)
    xw[1, ::7], xw[2, ::5], xw[3, 3] = 95.0, -np.inf, np.nan
    c = rng.standard_normal((b, h)).astype(np.float32)
    hc, ws = _rnn.lstm_cell(genesis.tensor(xw), genesis.tensor(hw), _strided(c))
    want_hc, want_ws = _rnn.lstm_cell_forward(xw, hw, c)
    for got, want, what in ((hc, want_hc, "h, c"), (ws, want_ws, "gates")):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-7, err_msg=what)


def test_cell_forwards_match_the_formulas():
    rng = np.random.default_rng(3)
    xw, hw = rng.standard_normal((2, 12)), rng.standard_normal((2, 12))
    c = rng.standard_normal((2, 3))
    hc, ws = _rnn.lstm_cell(genesis.tensor(xw), genesis.tensor(hw), genesis.tensor(c))
    s = 1 / (1 + np.exp(-(xw + hw)))
    c2 = s[:, 3:6] * c + s[:, :3] * np.tanh((xw + hw)[:, 6:9])
    np.testing.assert_allclose(hc, np.concatenate([s[:, 9:] * np.tanh(c2), c2], 1), rtol=1e-12)
    out, _ = _rnn.gru_cell(genesis.tensor(xw[:, :9]), genesis.tensor(hw[:, :9]),
                           genesis.tensor(c))
    r, z = s[:, :3], s[:, 3:6]
    n = np.tanh(xw[:, 6:9] + r * hw[:, 6:9])
    np.testing.assert_allclose(out, n + z * (c - n), rtol=1e-12)


# kernel, dilation, stride, padding; the last: stride > kernel, whole rows of padding
CONVS = [((3, 3), (1, 1), (1, 1), (1, 1)), ((2, 3), (2, 1), (1, 2), (0, 2)),
         ((3, 2), (1, 3), (3, 2), (2, 0)), ((2, 2), (1, 1), (3, 4), (3, 1))]


@pytest.fixture(params=["numpy", "serial", "parallel"])
def conv_path(request, monkeypatch):
    """The numpy kernels; or the compiled 2-D loops on this thread; or on every thread."""
    if request.param == "numpy":
        monkeypatch.setattr(_compiled, "ENABLED", False)
    else:
        monkeypatch.setattr(_compiled, "ENABLED", True)
        monkeypatch.setattr(_compiled, "COMPILED_MIN", 0)
        monkeypatch.setattr(_compiled, "PARALLEL_MIN", 1 if request.param == "parallel"
                            else 1 << 40)
        monkeypatch.setattr(_compiled, "THREADS", 2)
    return request.param


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel,dilation,stride,padding", CONVS)
def test_im2col_col2im_match_torch_unfold_fold(dtype, kernel, dilation, stride, padding,
                                               conv_path):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 9, 10)).astype(dtype)
    out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                for n, k, d, s, p in zip(x.shape[2:], kernel, dilation, stride, padding))
    cols = _conv.im2col(_strided(x), kernel, dilation, stride, padding, out)
    want = torch.nn.functional.unfold(torch.tensor(x), kernel, dilation, padding, stride)
    got = cols.reshape(3 * kernel[0] * kernel[1], 2, -1).transpose(1, 0, 2)
    np.testing.assert_array_equal(got, want.numpy())
    # a strided view of the columns too
    strided_cols = genesis.tensor(np.ascontiguousarray(np.swapaxes(cols, 0, 1))).transpose(0, 1)
    image = _conv.col2im(strided_cols, x.shape[2:], kernel, dilation, stride, padding)
    folded = torch.nn.functional.fold(want, x.shape[2:], kernel, dilation, padding, stride)
    _close(image, folded.numpy(), dtype, "col2im")


def test_im2col_col2im_one_and_three_dims():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 2, 4, 5, 6))
    kernel, dilation, stride, padding, out = (2, 3, 2), (1, 1, 2), (1, 2, 1), (1, 0, 1), (5, 2, 6)
    cols = _conv.im2col(genesis.tensor(x), kernel, dilation, stride, padding, out)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 2), (0, 2), (1, 2)))
    want = np.empty_like(cols)
    for c, k0, k1, k2, n, o0, o1, o2 in np.ndindex(cols.shape):
        want[c, k0, k1, k2, n, o0, o1, o2] = xp[n, c, o0 * stride[0] + k0 * dilation[0],
                                                o1 * stride[1] + k1 * dilation[1],
                                                o2 * stride[2] + k2 * dilation[2]]
    np.testing.assert_array_equal(cols, want)
    image = _conv.col2im(genesis.tensor(cols), x.shape[2:], kernel, dilation, stride, padding)
    adjoint = float(np.sum(image * x))  # <col2im(c), x> == <c, im2col(x)>
    np.testing.assert_allclose(adjoint, float(np.sum(cols * cols)), rtol=1e-12)
    y = rng.standard_normal((2, 3, 7))
    cols = _conv.im2col(genesis.tensor(y), (3,), (2,), (1,), (2,), (7,))
    t = torch.nn.functional.unfold(torch.tensor(y)[:, :, None], (1, 3), (1, 2), (0, 2), 1)
    np.testing.assert_array_equal(cols.reshape(9, 2, 7).transpose(1, 0, 2), t.numpy())


def test_lstm_double_backward_through_the_fused_layer_is_refused():
    """Like PyTorch's cuDNN LSTM, the fused layer's backward is not differentiable: it says
    so instead of returning gradients without their graph."""
    lstm = genesis.nn.LSTM(3, 4, batch_first=True)
    xi = genesis.tensor(np.ones((2, 5, 3), np.float32), requires_grad=True)
    out, _ = lstm(xi)
    with pytest.raises(RuntimeError, match="double backward"):
        genesis.autograd.grad(out.pow(2).sum(), xi, create_graph=True)
