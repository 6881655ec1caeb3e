"""genesis.cuda.amp: PyTorch's deprecated torch.cuda.amp spellings, with torch's defaults,
FutureWarnings and behaviour (regions on device type "cuda", the scaler's device)."""

from __future__ import annotations

import inspect
import warnings

import genesis
import genesis.cuda.amp
import pytest
import torch


def defaults(fn) -> dict:
    return {k: str(p.default).rpartition(".")[2]
            for k, p in inspect.signature(fn).parameters.items() if k != "self"}


@pytest.mark.parametrize("name", ["autocast", "GradScaler"])
def test_signatures_and_deprecation_warnings_match_torch(name):
    g_cls, t_cls = getattr(genesis.cuda.amp, name), getattr(torch.cuda.amp, name)
    assert defaults(g_cls.__init__) == defaults(t_cls.__init__)
    messages = {}
    for lib, cls in ((genesis, g_cls), (torch, t_cls)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cls()
        messages[lib] = [str(w.message) for w in caught if w.category is FutureWarning]
    assert messages[genesis] == [m.replace("torch", "genesis") for m in messages[torch]]
    assert messages[genesis] == [f"`genesis.cuda.amp.{name}(args...)` is deprecated. Please "
                                 f"use `genesis.amp.{name}('cuda', args...)` instead."]


def test_autocast_is_a_cuda_region_with_float16_by_default():
    with pytest.warns(FutureWarning):
        region = genesis.cuda.amp.autocast()
    assert isinstance(region, genesis.amp.autocast)
    with region:
        assert genesis.is_autocast_enabled("cuda") and not genesis.is_autocast_enabled("cpu")
        assert genesis.get_autocast_dtype("cuda") is genesis.float16
    with pytest.warns(FutureWarning):
        @genesis.cuda.amp.autocast(dtype=genesis.bfloat16)
        def inside():
            return genesis.is_autocast_enabled("cuda"), genesis.get_autocast_dtype("cuda")
    assert inside() == (True, genesis.bfloat16)
    assert not genesis.is_autocast_enabled("cuda")


def test_grad_scaler_is_genesis_amp_grad_scaler_on_cuda():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation, and "disabling" without a GPU
        scaler = genesis.cuda.amp.GradScaler(init_scale=8.0, growth_interval=3)
        reference = genesis.amp.GradScaler("cuda", init_scale=8.0, growth_interval=3)
    assert isinstance(scaler, genesis.amp.GradScaler)
    assert scaler._device == "cuda"
    assert scaler.is_enabled() == reference.is_enabled() == genesis.cuda.is_available()
    assert scaler.state_dict() == reference.state_dict()
    assert scaler.get_growth_interval() == 3
