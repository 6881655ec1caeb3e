"""genesis.load / load_checkpoint with torch.load's keywords: map_location, weights_only, mmap."""

import inspect

import genesis
import numpy as np
import pytest
import torch
from genesis.backends import registry


@pytest.fixture
def spare():
    """A second device, ``spare``, served by another instance of the CPU backend's class."""
    backend = type(genesis.device("cpu").backend)()
    backend.name = "spare"
    registry.backends["spare"] = backend
    yield genesis.Device("spare")
    del registry.backends["spare"]


@pytest.fixture
def saved(tmp_path, spare):
    """A file with a tensor saved from ``spare`` (requiring grad) and one saved from the CPU."""
    path = tmp_path / "two.safetensors"
    genesis.save({"w": genesis.arange(3.0, device=spare).requires_grad_(),
                  "c": genesis.ones(2, dtype=genesis.int64)}, path)
    return path


def places(obj: dict) -> dict:
    return {k: (str(t.device), t.tolist(), t.requires_grad, t.is_leaf) for k, t in obj.items()}


def test_load_takes_every_keyword_of_torch_load_that_is_not_about_pickle():
    ours = set(inspect.signature(genesis.load).parameters)
    theirs = set(inspect.signature(torch.load).parameters) - {"pickle_module", "pickle_load_args"}
    assert theirs <= ours
    assert set(inspect.signature(genesis.load_checkpoint).parameters) - {"path"} == ours - {"f"}


def test_without_map_location_tensors_go_back_where_they_were_saved(saved):
    assert places(genesis.load(saved)) == {"w": ("spare:0", [0.0, 1.0, 2.0], True, True),
                                           "c": ("cpu", [1, 1], False, True)}


@pytest.mark.parametrize("where", ["cpu", genesis.device("cpu")], ids=["str", "Device"])
def test_a_device_puts_every_tensor_there(saved, where):
    assert places(genesis.load(saved, map_location=where)) == {
        "w": ("cpu", [0.0, 1.0, 2.0], True, True), "c": ("cpu", [1, 1], False, True)}


def test_a_dict_maps_saved_locations_and_leaves_the_others(saved, spare):
    moved = places(genesis.load(saved, map_location={"spare": "cpu"}))  # key without index
    assert moved["w"][0] == "cpu" and moved["c"][0] == "cpu"
    moved = places(genesis.load_checkpoint(saved, map_location={"cpu": spare}))
    assert moved["w"][0] == "spare:0" and moved["c"] == ("spare:0", [1, 1], False, True)


def test_a_callable_gets_the_cpu_tensor_and_its_saved_location(saved, spare):
    calls = []

    def record(t, location):
        calls.append((location, str(t.device)))
        return None if location == "cpu" else t.to(spare) * 1  # a new tensor: used as returned

    back = places(genesis.load(saved, map_location=record))
    assert sorted(calls) == [("cpu", "cpu"), ("spare:0", "cpu")]
    assert back == {"w": ("spare:0", [0.0, 1.0, 2.0], True, True),
                    "c": ("cpu", [1, 1], False, True)}  # None: the saved location
    keep_on_cpu = places(genesis.load(saved, map_location=lambda storage, loc: storage))
    assert keep_on_cpu["w"][0] == "cpu" and keep_on_cpu["w"][2:] == (True, True)


def test_the_callable_sees_the_location_tags_torch_passes_for_cpu_tensors(tmp_path):
    seen_by_torch, seen_by_genesis = [], []
    torch.save({"a": torch.ones(2)}, tmp_path / "t.pt")
    torch.load(tmp_path / "t.pt", weights_only=True,
               map_location=lambda s, loc: seen_by_torch.append(loc))
    genesis.save({"a": genesis.ones(2)}, tmp_path / "g.safetensors")
    genesis.load(tmp_path / "g.safetensors", weights_only=True,
                 map_location=lambda t, loc: seen_by_genesis.append(loc))
    assert seen_by_genesis == seen_by_torch == ["cpu"]


@pytest.mark.parametrize("weights_only", [True, False, None])
def test_weights_only_is_accepted_and_changes_nothing(saved, weights_only):
    back = genesis.load(saved, weights_only=weights_only, map_location="cpu", mmap=True)
    np.testing.assert_array_equal(back["w"].detach().numpy(), [0.0, 1.0, 2.0])
    assert places(back) == places(genesis.load_checkpoint(saved, map_location="cpu",
                                                          weights_only=weights_only))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"map_location": 0}, TypeError, r"map_location=0, expected None, a device string"),
    ({"map_location": {"cpu": 1}}, TypeError, r"map_location\['cpu'\]=1, expected a device"),
    ({"map_location": {0: "cpu"}}, TypeError, r"map_location key=0, expected a device string"),
    ({"map_location": "nonsense_type"}, RuntimeError, r"unknown device type 'nonsense_type'"),
    ({"map_location": lambda t, loc: t.numpy()}, TypeError,
     r"returned array\(\[.*for a tensor saved on 'spare:0'; expected a genesis.Tensor or None"),
    ({"weights_only": "yes"}, TypeError, r"weights_only='yes', expected True, False or None"),
    ({"mmap": 1}, TypeError, r"mmap=1, expected True, False or None"),
])
def test_unsupported_options_raise_naming_the_argument(saved, kwargs, error, message):
    with pytest.raises(error, match=message):
        genesis.load(saved, **kwargs)
