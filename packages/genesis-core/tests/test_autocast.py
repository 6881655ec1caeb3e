"""genesis.autocast's region semantics against torch.autocast: context manager and decorator,
nesting, the query functions, the parameter cast cache, gradients, errors."""

from __future__ import annotations

import genesis
import genesis.nn.functional as F
import numpy as np
import pytest
import torch
from genesis._ops.autocast import _Regions


def linear_dtype(lib, x, w):
    return str(lib.nn.functional.linear(x, w).dtype).rpartition(".")[2]


@pytest.fixture
def operands():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4)).astype(np.float32), rng.standard_normal((3, 4))
    return {lib: (lib.tensor(x), lib.tensor(w.astype(np.float32), requires_grad=True))
            for lib in (genesis, torch)}


def test_defaults_and_queries_match_torch():
    for device in ("cpu", "cuda"):
        assert genesis.get_autocast_dtype(device).name == \
            str(torch.get_autocast_dtype(device)).rpartition(".")[2]
        assert genesis.is_autocast_enabled(device) is torch.is_autocast_enabled(device) is False
    assert genesis.is_autocast_enabled() is torch.is_autocast_enabled() is False
    with genesis.autocast("cpu", dtype=genesis.float16) as region, \
            torch.autocast("cpu", dtype=torch.float16):
        assert isinstance(region, genesis.autocast)
        assert genesis.is_autocast_enabled("cpu") and torch.is_autocast_enabled("cpu")
        assert not genesis.is_autocast_enabled("cuda")
        assert genesis.get_autocast_dtype("cpu") is genesis.float16
    assert genesis.get_autocast_dtype("cpu") is genesis.bfloat16
    assert genesis.amp.autocast is genesis.autocast
    for device in ("cpu", "cuda"):
        assert genesis.amp.is_autocast_available(device) is \
            torch.amp.is_autocast_available(device) is True
    assert not genesis.amp.is_autocast_available("mps")  # no policy (and no backend) for it


def test_nesting_with_enabled_false_and_decorator(operands):
    seen = {}
    for lib in (genesis, torch):
        x, w = operands[lib]

        @lib.autocast("cpu")
        def forward(x, w, lib=lib):
            return linear_dtype(lib, x, w)

        with lib.autocast("cpu"):
            outer = linear_dtype(lib, x, w)
            with lib.autocast("cpu", enabled=False):
                inner = linear_dtype(lib, x, w)
                decorated = forward(x, w)
            after = linear_dtype(lib, x, w)
        outside = linear_dtype(lib, x, w)
        seen[lib] = (outer, inner, decorated, after, outside)
    assert seen[genesis] == seen[torch] == ("bfloat16", "float32", "bfloat16", "bfloat16",
                                            "float32")


def test_decorator_nests_under_recursion():
    @genesis.autocast("cpu")
    def depth(n):
        return depth(n - 1) if n else genesis.is_autocast_enabled("cpu")

    assert depth(3) and not genesis.is_autocast_enabled("cpu")


def test_float32_parameters_get_float32_gradients_equal_to_torch(operands):
    grads = {}
    for lib in (genesis, torch):
        x, w = operands[lib]
        with lib.autocast("cpu"):
            out = lib.nn.functional.linear(x, w)
            loss = lib.nn.functional.mse_loss(out, lib.zeros(2, 3))
        assert str(loss.dtype).endswith("float32")
        loss.backward()
        assert str(w.grad.dtype).endswith("float32")
        grads[lib] = w.grad.numpy()
    np.testing.assert_allclose(grads[genesis], grads[torch], rtol=2e-2, atol=2e-2)


def test_a_parameter_is_cast_once_per_region_and_the_cache_ends_with_it(operands):
    x, w = operands[genesis]
    with genesis.autocast("cpu"):
        a, b = F.linear(x, w), F.linear(x, w)
        assert len(_Regions.cache) == 1
        cast = next(iter(_Regions.cache.values()))[2]
        with genesis.autocast("cpu", enabled=False):
            assert len(_Regions.cache) == 1  # cleared only when the outermost region ends
    assert not _Regions.cache
    (a.sum() + b.sum()).backward()
    assert w.grad.dtype is genesis.float32
    np.testing.assert_allclose(w.grad.numpy(), 2 * x.sum(0).to(genesis.bfloat16).float()
                               .expand(3, 4).numpy(), rtol=1e-2)
    assert cast.dtype is genesis.bfloat16


def test_cache_recasts_after_an_in_place_update_and_after_backward(operands):
    x, w = operands[genesis]
    with genesis.autocast("cpu"):
        F.linear(x, w).sum().backward()  # frees the cached copy's graph node
        second = F.linear(x, w)
        second.sum().backward()
        with genesis.no_grad():
            w.add_(1.0)
        moved = F.linear(x, w)
    with genesis.autocast("cpu", cache_enabled=False):
        F.linear(x, w)
        assert not _Regions.cache
    np.testing.assert_allclose(moved.detach().float().numpy(),
                               (x @ w.detach().t()).numpy(), rtol=2e-2, atol=5e-2)


def test_inputs_on_another_device_type_and_float64_are_not_cast():
    x64 = genesis.ones(2, 2, dtype=genesis.float64)
    with genesis.autocast("cpu"):
        assert (x64 @ x64).dtype is genesis.float64
    with genesis.autocast("cuda"):
        assert (genesis.ones(2, 2) @ genesis.ones(2, 2)).dtype is genesis.float32


def test_bad_arguments_name_the_value():
    with pytest.raises(RuntimeError, match="device_type='tpu'"):
        genesis.autocast("tpu")
    with pytest.raises(TypeError, match="device_type=0"):
        genesis.autocast(0)
    with pytest.raises(TypeError, match="enabled=1"):
        genesis.autocast("cpu", enabled=1)
    with pytest.raises(TypeError, match="dtype='half'"):
        genesis.autocast("cpu", dtype="half")


def test_unsupported_dtype_warns_and_disables_like_torch():
    with pytest.warns(UserWarning, match="not supported. Disabling autocast"):
        region = genesis.autocast("cpu", dtype=genesis.float64)
    with region:
        assert not genesis.is_autocast_enabled("cpu")
    with pytest.warns(UserWarning, match="Disabling autocast"):
        torch.autocast("cpu", dtype=torch.float64)
