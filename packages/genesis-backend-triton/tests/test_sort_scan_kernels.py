"""The scan and sort kernels against numpy beyond the kit's small rows: rows longer than a
block (the scan's carry between chunks, the sort's ranking across blocks), every axis of
strided views (results moved back from rows), NaN, ties and dtype corners."""

import genesis
import numpy as np
import pytest
from genesis_backend_triton.backend import View

RNG = np.random.default_rng(0)
REFERENCES = {"cumsum": np.cumsum, "cumprod": np.cumprod, "cummax": np.maximum.accumulate,
              "cummin": np.minimum.accumulate, "logcumsumexp": np.logaddexp.accumulate}


def backend():
    return genesis.device("cuda").backend


def run_scan(op, a, axis, dtype):
    be = backend()
    t = genesis.tensor(a, device="cuda")
    return be.to_numpy(View(be.scan(op, t, axis, dtype), a.shape,
                            genesis.tensor(a).strides, 0, dtype))


def run_sort(a, axis, descending):
    be = backend()
    t = genesis.tensor(a, device="cuda")
    values, indices = be.sort(t, axis, descending)
    strides = genesis.tensor(a).strides
    return (be.to_numpy(View(values, a.shape, strides, 0, t.dtype)),
            be.to_numpy(View(indices, a.shape, strides, 0, genesis.int64)))


def stable_order(a, axis, descending):
    """numpy's stable argsort with NaN last ascending, first descending, ties by index."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    flipped = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return (a.shape[axis] - 1) - np.flip(flipped, axis)


@pytest.mark.parametrize("op", sorted(REFERENCES))
def test_scan_carries_across_chunks(op, monkeypatch):
    monkeypatch.setattr(backend(), "_scan_blocks", lambda m, n: (2, 4))
    a = RNG.uniform(0.5, 1.5, (5, 11))
    a[1, 3] = np.nan
    a[2, 6:] = -np.inf if op == "logcumsumexp" else a[2, 6:]
    with np.errstate(invalid="ignore"):
        expected = REFERENCES[op](a, axis=1)
    got = run_scan(op, a, 1, genesis.float64)
    np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_scans_along_every_axis_of_a_strided_view(axis):
    a = RNG.standard_normal((3, 6, 5))
    t = genesis.tensor(a, device="cuda").permute(2, 0, 1)[:, ::2]
    ref = a.transpose(2, 0, 1)[:, ::2]
    np.testing.assert_allclose(t.cumsum(axis).numpy(), np.cumsum(ref, axis), rtol=1e-12)
    np.testing.assert_allclose(t.logcumsumexp(axis).numpy(),
                               np.logaddexp.accumulate(ref, axis), rtol=1e-12)
    np.testing.assert_array_equal(t.cummin(axis).values.numpy(),
                                  np.minimum.accumulate(ref, axis))


def test_scan_dtypes_accumulate_wide():
    half = np.full((1, 3000), 0.1, np.float16)
    assert abs(genesis.tensor(half, device="cuda").cumsum(1)[0, -1].item() - 300) < 0.5
    big = np.full((1, 3), 2**31 - 1, np.int32)
    np.testing.assert_array_equal(genesis.tensor(big, device="cuda").cumsum(1).numpy(),
                                  np.cumsum(big.astype(np.int64), 1))
    flags = RNG.random((3, 7)) < 0.5
    t = genesis.tensor(flags, device="cuda")
    np.testing.assert_array_equal(t.cumsum(1).numpy(), np.cumsum(flags, 1))
    np.testing.assert_array_equal(t.cummax(1).values.numpy(), np.maximum.accumulate(flags, 1))
    ints = RNG.integers(-2**62, 2**62, (2, 9))
    np.testing.assert_array_equal(genesis.tensor(ints, device="cuda").cummin(1).values.numpy(),
                                  np.minimum.accumulate(ints, 1))


@pytest.mark.parametrize("descending", [False, True])
def test_sort_ranks_across_blocks(descending, monkeypatch):
    monkeypatch.setattr(backend(), "_sort_block", lambda n: 4)
    a = RNG.integers(-3, 4, (3, 13)).astype(np.float64)
    a[0, [2, 7, 11]] = np.nan
    a[1, :] = 1.0
    values, indices = run_sort(a, 1, descending)
    order = stable_order(a, 1, descending)
    np.testing.assert_array_equal(indices, order)
    np.testing.assert_array_equal(values, np.take_along_axis(a, order, 1))


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_along_every_axis_of_a_strided_view(axis, descending):
    a = RNG.integers(-2, 3, (4, 6, 5)).astype(np.float32)
    t = genesis.tensor(a, device="cuda").permute(1, 2, 0)[::2]
    ref = a.transpose(1, 2, 0)[::2]
    values, indices = t.sort(axis, descending)
    order = stable_order(ref, axis, descending)
    np.testing.assert_array_equal(indices.numpy(), order)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(ref, order, axis))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int8", "uint8", "int64", "bool"])
def test_sort_dtypes(dtype):
    a = RNG.integers(0, 4, (3, 10))
    a = (a > 1) if dtype == "bool" else a
    t = genesis.tensor(a, device="cuda").to(getattr(genesis, dtype))
    for descending in (False, True):
        values, indices = t.sort(1, descending)
        order = stable_order(a, 1, descending)
        np.testing.assert_array_equal(indices.numpy(), order)
        np.testing.assert_array_equal(values.numpy().astype(np.float64),
                                      np.take_along_axis(a, order, 1).astype(np.float64))
