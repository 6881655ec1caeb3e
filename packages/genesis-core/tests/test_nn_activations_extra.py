"""The composite activations of genesis.nn.functional and their layers against PyTorch: values
and gradients on contiguous, strided and broadcast inputs, edge shapes, the kinks, extreme and
tiny inputs, in-place variants, dtypes and errors; gumbel_softmax by its statistics."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
import torch
from torch_compare import LAYOUTS, assert_raises_like_torch, compare

FLOATS = ("float32", "float64")
TOL = {"rtol": 1e-5, "atol": 1e-6, "grad_rtol": 1e-5, "grad_atol": 1e-6}


def F(lib):
    return lib.nn.functional


UNARY = {
    "elu": lambda lib, x: F(lib).elu(x),
    "elu_alpha": lambda lib, x: F(lib).elu(x, alpha=0.3),
    "selu": lambda lib, x: F(lib).selu(x),
    "celu": lambda lib, x: F(lib).celu(x),
    "celu_alpha": lambda lib, x: F(lib).celu(x, 0.5),
    "celu_negative_alpha": lambda lib, x: F(lib).celu(x, -2.0),
    "softplus": lambda lib, x: F(lib).softplus(x),
    "softplus_beta_threshold": lambda lib, x: F(lib).softplus(x, beta=2.5, threshold=1.5),
    "softplus_negative_beta": lambda lib, x: F(lib).softplus(x, beta=-1.0),
    "logsigmoid": lambda lib, x: F(lib).logsigmoid(x),
    "mish": lambda lib, x: F(lib).mish(x),
    "hardswish": lambda lib, x: F(lib).hardswish(x),
    "hardsigmoid": lambda lib, x: F(lib).hardsigmoid(x),
    "hardtanh": lambda lib, x: F(lib).hardtanh(x),
    "hardtanh_limits": lambda lib, x: F(lib).hardtanh(x, -0.5, 2.0),
    "relu6": lambda lib, x: F(lib).relu6(x),
    "softsign": lambda lib, x: F(lib).softsign(x),
    "tanhshrink": lambda lib, x: F(lib).tanhshrink(x),
    "softmin_last": lambda lib, x: F(lib).softmin(x, -1),
    "softmin_0": lambda lib, x: F(lib).softmin(x, dim=0),
    "glu_last": lambda lib, x: F(lib).glu(x),
    "glu_0": lambda lib, x: F(lib).glu(x, 0),
    "threshold": lambda lib, x: F(lib).threshold(x, 0.5, -2.0),
    "hardshrink": lambda lib, x: F(lib).hardshrink(x),
    "hardshrink_lambd": lambda lib, x: F(lib).hardshrink(x, lambd=1.5),
    "softshrink": lambda lib, x: F(lib).softshrink(x),
    "softshrink_lambd": lambda lib, x: F(lib).softshrink(x, 2.0),
    "leaky_relu": lambda lib, x: F(lib).leaky_relu(x, 0.2),
    "silu": lambda lib, x: F(lib).silu(x),
}
INPLACE = ("elu", "selu", "celu", "mish", "hardswish", "hardsigmoid", "hardtanh", "relu6",
           "threshold", "leaky_relu", "silu")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_activation_matches_torch(name, dtype, layout):
    compare(UNARY[name], [(4, 3, 6)], dtype=dtype, layout=layout, low=-8, high=8, **TOL)


def _halvable(name: str, shape: tuple) -> bool:
    """glu halves its dim: odd sizes are refused (test_glu_errors_match_torch)."""
    return not name.startswith("glu") or bool(shape) and \
        shape[-1 if name == "glu_last" else 0] % 2 == 0


@pytest.mark.parametrize("name,shape", [
    (n, s) for n in sorted(UNARY) for s in [(), (0,), (3, 0), (0, 4), (1, 2), (7, 2)]
    if _halvable(n, s)])
def test_activation_edge_shapes(name, shape):
    compare(UNARY[name], [shape], dtype="float64", low=-4, high=4)


# values on the kinks (the gradient there is PyTorch's choice), at both sides of thresholds
KINKS = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 6.0, 20.0, -20.0])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(n for n in UNARY if not n.startswith(("glu", "softmin"))))
def test_activation_gradient_at_kinks(name, dtype):
    compare(UNARY[name], arrays=[KINKS.astype(dtype)])


def test_softplus_gradient_at_its_threshold():
    x = np.array([19.0, 20.0, 21.0, 4.0, 5.0, 6.0])
    compare(lambda lib, x: F(lib).softplus(x), arrays=[x])
    compare(lambda lib, x: F(lib).softplus(x, beta=4, threshold=20), arrays=[x])


EXTREMES = np.array([-1e4, -1000.0, -100.0, -40.0, -30.0, -1e-7, 0.0, 1e-7, 30.0, 40.0, 100.0,
                     1000.0, 1e4])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", ["elu", "selu", "celu_alpha", "softplus", "logsigmoid", "mish",
                                  "softsign", "tanhshrink", "hardswish", "softplus_negative_beta"])
def test_activation_is_stable_at_extreme_inputs(name, dtype):
    """No overflow to inf/nan in any branch, forward or backward."""
    g, _ = compare(UNARY[name], arrays=[EXTREMES.astype(dtype)])
    assert np.isfinite(g.detach().numpy()).all()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # numpy: inf*0
@pytest.mark.parametrize("size", [5, 8, 33])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(n for n in UNARY if not n.startswith(("glu", "softmin"))))
def test_activation_values_at_nan_and_inf_match_torch(name, dtype, size):
    """Values only: PyTorch's gradient at NaN depends on whether its vectorised or scalar
    loop handled the element (i.e. on the tensor's length), so it is no contract."""
    base = np.array([np.nan, np.inf, -np.inf, 3.0, -3.0, 0.0, 1.0, -1.0])
    compare(UNARY[name], arrays=[np.resize(base, size).astype(dtype)], grad=False)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # numpy: inf*0
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(n for n in UNARY if not n.startswith(
    ("glu", "softmin", "celu_negative_alpha"))))  # alpha < 0 at -inf: inf * 0 (torch: -inf)
def test_activation_gradients_at_inf_match_torch(name, dtype):
    base = np.array([np.inf, -np.inf, 3.0, -3.0, 0.0, 1.0, -1.0, 0.5])
    compare(UNARY[name], arrays=[np.resize(base, 11).astype(dtype)])


# tiny results that need expm1/log1p accuracy: checked relative to their size (atol 0)
PRECISION = {
    "elu": (lambda lib, x: F(lib).elu(x), (-1e-3, -1e-9)),
    "selu": (lambda lib, x: F(lib).selu(x), (-1e-3, -1e-9)),
    "celu": (lambda lib, x: F(lib).celu(x, 2.0), (-1e-3, -1e-9)),
    "softplus": (lambda lib, x: F(lib).softplus(x), (-60.0, -25.0)),
    "logsigmoid": (lambda lib, x: F(lib).logsigmoid(x), (25.0, 60.0)),
    "mish": (lambda lib, x: F(lib).mish(x), (-60.0, -25.0)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(PRECISION))
def test_activation_keeps_relative_precision_on_tiny_results(name, dtype):
    fn, (low, high) = PRECISION[name]
    rtol = 1e-5 if dtype == "float32" else 1e-12
    compare(fn, [(64,)], dtype=dtype, low=low, high=high, rtol=rtol, atol=0, grad_rtol=rtol,
            grad_atol=0)


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_variant_on_non_leaf(name):
    kwargs = {"hardtanh": {"min_val": -0.5}, "leaky_relu": {"negative_slope": 0.1},
              "threshold": {"threshold": 0.2, "value": -1.0}}
    seen = {}

    def fn(lib, x):
        y = x * 1.5
        out = getattr(F(lib), name)(y, inplace=True, **kwargs.get(name, {}))
        seen[lib.__name__] = out is y
        return out * 2
    compare(fn, [(3, 5)], dtype="float64", low=-5, high=5)
    assert seen == {"genesis": True, "torch": True}


@pytest.mark.parametrize("name", ["elu", "hardswish", "mish"])
def test_inplace_on_a_leaf_that_requires_grad_is_refused(name):
    for lib in (torch, genesis):
        with pytest.raises(RuntimeError, match="leaf"):
            getattr(F(lib), name)(lib.ones(3, requires_grad=True), inplace=True)


@pytest.mark.parametrize("name", ["hardtanh", "relu6"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8"])
def test_clamping_activations_keep_integer_dtypes(name, dtype):
    compare(lambda lib, x: getattr(F(lib), name)(x), [(4, 5)], dtype=dtype, low=-9, high=9)
    compare(lambda lib, x: F(lib).hardtanh(x, -2.5, 3.7), [(4, 5)], dtype=dtype, low=-9, high=9)
    compare(lambda lib, x: F(lib).threshold(x, 1.5, 5.5), [(4, 5)], dtype=dtype, low=-9, high=9)


@pytest.mark.parametrize("name", ["softsign", "tanhshrink"])
def test_integer_input_is_promoted_like_torch(name):
    compare(lambda lib, x: getattr(F(lib), name)(x), [(3, 4)], dtype="int64", low=-5, high=5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["elu", "selu", "softplus", "logsigmoid", "mish", "hardswish",
                                  "hardsigmoid", "hardtanh", "relu6", "softsign", "glu_last"])
def test_half_precision_keeps_the_dtype(name, dtype):
    rtol = 2e-2 if dtype == "bfloat16" else 4e-3
    compare(UNARY[name], [(3, 4)], dtype=dtype, low=-4, high=4, rtol=rtol, atol=rtol, grad=False)


@pytest.mark.parametrize("name", ["elu", "selu", "celu", "softplus", "logsigmoid", "mish",
                                  "hardswish", "hardsigmoid", "glu", "softmin", "hardshrink",
                                  "softshrink"])
def test_integer_input_is_refused_like_torch(name):
    args = (0,) if name == "softmin" else ()
    assert_raises_like_torch(lambda lib: getattr(F(lib), name)(lib.tensor([1, -2, 4, 3]), *args),
                             f"{name}: input has dtype .*int64, expected a floating point")


def test_argument_errors_match_torch():
    x = lambda lib: lib.tensor([[0.5, -1.0, 2.0]])  # noqa: E731
    assert_raises_like_torch(lambda lib: F(lib).hardtanh(x(lib), 2.0, 1.0),
                             "min_val=2.0 is greater than max_val=1.0")
    assert_raises_like_torch(lambda lib: F(lib).celu(x(lib), 0.0), "alpha=0.0")
    assert_raises_like_torch(lambda lib: F(lib).softshrink(x(lib), -1.0),
                             "lambd=-1.0, expected a number >= 0")
    assert_raises_like_torch(lambda lib: F(lib).hardtanh(lib.tensor([True, False])),
                             "bool inputs are not supported")
    assert_raises_like_torch(lambda lib: F(lib).hardtanh(lib.tensor([1, 2], dtype=lib.uint8)),
                             "min_val=-1.0 is negative")


# -- prelu -------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shapes", [[(4, 3), (3,)], [(2, 3, 5), (3,)], [(2, 3, 2, 2), (3,)],
                                    [(2, 3, 5), (1,)], [(5,), (1,)], [(0, 3), (3,)]])
def test_prelu_matches_torch(shapes, layout):
    compare(lambda lib, x, w: F(lib).prelu(x, w), shapes, dtype="float64", layout=layout)


@pytest.mark.parametrize("xshape", [(), (4,), (2, 3)])
def test_prelu_scalar_weight(xshape):
    compare(lambda lib, x, w: F(lib).prelu(x, w), arrays=[np.linspace(-2, 2, int(np.prod(xshape)))
                                                          .reshape(xshape), np.array(0.3)])


def test_prelu_gradient_at_zero():
    compare(lambda lib, x, w: F(lib).prelu(x, w),
            arrays=[np.array([[0.0, -1.0], [2.0, 0.0]]), np.array([0.25, -0.5])])


def test_prelu_errors_match_torch():
    def call(x, w, **dtypes):
        return lambda lib: F(lib).prelu(lib.tensor(x, **{k: getattr(lib, v)
                                                         for k, v in dtypes.items()}),
                                        lib.tensor(w))
    assert_raises_like_torch(call(np.ones((2, 3)), np.ones(4)),
                             "weight has 4 elements, expected 1 or the channel size")
    assert_raises_like_torch(call(np.ones(3), np.ones(3)), "channel size input.shape.1. = 1")
    assert_raises_like_torch(call(np.float64(1.0), np.ones(3)), "0-D input takes a single slope")
    assert_raises_like_torch(call(np.ones((2, 3)), np.ones((3, 1))), r"weight of shape \[3, 1\]")
    assert_raises_like_torch(call(np.ones((2, 3)), np.ones(3), dtype="float32"),
                             "weight dtype .*float64 does not match input dtype .*float32")
    assert_raises_like_torch(call(np.ones((2, 3), dtype=np.int64), np.ones(3)),
                             "prelu: input has dtype .*int64")


# -- glu, softmin --------------------------------------------------------------------------------

def test_glu_errors_match_torch():
    assert_raises_like_torch(lambda lib: F(lib).glu(lib.ones(2, 3)),
                             "dimension 1 of input .2, 3. is size 3")
    assert_raises_like_torch(lambda lib: F(lib).glu(lib.tensor(1.0)), "input is 0-D")
    assert_raises_like_torch(lambda lib: F(lib).glu(lib.ones(2, 4), dim=3), "dim=3 is out of range")


@pytest.mark.parametrize("shape,expected_dim", [((5,), 0), ((3, 4), 1), ((2, 3, 4), 0),
                                                ((2, 3, 4, 5), 1)])
def test_softmin_implicit_dim_warns_and_matches_torch(shape, expected_dim):
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        g, t = compare(lambda lib, x: F(lib).softmin(x), [shape], dtype="float64")
    np.testing.assert_allclose(t.detach().sum(expected_dim).numpy(), 1.0)


def test_softmin_dtype_argument():
    g, _ = compare(lambda lib, x: F(lib).softmin(x, 1, dtype=lib.float64), [(3, 4)])
    assert g.dtype is genesis.float64
    compare(lambda lib, x: F(lib).softmin(x, 0, dtype=lib.float32), [(3, 4)], dtype="int64")


# -- gumbel_softmax ------------------------------------------------------------------------------

def _logits(lib, rows: int, probs=(0.1, 0.2, 0.3, 0.4), dtype="float64"):
    row = np.log(np.array(probs))
    return lib.tensor(np.tile(row, (rows, 1)), dtype=getattr(lib, dtype), requires_grad=True)


@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
def test_gumbel_softmax_soft_samples_are_distributions(tau):
    y = F(genesis).gumbel_softmax(_logits(genesis, 200), tau=tau)
    t = F(torch).gumbel_softmax(_logits(torch, 200), tau=tau)
    assert y.shape == tuple(t.shape) and y.dtype is genesis.float64
    v = y.detach().numpy()
    assert (v > 0).all() and not np.allclose(v, v[0])  # a sample: rows differ
    np.testing.assert_allclose(v.sum(-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_sample_frequencies_match_torch(hard):
    """The argmax of a sample is distributed as softmax(logits) (tau does not change it);
    both libraries' frequencies land within sampling error of torch's softmax."""
    rows, probs = 20000, torch.softmax(_logits(torch, 1).detach()[0], 0).numpy()
    for lib in (genesis, torch):
        y = F(lib).gumbel_softmax(_logits(lib, rows), tau=0.7, hard=hard)
        counts = np.bincount(y.detach().numpy().argmax(-1), minlength=4) / rows
        np.testing.assert_allclose(counts, probs, atol=0.015)
        if hard:
            np.testing.assert_allclose(y.detach().numpy().mean(0), probs, atol=0.015)


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient(dim):
    """Same noise (same seed): the hard sample is the one-hot argmax of the soft one, and its
    straight-through gradient equals the soft sample's; that gradient equals torch's softmax
    gradient at the same noisy logits."""
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((5, 6, 4))
    w = rng.standard_normal((5, 6, 4))
    tau, out = 0.6, {}
    for hard in (False, True):
        genesis.manual_seed(11)
        x = genesis.tensor(logits, requires_grad=True)
        y = F(genesis).gumbel_softmax(x, tau=tau, hard=hard, dim=dim)
        (y * genesis.tensor(w)).sum().backward()
        out[hard] = y.detach().numpy(), x.grad.numpy()
    soft, hard = out[False][0], out[True][0]
    assert set(np.unique(hard)) == {0.0, 1.0}
    np.testing.assert_array_equal(hard.sum(dim), 1.0)
    np.testing.assert_array_equal(hard.argmax(dim), soft.argmax(dim))
    np.testing.assert_allclose(out[True][1], out[False][1], rtol=1e-12, atol=1e-14)
    # torch: softmax(z / tau) with z = tau * log(soft) reproduces the soft sample
    z = torch.tensor(tau * np.log(soft), requires_grad=True)
    ts = torch.softmax(z / tau, dim)
    np.testing.assert_allclose(ts.detach().numpy(), soft, rtol=1e-10)
    (ts * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(out[False][1], z.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_gumbel_softmax_seeding_shapes_and_errors():
    x = genesis.randn(3, 5)
    genesis.manual_seed(5)
    a = F(genesis).gumbel_softmax(x).numpy()
    b = F(genesis).gumbel_softmax(x).numpy()
    genesis.manual_seed(5)
    np.testing.assert_array_equal(a, F(genesis).gumbel_softmax(x).numpy())
    assert (a != b).any()
    for hard in (False, True):
        assert F(genesis).gumbel_softmax(genesis.randn(0, 5), hard=hard).shape == (0, 5)
        y = F(genesis).gumbel_softmax(genesis.randn(4, dtype=genesis.float32), hard=hard)
        assert y.dtype is genesis.float32 and y.shape == (4,)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F(genesis).gumbel_softmax(x, eps=1e-5)
    assert_raises_like_torch(lambda lib: F(lib).gumbel_softmax(lib.tensor([1, 2])),
                             "logits has dtype .*int64, expected a floating point")


# -- finite differences --------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(UNARY))
def test_gradcheck(name):
    rng = np.random.default_rng(1)
    x = genesis.tensor(rng.uniform(-5, 5, (4, 6)), requires_grad=True)
    assert genesis.autograd.gradcheck(lambda x: UNARY[name](genesis, x), [x])


def test_gradcheck_prelu_and_gumbel():
    rng = np.random.default_rng(2)
    x = genesis.tensor(rng.uniform(-3, 3, (4, 3, 2)), requires_grad=True)
    w = genesis.tensor(rng.uniform(-1, 1, 3), requires_grad=True)
    assert genesis.autograd.gradcheck(lambda x, w: F(genesis).prelu(x, w), [x, w])
    logits = genesis.tensor(rng.standard_normal((3, 4)), requires_grad=True)

    def sample(lg):
        genesis.manual_seed(3)
        return F(genesis).gumbel_softmax(lg, tau=0.8)
    assert genesis.autograd.gradcheck(sample, [logits])


# -- layers ----------------------------------------------------------------------------------------

MODULES = {
    "ELU": ((), {}), "ELU_args": ((0.5, True), {}), "SELU": ((), {}), "SELU_inplace": ((True,), {}),
    "CELU": ((), {}), "CELU_args": ((0.7,), {"inplace": True}),
    "Softplus": ((), {}), "Softplus_args": ((2.0, 5.0), {}), "Mish": ((), {}),
    "Mish_inplace": ((True,), {}), "Hardswish": ((), {}), "Hardsigmoid": ((True,), {}),
    "Hardtanh": ((), {}), "Hardtanh_args": ((-2.0, 0.5, True), {}), "ReLU6": ((), {}),
    "ReLU6_inplace": ((True,), {}), "GLU": ((), {}), "GLU_dim": ((1,), {}),
    "LogSigmoid": ((), {}), "Softsign": ((), {}), "Tanhshrink": ((), {}),
    "Softmin": ((1,), {}), "Softmin_last": ((), {"dim": -1}), "PReLU": ((), {}),
    "PReLU_channels": ((4,), {"init": 0.1}), "Threshold": ((0.1, 20), {}),
    "Threshold_inplace": ((0.1, 20.0, True), {}), "Hardshrink": ((), {}),
    "Softshrink": ((0.3,), {}),
}


@pytest.mark.parametrize("key", sorted(MODULES))
def test_layer_matches_torch_in_value_gradient_and_repr(key):
    name = key.split("_")[0]
    args, kwargs = MODULES[key]

    def fn(lib, x):
        return getattr(lib.nn, name)(*args, **kwargs)(x * 1.0)
    compare(fn, [(3, 4, 2)], dtype="float32", low=-4, high=4, **TOL)
    assert repr(getattr(genesis.nn, name)(*args, **kwargs)) == \
        repr(getattr(torch.nn, name)(*args, **kwargs))


def test_relu6_is_a_hardtanh_and_hardtanh_keeps_deprecated_names():
    assert isinstance(genesis.nn.ReLU6(), genesis.nn.Hardtanh)
    m = genesis.nn.ReLU6()
    assert (m.min_val, m.max_val) == (0.0, 6.0)
    with pytest.warns(FutureWarning, match="min_value"):
        m = genesis.nn.Hardtanh(min_value=-3.0)
    assert m.min_val == -3.0
    for lib in (torch, genesis):
        with pytest.raises((ValueError, AssertionError)):
            lib.nn.Hardtanh(1.0, 1.0)


@pytest.mark.parametrize("num_parameters,init", [(1, 0.25), (3, -0.1)])
def test_prelu_layer_parameter_matches_torch(num_parameters, init):
    g = genesis.nn.PReLU(num_parameters, init=init, dtype=genesis.float64)
    t = torch.nn.PReLU(num_parameters, init=init, dtype=torch.float64)
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()] == \
        ["weight"]
    assert g.weight.shape == tuple(t.weight.shape) and g.weight.dtype is genesis.float64
    np.testing.assert_array_equal(g.weight.detach().numpy(), t.weight.detach().numpy())
    x = np.random.default_rng(0).uniform(-2, 2, (5, 3, 2))
    gx, tx = genesis.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g(gx).sum().backward()
    t(tx).sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-12)
    assert list(g.state_dict()) == list(t.state_dict())
    with pytest.raises(ValueError, match="num_parameters=0"):
        genesis.nn.PReLU(0)


@pytest.mark.parametrize("name", ["elu", "selu", "celu_alpha", "softplus", "logsigmoid", "mish",
                                  "hardswish", "hardtanh", "softsign", "tanhshrink",
                                  "softmin_last"])
def test_double_backward_matches_torch(name):
    """The composites are differentiable twice (their ops' backward rules are; glu is not
    listed: the backward of a narrowed view is not differentiable in genesis yet)."""
    x0 = np.random.default_rng(8).uniform(-4, 4, (3, 4))
    res = {}
    for lib in (genesis, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = UNARY[name](lib, x)
        (g,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), [x])
        res[lib.__name__] = gg.detach().numpy()
    np.testing.assert_allclose(res["genesis"], res["torch"], rtol=1e-9, atol=1e-10)
