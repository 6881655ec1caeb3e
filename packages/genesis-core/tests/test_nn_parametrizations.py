"""nn.utils.parametrize and parametrizations.weight_norm / spectral_norm against PyTorch:
module layout and state-dict keys, loading a torch state dict, forward values, gradients of
the originals, power-iteration buffers, assignment through right_inverse, removal, errors."""

import genesis
import numpy as np
import pytest
import torch


def _to_genesis(state):
    return {k: genesis.tensor(v.detach().numpy()) for k, v in state.items()}


def _make(lib, kind):
    torch.manual_seed(0)
    return lib.nn.Linear(3, 4) if kind == "linear" else lib.nn.Bilinear(3, 2, 4)


def _inputs(kind, rng):
    shapes = [(5, 3)] if kind == "linear" else [(5, 3), (5, 2)]
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _forward_backward(lib, module, xs):
    out = module(*[lib.tensor(x) for x in xs])
    up = np.random.default_rng(9).standard_normal(tuple(out.shape)).astype(np.float32)
    (out * lib.tensor(up)).sum().backward()
    return out.detach().numpy(), {n: p.grad.numpy() for n, p in module.named_parameters()}


def _assert_same(module, ref, xs):
    out, grads = _forward_backward(genesis, module, xs)
    want, want_grads = _forward_backward(torch, ref, xs)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    assert list(grads) == list(want_grads)
    for name in grads:
        np.testing.assert_allclose(grads[name], want_grads[name], rtol=1e-4, atol=1e-5,
                                   err_msg=name)


@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", 1), ("linear", None),
                                      ("linear", -1), ("bilinear", 0), ("bilinear", 2),
                                      ("bilinear", -2), ("bilinear", None)])
def test_weight_norm_matches_torch(kind, dim):
    ref = torch.nn.utils.parametrizations.weight_norm(_make(torch, kind), dim=dim)
    module = genesis.nn.utils.parametrizations.weight_norm(_make(genesis, kind), dim=dim)
    assert repr(module) == repr(ref) and type(module).__name__ == type(ref).__name__
    state = ref.state_dict()
    assert list(module.state_dict()) == list(state)
    for key, value in module.state_dict().items():
        assert tuple(value.shape) == tuple(state[key].shape), key
    module.load_state_dict(_to_genesis(state))
    np.testing.assert_allclose(module.weight.detach().numpy(), ref.weight.detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    rng = np.random.default_rng(0)
    _assert_same(module, ref, _inputs(kind, rng))
    # assignment stores right_inverse(value): g = the norms, v = the value
    new = rng.standard_normal(tuple(ref.weight.shape)).astype(np.float32)
    module.weight = genesis.tensor(new)
    ref.weight = torch.tensor(new)
    for key, value in module.state_dict().items():
        np.testing.assert_allclose(value.numpy(), ref.state_dict()[key].numpy(), rtol=1e-6,
                                   atol=1e-6, err_msg=key)


def test_weight_norm_gradcheck():
    layer = genesis.nn.utils.parametrizations.weight_norm(genesis.nn.Linear(3, 2).double())
    x = genesis.tensor(np.random.default_rng(1).standard_normal((4, 3)))
    g, v = (layer.parametrizations.weight.original0, layer.parametrizations.weight.original1)

    def run(g_, v_):
        return genesis.nn.functional.linear(x, layer.parametrizations.weight[0](g_, v_))

    assert genesis.autograd.gradcheck(run, [g, v])


@pytest.mark.parametrize("kind,dim", [("linear", None), ("linear", 1), ("bilinear", None),
                                      ("bilinear", 2)])
def test_spectral_norm_matches_torch(kind, dim):
    ref = torch.nn.utils.parametrizations.spectral_norm(_make(torch, kind), dim=dim)
    module = genesis.nn.utils.parametrizations.spectral_norm(_make(genesis, kind), dim=dim)
    assert repr(module) == repr(ref)
    state = ref.state_dict()
    assert list(module.state_dict()) == list(state)
    module.load_state_dict(_to_genesis(state))  # torch's random start vectors
    rng = np.random.default_rng(2)
    for step in range(3):  # training: one power iteration per forward
        _assert_same(module, ref, _inputs(kind, rng))
        for key, value in module.state_dict().items():
            np.testing.assert_allclose(value.numpy(), ref.state_dict()[key].numpy(), rtol=1e-5,
                                       atol=1e-6, err_msg=f"{key} after step {step}")
        module.zero_grad()
        ref.zero_grad()
    module.eval()
    ref.eval()
    u = module.parametrizations.weight[0]._u.numpy().copy()
    _assert_same(module, ref, _inputs(kind, rng))
    np.testing.assert_array_equal(module.parametrizations.weight[0]._u.numpy(), u)  # frozen


def test_spectral_norm_normalises_the_largest_singular_value():
    layer = genesis.nn.utils.parametrizations.spectral_norm(genesis.nn.Linear(6, 5))
    for _ in range(300):
        layer(genesis.zeros(1, 6))
    sigma = np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)[0]
    assert sigma == pytest.approx(1.0, rel=1e-4)
    vector = genesis.nn.Module()
    vector.w = genesis.nn.Parameter(genesis.tensor([3.0, 4.0]))
    genesis.nn.utils.parametrizations.spectral_norm(vector, "w")
    np.testing.assert_allclose(vector.w.detach().numpy(), [0.6, 0.8], rtol=1e-6)


def _scale(lib, factor):
    class Scale(lib.nn.Module):
        def forward(self, x):
            return x * factor

        def right_inverse(self, x):
            return x / factor

    return Scale()


def test_register_parametrization_chain_cache_and_remove_match_torch():
    mods = {}
    torch.manual_seed(0)
    start = {k: v.clone() for k, v in torch.nn.Linear(3, 3).state_dict().items()}
    for lib in (torch, genesis):
        m = lib.nn.Linear(3, 3)
        m.load_state_dict(start if lib is torch else _to_genesis(start))
        P = lib.nn.utils.parametrize
        P.register_parametrization(m, "weight", _scale(lib, 2.0))
        P.register_parametrization(m, "weight", _scale(lib, 3.0))
        P.register_parametrization(m, "bias", _scale(lib, -1.0))
        assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
        assert not P.is_parametrized(m, "other")
        assert P.type_before_parametrizations(m) is lib.nn.Linear
        with P.cached():
            assert m.weight is m.weight
        mods[lib] = m
    g, t = mods[genesis], mods[torch]
    assert type(g).__name__ == type(t).__name__ == "ParametrizedLinear"
    assert list(g.state_dict()) == list(t.state_dict())
    _assert_same(g, t, [np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)])
    g.weight = genesis.ones(3, 3)
    t.weight = torch.ones(3, 3)
    np.testing.assert_allclose(g.parametrizations.weight.original.detach().numpy(),
                               t.parametrizations.weight.original.detach().numpy())
    for lib, m in ((genesis, g), (torch, t)):
        original = m.parametrizations.weight.original
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
        assert m.weight is original  # the same Parameter, now holding the parametrized value
        lib.nn.utils.parametrize.remove_parametrizations(m, "bias", leave_parametrized=False)
        assert type(m) is lib.nn.Linear and not hasattr(m, "parametrizations")
    assert list(g.state_dict()) == list(t.state_dict()) == ["weight", "bias"]
    for key, value in g.state_dict().items():
        np.testing.assert_allclose(value.numpy(), t.state_dict()[key].numpy(), rtol=1e-6)


def test_weight_norm_removal_leaves_a_plain_weight():
    ref = torch.nn.utils.parametrizations.weight_norm(_make(torch, "linear"))
    module = genesis.nn.utils.parametrizations.weight_norm(_make(genesis, "linear"))
    module.load_state_dict(_to_genesis(ref.state_dict()))
    for lib, m in ((torch, ref), (genesis, module)):
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
    assert list(module.state_dict()) == list(ref.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(module.weight.detach().numpy(), ref.weight.detach().numpy(),
                               rtol=1e-6, atol=1e-7)
    assert isinstance(module.weight, genesis.nn.Parameter) and module.weight.requires_grad


def test_parametrization_errors_like_torch():
    for lib in (torch, genesis):
        P = lib.nn.utils.parametrize

        class Shrink(lib.nn.Module):
            def forward(self, x):
                return x[:1]

        with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
            P.register_parametrization(lib.nn.Linear(2, 2), "nope", _scale(lib, 2.0))
        with pytest.raises(ValueError, match="may not change the shape of the tensor"):
            P.register_parametrization(lib.nn.Linear(2, 2), "weight", Shrink())
        with pytest.raises(ValueError, match="does not have a parametrization on weight"):
            P.remove_parametrizations(lib.nn.Linear(2, 2), "weight")
        m = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(2, 2))
        with pytest.raises(ValueError, match="Cannot leave unparametrized"):
            P.remove_parametrizations(m, "weight", leave_parametrized=False)
        with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
            lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), "nope")
        with pytest.raises(ValueError, match="n_power_iterations to be positive"):
            lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2),
                                                        n_power_iterations=0)
        with pytest.raises(IndexError, match="Dimension out of range"):
            lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), dim=2)


@pytest.mark.parametrize("kind,dim", [("linear", 0), ("linear", None), ("bilinear", 1),
                                      ("bilinear", -1)])
def test_deprecated_weight_norm_matches_torch_and_loads_its_checkpoints(kind, dim):
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        ref = torch.nn.utils.weight_norm(_make(torch, kind), dim=dim)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        module = genesis.nn.utils.weight_norm(_make(genesis, kind), dim=dim)
    assert repr(module) == repr(ref) and isinstance(module, type(_make(genesis, kind)))
    state = ref.state_dict()
    assert list(module.state_dict()) == list(state)  # bias, weight_g, weight_v
    for key, value in module.state_dict().items():
        assert tuple(value.shape) == tuple(state[key].shape), key
    module.load_state_dict(_to_genesis(state))
    _assert_same(module, ref, _inputs(kind, np.random.default_rng(4)))
    for lib, m in ((torch, ref), (genesis, module)):
        lib.nn.utils.remove_weight_norm(m)
    assert type(module) is type(_make(genesis, kind))
    assert list(module.state_dict()) == list(ref.state_dict())
    np.testing.assert_allclose(module.weight.detach().numpy(), ref.weight.detach().numpy(),
                               rtol=1e-6, atol=1e-7)


def test_deprecated_weight_norm_errors_like_torch():
    import warnings
    for lib in (torch, genesis):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = lib.nn.utils.weight_norm(lib.nn.Linear(2, 2))
            with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
                lib.nn.utils.weight_norm(m)
        with pytest.raises(ValueError, match="weight_norm of 'bias' not found"):
            lib.nn.utils.remove_weight_norm(m, "bias")
