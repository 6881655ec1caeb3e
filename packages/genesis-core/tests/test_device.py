"""genesis.device vs torch.device: the spelling is checked when built, the backend on use."""

import genesis
import pytest
import torch
from genesis.backends import registry


@pytest.mark.parametrize("spec", ["cpu", "cpu:0", "cpu:1", "cuda", "cuda:0", "cuda:7", "mps",
                                  "xla:2", "meta"])
def test_device_types_torch_knows_build_without_a_backend(spec):
    ours, theirs = genesis.Device(spec), torch.device(spec)
    assert ours.type == theirs.type
    assert ours.index == (0 if theirs.index is None else theirs.index)


@pytest.mark.parametrize("spec", ["nonsense_type", "CUDA", " cuda", "cuda:-1", "cuda:x",
                                  "cuda:0:1", "cuda:", "tpu"])
def test_device_strings_torch_refuses_are_refused(spec):
    with pytest.raises(RuntimeError):
        torch.device(spec)
    with pytest.raises(RuntimeError, match="invalid device string|unknown device type"):
        genesis.device(spec)


def test_unknown_device_type_names_the_registered_ones():
    with pytest.raises(RuntimeError, match=r"unknown device type 'nonsense_type'; registered "
                                           r"device types: \[.*'cpu'"):
        genesis.device("nonsense_type")


def test_index_given_twice_or_negative_is_refused_as_torch_does():
    for args in (("cuda:1", 1), ("cuda", -1)):
        with pytest.raises(RuntimeError):
            torch.device(*args)
        with pytest.raises(RuntimeError, match="index"):
            genesis.Device(*args)
    with pytest.raises(TypeError, match=r"index='0', expected an int >= 0"):
        genesis.Device("cuda", "0")
    with pytest.raises(TypeError, match=r"type=3, expected a string"):
        genesis.Device(3)


def test_allocating_where_no_backend_serves_the_type_raises_with_the_install_hint(monkeypatch):
    monkeypatch.delitem(registry.backends, "cuda", raising=False)
    dev = genesis.Device("cuda")
    assert str(dev) == "cuda:0" and dev == "cuda:0" and dev != "cpu"
    with pytest.raises(RuntimeError, match="no genesis backend serves device type 'cuda'; "
                                           r"registered device types: \[.*'cpu'") as err:
        genesis.zeros(2, device=dev)
    assert "`pip install ./packages/genesis-backend-triton` from a checkout" in str(err.value)
    with pytest.raises(RuntimeError, match="no genesis backend serves device type 'mps'"):
        genesis.ones(2, device="mps")


def test_index_beyond_the_backends_devices_raises_on_allocation():
    dev = genesis.device("cpu:1")
    assert (dev.type, dev.index) == ("cpu", 1)
    with pytest.raises(RuntimeError, match="'cpu:1': index 1 is out of range; 'cpu' has 1 "
                                           "device"):
        genesis.zeros(2, device=dev)


def test_a_device_serves_tensors_once_its_backend_resolves():
    dev = genesis.device("cpu")
    assert dev is genesis.device("cpu:0") and dev == "cpu"
    assert genesis.zeros(2, device=dev).device == dev
    assert dev != "nonsense_type"  # comparing with a bad string is False, not an error


def test_genesis_cuda_without_a_cuda_backend_says_how_to_install_one(monkeypatch):
    monkeypatch.delitem(registry.backends, "cuda", raising=False)
    assert not genesis.cuda.is_available() and genesis.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="no backend provides device 'cuda'; "
                                           "genesis-backend-triton does: install it from the "
                                           "Genesis repository: `pip install "
                                           "./packages/genesis-backend-triton` from a checkout"):
        genesis.cuda.memory_allocated()
