"""parameters_to_vector / vector_to_parameters against PyTorch (values, order, gradients,
views, errors)."""

import genesis
import numpy as np
import pytest
import torch
from torch_compare import assert_raises_like_torch


def _pair():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    model = genesis.nn.Sequential(genesis.nn.Linear(3, 4), genesis.nn.ReLU(),
                                  genesis.nn.Linear(4, 1))
    model.load_state_dict({k: genesis.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    return model, ref


def test_parameters_to_vector_matches_torch_and_is_differentiable():
    model, ref = _pair()
    vec = genesis.nn.utils.parameters_to_vector(model.parameters())
    tvec = torch.nn.utils.parameters_to_vector(ref.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(), tvec.detach().numpy())
    w = np.random.default_rng(0).standard_normal(tvec.shape[0]).astype(np.float32)
    (vec * genesis.tensor(w)).sum().backward()
    (tvec * torch.tensor(w)).sum().backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    single = genesis.nn.utils.parameters_to_vector(model[0].bias)
    assert tuple(single.shape) == (4,)


def test_vector_to_parameters_matches_torch_and_makes_views():
    model, ref = _pair()
    n = sum(p.numel() for p in ref.parameters())
    values = np.arange(n, dtype=np.float32) / 7
    vec = genesis.tensor(values)
    genesis.nn.utils.vector_to_parameters(vec, model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(values), ref.parameters())
    for (name, p), (tname, q) in zip(model.named_parameters(), ref.named_parameters()):
        assert name == tname and tuple(p.shape) == tuple(q.shape)
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(model(genesis.tensor(x)).detach().numpy(),
                               ref(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)
    vec[0] = 100.0  # the parameters are views of the vector, as in PyTorch
    assert model[0].weight[0, 0].item() == 100.0
    assert model[0].weight.requires_grad
    lone = genesis.zeros(2)
    genesis.nn.utils.vector_to_parameters(genesis.tensor([5.0, 6.0]), lone)  # a single tensor
    assert lone.tolist() == [5.0, 6.0]


def test_convert_parameters_errors_like_torch():
    assert_raises_like_torch(lambda lib: lib.nn.utils.vector_to_parameters(
        [1.0], [lib.zeros(2)]), "expected torch.Tensor, but got: list")
    assert_raises_like_torch(lambda lib: lib.nn.utils.vector_to_parameters(
        lib.zeros(1), [lib.zeros(2)]), "")  # too short for the parameters
    assert_raises_like_torch(lambda lib: lib.nn.utils.parameters_to_vector([]), "non-empty")


def test_parameters_on_two_devices_are_refused():
    class FakeDevice:
        def __ne__(self, other):
            return True

    a, b = genesis.zeros(2), genesis.zeros(2)
    from genesis.nn.utils.convert_parameters import _check_param_device
    with pytest.raises(TypeError, match="different devices"):
        _check_param_device(b, FakeDevice())
    assert _check_param_device(a, None) == a.device
