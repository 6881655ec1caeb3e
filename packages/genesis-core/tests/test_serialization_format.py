"""The on-disk format: a valid safetensors file that other readers understand."""

from __future__ import annotations

import itertools
import json
import struct

import ml_dtypes
import numpy as np
import pytest
import torch
from genesis.serialization import load_tree, save_tree
from serialization_helpers import DTYPES, build_file, header_of, parse_safetensors

ALL_DTYPES = [
    np.float32,
    np.float64,
    np.float16,
    ml_dtypes.bfloat16,
    np.int8,
    np.uint8,
    np.int16,
    np.int32,
    np.int64,
    np.bool_,
]

NAN_PAYLOADS = {
    "float16": [0x7E01, 0xFC01, 0x7D55],
    "bfloat16": [0x7FC1, 0xFF81, 0x7F81],
    "float32": [0x7FC00001, 0xFF800001, 0x7FA5A5A5],
    "float64": [0x7FF8000000000001, 0xFFF0000000000001, 0x7FF5A5A5A5A5A5A5],
}


def sample(dtype: type, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Arrays with every bit pattern class: for floats, nan payloads, -0.0, inf, subnormals."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    raw = rng.integers(0, 256, (*shape, dtype.itemsize), dtype=np.uint8)
    return raw.view(dtype).reshape(shape)


def bits(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array).tobytes()


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("mmap", [False, True])
def test_every_dtype_round_trips_bit_exactly(tmp_path, dtype, mmap):
    arrays = {
        "matrix": sample(dtype, (7, 5)),
        "scalar": sample(dtype, (), seed=1),
        "empty": sample(dtype, (0, 3)),
        "view": sample(dtype, (6, 8), seed=2)[::2, 1::3],
    }
    if np.dtype(dtype).kind == "f":
        specials = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0], dtype=np.float64).astype(
            dtype
        )
        arrays["specials"] = np.concatenate([specials, sample(dtype, (3,), seed=3)])
        arrays["nan_payloads"] = (
            np.array(NAN_PAYLOADS[np.dtype(dtype).name], np.uint64)
            .astype(f"u{np.dtype(dtype).itemsize}")
            .view(dtype)
        )
        assert np.isnan(arrays["nan_payloads"]).all()
    path = tmp_path / "ckpt.gck"
    save_tree(arrays, path)
    loaded = load_tree(path, mmap=mmap)
    assert list(loaded) == list(arrays)
    for key, array in arrays.items():
        assert loaded[key].dtype == np.dtype(dtype), key
        assert loaded[key].shape == array.shape, key
        assert bits(loaded[key]) == bits(array), key


def test_file_parses_with_an_independent_safetensors_reader(tmp_path):
    arrays = {
        dtype_name: sample(dtype, (3, 2), seed=i)
        for i, (dtype_name, dtype) in enumerate((np.dtype(d).name, d) for d in ALL_DTYPES)
    }
    tree = {"model_state_dict": arrays, "epoch": 3}
    path = tmp_path / "ckpt.gck"
    save_tree(tree, path)
    raw = path.read_bytes()
    parsed, metadata = parse_safetensors(raw)
    assert set(parsed) == {f"model_state_dict/{name}" for name in arrays}
    for name, array in arrays.items():
        assert bits(parsed[f"model_state_dict/{name}"]) == bits(array)
    assert metadata["genesis.format"] == "1"
    assert json.loads(metadata["genesis.tree"])["epoch"] == 3
    assert metadata["genesis.checksum"].startswith("xxh3:")


def test_header_and_tensors_are_aligned_and_packed(tmp_path):
    tree = {
        "a": np.zeros(3, np.int8),
        "b": np.zeros(5, np.float64),
        "c": np.zeros(3, np.float16),
        "d": np.zeros(1, np.int32),
    }
    path = tmp_path / "ckpt.gck"
    save_tree(tree, path)
    raw = path.read_bytes()
    length, header = header_of(raw)
    assert (8 + length) % 8 == 0
    assert raw[8 : 8 + length].rstrip(b" ").endswith(b"}")
    header.pop("__metadata__")
    spans = sorted(tuple(info["data_offsets"]) for info in header.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(raw) - 8 - length
    assert all(prev[1] == nxt[0] for prev, nxt in itertools.pairwise(spans))
    for info in header.values():
        assert info["data_offsets"][0] % DTYPES[info["dtype"]].itemsize == 0


def test_bfloat16_bits_match_torch(tmp_path):
    reference = torch.randn(4, 3).to(torch.bfloat16)
    array = reference.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    path = tmp_path / "ckpt.gck"
    save_tree({"w": array}, path)
    raw = path.read_bytes()
    length, header = header_of(raw)
    begin, end = header["w"]["data_offsets"]
    assert header["w"]["dtype"] == "BF16"
    decoded = torch.frombuffer(
        bytearray(raw[8 + length + begin : 8 + length + end]), dtype=torch.bfloat16
    )
    assert torch.equal(decoded.view(4, 3), reference)


def test_storage_keys_escape_slashes_and_keep_int_and_str_keys_apart(tmp_path):
    tree = {
        "a/b": np.zeros(1),
        "a~1b": np.ones(1),
        "0": np.full(1, 2.0),
        0: np.full(1, 3.0),
        "__metadata__": np.full(1, 4.0),
        True: np.full(1, 5.0),
    }
    path = tmp_path / "ckpt.gck"
    save_tree(tree, path)
    parsed, _ = parse_safetensors(path.read_bytes())
    assert len(parsed) == len(tree)
    assert {"a~1b", "a~01b", "~s0", "0", "~s__metadata__"} <= set(parsed)
    loaded = load_tree(path)
    assert list(loaded) == list(tree)
    assert [type(key) for key in loaded] == [type(key) for key in tree]
    for key, array in tree.items():
        assert np.array_equal(loaded[key], array)


def test_foreign_safetensors_file_loads_as_flat_dict(tmp_path):
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    raw = build_file(
        {
            "__metadata__": {"format": "pt"},
            "layer.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        },
        weight.tobytes(),
        checksum=False,
    )
    path = tmp_path / "foreign.safetensors"
    path.write_bytes(raw)
    for mmap in (False, True):
        loaded = load_tree(path, mmap=mmap)
        assert list(loaded) == ["layer.weight"]
        assert np.array_equal(loaded["layer.weight"], weight)


def test_user_metadata_is_written(tmp_path):
    path = tmp_path / "ckpt.gck"
    save_tree({"w": np.zeros(2)}, path, metadata={"format": "pt"})
    assert parse_safetensors(path.read_bytes())[1]["format"] == "pt"
    with pytest.raises(ValueError, match="genesis.tree"):
        save_tree({}, path, metadata={"genesis.tree": "x"})


def test_header_length_is_little_endian_u64(tmp_path):
    path = tmp_path / "ckpt.gck"
    save_tree({}, path)
    raw = path.read_bytes()
    assert struct.unpack("<Q", raw[:8])[0] == len(raw) - 8


def test_mmap_arrays_are_copy_on_write(tmp_path):
    path = tmp_path / "ckpt.gck"
    save_tree({"w": np.arange(4.0)}, path)
    before = path.read_bytes()
    loaded = load_tree(path, mmap=True)
    loaded["w"][0] = 42.0
    assert loaded["w"][0] == 42.0
    assert path.read_bytes() == before
    save_tree({"w": np.zeros(4)}, path)
    assert list(loaded["w"]) == [42.0, 1.0, 2.0, 3.0]
    assert np.array_equal(load_tree(path, mmap=True, verify=False)["w"], np.zeros(4))


def test_loaded_arrays_are_writable_and_independent(tmp_path):
    path = tmp_path / "ckpt.gck"
    save_tree({"a": np.arange(3.0), "b": np.arange(3.0)}, path)
    loaded = load_tree(path)
    loaded["a"] += 1
    assert list(loaded["b"]) == [0.0, 1.0, 2.0]


def test_large_checkpoint_round_trips(tmp_path):
    tree = {f"layer{i}": sample(np.float32, (1 << 20,), seed=i) for i in range(5)}
    path = tmp_path / "ckpt.gck"
    save_tree(tree, path)
    for mmap in (False, True):
        loaded = load_tree(path, mmap=mmap)
        assert all(bits(loaded[key]) == bits(tree[key]) for key in tree)
