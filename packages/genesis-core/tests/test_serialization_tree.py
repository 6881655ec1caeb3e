"""Nested trees: every supported value comes back with its type and exact value."""

from __future__ import annotations

import math
import struct
from collections import OrderedDict

import numpy as np
import pytest
from genesis.serialization import load_tree, save_tree


class FakeTensor:
    """A tensor type unknown to genesis.serialization, with an attribute to carry."""

    def __init__(self, data: np.ndarray, requires_grad: bool = False) -> None:
        self.data = data
        self.requires_grad = requires_grad


def fake_to_numpy(tensor: FakeTensor) -> tuple[np.ndarray, dict[str, object]]:
    return tensor.data, {"requires_grad": tensor.requires_grad, "dtype": str(tensor.data.dtype)}


def fake_from_numpy(array: np.ndarray, extra: dict[str, object]) -> FakeTensor:
    assert extra["dtype"] == str(array.dtype)
    return FakeTensor(array, extra["requires_grad"])


def round_trip(tmp_path, obj, **load_options):
    path = tmp_path / "tree.gck"
    save_tree(obj, path, is_tensor=lambda x: isinstance(x, FakeTensor), to_numpy=fake_to_numpy)
    return load_tree(path, from_numpy=fake_from_numpy, **load_options)


def assert_same(actual, expected, where="obj"):
    assert type(actual) is type(expected), f"{where}: {type(actual)} != {type(expected)}"
    if isinstance(expected, FakeTensor):
        assert actual.requires_grad == expected.requires_grad, where
        assert actual.data.dtype == expected.data.dtype and np.array_equal(
            actual.data, expected.data
        ), where
    elif isinstance(expected, dict):
        assert [(type(k), k) for k in actual] == [(type(k), k) for k in expected], where
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), where
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{where}[{index}]")
    elif isinstance(expected, float):
        assert struct.pack("<d", actual) == struct.pack("<d", expected), (
            f"{where}: {actual!r} != {expected!r}"
        )
    else:
        assert actual == expected, where


def training_checkpoint():
    weight = FakeTensor(
        np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32), requires_grad=True
    )
    return {
        "model_state_dict": {
            "fc.weight": weight,
            "fc.bias": FakeTensor(np.zeros(4, np.float32), True),
        },
        "optimizer_state_dict": {
            "state": {
                0: {
                    "step": FakeTensor(np.array(3.0, np.float32)),
                    "exp_avg": FakeTensor(np.ones((4, 3), np.float32)),
                },
                1: {
                    "step": FakeTensor(np.array(3.0, np.float32)),
                    "exp_avg": FakeTensor(np.ones(4, np.float32)),
                },
            },
            "param_groups": [
                {
                    "params": [0, 1],
                    "lr": 1e-3,
                    "betas": (0.9, 0.999),
                    "eps": 1e-8,
                    "weight_decay": 0.0,
                    "amsgrad": False,
                    "maximize": False,
                    "foreach": None,
                    "capturable": False,
                }
            ],
        },
        "epoch": 3,
        "loss": FakeTensor(np.array(0.6931471805599453, np.float64)),
    }


@pytest.mark.parametrize("mmap", [False, True])
def test_training_checkpoint_round_trips(tmp_path, mmap):
    checkpoint = training_checkpoint()
    assert_same(round_trip(tmp_path, checkpoint, mmap=mmap), checkpoint)


def test_scalars_keep_type_and_exact_value(tmp_path):
    floats = [
        0.1,
        -0.0,
        0.0,
        1.0,
        1e300,
        5e-324,
        2.0**53 + 2,
        math.pi,
        math.inf,
        -math.inf,
        math.nan,
        struct.unpack("<d", struct.pack("<Q", 0xFFF8000000000123))[0],
    ]
    tree = {
        "floats": floats,
        "ints": [0, -1, 2**63, -(2**80), 10**30],
        "bools": [True, False],
        "strings": [
            "",
            "héllo ✓",
            'quote " and \\ and \n',
            "\ud800 lone surrogate",
            "$tuple",
            "~/",
        ],
        "none": None,
        "tuples": ((), (1,), (1, (2.5, [3])), [(), []]),
        "nested_empty": {"d": {}, "l": [], "t": ()},
    }
    assert_same(round_trip(tmp_path, tree), tree)


def test_dict_keys_keep_type_and_order(tmp_path):
    tree = {
        "b": 1,
        0: "int zero",
        "0": "str zero",
        -5: [],
        "$dict": "dollar",
        "a/b~c": 2,
        True: "bool",
    }
    assert_same(round_trip(tmp_path, tree), tree)
    tree = OrderedDict([("z", 1), ("a", 2)])
    loaded = round_trip(tmp_path, tree)
    assert list(loaded.items()) == [("z", 1), ("a", 2)]


def test_root_can_be_a_tensor_list_or_scalar(tmp_path):
    tensor = FakeTensor(np.arange(3, dtype=np.int64))
    for obj in (tensor, [tensor, 1], (tensor,), 7, None, "x", 2.5):
        assert_same(round_trip(tmp_path, obj), obj)


def test_shared_tensor_is_stored_once_and_comes_back_shared(tmp_path):
    shared = FakeTensor(np.arange(1000, dtype=np.float64))
    loaded = round_trip(tmp_path, {"a": shared, "b": [shared], "c": FakeTensor(shared.data)})
    assert loaded["a"] is loaded["b"][0]
    assert loaded["a"] is not loaded["c"]
    assert (tmp_path / "tree.gck").stat().st_size < 2 * 8000 + 4096


def test_tensor_extra_round_trips(tmp_path):
    tensor = FakeTensor(np.zeros(2, np.float32))
    path = tmp_path / "t.gck"
    extra = {"requires_grad": True, "device": "cuda:0", "shape_hint": (2,), "scale": math.inf}
    save_tree(
        {"t": tensor},
        path,
        is_tensor=lambda x: isinstance(x, FakeTensor),
        to_numpy=lambda t: (t.data, extra),
    )
    seen = []
    load_tree(path, from_numpy=lambda array, got: seen.append(got))
    assert seen == [extra] and type(seen[0]["shape_hint"]) is tuple


@pytest.mark.parametrize(
    ("obj", "where", "type_name"),
    [
        ({"a": {"b": {1, 2}}}, "obj['a']['b']", "set"),
        ({"f": [0, lambda x: x]}, "obj['f'][1]", "function"),
        ({"o": object()}, "obj['o']", "object"),
        ({"raw": b"bytes"}, "obj['raw']", "bytes"),
        ({"c": 1j}, "obj['c']", "complex"),
        ({"np": np.float32(1.0)}, "obj['np']", "float32"),
        ({"s": {0: {"t": FakeTensor(np.zeros(1))}, "x": np.zeros(1)}}, "obj['s']['x']", "ndarray"),
    ],
)
def test_unsupported_leaf_names_its_path_and_type(tmp_path, obj, where, type_name):
    with pytest.raises(TypeError) as error:
        round_trip(tmp_path, obj)
    assert where in str(error.value) and type_name in str(error.value)
    assert not list(tmp_path.iterdir())


def test_unsupported_dict_key_names_its_path(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['a'\].*\(1, 2\).*tuple"):
        round_trip(tmp_path, {"a": {(1, 2): 3}})
    with pytest.raises(TypeError, match=r"None.*NoneType"):
        round_trip(tmp_path, {None: 3})


def test_unsupported_array_dtype_names_its_path(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['w'\].*complex128"):
        round_trip(tmp_path, {"w": FakeTensor(np.zeros(2, np.complex128))})


def test_bad_to_numpy_result_is_reported(tmp_path):
    path = tmp_path / "t.gck"
    with pytest.raises(TypeError, match=r"obj\['t'\].*to_numpy must return"):
        save_tree({"t": 1}, path, is_tensor=lambda x: x == 1, to_numpy=lambda x: np.zeros(1))
    with pytest.raises(TypeError, match=r"obj\['t'\].*set"):
        save_tree(
            {"t": 1}, path, is_tensor=lambda x: x == 1, to_numpy=lambda x: (np.zeros(1), {"k": {1}})
        )


def test_reference_cycle_is_reported(tmp_path):
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"obj\['x'\]\[1\].*cycle"):
        round_trip(tmp_path, {"x": loop})


def test_path_argument_is_checked(tmp_path):
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got 3"):
        save_tree({}, 3)
    with pytest.raises(TypeError, match="path must be"):
        load_tree(None)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_tree({}, tmp_path / "missing" / "x.gck")
    with pytest.raises(IsADirectoryError):
        save_tree({}, tmp_path)
    with pytest.raises(FileNotFoundError):
        load_tree(tmp_path / "nothing.gck")
