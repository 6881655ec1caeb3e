"""genesis.save/load and save_checkpoint/load_checkpoint on genesis tensors."""

import os
import pickle
import subprocess
import sys

import genesis
import numpy as np
import pytest
from genesis.checkpoint import CheckpointError, CheckpointIntegrityError

ALL = [
    genesis.float32,
    genesis.float64,
    genesis.float16,
    genesis.bfloat16,
    genesis.int8,
    genesis.uint8,
    genesis.int16,
    genesis.int32,
    genesis.int64,
    genesis.bool,
]


@pytest.mark.parametrize("dtype", ALL, ids=lambda d: d.name)
def test_every_dtype_round_trips_bit_exactly(tmp_path, dtype):
    rng = np.random.default_rng(0)
    if dtype.is_floating_point:
        values = genesis.tensor(rng.standard_normal((3, 4)) * 100, dtype=dtype)
    elif dtype is genesis.bool:
        values = genesis.tensor(rng.random((3, 4)) < 0.5)
    else:
        values = genesis.tensor(rng.integers(0, 100, (3, 4)), dtype=dtype)
    genesis.save({"t": values}, tmp_path / "a.safetensors")
    back = genesis.load(tmp_path / "a.safetensors")["t"]
    assert back.dtype is dtype and back.shape == (3, 4)
    assert back.numpy().tobytes() == values.numpy().tobytes()


def test_views_requires_grad_scalars_and_nested_structure(tmp_path):
    base = genesis.arange(24.0).reshape(4, 6)
    w = genesis.randn(3, 2, requires_grad=True)
    loss = (w * 2).sum()
    obj = {
        "model_state_dict": {"fc.weight": w, "view": base[1:, ::2].T},
        "optimizer_state_dict": {
            "state": {0: {"step": genesis.tensor(3.0)}},
            "param_groups": [{"params": [0], "lr": 1e-3, "betas": (0.9, 0.999)}],
        },
        "scheduler_state_dict": {"last_epoch": 7, "note": None, "flags": [True, False]},
        "epoch": 3,
        "loss": loss,
        "empty": genesis.zeros(0, 5),
        "scalar": genesis.tensor(2),
    }
    genesis.save_checkpoint(obj, tmp_path / "ckpt.safetensors")
    back = genesis.load_checkpoint(tmp_path / "ckpt.safetensors")
    np.testing.assert_array_equal(back["model_state_dict"]["view"].numpy(), base[1:, ::2].T.numpy())
    assert back["model_state_dict"]["fc.weight"].requires_grad
    assert back["model_state_dict"]["fc.weight"].is_leaf
    assert back["optimizer_state_dict"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert list(back["optimizer_state_dict"]["state"]) == [0]
    assert back["scheduler_state_dict"] == {"last_epoch": 7, "note": None, "flags": [True, False]}
    assert back["epoch"] == 3 and back["loss"].item() == pytest.approx(loss.item())
    assert back["loss"].is_leaf and back["loss"].grad_fn is None  # data, not the graph (as torch)
    assert back["empty"].shape == (0, 5) and back["scalar"].dtype is genesis.int64


def test_map_location_and_mmap(tmp_path):
    t = genesis.randn(5, 5)
    genesis.save({"t": t}, tmp_path / "m.safetensors")
    back = genesis.load(tmp_path / "m.safetensors", map_location="cpu", mmap=True)["t"]
    assert back.device == genesis.device("cpu")
    np.testing.assert_array_equal(back.numpy(), t.numpy())
    back.add_(1)  # copy-on-write: the file is untouched
    again = genesis.load(tmp_path / "m.safetensors")["t"]
    np.testing.assert_array_equal(again.numpy(), t.numpy())


def test_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"x": Evil()}))
    with pytest.raises(CheckpointError, match="pickle"):
        genesis.load(tmp_path / "evil.pt")
    assert not marker.exists()


def test_flipped_byte_names_the_file(tmp_path):
    path = tmp_path / "c.safetensors"
    genesis.save({"w": genesis.randn(64)}, path)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointIntegrityError, match="c.safetensors"):
        genesis.load(path)


def test_unsupported_leaf_names_the_path(tmp_path):
    with pytest.raises(TypeError, match="set"):
        genesis.save({"a": {"b": {1, 2}}}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="path"):
        genesis.save({"a": 1}, 3)


def test_rng_state_in_a_checkpoint_replays_random_streams(tmp_path):
    genesis.manual_seed(5)
    genesis.randn(3)
    genesis.save({"rng": genesis.get_rng_state()}, tmp_path / "r.safetensors")
    expected = [genesis.randn(4).numpy(), genesis.randperm(10).numpy(), genesis.rand(2).numpy()]
    genesis.manual_seed(99)
    genesis.set_rng_state(genesis.load(tmp_path / "r.safetensors")["rng"])
    got = [genesis.randn(4).numpy(), genesis.randperm(10).numpy(), genesis.rand(2).numpy()]
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)


def test_file_is_readable_by_a_plain_safetensors_reader(tmp_path):
    import json
    import struct

    path = tmp_path / "s.safetensors"
    w = genesis.arange(6.0).reshape(2, 3)
    genesis.save({"model": {"w": w}}, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    entry = header["model/w"]
    assert entry["dtype"] == "F32" and entry["shape"] == [2, 3]
    a, b = entry["data_offsets"]
    np.testing.assert_array_equal(
        np.frombuffer(raw[8 + n + a : 8 + n + b], np.float32), np.arange(6.0)
    )


def test_killed_mid_save_leaves_previous_checkpoint_loadable(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    genesis.save({"v": genesis.full((4,), 1.0)}, path)
    code = (
        "import genesis, os, signal\n"
        "big = {'w': genesis.randn(4_000_000)}\n"
        "import threading\n"
        "threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()\n"
        f"while True: genesis.save(big, {str(path)!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], timeout=120)
    state = genesis.load(path)  # either the old checkpoint or a complete new one, verified
    assert state["v"].tolist() == [1.0] * 4 if "v" in state else state["w"].shape == (4_000_000,)
    temps = [f for f in os.listdir(tmp_path) if f != "ckpt.safetensors"]
    assert len(temps) <= 1
    genesis.save({"v": genesis.full((4,), 2.0)}, path)
    assert [f for f in os.listdir(tmp_path) if f != "ckpt.safetensors"] == []
    assert genesis.load(path)["v"].tolist() == [2.0] * 4
