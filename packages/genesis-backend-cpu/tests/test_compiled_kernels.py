"""Every compiled kernel (activations, softmax, LayerNorm, RMSNorm and cross-entropy rows,
optimizer steps) against its numpy reference (float32 and float64, NaN/inf rows,
strided inputs, serial and parallel builds); the disk cache under concurrent first compiles;
the numpy fallback when numba cannot be imported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import genesis
import numpy as np
import pytest
from genesis_backend_cpu import _activations, _compiled, _optim_steps, _threads, fused
from genesis_backend_cpu._views import arr

DTYPES = {"float32": genesis.float32, "float64": genesis.float64}
TOL = {"float32": {"rtol": 2e-6, "atol": 1e-6}, "float64": {"rtol": 1e-13, "atol": 1e-15}}


@pytest.fixture(autouse=True)
def compiled_at_any_size(monkeypatch):
    """Compiled kernels on (whatever GENESIS_CPU_COMPILED says), for the small test arrays
    too (not only from COMPILED_MIN on)."""
    monkeypatch.setattr(_compiled, "ENABLED", True)
    monkeypatch.setattr(_compiled, "COMPILED_MIN", 0)


def _both(monkeypatch, run):
    """``run()`` with compiled kernels, then with the numpy references."""
    assert _compiled.numba_module() is not None, "numba must be importable for this test"
    got = run()
    with monkeypatch.context() as m:
        m.setattr(_compiled, "ENABLED", False)
        want = run()
    return got, want


def _values(rng, shape, dtype: str, special: bool) -> np.ndarray:
    """Normal values (scaled so GELU's and SiLU's tails show) with NaN/inf rows."""
    a = rng.standard_normal(shape) * 4
    if special:
        a[1] = np.nan
        a[2] = np.inf
        a[3] = -np.inf
        a[4, ::2] = 0.0
        a[5, ::3] = 1e-35
        a[6] = 95.0  # exp overflows in float32
        a[7] = -95.0
    return a.astype(dtype)


def _tensor(a: np.ndarray, dtype: str, strided: bool):
    """A genesis tensor of ``a``: contiguous, or a strided (transposed) view of it."""
    if strided:
        return genesis.tensor(np.ascontiguousarray(a.T), dtype=DTYPES[dtype]).t()
    return genesis.tensor(a, dtype=DTYPES[dtype])


ACTIVATIONS = {
    "gelu": lambda x, g: fused.KERNELS["gelu"](x, "none"),
    "gelu_tanh": lambda x, g: fused.KERNELS["gelu"](x, "tanh"),
    "gelu_backward": lambda x, g: fused.KERNELS["gelu_backward"](g, x, "none"),
    "gelu_backward_tanh": lambda x, g: fused.KERNELS["gelu_backward"](g, x, "tanh"),
    "gelu_backward_from_output": lambda x, g: fused.KERNELS["gelu_backward_from_output"](
        g, x, _from_numpy(x, fused.KERNELS["gelu"](x, "none")), "none"),
    "silu": lambda x, g: fused.KERNELS["silu"](x),
    "silu_backward": lambda x, g: fused.KERNELS["silu_backward"](g, x),
    "relu": lambda x, g: np.ascontiguousarray(_activations.relu(arr(x))),
    "relu_backward": lambda x, g: fused.KERNELS["relu_backward"](
        g, _from_numpy(x, np.ascontiguousarray(_activations.relu(arr(x))))),
    "softmax": lambda x, g: fused.KERNELS["softmax"](x, -1),
    "softmax_dim0": lambda x, g: fused.KERNELS["softmax"](x, 0),
    "log_softmax": lambda x, g: fused.KERNELS["log_softmax"](x, -1),
    "softmax_backward": lambda x, g: fused.KERNELS["softmax_backward"](
        _from_numpy(x, fused.KERNELS["softmax"](x, 1)), g, 1),
    "log_softmax_backward": lambda x, g: fused.KERNELS["log_softmax_backward"](
        _from_numpy(x, fused.KERNELS["log_softmax"](x, 0)), g, 0),
    "layer_norm": lambda x, g: fused.KERNELS["layer_norm"](x, g[0], g[1], 1e-5),
    "layer_norm_no_affine": lambda x, g: fused.KERNELS["layer_norm"](x, None, None, 1e-5),
    "layer_norm_backward": lambda x, g: fused.KERNELS["layer_norm_backward"](
        g, x, g[2], *[_from_numpy(x, a) for a in fused.KERNELS["layer_norm"](
            x, None, None, 1e-5)[1:]]),
    "rms_norm": lambda x, g: fused.KERNELS["rms_norm"](x, g[0], 1e-6),
    "rms_norm_backward": lambda x, g: fused.KERNELS["rms_norm_backward"](
        g, x, g[2], _from_numpy(x, fused.KERNELS["rms_norm"](x, None, 1e-6)[1])),
    "cross_entropy": lambda x, g: fused.KERNELS["cross_entropy"](x, _targets(), -100),
    "cross_entropy_backward": lambda x, g: fused.KERNELS["cross_entropy_backward"](
        g[:, 0], x, _targets(), _from_numpy(
            x, fused.KERNELS["cross_entropy"](x, _targets(), -100)[1]), -100),
}


def _targets():
    """Class indices of the 40 rows of 37 classes, two of them ignored (-100)."""
    t = np.random.default_rng(3).integers(0, 37, 40)
    t[[0, 9]] = -100
    return genesis.tensor(t, dtype=genesis.int64)


def _from_numpy(like, a: np.ndarray):
    return genesis.tensor(np.asarray(a), dtype=like.dtype)


@pytest.fixture(params=["serial", "parallel", "mixed"])
def build(request, monkeypatch):
    """Run kernels on this thread; or in the parallel build (threshold 1; the optimizer steps
    cut into spans over the threads, tensors split between them); or (threshold 600) the
    parallel build for large arrays only."""
    if request.param != "serial":
        threshold = 1 if request.param == "parallel" else 600
        for module in (_compiled, _optim_steps):
            monkeypatch.setattr(module, "PARALLEL_MIN", threshold)
            monkeypatch.setattr(module, "THREADS", max(_threads.THREADS, 2))
    return request.param


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
def test_activation_kernels_match_the_numpy_reference(name, dtype, strided, build,
                                                      monkeypatch):
    rng = np.random.default_rng(0)
    x = _tensor(_values(rng, (40, 37), dtype, special=True), dtype, strided)
    g = _tensor(_values(rng, (40, 37), dtype, special=False), dtype, strided)
    with np.errstate(all="ignore"):
        got, want = _both(monkeypatch, lambda: _outputs(ACTIVATIONS[name](x, g)))
    assert len(got) == len(want) and got[0].shape[0] == 40
    for a, b in zip(got, want):
        assert a.dtype == b.dtype == np.dtype(dtype) and a.shape == b.shape
        assert a.flags.c_contiguous and b.flags.c_contiguous  # storages: C order
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, **TOL[dtype])


def _outputs(result) -> list[np.ndarray]:
    return [r for r in (result if isinstance(result, tuple) else (result,))
            if r is not None]


def _state(rng, dtype: str, strided: bool, count: int, nan_row: bool) -> list[list]:
    """``count`` groups (param, grad, states...) of three tensors each; the states are
    non-negative (second moments); a NaN row in one gradient."""
    shapes = ((33, 21), (517,), (4, 5, 6))
    groups = []
    for k in range(count):
        arrays = [rng.standard_normal(s) * (1.0 if k < 2 else 0.1) for s in shapes]
        if k >= 3:
            arrays = [np.abs(a) for a in arrays]
        if nan_row and k == 1:
            arrays[0][2] = np.nan
        groups.append([_tensor(a, dtype, strided and a.ndim == 2) for a in arrays])
    return groups


STEPS = {
    "adamw_step": (5, lambda s: fused.KERNELS["adamw_step"](
        s[0], s[1], s[2], s[3], s[4], lr=1e-2, beta1=0.9, beta2=0.99, eps=1e-8,
        weight_decay=0.1, steps=[1.0, 3.0, 7.0], amsgrad=True, maximize=False,
        decoupled=True)),
    "adam_l2_step": (4, lambda s: fused.KERNELS["adamw_step"](
        s[0], s[1], s[2], s[3], None, lr=3e-3, beta1=0.8, beta2=0.999, eps=1e-6,
        weight_decay=0.05, steps=[2.0, 2.0, 5.0], amsgrad=False, maximize=True,
        decoupled=False)),
    "sgd_step": (3, lambda s: fused.KERNELS["sgd_step"](
        s[0], s[1], s[2], first=[True, False, False], lr=0.1, weight_decay=0.01,
        momentum=0.9, dampening=0.0, nesterov=True, maximize=False)),
    "sgd_dampening_step": (3, lambda s: fused.KERNELS["sgd_step"](
        s[0], s[1], s[2], first=[False, False, True], lr=0.05, weight_decay=0.0,
        momentum=0.5, dampening=0.2, nesterov=False, maximize=True)),
    "rmsprop_step": (5, lambda s: fused.KERNELS["rmsprop_step"](
        s[0], s[1], s[3], s[2], s[4], lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=0.1,
        momentum=0.5, centered=True, maximize=False)),
    "rmsprop_plain_step": (4, lambda s: fused.KERNELS["rmsprop_step"](
        s[0], s[1], s[3], None, None, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
        momentum=0.0, centered=False, maximize=True)),
    "adagrad_step": (4, lambda s: fused.KERNELS["adagrad_step"](
        s[0], s[1], s[3], lr=5e-2, lr_decay=0.1, weight_decay=0.1, eps=1e-10,
        steps=[1.0, 2.0, 4.0], maximize=False)),
    "adamax_step": (4, lambda s: fused.KERNELS["adamax_step"](
        s[0], s[1], s[2], s[3], lr=1e-2, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1,
        steps=[1.0, 2.0, 4.0], maximize=True)),
    "radam_step": (4, lambda s: fused.KERNELS["radam_step"](
        s[0], s[1], s[2], s[3], lr=1e-2, beta1=0.9, beta2=0.9, eps=1e-8, weight_decay=0.1,
        decoupled=True, steps=[1.0, 7.0, 2.0], maximize=False)),
    "radam_l2_step": (4, lambda s: fused.KERNELS["radam_step"](
        s[0], s[1], s[2], s[3], lr=1e-2, beta1=0.9, beta2=0.9, eps=1e-8, weight_decay=0.1,
        decoupled=False, steps=[8.0, 7.0, 2.0], maximize=True)),
    "nadam_step": (4, lambda s: fused.KERNELS["nadam_step"](
        s[0], s[1], s[2], s[3], lr=1e-2, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1,
        momentum_decay=4e-3, decoupled=False, steps=[1.0, 5.0, 2.0],
        mu_products=[0.45, 0.1, 0.2], maximize=True)),
    "adadelta_step": (5, lambda s: fused.KERNELS["adadelta_step"](
        s[0], s[1], s[3], s[4], lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.1,
        maximize=False)),
}


@pytest.mark.parametrize("name", sorted(STEPS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
def test_optimizer_kernels_match_the_numpy_reference(name, dtype, strided, build,
                                                     monkeypatch):
    count, step = STEPS[name]

    def run():
        state = _state(np.random.default_rng(1), dtype, strided, count, nan_row=True)
        with np.errstate(all="ignore"):
            for _ in range(3):
                assert step(state) is None
        return [[t.numpy() for t in group] for group in state]

    got, want = _both(monkeypatch, run)
    for k, (gg, wg) in enumerate(zip(got, want)):
        for i, (a, b) in enumerate(zip(gg, wg)):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{k} [{i}]")
            np.testing.assert_allclose(a, b, **TOL[dtype], err_msg=f"group {k} [{i}]")


def _python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code).strip()],
                          capture_output=True, text=True, env={**os.environ, **env}, timeout=600)


# runs GELU, SiLU and an AdamW step compiled; prints whether each matches float64 numpy
_CHECK = """
    import math, warnings
    import numpy as np
    from scipy import special
    import genesis
    from genesis_backend_cpu import _act_kernels, fused
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1 << 16).astype(np.float32)  # from COMPILED_MIN on
    d = x.astype(np.float64)
    gelu = np.asarray(fused.KERNELS["gelu"](genesis.tensor(x), "none"))
    silu = np.asarray(fused.KERNELS["silu"](genesis.tensor(x)))
    p = genesis.tensor(x)
    fused.KERNELS["adamw_step"]([p], [genesis.tensor(x)], [genesis.zeros(x.size)],
        [genesis.zeros(x.size)], None, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8,
        weight_decay=0.0, steps=[1.0], amsgrad=False, maximize=False)
    ok = (np.allclose(gelu, d * 0.5 * (1 + special.erf(d / math.sqrt(2))), rtol=1e-5,
                      atol=1e-6)
          and np.allclose(silu, d / (1 + np.exp(-d)), rtol=1e-5, atol=1e-6)
          and np.allclose(p.numpy(), d - 0.1 * d / (np.abs(d) + 1e-8), rtol=1e-5,
                          atol=1e-6))
    kernel = _act_kernels.gelu_forward_kernel
    stats = kernel._serial.stats if kernel._serial is not None else None
    print("OK" if ok else "WRONG", "hits", sum(stats.cache_hits.values()) if stats else None)
"""


def test_concurrent_first_compiles_share_a_fresh_cache(tmp_path):
    """Two processes compiling the same kernels at once into an empty cache folder both get
    correct results, and a third process then loads the kernels from that cache."""
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "GENESIS_CPU_COMPILED": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(_CHECK)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, **env}) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for (out, err), p in zip(outs, procs):
        assert p.returncode == 0, err
        assert out.split()[:2] == ["OK", "hits"], out + err
    assert any(tmp_path.joinpath("cache").rglob("*.nbi")), "no index was written"
    third = _python(_CHECK, env)
    assert third.returncode == 0, third.stderr
    words = third.stdout.split()
    assert words[0] == "OK" and int(words[2]) > 0, third.stdout  # loaded, not compiled


def test_parallel_kernels_called_from_several_threads_at_once():
    """The default workqueue threading layer aborts the process on two concurrent parallel
    launches; a kernel called while another thread's runs takes its serial build instead.
    Four threads run large GELUs together (in a subprocess: an abort must not kill pytest)."""
    result = _python("""
        import math, threading
        import numpy as np
        from scipy import special
        import genesis
        from genesis_backend_cpu import fused
        x = np.random.default_rng(0).standard_normal(1 << 20).astype(np.float32)
        want = x * 0.5 * (1 + special.erf(x.astype(np.float64) / math.sqrt(2)))
        results = []
        def work():
            for _ in range(20):
                out = np.asarray(fused.KERNELS["gelu"](genesis.tensor(x), "none"))
                results.append(np.allclose(out, want, rtol=1e-5, atol=1e-6))
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(len(results), all(results))
    """, {"GENESIS_CPU_COMPILED": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["80", "True"], result.stdout + result.stderr


def test_without_numba_the_backend_warns_once_and_computes_with_numpy():
    """``import numba`` failing (simulated: ``sys.modules["numba"] = None``): one warning,
    and the numpy references give the right results."""
    check = textwrap.indent(textwrap.dedent(_CHECK), "    ")
    script = ("import sys, warnings\n"
              "sys.modules['numba'] = None  # import numba raises ImportError\n"
              "with warnings.catch_warnings(record=True) as caught:\n"
              "    warnings.simplefilter('always')\n" + check
              + "print('warnings', sum('numba is unavailable' in str(w.message) "
                "for w in caught))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "GENESIS_CPU_COMPILED": "1"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "OK hits None", result.stdout  # correct, and nothing was compiled
    assert lines[1] == "warnings 1", result.stdout


def test_numba_is_imported_only_when_a_kernel_is_large_enough():
    """``import genesis`` and work on small arrays (a training step of a small MLP) leave
    numba unimported; the first call from COMPILED_MIN elements on imports it."""
    result = _python("""
        import sys, genesis, genesis.nn as nn, genesis.nn.functional as F
        from genesis_backend_cpu import _compiled
        model = nn.Sequential(nn.Linear(64, 32), nn.GELU(), nn.LayerNorm(32), nn.Linear(32, 10))
        opt = genesis.optim.AdamW(model.parameters())
        F.cross_entropy(model(genesis.randn(16, 64)), genesis.tensor([1] * 16)).backward()
        opt.step()
        print('numba' in sys.modules)
        F.gelu(genesis.randn(_compiled.COMPILED_MIN))
        print('numba' in sys.modules)
    """, {"GENESIS_CPU_COMPILED": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_cross_entropy_rejects_a_target_out_of_range():
    x = genesis.randn(3, 4)
    with pytest.raises(IndexError, match="target 4 is out of bounds for 4 classes"):
        fused.KERNELS["cross_entropy"](x, genesis.tensor([0, 4, -100]), -100)


@pytest.mark.parametrize("name, kwargs", [
    ("AdamW", {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 1e-2, "weight_decay": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 1e-2, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 5e-2, "lr_decay": 0.1, "weight_decay": 0.1}),
    ("Adamax", {"lr": 1e-2, "weight_decay": 0.1}),
    ("Adadelta", {"lr": 1.0, "weight_decay": 0.1}),
    ("RAdam", {"lr": 1e-2, "betas": (0.9, 0.9), "weight_decay": 0.1}),
    ("RAdam", {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 1e-2, "weight_decay": 0.1}),
    ("NAdam", {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_optimizers_on_compiled_kernels_match_torch(name, kwargs, dtype):
    """Five steps of each optimizer whose step is a compiled kernel, against torch.optim."""
    import torch
    rng = np.random.default_rng(4)
    shapes = ((17, 9), (300,), (3, 4, 5))
    init = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(5)]
    params = [genesis.tensor(a, dtype=DTYPES[dtype], requires_grad=True) for a in init]
    theirs = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True) for a in init]
    mine_opt = getattr(genesis.optim, name)(params, **kwargs)
    their_opt = getattr(torch.optim, name)(theirs, **kwargs)
    for step in grads:
        for p, t, g in zip(params, theirs, step):
            p.grad = genesis.tensor(g, dtype=DTYPES[dtype])
            t.grad = torch.tensor(g, dtype=getattr(torch, dtype))
        mine_opt.step()
        their_opt.step()
    tol = {"float32": {"rtol": 2e-5, "atol": 2e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}
    for p, t in zip(params, theirs):
        np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), **tol[dtype])


@_compiled.compiled(inline="llvm")
def _sum_and_product(a, b):
    return a + b, a * b


@_compiled.compiled(parallel=True)
def _pairs_kernel(x, y, out_sum, out_product):
    for i in _compiled.prange(x.size):
        s, p = _sum_and_product(x[i], y[i])
        out_sum[i] = s
        out_product[i] = p


@pytest.mark.parametrize("build", ["parallel", "serial"])
def test_llvm_inlined_helper_returning_a_tuple(build):
    """``inline="llvm"`` helpers (compiled on their own, inlined by LLVM) work in both builds."""
    x = np.linspace(-3, 3, 1001, dtype=np.float32)
    y = np.linspace(5, -1, 1001, dtype=np.float32)
    s, p = np.empty_like(x), np.empty_like(x)
    (_pairs_kernel if build == "parallel" else _pairs_kernel.serial)(x, y, s, p)
    np.testing.assert_array_equal(s, x + y)
    np.testing.assert_array_equal(p, x * y)


def test_inline_mode_is_checked():
    with pytest.raises(ValueError, match="inline='ir', expected False, True or 'llvm'"):
        _compiled.compiled(inline="ir")


def test_cache_names_follow_the_compile_options_of_kernel_and_helpers(monkeypatch):
    """numba's disk cache does not see compile options: the build's name carries a digest of
    them and of its helpers' modes, so changing either compiles afresh (no stale machine
    code), while the same options give the same name in every process."""
    options = {"cache": True, "fastmath": False, "nogil": True, "error_model": "numpy"}

    def names():
        return _compiled._twin(_pairs_kernel.fn, "serial", options).__qualname__

    first = names()
    assert first == names() and first.startswith("_pairs_kernel__serial_")
    assert _compiled._twin(_pairs_kernel.fn, "serial", {**options, "fastmath": {"reassoc"}}
                           ).__qualname__ != first
    helper = globals()["_sum_and_product"]  # its dispatcher once a build swapped it in
    monkeypatch.setattr(_compiled._helper_of.get(helper, helper), "_inline", True)
    assert names() != first


@pytest.mark.parametrize("sizes,parts", [([10], 2), ([3, 0, 4, 9], 3), ([1, 1], 4), ([0], 2)])
def test_even_spans_cover_every_element_once(sizes, parts):
    spans = _optim_steps._even_spans(sizes, parts)
    assert len(spans) == parts
    counts = [sum(stop - start for _, start, stop in span) for span in spans]
    assert max(counts) - min(counts) <= 1  # equal up to rounding
    covered = [np.zeros(n, int) for n in sizes]
    for span in spans:
        for i, start, stop in span:
            assert 0 <= start < stop <= sizes[i]
            covered[i][start:stop] += 1
    assert all((c == 1).all() for c in covered)
