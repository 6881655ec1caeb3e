"""The GPU parity check's yardstick, checked here in the interpreter.

``test_gpu.py`` allows the GPU to differ from the interpreter by
``parity_script.allowed_difference``. Those bounds are rounding-error bounds,
so the interpreter itself must meet them against the exact float64 answers
(else they are too tight to mean anything), and the report must name an
output that moved by more than its bound (else they are too loose).
"""

import os

import numpy as np
import parity_script as parity
import pytest


@pytest.fixture(scope="module")
def interpreted():
    return parity.outputs()


def test_interpreter_is_within_the_bounds_of_the_float64_answers(interpreted):
    truth = parity.float64_reference()
    assert set(truth) == set(interpreted) - {"rand", "randn"}
    for name, exact in truth.items():
        got = interpreted[name]
        if name in parity.EXACT:  # one correctly rounded operation (or none)
            exact = np.asarray(exact).astype(got.dtype)
        err = np.abs(got.astype(np.float64) - exact)
        assert (err <= parity.allowed_difference(name, exact)).all(), name


def test_the_gpu_check_end_to_end_here_finds_a_fresh_interpreter_process_identical(
        interpreted, tmp_path):
    """What test_gpu.py does, with the in-process side in the interpreter too: the
    subprocess, the file round trip and the report work before a GPU is at hand. On a GPU
    host the in-process side ran on the GPU: then the outputs agree within the bounds."""
    fresh = parity.interpreter_outputs(tmp_path / "interpreter.npz")
    assert set(fresh) == set(interpreted)
    if os.environ.get("TRITON_INTERPRET") == "1":
        assert all(np.array_equal(fresh[k], interpreted[k]) for k in fresh)
    assert parity.report(interpreted, fresh) == []


def test_report_is_empty_for_equal_results_and_names_each_perturbed_output(interpreted):
    assert parity.report(interpreted, interpreted) == []
    for name in ("argmax", "exp_bf16", "sum_rows", "matmul_f16", "softmax", "randn"):
        moved = dict(interpreted)
        value = interpreted[name].astype(np.float64).copy()
        flat = value.reshape(-1)
        flat[3] += 1 if name == "argmax" else 4 * parity.allowed_difference(
            name, interpreted[name]).reshape(-1)[3] + 1e-30
        moved[name] = value.astype(interpreted[name].dtype)
        lines = parity.report(moved, interpreted)
        assert len(lines) == 1 and lines[0].startswith(name + ":"), lines


def philox4x32(counters: np.ndarray, key: int, rounds: int = 10) -> np.ndarray:
    """Philox4x32 (Salmon et al., Random123) in numpy: ``(n, 4)`` uint32 counters -> outputs."""
    c = [counters[:, j].astype(np.uint64) for j in range(4)]
    k0, k1 = np.uint64(key & 0xFFFFFFFF), np.uint64(key >> 32)
    mask = np.uint64(0xFFFFFFFF)
    for _ in range(rounds):
        p0, p1 = np.uint64(0xD2511F53) * c[0], np.uint64(0xCD9E8D57) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & mask,
             (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & mask]
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & mask, (k1 + np.uint64(0xBB67AE85)) & mask
    return np.stack(c, 1).astype(np.uint32)


def uniform(bits: np.ndarray) -> np.ndarray:
    """Triton's uint32 -> [0, 1) float32 map (the sign bit folded)."""
    x = bits.view(np.int32).astype(np.int64)
    x = np.where(x < 0, -x - 1, x)
    return x.astype(np.float32) * np.float32(4.6566127342e-10)


def test_philox_reference_matches_the_random123_known_answer():
    out = philox4x32(np.zeros((1, 4), np.uint32), 0)
    assert [f"{v:08x}" for v in out[0]] == ["6627e8d5", "e169c58d", "bc57ac4c", "9b00dbd8"]


def test_rand_and_randn_match_philox_and_float64_box_muller(interpreted):
    """The workload seeds 11 and draws 1000 uniforms (counters 0..999), then 1000
    normals (counters 1000..1999; the generator keeps draws aligned to blocks of 4)."""
    def counters(start, n):
        c = np.zeros((n, 4), np.uint32)
        c[:, 0] = np.arange(start, start + n)
        return c

    u = uniform(philox4x32(counters(0, 1000), 11)[:, 0])
    np.testing.assert_array_equal(interpreted["rand"], u)
    bits = philox4x32(counters(1000, 1000), 11)
    u1 = np.maximum(uniform(bits[:, 0]).astype(np.float64), 1e-7)
    u2 = uniform(bits[:, 1]).astype(np.float64)
    normal = np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)
    np.testing.assert_allclose(interpreted["randn"], normal, rtol=2**-23, atol=0)
