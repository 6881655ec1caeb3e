"""Primitive kernels against numpy, through the genesis API on device "cuda".

The conformance kit covers every op on small contiguous and transposed inputs;
these tests go after what is specific to this backend: strides of every kind
(offsets, broadcasts, more dims than the kernels' six), Python-scalar
operands, dtype corners (float64 scalars, bfloat16 in the interpreter),
NaN handling, and reductions that take the strided, copied and split paths.
"""

import math

import genesis
import ml_dtypes
import numpy as np
import pytest
from genesis_backend_triton.backend import View
from genesis_backend_triton.layout import chunks, collapse

RNG = np.random.default_rng(0)


def cuda(a, dtype=None):
    return genesis.tensor(a, dtype=dtype, device="cuda")


def backend():
    return genesis.device("cuda").backend


def test_collapse_merges_contiguous_dims_and_drops_ones():
    assert collapse((2, 3, 4), [(12, 4, 1)]) == ((24,), [(1,)])
    assert collapse((2, 1, 3), [(3, 99, 1), (0, 5, 1)]) == ((2, 3), [(3, 1), (0, 1)])
    assert collapse((1, 1), [(7, 7)]) == ((1,), [(0,)])
    shape = (2,) * 8
    strides = tuple(2 ** (7 - i) * 2 for i in range(8))  # every other element: one dim
    assert collapse(shape, [strides]) == ((256,), [(2,)])
    launches = list(chunks((2, 3) * 4, [(0, 1) * 4], [5]))  # 8 dims, none merge
    assert len(launches) == 2 * 3 and all(len(s) == 6 for s, _, _, _ in launches)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int32",
                                   "int64", "int8", "uint8", "int16", "bool"])
def test_roundtrip_and_strided_copy_every_dtype(dtype):
    npd = np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype)
    a = (RNG.integers(0, 2, (5, 7)) if dtype == "bool" else
         RNG.integers(0, 100, (5, 7))).astype(npd)
    t = cuda(a)
    np.testing.assert_array_equal(t.numpy(), a)
    np.testing.assert_array_equal(t.t().contiguous().numpy(), a.T)
    np.testing.assert_array_equal(t[1:4, ::2].numpy(), a[1:4, ::2])


@pytest.mark.parametrize("src,dst", [("float32", "int32"), ("float64", "bfloat16"),
                                     ("bfloat16", "float16"), ("int64", "float32"),
                                     ("float32", "bool"), ("bool", "float64"),
                                     ("int32", "uint8"), ("float16", "float64")])
def test_copy_casts(src, dst):
    a = np.array([[-2.5, 0.0, 1.0], [3.75, 7.0, -0.25]])
    if src.startswith(("int", "uint", "bool")) or dst.startswith(("uint", "bool")):
        a = np.abs(np.trunc(a))
    t = cuda(a.astype(np.float64)).to(getattr(genesis, src))
    ref = t.numpy().astype(np.float64)
    got = t.t().to(getattr(genesis, dst)).numpy().astype(np.float64)
    expect = ref.T.astype(np.dtype(ml_dtypes.bfloat16) if dst == "bfloat16" else dst)
    np.testing.assert_array_equal(got, expect.astype(np.float64))


def test_bfloat16_results_round_to_nearest_even_like_the_gpu_and_the_cpu_backend():
    """The interpreter truncates float32 -> bfloat16; a GPU rounds to nearest even."""
    ties = np.array([0x3F808000, 0x3F818000, 0xBF808001, 0x7F7FFFFF, 0x00008000],
                    np.uint32).view(np.float32)  # ties to even (down, up), negative, overflow, tiny
    a = np.concatenate([ties, RNG.standard_normal(997).astype(np.float32) * 100])
    want = a.astype(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(cuda(a).to(genesis.bfloat16).numpy(), want)
    np.testing.assert_array_equal(cuda(a).to(genesis.bfloat16).numpy(),
                                  genesis.tensor(a).to(genesis.bfloat16).numpy())  # cpu backend
    # a kernel's bfloat16 store (matmul output), not a cast
    x = np.random.default_rng(5).standard_normal((16, 16)).astype(np.float32)
    got = (cuda(x, genesis.bfloat16) @ cuda(x, genesis.bfloat16)).numpy()
    xb = x.astype(ml_dtypes.bfloat16).astype(np.float64)
    np.testing.assert_array_equal(got, (xb @ xb).astype(np.float32).astype(ml_dtypes.bfloat16))


def test_binary_over_offsets_broadcasts_and_transposes():
    a = RNG.standard_normal((4, 6, 5)).astype(np.float32)
    b = RNG.standard_normal((5,)).astype(np.float32)
    ta, tb = cuda(a), cuda(b)
    np.testing.assert_allclose((ta[1:, ::2].transpose(1, 2) * tb[None, :, None]).numpy(),
                               a[1:, ::2].transpose(0, 2, 1) * b[None, :, None], rtol=1e-6)
    np.testing.assert_allclose((ta.permute(2, 0, 1) - ta.permute(2, 0, 1)[:, :1]).numpy(),
                               a.transpose(2, 0, 1) - a.transpose(2, 0, 1)[:, :1], rtol=1e-6)


def test_more_than_six_non_mergeable_dims():
    a = RNG.standard_normal((2, 3, 2, 3, 2, 3, 2, 3)).astype(np.float32)
    t = cuda(a)[..., ::2]  # stride 2 in the last dim: no dims merge with it
    ref = a[..., ::2]
    np.testing.assert_allclose((t.exp() + 1).numpy(), np.exp(ref) + 1, rtol=1e-6)
    np.testing.assert_allclose(t.sum((1, 3, 5)).numpy(), ref.sum((1, 3, 5)), rtol=1e-5)


def test_python_scalars_on_either_side_and_float64_exactness():
    a = RNG.standard_normal((3, 4))
    t = cuda(a)
    third = 1 / 3
    np.testing.assert_array_equal((t * third).numpy(), a * third)  # float64 scalar kept exact
    np.testing.assert_array_equal((2.5 - t).numpy(), 2.5 - a)
    ti = cuda(np.arange(12).reshape(3, 4))
    np.testing.assert_array_equal((ti * 3_000_000_000).numpy(), np.arange(12).reshape(3, 4)
                                  * 3_000_000_000)
    np.testing.assert_array_equal((7 // (ti + 1)).numpy(), 7 // (np.arange(12).reshape(3, 4) + 1))
    tf = cuda(a.astype(np.float32))
    np.testing.assert_allclose((tf / 3).numpy(), a.astype(np.float32) / 3, rtol=1e-6)
    assert (tf > 0).dtype is genesis.bool


@pytest.mark.parametrize("op", ["exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid",
                                "erf", "relu", "abs", "neg", "sign", "floor"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_unary_on_strided_input(op, dtype):
    import torch
    a = RNG.uniform(0.1, 3, (6, 5)) * RNG.choice([-1, 1], (6, 5))
    if op in ("log", "sqrt", "rsqrt"):
        a = np.abs(a)
    t = cuda(a, getattr(genesis, dtype)).t()
    ref = getattr(torch, op)(torch.tensor(a, dtype=getattr(torch, dtype)).t())
    tol = 1e-6 if dtype == "float32" else 1e-2
    np.testing.assert_allclose(getattr(t, op)().numpy().astype(np.float64),
                               ref.double().numpy(), rtol=tol, atol=tol)


def test_tanh_is_accurate_near_zero_and_saturates():
    x = np.array([1e-8, -1e-4, 3e-3, 0.02, -0.5, 5.0, -30.0, 400.0])
    np.testing.assert_allclose(cuda(x).tanh().numpy(), np.tanh(x), rtol=1e-14)
    np.testing.assert_allclose(cuda(x.astype(np.float32)).tanh().numpy(), np.tanh(x), rtol=1e-6)


def test_pow_signs_zero_and_integers():
    base = np.array([-2.0, -2.0, -8.0, 0.0, 0.0, 3.0, 1.5])
    expo = np.array([3.0, 2.0, 1 / 3, 0.0, 2.0, -1.0, 2.5])
    got = (cuda(base) ** cuda(expo)).numpy()
    np.testing.assert_allclose(got, np.power(base, expo), rtol=1e-13, equal_nan=True)
    ib = np.array([2, -3, 5, 0, 7])
    ie = np.array([10, 3, 0, 4, 2])
    np.testing.assert_array_equal((cuda(ib) ** cuda(ie)).numpy(), ib ** ie)
    np.testing.assert_allclose((cuda(base) ** 2).numpy(), base ** 2)


def test_nan_propagates_through_maximum_minimum_and_reductions():
    a = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], np.float32)
    b = np.array([[2.0, 0.0, np.nan], [1.0, 9.0, 6.0]], np.float32)
    np.testing.assert_array_equal(genesis.maximum(cuda(a), cuda(b)).numpy(), np.maximum(a, b))
    np.testing.assert_array_equal(genesis.minimum(cuda(a), cuda(b)).numpy(), np.minimum(a, b))
    np.testing.assert_array_equal(cuda(a).amax(1).numpy(), np.max(a, 1))
    np.testing.assert_array_equal(cuda(a).argmax(1).numpy(), [1, 2])
    np.testing.assert_array_equal(cuda(a).argmin(1).numpy(), [1, 0])


@pytest.mark.parametrize("axes", [(0,), (1,), (2,), (0, 2), (0, 1, 2), (1, 2)])
def test_reductions_over_any_axes_of_strided_views(axes):
    a = RNG.standard_normal((4, 5, 6))
    t = cuda(a).permute(1, 0, 2)[:, ::2]
    ref = a.transpose(1, 0, 2)[:, ::2]
    np.testing.assert_allclose(t.sum(axes).numpy(), ref.sum(axes), rtol=1e-12)
    np.testing.assert_allclose(t.amax(axes).numpy(), ref.max(axes))
    np.testing.assert_allclose(t.amin(axes).numpy(), ref.min(axes))
    np.testing.assert_allclose(t.prod(axes).numpy(), ref.prod(axes), rtol=1e-12)


def test_half_sums_accumulate_in_float32_and_ints_in_int64():
    a = np.full(4096, 0.1, np.float16)
    assert abs(cuda(a).sum().item() - 409.6) < 0.5  # float16 accumulation would stall at 256
    i = np.full(10, 2**31 - 1, np.int32)
    assert cuda(i).sum().item() == 10 * (2**31 - 1)
    assert cuda(np.array([True, False, True])).sum().item() == 2


def test_reduce_split_path_and_blocks_directly(monkeypatch):
    be = backend()
    a = RNG.standard_normal((3, 70000)).astype(np.float32)
    t = cuda(a)
    monkeypatch.setattr(be.rt, "interpret", False)  # take the GPU's few-rows split path
    monkeypatch.setattr(be, "_reduce_blocks", lambda m, n, sm, sn: (1, 8192, 1))
    got = be.reduce("sum", t, (1,), genesis.float32)
    out = View(got, (3,), (1,), 0, genesis.float32)
    np.testing.assert_allclose(be.to_numpy(out), a.sum(1), rtol=1e-4)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("split", [False, True], ids=["one_pass", "split"])
def test_long_half_reductions_round_once_at_torch_level(monkeypatch, dtype, split):
    import torch
    n = 1 << 16 if split else 8192
    if split:  # the GPU's few-rows path: narrow lanes, float32 partials reduced again
        monkeypatch.setattr(backend().rt, "interpret", False)
        monkeypatch.setattr(backend(), "_reduce_blocks", lambda m, n, sm, sn: (1, 1024, 1))
    tx = torch.from_numpy(RNG.normal(0.5, 1.0, (1, n))).to(getattr(torch, dtype))
    values = tx.double().numpy()
    t = cuda(tx.float().numpy()).to(getattr(genesis, dtype))
    for name, fn, exact in (("sum", lambda x: x.sum(1), values.sum(1)),
                            ("mean", lambda x: x.mean(1), values.mean(1)),
                            ("var", lambda x: x.var(1), values.var(1, ddof=1))):
        got = fn(t)
        assert got.dtype is getattr(genesis, dtype)
        err = np.abs(got.to(genesis.float64).numpy() - exact).max()
        torch_err = np.abs(fn(tx).double().numpy() - exact).max()
        assert err <= 2 * torch_err + 1e-6 * np.abs(exact).max(), (name, err, torch_err)


def test_argmax_first_occurrence_and_column_axis():
    a = np.array([[1, 3, 3, 0], [5, 5, 1, 5], [0, 0, 0, 0]], np.int64)
    np.testing.assert_array_equal(cuda(a).argmax(1).numpy(), [1, 0, 0])
    np.testing.assert_array_equal(cuda(a).argmin(0).numpy(), a.argmin(0))
    np.testing.assert_array_equal(cuda(a).t().argmax(0).numpy(), a.T.argmax(0))
    assert cuda(a).argmax().item() == a.argmax()


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64", "int32"])
def test_matmul_batched_strided(dtype):
    npd = np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype)
    a = RNG.integers(-3, 4, (3, 20, 37)).astype(npd)
    b = RNG.integers(-3, 4, (3, 19, 37)).astype(npd)
    got = (cuda(a) @ cuda(b).transpose(1, 2)).numpy().astype(np.float64)
    ref = a.astype(np.float64) @ b.astype(np.float64).transpose(0, 2, 1)
    np.testing.assert_allclose(got, ref, rtol=1e-2 if dtype in ("float16", "bfloat16") else 0)


def test_matmul_broadcast_batch_and_non_mergeable_batch_dims():
    a = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    b = RNG.standard_normal((5, 6)).astype(np.float32)
    np.testing.assert_allclose((cuda(a) @ cuda(b)).numpy(), a @ b, rtol=1e-5, atol=1e-5)
    t = cuda(a).permute(1, 0, 2, 3)  # batch dims (3, 2) with strides that do not merge
    np.testing.assert_allclose((t @ cuda(b)).numpy(), a.transpose(1, 0, 2, 3) @ b, rtol=1e-5,
                               atol=1e-5)


def test_gather_and_scatter_with_repeated_indices():
    x = RNG.standard_normal((4, 5)).astype(np.float32)
    idx = np.array([[0, 3, 3, 1, 0], [2, 2, 2, 2, 2]])
    np.testing.assert_array_equal(genesis.gather(cuda(x), 0, cuda(idx)).numpy(),
                                  np.take_along_axis(x, idx, 0))
    base = np.zeros((4, 5), np.float32)
    ref = base.copy()
    np.add.at(ref, (idx, np.arange(5)[None, :]), x[:2])
    got = genesis.scatter_add(cuda(base), 0, cuda(idx), cuda(x[:2]))
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-6)
    h = genesis.scatter_add(cuda(base.astype(np.float16)), 0, cuda(idx),
                            cuda(x[:2].astype(np.float16)))
    np.testing.assert_allclose(h.numpy().astype(np.float32), ref, rtol=1e-2, atol=1e-2)


def test_random_is_counter_based_and_well_distributed():
    be = backend()
    f = genesis.float32

    def draw(dist, shape, dtype, seed, offset, a, b):
        s = be.random(dist, shape, dtype, 0, seed, offset, a, b)
        return be.to_numpy(View(s, shape, (shape[1], 1), 0, dtype))

    u = draw("uniform", (100, 100), f, 7, 0, 0.0, 1.0)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    np.testing.assert_array_equal(u, draw("uniform", (100, 100), f, 7, 0, 0.0, 1.0))
    assert not np.array_equal(u, draw("uniform", (100, 100), f, 8, 0, 0.0, 1.0))
    shifted = draw("uniform", (1, 50), f, 7, 50, 0.0, 1.0)  # offset = counter: overlapping
    np.testing.assert_array_equal(shifted[0], u[0, 50:])
    n = draw("normal", (200, 100), f, 1, 0, 2.0, 3.0)
    assert abs(n.mean() - 2) < 0.1 and abs(n.std() - 3) < 0.1
    r = draw("randint", (100, 100), genesis.int64, 1, 0, -3, 4)
    assert set(np.unique(r)) == set(range(-3, 4))
    bern = draw("bernoulli", (100, 100), genesis.bool, 1, 0, 0.25, 0.0)
    assert abs(bern.mean() - 0.25) < 0.02
    big = draw("uniform", (1, 8), f, 2**64 - 1, 2**40, 0.0, 1.0)
    assert big.shape == (1, 8) and 0 <= big.min()


def test_genesis_random_api_on_cuda_is_reproducible():
    genesis.manual_seed(3)
    a = genesis.randn(4, 5, device="cuda").numpy()
    genesis.manual_seed(3)
    np.testing.assert_array_equal(genesis.randn(4, 5, device="cuda").numpy(), a)


def test_fill_every_dtype_and_strided_destination():
    for name in ["float32", "float64", "bfloat16", "int64", "bool", "uint8"]:
        t = genesis.zeros(3, 4, dtype=getattr(genesis, name), device="cuda")
        t.t()[1:].fill_(1)
        expect = np.zeros((3, 4))
        expect[:, 1:] = 1
        np.testing.assert_array_equal(t.numpy().astype(np.float64), expect)
    t = genesis.zeros(2, dtype=genesis.float64, device="cuda").fill_(math.pi)
    assert t.numpy()[0] == math.pi


def test_empty_tensors():
    e = genesis.zeros(0, 3, device="cuda")
    assert e.sum(0).numpy().tolist() == [0, 0, 0]
    assert (e + 1).shape == (0, 3)
    assert (e @ genesis.zeros(3, 2, device="cuda")).shape == (0, 2)
    assert (genesis.zeros(2, 0, device="cuda") @ genesis.zeros(0, 3, device="cuda")).numpy() \
        .tolist() == [[0, 0, 0], [0, 0, 0]]
