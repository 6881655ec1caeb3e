"""Large elementwise kernels run in row blocks on worker threads; results equal numpy's."""

import os
import subprocess
import sys

import genesis
import numpy as np
import pytest
from genesis_backend_cpu import _threads


@pytest.fixture
def big():
    rng = np.random.default_rng(0)
    # large enough to be split over the threads
    return rng.standard_normal((_threads.PARALLEL_MIN // 1024, 1024)).astype(np.float32)


def test_large_unary_and_binary_match_numpy(big, monkeypatch):
    calls = []
    real = _threads.parallel_rows
    monkeypatch.setattr("genesis_backend_cpu.backend.parallel_rows",
                        lambda *a: calls.append(1) or real(*a))
    x = genesis.tensor(big)
    np.testing.assert_array_equal(x.exp().numpy(), np.exp(big))
    np.testing.assert_array_equal((x * 3.0 - x).numpy(), big * np.float32(3.0) - big)
    np.testing.assert_array_equal((x > 0).numpy(), big > 0)
    np.testing.assert_array_equal(x.T.contiguous().sigmoid().numpy(),
                                  (1 / (1 + np.exp(-big.T))).astype(np.float32))
    assert len(calls) >= 4 and _threads.THREADS >= 1


def test_large_in_place_ops_including_self_aliasing(big):
    x = genesis.tensor(big)
    x.mul_(2.0).add_(x)
    np.testing.assert_array_equal(x.numpy(), big * 2 + big * 2)


def test_overlapping_shifted_views_fall_back_to_one_thread(big):
    assert not _threads.parallel_rows(np.add, (big[1:], 1.0), big[:-1]) or _threads.THREADS == 1
    x = genesis.tensor(big)
    x[:-1] += x[1:]  # out and operand overlap with a shift: must equal numpy's serial result
    expected = big.copy()
    expected[:-1] += expected[1:].copy()
    np.testing.assert_array_equal(x.numpy(), expected)


def test_small_kernels_stay_on_the_calling_thread():
    out = np.empty(100)
    assert not _threads.parallel_rows(np.negative, (np.ones(100),), out)


def test_malloc_tuning_applies_once_and_can_be_disabled():
    code = ("import genesis, genesis_backend_cpu._allocator as a; genesis.zeros(1); "
            "print(a._tuned)")
    on = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    off = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "GENESIS_CPU_MALLOC_TUNING": "0"})
    assert off.stdout.strip() == "False"
    assert on.stdout.strip() == ("True" if sys.platform.startswith("linux") else "False")


@pytest.mark.parametrize("value,expected", [("1", 1), ("0", None), ("two", None), ("", None)])
def test_thread_count_honours_omp_num_threads(value, expected):
    """OMP_NUM_THREADS caps the worker threads (as for PyTorch and OpenBLAS); a value that is
    not a positive integer is ignored."""
    code = "from genesis_backend_cpu import _threads; print(_threads.THREADS)"
    env = dict(os.environ, OMP_NUM_THREADS=value)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()[-1]
    default = min(len(os.sched_getaffinity(0)), 8)
    assert int(out) == (default if expected is None else min(expected, default))
