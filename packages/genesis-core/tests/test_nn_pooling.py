"""Pooling (max / avg / lp / adaptive / unpool) against PyTorch: forward, indices, gradients."""

import genesis
import numpy as np
import pytest
import torch
from genesis import nn
from torch_compare import assert_raises_like_torch, compare

DTYPES = ("float32", "float64")
NAN, INF = float("nan"), float("inf")


def _pool(name, *args, **kwargs):
    return lambda lib, x: getattr(lib.nn.functional, name)(x, *args, **kwargs)


MAX2D = [  # (input shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 7, 6), 2, None, 0, 1, False),
    ((1, 1, 5, 5), 3, 2, 1, 1, True),
    ((3, 7, 5), (3, 2), (2, 1), (1, 0), 1, False),  # unbatched, non-square
    ((1, 2, 6, 7), 3, 2, 1, 2, True),  # dilation + ceil
    ((2, 2, 5, 4), 2, 3, 1, 1, True),  # stride > kernel
    ((1, 1, 1, 1), 1, 1, 0, 1, False),
    ((1, 2, 2, 3), 4, 1, 2, 1, False),  # kernel > input, padding
    ((1, 1, 6, 6), 3, 3, 1, 1, True),  # ceil window dropped (would start in right padding)
    ((0, 2, 4, 4), 2, None, 0, 1, False),  # empty batch
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,d,ceil", MAX2D)
def test_max_pool2d(shape, k, s, p, d, ceil, dtype):
    compare(_pool("max_pool2d", k, s, p, d, ceil, return_indices=True), [shape], dtype=dtype)


MAX1D = [((2, 3, 9), 3, 2, 1, 1, True), ((4, 5), 2, None, 0, 1, False),
         ((1, 2, 7), 3, 1, 1, 3, False), ((1, 1, 1), 1, 2, 0, 1, True),
         ((2, 1, 6), 4, 3, 2, 1, True), ((1, 1, 8), 3, 3, 1, 1, True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,d,ceil", MAX1D)
def test_max_pool1d(shape, k, s, p, d, ceil, dtype):
    compare(_pool("max_pool1d", k, s, p, d, ceil, return_indices=True), [shape], dtype=dtype)
    compare(_pool("max_pool1d", k, s, p, d, ceil), [shape], dtype=dtype, layout="transposed")


def test_max_pool_ties_grad_to_first_max():
    # integer-valued inputs: many ties inside windows; torch sends the gradient to the first
    x = np.random.default_rng(1).integers(0, 2, (2, 2, 6, 7)).astype(np.float64)
    compare(_pool("max_pool2d", 3, 2, 1, return_indices=True), arrays=[x])
    compare(_pool("max_pool1d", 3, 1, 1, return_indices=True), arrays=[x[0]])
    compare(_pool("adaptive_max_pool2d", (4, 3), return_indices=True), arrays=[x])


@pytest.mark.parametrize("dtype", ("int64", "int32", "uint8"))
def test_max_pool2d_integers(dtype):
    x = np.random.default_rng(6).integers(0, 9, (2, 2, 5, 6)).astype(dtype)
    compare(_pool("max_pool2d", 3, 2, 1, ceil_mode=True, return_indices=True), arrays=[x])


def test_avg_pool_int64_truncates():
    x = np.random.default_rng(7).integers(-9, 9, (2, 2, 5, 6))
    compare(_pool("avg_pool2d", 3, 2, 1, True, False), arrays=[x])
    compare(_pool("avg_pool2d", 2, divisor_override=-3), arrays=[x])
    compare(_pool("avg_pool1d", 3, 2, 1, True, True), arrays=[x[0]])
    compare(_pool("lp_pool1d", 2, 2), arrays=[x[0]])


@pytest.mark.parametrize("dtype", ("float16", "bfloat16"))
def test_half_inputs(dtype):
    compare(_pool("max_pool2d", 3, 2, 1, return_indices=True), [(1, 2, 5, 6)], dtype=dtype)
    compare(_pool("avg_pool2d", 3, 2, 1, True, False), [(1, 2, 5, 6)], dtype=dtype)
    compare(_pool("adaptive_avg_pool2d", (2, 4)), [(1, 2, 5, 6)], dtype=dtype)
    compare(_pool("adaptive_max_pool1d", 4, return_indices=True), [(2, 5, 6)], dtype=dtype)


def test_max_pool_nan_and_inf():
    x = np.random.default_rng(2).normal(size=(1, 2, 5, 6))
    x[0, 0, 1, 1] = NAN
    x[0, 0, 3, 4] = -INF
    x[0, 1, :2, :2] = -INF
    x[0, 1, 4, 5] = INF
    x[0, 1, 3, 3] = NAN
    x[0, 1, 3, 2] = NAN  # two NaNs in one window: torch keeps the last
    compare(_pool("max_pool2d", 2, return_indices=True), arrays=[x], grad=False)
    compare(_pool("max_pool2d", 3, 2, 1, ceil_mode=True, return_indices=True), arrays=[x],
            grad=False)
    compare(_pool("max_pool1d", 3, 2, 1, return_indices=True), arrays=[x[0]], grad=False)
    compare(_pool("adaptive_max_pool2d", (2, 4), return_indices=True), arrays=[x], grad=False)
    compare(_pool("adaptive_max_pool1d", 4, return_indices=True), arrays=[x[0]], grad=False)


AVG2D = [  # (shape, kernel, stride, padding, ceil, count_include_pad, divisor_override)
    ((2, 3, 7, 6), 2, None, 0, False, True, None),
    ((1, 1, 5, 5), 3, 2, 1, True, True, None),
    ((1, 1, 5, 5), 3, 2, 1, True, False, None),
    ((3, 7, 5), (3, 2), (2, 1), (1, 0), False, False, None),
    ((2, 2, 5, 4), 2, 3, 1, True, True, 3),
    ((1, 2, 2, 3), 4, 1, 2, False, False, None),
    ((1, 2, 6, 6), 3, 3, 1, True, True, None),
    ((1, 1, 1, 1), 1, 1, 0, True, True, -2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,ceil,cip,div", AVG2D)
def test_avg_pool2d(shape, k, s, p, ceil, cip, div, dtype):
    compare(_pool("avg_pool2d", k, s, p, ceil, cip, div), [shape], dtype=dtype)


AVG1D = [((2, 3, 9), 3, 2, 1, True, True), ((2, 3, 9), 3, 2, 1, True, False),
         ((4, 5), 2, None, 0, False, True), ((1, 1, 1), 1, 2, 0, True, False),
         ((2, 1, 6), 4, 3, 2, True, False), ((1, 1, 8), 3, 3, 1, True, True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,ceil,cip", AVG1D)
def test_avg_pool1d(shape, k, s, p, ceil, cip, dtype):
    compare(_pool("avg_pool1d", k, s, p, ceil, cip), [shape], dtype=dtype)
    compare(_pool("avg_pool1d", k, s, p, ceil, cip), [shape], dtype=dtype, layout="sliced")


ADAPTIVE2D = [((2, 3, 7, 6), (3, 4)), ((3, 5, 5), 2), ((1, 2, 4, 6), (None, 4)),
              ((1, 1, 3, 3), (5, 7)), ((2, 1, 8, 8), 4), ((1, 2, 5, 3), 1), ((2, 2, 3, 3), 0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,size", ADAPTIVE2D)
def test_adaptive_pool2d(shape, size, dtype):
    grad = size != 0  # torch's backward refuses an empty output
    compare(_pool("adaptive_avg_pool2d", size), [shape], dtype=dtype, grad=grad)
    compare(_pool("adaptive_max_pool2d", size, return_indices=True), [shape], dtype=dtype,
            grad=grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,size", [((2, 3, 7), 3), ((4, 5), 5), ((1, 2, 3), 7),
                                        ((2, 1, 10), (4,)), ((1, 1, 1), 1)])
def test_adaptive_pool1d(shape, size, dtype):
    compare(_pool("adaptive_avg_pool1d", size), [shape], dtype=dtype)
    compare(_pool("adaptive_max_pool1d", size, return_indices=True), [shape], dtype=dtype)


def test_adaptive_avg_inf_stays_in_its_window():
    x = np.random.default_rng(3).normal(size=(1, 1, 5, 7))
    x[0, 0, 0, 0] = INF
    compare(_pool("adaptive_avg_pool2d", (3, 4)), arrays=[x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm,shape,k,s,ceil", [
    (2, (2, 3, 7, 6), 2, None, False), (3, (3, 5, 5), (3, 2), (2, 1), True),
    (1.5, (1, 1, 4, 4), 2, 1, False), (INF, (1, 2, 5, 5), 2, None, True),
    (-INF, (1, 2, 5, 5), 3, 1, False)])
def test_lp_pool(norm, shape, k, s, ceil, dtype):
    # positive inputs for fractional powers (torch's pow of a negative base is NaN)
    low = 0.1 if norm == 1.5 else -2.0
    compare(_pool("lp_pool2d", norm, k, s, ceil), [shape], dtype=dtype, low=low)
    k1 = k if isinstance(k, int) else k[0]
    s1 = s if s is None or isinstance(s, int) else s[0]
    compare(_pool("lp_pool1d", norm, k1, s1, ceil), [shape[-3:]], dtype=dtype, low=low)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,size", [
    ((2, 3, 7, 6), 2, None, 0, None), ((1, 1, 5, 5), 3, 2, 1, None),
    ((3, 7, 5), (3, 2), (2, 1), (1, 0), None), ((1, 2, 7, 7), 2, 2, 0, (7, 6)),
    ((1, 2, 7, 7), 2, 2, 0, (1, 2, 6, 7))])
def test_max_unpool2d(shape, k, s, p, size, dtype):
    def fn(lib, x):
        F = lib.nn.functional
        y, i = F.max_pool2d(x, k, s, p, return_indices=True)
        return F.max_unpool2d(y * 2, i, k, s, p, size)
    compare(fn, [shape], dtype=dtype)
    compare(fn, [(0,) + shape[-3:]], dtype=dtype)  # an empty batch

    def fn1(lib, x):
        F = lib.nn.functional
        y, i = F.max_pool1d(x, 2, return_indices=True)
        return F.max_unpool1d(y, i, 2)
    compare(fn1, [shape[-2:]], dtype=dtype)


@pytest.mark.parametrize("fn,args", [
    ("max_pool2d", (3, 2, 1, 2, True)), ("max_pool1d", (3, 2, 1, 1, True)),
    ("avg_pool2d", (3, 2, 1, True, False)), ("avg_pool1d", (3, 2, 1, True, True)),
    ("adaptive_avg_pool2d", ((3, 4),)), ("adaptive_max_pool2d", ((3, 4),)),
    ("adaptive_avg_pool1d", (4,)), ("adaptive_max_pool1d", (4,)), ("lp_pool2d", (2, 2, 1)),
    ("lp_pool1d", (3, 2, 1))])
def test_gradcheck(fn, args):
    rng = np.random.default_rng(4)
    shape = (2, 2, 6, 7) if fn.endswith("2d") else (2, 2, 7)
    # distinct values (max pooling is not differentiable at ties)
    x = rng.permutation(int(np.prod(shape))).reshape(shape) / 10.0 + 0.5
    g = genesis.tensor(x, dtype=genesis.float64, requires_grad=True)
    f = getattr(genesis.nn.functional, fn)
    assert genesis.autograd.gradcheck(lambda t: f(t, *args), (g,))


def test_gradcheck_max_unpool():
    x = genesis.tensor(np.random.default_rng(8).normal(size=(1, 2, 3, 3)), requires_grad=True)
    _, idx = genesis.nn.functional.max_pool2d(genesis.randn(1, 2, 6, 7), 2, return_indices=True)
    F = genesis.nn.functional
    assert genesis.autograd.gradcheck(lambda t: F.max_unpool2d(t, idx, 2, output_size=(6, 7)),
                                      (x,))
    _, idx1 = F.max_pool1d(genesis.randn(3, 7), 2, return_indices=True)
    assert genesis.autograd.gradcheck(lambda t: F.max_unpool1d(t[0, 0], idx1, 2), (x,))


ERRORS = [
    (lambda F, x: F.max_pool2d(x, 2, padding=2), "half"),
    (lambda F, x: F.max_pool1d(x[0], 2, padding=2), "half"),
    (lambda F, x: F.avg_pool2d(x, 3, padding=2), "half"),
    (lambda F, x: F.max_pool2d(x[0, 0], 2), "3D or 4D"),
    (lambda F, x: F.max_pool1d(x, 2), "2D or 3D"),
    (lambda F, x: F.max_pool2d(x, 0), "kernel_size"),
    (lambda F, x: F.max_pool2d(x, 2, stride=0), "stride"),
    (lambda F, x: F.max_pool2d(x, 2, dilation=0), "dilation"),
    (lambda F, x: F.max_pool2d(x, 2, padding=-1), "pad"),
    (lambda F, x: F.max_pool2d(x, (2, 2, 2)), "kernel_size"),
    (lambda F, x: F.max_pool2d(x, 9), "too small"),
    (lambda F, x: F.max_pool1d(x[0].long(), 2), "not implemented"),
    (lambda F, x: F.max_pool2d(x.bool(), 2), "not implemented"),
    (lambda F, x: F.adaptive_max_pool2d(x.long(), 2), "not implemented"),
    (lambda F, x: F.adaptive_avg_pool2d(x.long(), 2), "not implemented"),
    (lambda F, x: F.avg_pool2d(x.byte(), 2), "not implemented"),
    (lambda F, x: F.avg_pool1d(x[0].bool(), 2), "not implemented"),
    (lambda F, x: F.avg_pool2d(x, 2, divisor_override=0), "divisor"),
    (lambda F, x: F.adaptive_max_pool1d(x[0], (2, 2)), "output_size"),
    (lambda F, x: F.adaptive_avg_pool2d(x[:, :, :0], 2), "3D or 4D"),
    (lambda F, x: F.adaptive_max_pool2d(x[:, :0], 2), "3D or 4D"),
    (lambda F, x: F.avg_pool1d(x[0, 0, :0], 2), "2D or 3D"),
    (lambda F, x: F.max_unpool2d(x[:, :0], x[:, :0].long(), 2), "3D or 4D"),
    (lambda F, x: F.max_unpool2d(x, x.long(), 2, output_size=(11, 9)), "invalid output_size"),
    (lambda F, x: F.max_unpool2d(x, x.long(), 2, output_size=(1, 9, 9)), "2 or 4"),
    (lambda F, x: F.max_unpool2d(x, x, 2), "int64"),
    (lambda F, x: F.max_unpool2d(x, (x * 0 + 99).long(), 2), "invalid max index"),
]


@pytest.mark.parametrize("call,match", ERRORS)
def test_errors(call, match):
    def run(lib):
        x = (genesis if lib is genesis else torch).ones(2, 3, 4, 5)
        return call(lib.nn.functional, x)
    assert_raises_like_torch(run, match)


MODULES = [
    ("MaxPool2d", (3, 2, 1), {"ceil_mode": True}, (2, 3, 7, 6)),
    ("MaxPool2d", ((2, 3),), {"return_indices": True, "dilation": 2}, (3, 7, 9)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("AvgPool2d", (3, 2, 1), {"count_include_pad": False, "divisor_override": 2}, (1, 2, 6, 5)),
    ("AvgPool1d", (2,), {"ceil_mode": True}, (3, 7)),
    ("AdaptiveAvgPool2d", ((None, 3),), {}, (2, 2, 5, 7)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 2, 7)),
    ("AdaptiveMaxPool2d", (3,), {"return_indices": True}, (2, 5, 7)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 2, 7)),
    ("LPPool2d", (2, (2, 3)), {"stride": 1}, (1, 2, 5, 5)),
    ("LPPool1d", (3, 2), {"ceil_mode": True}, (2, 2, 7)),
]


@pytest.mark.parametrize("name,args,kwargs", [m[:3] for m in MODULES])
def test_module_repr(name, args, kwargs):
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args,
                                                                                 **kwargs))


@pytest.mark.parametrize("name,args,kwargs,shape", MODULES)
def test_modules(name, args, kwargs, shape):
    compare(lambda lib, x: getattr(lib.nn, name)(*args, **kwargs)(x), [shape])


def test_max_unpool_modules():
    def fn(lib, x):
        y, i = lib.nn.MaxPool2d(2, 2, return_indices=True)(x)
        out = lib.nn.MaxUnpool2d(2, 2)(y, i, output_size=x.shape)
        y1, i1 = lib.nn.MaxPool1d(2, return_indices=True)(x[0])
        return out, lib.nn.MaxUnpool1d(2)(y1, i1)
    compare(fn, [(1, 2, 5, 5)])
    assert repr(nn.MaxUnpool2d(2, 1)) == repr(torch.nn.MaxUnpool2d(2, 1))
    assert repr(nn.MaxUnpool1d(3)) == repr(torch.nn.MaxUnpool1d(3))


def test_pooling_in_a_network():
    def fn(lib, x):
        net = lib.nn.Sequential(lib.nn.MaxPool2d(2), lib.nn.AvgPool2d(2, 1),
                                lib.nn.AdaptiveAvgPool2d(1), lib.nn.Flatten())
        return net(x)
    compare(fn, [(2, 1, 8, 8)])
