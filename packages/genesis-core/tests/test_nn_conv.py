"""Convolution against torch: ``F.conv1d/2d/3d``, ``F.conv_transpose1d/2d/3d`` and their
modules (values, input and parameter gradients with weights copied from torch, odd shapes,
float32/float64), float64 gradcheck, PyTorch's init and parameter layout, and its errors."""

import math

import genesis
import numpy as np
import pytest
import torch
from genesis import nn
from torch_compare import assert_close, assert_raises_like_torch, compare

# float32 sums of many products: a gradient element may cancel to a small value that carries
# the absolute rounding error of its large terms
LOOSE = {"float32": {"grad_rtol": 1e-4, "grad_atol": 1e-5}, "float64": {}}

# (conv fn, input shape, weight shape, keyword arguments)
CONV_CASES = [
    ("conv1d", (2, 3, 7), (4, 3, 3), {"stride": 2, "padding": 1}),
    ("conv1d", (2, 2, 1), (3, 2, 1), {}),                                   # length 1
    ("conv1d", (1, 4, 6), (4, 1, 3), {"groups": 4, "padding": "same"}),     # depthwise
    ("conv1d", (3, 2, 5), (2, 2, 2), {"dilation": 3, "padding": "same"}),   # even kernel
    ("conv2d", (2, 3, 5, 6), (4, 3, 2, 3), {"stride": (1, 2), "padding": (1, 2),
                                            "dilation": (2, 1)}),
    ("conv2d", (2, 1, 3, 3), (2, 1, 4, 4), {"padding": 1}),                 # kernel > input
    ("conv2d", (1, 2, 7, 5), (3, 2, 2, 2), {"stride": (3, 4)}),             # stride > kernel
    ("conv2d", (2, 6, 5, 4), (9, 2, 3, 2), {"groups": 3, "padding": "same"}),
    ("conv2d", (2, 4, 5, 5), (8, 1, 3, 3), {"groups": 4, "stride": 2}),     # depthwise x2
    ("conv2d", (3, 5, 4), (2, 3, 3, 3), {"padding": "valid"}),              # unbatched
    ("conv2d", (0, 3, 5, 6), (3, 1, 2, 3), {"padding": 1, "groups": 3}),    # empty batch
    ("conv3d", (2, 4, 3, 4, 5), (6, 2, 2, 3, 2), {"stride": (1, 2, 1), "padding": 1,
                                                  "groups": 2}),
    ("conv3d", (1, 2, 3, 3, 3), (2, 2, 3, 1, 2), {"dilation": (1, 2, 1), "padding": "same"}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn,x,w,kw", CONV_CASES)
def test_conv_matches_torch(fn, x, w, kw, dtype):
    compare(lambda lib, a, b, c: getattr(lib.nn.functional, fn)(a, b, c, **kw),
            [x, w, (w[0],)], dtype=dtype, **LOOSE[dtype])
    compare(lambda lib, a, b: getattr(lib.nn.functional, fn)(a, b, **kw), [x, w],
            dtype=dtype, layout="transposed", **LOOSE[dtype])


def test_weight_gradient_alone():
    # a first layer: the input needs no gradient, so no col2im runs
    compare(lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1, stride=2), [(2, 3, 5, 6),
            (4, 3, 2, 3)], grad=[False, True], dtype="float64")


# (fn, input, weight, kwargs): weight is (in, out / groups, *k)
TRANSPOSE_CASES = [
    ("conv_transpose1d", (2, 3, 4), (3, 2, 3), {"stride": 2, "output_padding": 1}),
    ("conv_transpose1d", (2, 6, 1), (6, 2, 3), {"groups": 3, "padding": 1}),
    ("conv_transpose2d", (2, 3, 4, 5), (3, 4, 2, 3), {"stride": (2, 3), "padding": (1, 0),
                                                      "output_padding": (1, 2),
                                                      "dilation": (1, 2)}),
    ("conv_transpose2d", (1, 4, 3, 2), (4, 1, 3, 3), {"groups": 4, "stride": 2}),
    ("conv_transpose2d", (3, 2, 2), (3, 2, 2, 2), {"output_padding": (0, 1),
                                                   "dilation": 2}),    # unbatched
    ("conv_transpose2d", (0, 3, 2, 2), (3, 4, 2, 3), {"stride": 2}),       # empty batch
    ("conv_transpose3d", (1, 4, 2, 3, 2), (4, 1, 3, 2, 2), {"stride": 2, "padding": 1,
                                                           "groups": 2}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn,x,w,kw", TRANSPOSE_CASES)
def test_conv_transpose_matches_torch(fn, x, w, kw, dtype):
    groups = kw.get("groups", 1)
    compare(lambda lib, a, b, c: getattr(lib.nn.functional, fn)(a, b, c, **kw),
            [x, w, (w[1] * groups,)], dtype=dtype, **LOOSE[dtype])


def _module_pair(name: str, dtype: str, *args, **kwargs):
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype))
    g = getattr(nn, name)(*args, **kwargs, dtype=getattr(genesis, dtype))
    assert [(k, tuple(v.shape)) for k, v in g.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    g.load_state_dict({k: genesis.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return g, t


def _check_module(g, t, shape, dtype, **forward_kwargs):
    compare(lambda lib, x: (g if lib is genesis else t)(x, **forward_kwargs), [shape],
            dtype=dtype, **LOOSE[dtype])
    for (name, gp), tp in zip(g.named_parameters(), t.parameters()):
        assert_close(gp.grad, tp.grad, what=f"{name}.grad", rtol=1e-4 if dtype == "float32"
                     else None, atol=1e-5 if dtype == "float32" else None)


MODULE_CASES = [
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 2, "padding_mode": "reflect"}, (2, 3, 6)),
    ("Conv1d", (2, 2, 2), {"padding": "same", "padding_mode": "circular", "bias": False},
     (2, 2, 5)),
    ("Conv2d", (3, 6, (2, 3)), {"padding": (1, 2), "padding_mode": "replicate", "groups": 3},
     (2, 3, 4, 5)),
    ("Conv2d", (2, 4, 3), {"padding": "same", "dilation": 2, "padding_mode": "reflect"},
     (2, 2, 6, 5)),
    ("Conv2d", (1, 2, 3), {"padding": 1}, (2, 1, 2, 2)),
    ("Conv2d", (4, 4, 3), {"groups": 4, "padding": "same", "padding_mode": "circular"},
     (1, 4, 4, 3)),
    ("Conv3d", (2, 3, 2), {"padding": 1, "padding_mode": "replicate", "stride": 2},
     (1, 2, 3, 4, 3)),
    ("ConvTranspose1d", (3, 2, 3), {"stride": 3, "output_padding": 2, "padding": 1}, (2, 3, 4)),
    ("ConvTranspose2d", (4, 6, (2, 3)), {"stride": 2, "groups": 2, "dilation": (2, 1),
                                         "output_padding": 1}, (2, 4, 3, 2)),
    ("ConvTranspose3d", (2, 2, 2), {"stride": (1, 2, 2), "bias": False}, (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args,kwargs,shape", MODULE_CASES)
def test_modules_match_torch(name, args, kwargs, shape, dtype):
    g, t = _module_pair(name, dtype, *args, **kwargs)
    _check_module(g, t, shape, dtype)
    assert repr(g) == repr(t)


@pytest.mark.parametrize("output_size", [(9, 9), (10, 10), [2, 6, 10, 9]])
def test_conv_transpose_output_size(output_size):
    g, t = _module_pair("ConvTranspose2d", "float64", 4, 6, 3, stride=2, padding=1)
    _check_module(g, t, (2, 4, 5, 5), "float64", output_size=output_size)


def test_parameter_layout_and_init():
    genesis.manual_seed(0)
    for name, args, kwargs, expected in [
            ("Conv1d", (4, 6, 3), {"groups": 2}, (6, 2, 3)),
            ("Conv2d", (3, 8, (2, 5)), {}, (8, 3, 2, 5)),
            ("Conv3d", (2, 4, 2), {}, (4, 2, 2, 2, 2)),
            ("ConvTranspose1d", (4, 6, 3), {"groups": 2}, (4, 3, 3)),
            ("ConvTranspose2d", (16, 32, 3), {}, (16, 32, 3, 3))]:
        m = getattr(nn, name)(*args, **kwargs)
        assert tuple(m.weight.shape) == expected and tuple(m.bias.shape) == (expected[0]
               if not name.startswith("ConvT") else expected[1] * kwargs.get("groups", 1),)
        # kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in from size(1)
        bound = 1 / math.sqrt(expected[1] * math.prod(expected[2:]))
        for p in (m.weight, m.bias):
            v = p.detach().numpy()
            assert np.abs(v).max() <= bound and np.abs(v).max() > 0.5 * bound


def test_init_conv_fans():
    w = genesis.empty(16, 8, 3, 5)
    tw = torch.empty(16, 8, 3, 5)
    assert nn.init._calculate_fan_in_and_fan_out(w) == \
        torch.nn.init._calculate_fan_in_and_fan_out(tw) == (120, 240)
    genesis.manual_seed(0)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(6 / 240)
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.9 * bound
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / 240), rel=0.1)


def test_gradcheck():
    rng = np.random.default_rng(3)
    F = nn.functional

    def leaf(*shape):
        return genesis.tensor(rng.standard_normal(shape), requires_grad=True)
    x, w, b = leaf(1, 4, 4, 3), leaf(2, 2, 2, 2), leaf(2)
    assert genesis.autograd.gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2),
                                 groups=2), [x, w, b])
    x1, w1 = leaf(2, 2, 3), leaf(2, 3, 2)
    assert genesis.autograd.gradcheck(
        lambda x, w: F.conv_transpose1d(x, w, stride=2, output_padding=1, padding=1), [x1, w1])
    x3, w3 = leaf(1, 1, 2, 3, 2), leaf(1, 1, 2, 2, 1)
    assert genesis.autograd.gradcheck(lambda x, w: F.conv3d(x, w, padding="same"), [x3, w3])


def test_state_dict_round_trip_through_torch():
    g, t = _module_pair("Conv2d", "float32", 3, 4, 3, bias=True)
    back = {k: torch.from_numpy(v.numpy()) for k, v in g.state_dict().items()}
    t2 = torch.nn.Conv2d(3, 4, 3)
    t2.load_state_dict(back)
    assert all(torch.equal(a, b) for a, b in zip(t.state_dict().values(),
                                                  t2.state_dict().values()))


@pytest.mark.parametrize("call,match", [
    (lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 3, 5, 5), lib.zeros(4, 2, 3, 3)),
     "to have 2 channels, but got 3 channels instead"),
    (lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 4, 5, 5), lib.zeros(4, 2, 3, 3),
                                          groups=3), "to be divisible by 3 at dimension 0"),
    (lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 3, 2, 2), lib.zeros(4, 3, 3, 3)),
     "Kernel size can't be greater than actual input size"),
    (lambda lib: lib.nn.functional.conv2d(lib.zeros(3, 5, 5, 5, 5), lib.zeros(4, 3, 3, 3)),
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d"),
    (lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 3, 5, 5), lib.zeros(4, 3, 3, 3),
                                          padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    (lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 3, 5, 5), lib.zeros(4, 3, 3, 3),
                                          padding="foo"), "Invalid padding string"),
    (lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 3, 5, 5), lib.zeros(4, 3, 3, 3),
                                          lib.zeros(3)), "expected bias to be 1-dimensional"),
    (lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 3, 5, 5), lib.zeros(4, 3, 3, 3),
                                          stride=0), "non-positive stride"),
    (lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 3, 5, 5), lib.zeros(4, 3, 3, 3),
                                          groups=0), "non-positive groups"),
    (lambda lib: lib.nn.functional.conv_transpose2d(lib.zeros(1, 3, 5, 5),
                                                    lib.zeros(3, 2, 3, 3), output_padding=1),
     "output padding must be smaller than either stride or dilation"),
    (lambda lib: lib.nn.functional.conv_transpose2d(lib.zeros(1, 4, 5, 5),
                                                    lib.zeros(3, 2, 3, 3)),
     "Given transposed=1, weight of size"),
    (lambda lib: lib.nn.functional.conv_transpose2d(lib.zeros(1, 3, 1, 1),
                                                    lib.zeros(3, 2, 1, 1), padding=1),
     "Output size is too small"),
    (lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 3, 5, 5), lib.zeros(4, 3, 3, 3),
                                          padding=(1, 2, 3)),
     "expected padding to be a single integer value or a list of 2 values"),
    (lambda lib: lib.nn.functional.conv_transpose2d(lib.zeros(1, 3, 5, 5),
                                                    lib.zeros(3, 2, 3, 3), padding="same"),
     "argument 'padding' must be tuple of ints, not str"),
    (lambda lib: lib.nn.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
    (lambda lib: lib.nn.Conv2d(4, 3, 3, groups=2), "out_channels must be divisible by groups"),
    (lambda lib: lib.nn.Conv2d(4, 4, 3, padding_mode="foo"), "padding_mode must be one of"),
    (lambda lib: lib.nn.Conv2d(4, 4, 3, padding="foo"), "Invalid padding string 'foo'"),
    (lambda lib: lib.nn.Conv2d(4, 4, 3, groups=0), "groups must be a positive integer"),
    (lambda lib: lib.nn.Conv2d(4, 4, 3, stride=2, padding="same"),
     "padding='same' is not supported for strided convolutions"),
    (lambda lib: lib.nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"),
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
    (lambda lib: lib.nn.ConvTranspose2d(4, 4, 3)(lib.zeros(1, 4, 5, 5), output_size=(20, 20)),
     r"requested an output size of \(20, 20\), but valid sizes range from \[7, 7\]"),
])
def test_errors_like_torch(call, match):
    assert_raises_like_torch(call, match)
