"""Atomic save: a writer killed at any moment leaves the old checkpoint loadable."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from genesis.serialization import load_tree, save_tree

OLD = {"generation": "old", "w": np.zeros(1 << 18)}

# The child saves a 16 MiB checkpoint in 1 MiB chunks, announcing each os.write,
# os.fsync and os.replace on stdout; it stops for good at the one the parent
# names, and the parent SIGKILLs it there.
CHILD = textwrap.dedent(
    """
    import os, sys, time
    import numpy as np
    from genesis.serialization import _safetensors, save_tree

    path, stop_at = sys.argv[1], sys.argv[2]
    _safetensors._CHUNK_BYTES = 1 << 20
    seen = []

    def announce(name, real):
        def wrapper(*args):
            seen.append(name)
            label = f"{name}#{seen.count(name)}"
            print(label, flush=True)
            if label == stop_at:
                time.sleep(600)
            return real(*args)
        return wrapper

    for name in ("write", "fsync", "replace"):
        setattr(os, name, announce(name, getattr(os, name)))
    save_tree({"generation": "new", "w": np.ones(1 << 21)}, path)
    print("done", flush=True)
    """
)


def temps(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def run_child(path, stop_at):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), stop_at],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        for line in child.stdout:
            if line.strip() in (stop_at, "done"):
                break
        else:
            pytest.fail(f"child exited before {stop_at}: rc {child.wait()}")
        child.send_signal(signal.SIGKILL)
        return child.wait()
    finally:
        child.kill()
        child.stdout.close()


@pytest.mark.parametrize(
    ("stop_at", "expected"),
    [
        ("write#1", "old"),  # temp file created, nothing written
        ("write#2", "old"),  # header written
        ("write#9", "old"),  # half of the data written
        ("fsync#1", "old"),  # all written, not yet on disk
        ("replace#1", "old"),  # on disk, not yet renamed
        ("fsync#2", "new"),  # renamed, folder not yet synced
    ],
)
def test_kill_during_save_keeps_a_loadable_checkpoint(tmp_path, stop_at, expected):
    path = tmp_path / "ckpt.gck"
    save_tree(OLD, path)
    assert run_child(path, stop_at) == -signal.SIGKILL
    loaded = load_tree(path)
    assert loaded["generation"] == expected
    assert np.all(loaded["w"] == (0.0 if expected == "old" else 1.0))
    assert len(temps(tmp_path)) == (0 if expected == "new" else 1)
    save_tree({"generation": "next"}, path)
    assert temps(tmp_path) == []
    assert load_tree(path)["generation"] == "next"


def test_repeated_killed_saves_leave_at_most_one_temp(tmp_path):
    path = tmp_path / "ckpt.gck"
    save_tree(OLD, path)
    (tmp_path / ".ckpt.gck.genesis-1-0123abcd.tmp").write_bytes(b"stale")
    for _ in range(3):
        run_child(path, "write#5")
        assert len(temps(tmp_path)) == 1
        assert load_tree(path)["generation"] == "old"
    save_tree(OLD, path)
    assert temps(tmp_path) == []


def test_a_temp_being_written_is_not_removed(tmp_path):
    path = tmp_path / "ckpt.gck"
    live = tmp_path / ".ckpt.gck.genesis-12345-0123abcd.tmp"
    live.write_bytes(b"partial")
    with open(live, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        save_tree(OLD, path)
        assert live.exists()
    save_tree(OLD, path)
    assert not live.exists()


def test_only_temps_of_the_same_target_are_removed(tmp_path):
    others = [
        ".other.gck.genesis-1-0123abcd.tmp",
        ".ckpt.gck.genesis-1-0123abcd.tmp.genesis-2-0123abcd.tmp",
        ".ckpt.gckx.genesis-1-0123abcd.tmp",
        "ckpt.gck.tmp",
    ]
    for name in others:
        (tmp_path / name).write_bytes(b"keep")
    (tmp_path / ".ckpt.gck.genesis-1-0123abcd.tmp").write_bytes(b"stale")
    save_tree(OLD, tmp_path / "ckpt.gck")
    assert temps(tmp_path) == sorted(others)


def test_failed_write_removes_its_temp_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.gck"
    save_tree(OLD, path)

    def full_disk(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save_tree({"generation": "new", "w": np.ones(10)}, path)
    monkeypatch.undo()
    assert temps(tmp_path) == []
    assert load_tree(path)["generation"] == "old"


def test_save_through_a_symlink_replaces_the_target(tmp_path):
    real = tmp_path / "real.gck"
    link = tmp_path / "link.gck"
    save_tree(OLD, real)
    link.symlink_to(real)
    save_tree({"generation": "new"}, link)
    assert link.is_symlink()
    assert load_tree(real)["generation"] == "new"


def test_written_data_is_flushed_early_on_a_helper_thread(tmp_path, monkeypatch):
    """Every _WRITEBACK_BYTES written, an fdatasync starts in the background (the disk
    works while the rest is copied); a failing one is ignored, since the final fsync
    reports the same error, and the saved file is intact."""
    import threading

    from genesis.serialization import _safetensors

    monkeypatch.setattr(_safetensors, "_WRITEBACK_BYTES", 1 << 16)
    monkeypatch.setattr(_safetensors, "_CHUNK_BYTES", 1 << 14)
    flushed = []

    def fdatasync(fd):
        flushed.append(threading.current_thread().name)
        raise OSError(5, "Input/output error (simulated)")

    monkeypatch.setattr(_safetensors.os, "fdatasync", fdatasync, raising=False)
    tree = {"w": np.arange(1 << 17, dtype=np.float32)}  # 512 KiB: up to 8 early flushes
    save_tree(tree, tmp_path / "c.gck")
    assert 1 <= len(flushed) <= 8 and set(flushed) == {"genesis-writeback"}
    assert np.array_equal(load_tree(tmp_path / "c.gck")["w"], tree["w"])
