"""Running the conformance cases against one device."""

from __future__ import annotations

import contextlib
import dataclasses
import zlib

import numpy as np

import genesis
from genesis._tensor import numpy_dtype
from genesis.backends import protocol
from genesis.testing._cases import FLOATS, Arg, OpCase

# (rtol, atol) per dtype for forward values
FORWARD_TOL = {
    "float64": (1e-9, 1e-10),
    "float32": (2e-5, 2e-5),
    "float16": (1e-2, 1e-2),
    "bfloat16": (4e-2, 4e-2),
}


class ConformanceSkip(Exception):  # noqa: N818 -- public API name, exported by genesis.testing
    """The backend does not declare what a case needs; the message says what."""


def _backend(device: str):
    return genesis.device(device).backend


def declared_dtypes(device: str) -> frozenset:
    return frozenset(_backend(device).capabilities.dtypes)


def require_dtype(device: str, dtype: str) -> None:
    if dtype not in declared_dtypes(device):
        raise ConformanceSkip(f"backend {device!r} does not declare dtype {dtype}")


def _rng(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def make_inputs(case: OpCase, dtype: str, rng: np.random.Generator) -> list:
    """float64 (or int/bool) host arrays for each argument of ``case``."""
    out = []
    for a in case.args:
        if a.domain == "index":
            out.append(rng.integers(0, a.high, a.shape).astype(np.int64))
        elif a.domain == "bool":
            out.append(rng.random(a.shape) < 0.5)
        elif a.domain == "ties":  # a few small integers: equal pairs and zeros are common
            out.append(rng.integers(-2, 3, a.shape).astype(np.float64))
        elif dtype not in FLOATS:
            out.append(rng.integers(0, 10, a.shape).astype(np.float64))
        else:
            v = rng.uniform(-2, 2, a.shape)
            if a.domain == "positive":
                v = rng.uniform(0.5, 2, a.shape)
            elif a.domain == "unit":
                v = rng.uniform(-0.9, 0.9, a.shape)
            elif a.domain == "nonzero":
                v = np.sign(v + 1e-9) * rng.uniform(0.5, 2, a.shape)
            out.append(v)
    return out


def _round_to(values: np.ndarray, dtype: str) -> np.ndarray:
    return values.astype(numpy_dtype(genesis._dtype.dtype_from_name(dtype))).astype(np.float64)


def to_device(
    values: np.ndarray,
    arg: Arg,
    dtype: str,
    device: str,
    contiguous: bool,
    requires_grad: bool = False,
):
    """Put host values on ``device``; non-contiguous layout = a transposed view of a copy."""
    if arg.domain == "index":
        t_dtype = genesis.int64
    elif arg.domain == "bool":
        t_dtype = genesis.bool
    else:
        t_dtype = genesis._dtype.dtype_from_name(dtype)
    host = values.astype(numpy_dtype(t_dtype))
    if contiguous or host.ndim < 2:
        t = genesis.tensor(host, dtype=t_dtype, device=device)
    else:
        t = genesis.tensor(
            np.ascontiguousarray(host.swapaxes(-1, -2)), dtype=t_dtype, device=device
        ).transpose(-1, -2)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _reference_inputs(case: OpCase, values: list, dtype: str) -> list:
    return [
        v if a.domain in ("index", "bool") else _round_to(v, dtype)
        for a, v in zip(case.args, values)
    ]


def _host(t) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def check_forward(device: str, case: OpCase, dtype: str, contiguous: bool = True) -> None:
    """The device's result equals the float64 reference within the dtype's tolerance."""
    require_dtype(device, dtype)
    values = make_inputs(case, dtype, _rng(case.name, dtype))
    inputs = [to_device(v, a, dtype, device, contiguous) for a, v in zip(case.args, values)]
    out = case.fn(*inputs)
    expected = np.asarray(case.ref(*_reference_inputs(case, values, dtype)))
    got = _host(out)
    assert got.shape == expected.shape, f"{case.name}: shape {got.shape} != {expected.shape}"
    if expected.dtype == bool or got.dtype == bool:
        np.testing.assert_array_equal(got, expected, err_msg=case.name)
        return
    if dtype in FLOATS:
        rtol, atol = FORWARD_TOL[dtype]
        scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
        np.testing.assert_allclose(
            got.astype(np.float64),
            expected,
            rtol=rtol,
            atol=atol * scale,
            err_msg=f"{case.name} [{dtype}]",
        )
    else:
        np.testing.assert_array_equal(
            got.astype(np.float64), expected.astype(np.float64), err_msg=f"{case.name} [{dtype}]"
        )


def _numeric_grads(case: OpCase, values: list, weight: np.ndarray, eps: float = 1e-6) -> list:
    grads = []
    for i, (a, v) in enumerate(zip(case.args, values)):
        if not a.differentiable:
            grads.append(None)
            continue
        g = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            total = 0.0
            for sign in (1.0, -1.0):
                pert = [x.copy() if j == i else x for j, x in enumerate(values)]
                pert[i][idx] += sign * eps
                total += sign * float(np.sum(np.asarray(case.ref(*pert)) * weight))
            g[idx] = total / (2 * eps)
        grads.append(g)
    return grads


def check_backward(device: str, case: OpCase, contiguous: bool = True) -> None:
    """Gradients equal central differences of the float64 reference."""
    if not case.grad:
        raise ConformanceSkip(f"{case.name} is not differentiable")
    dtypes = declared_dtypes(device)
    dtype = "float64" if "float64" in dtypes else "float32"
    require_dtype(device, dtype)
    values = make_inputs(case, dtype, _rng(case.name, "grad"))
    inputs = [
        to_device(v, a, dtype, device, contiguous, requires_grad=a.differentiable)
        for a, v in zip(case.args, values)
    ]
    out = case.fn(*inputs)
    weight = _rng(case.name, "w").standard_normal(out.shape)
    (out * genesis.tensor(weight, dtype=out.dtype, device=device)).sum().backward()
    numeric = _numeric_grads(case, _reference_inputs(case, values, "float64"), weight)
    tol = 1e-6 if dtype == "float64" else 2e-3
    for i, (t, expected) in enumerate(zip(inputs, numeric)):
        if expected is None:
            continue
        assert t.grad is not None, f"{case.name}: input {i} got no gradient"
        assert t.grad.shape == t.shape, f"{case.name}: grad shape {t.grad.shape} != {t.shape}"
        np.testing.assert_allclose(
            _host(t.grad).astype(np.float64),
            expected,
            rtol=tol,
            atol=tol * max(1.0, float(np.max(np.abs(expected)))),
            err_msg=f"{case.name}: gradient of input {i}",
        )


@contextlib.contextmanager
def composite_only(device: str):
    """Temporarily hide the backend's fused kernels so composites run from primitives."""
    backend = _backend(device)
    saved = backend.capabilities
    backend.capabilities = dataclasses.replace(saved, fused={})
    try:
        yield
    finally:
        backend.capabilities = saved


def check_fused(device: str, case: OpCase) -> None:
    """A declared fused kernel agrees with the composite path, forward and backward."""
    if case.fused is None:
        raise ConformanceSkip(f"{case.name} has no fused variant")
    if case.fused not in _backend(device).capabilities.fused:
        raise ConformanceSkip(f"backend {device!r} provides no fused kernel {case.fused!r}")
    dtype = (
        "float32" if "float32" in declared_dtypes(device) else sorted(declared_dtypes(device))[0]
    )
    values = make_inputs(case, dtype, _rng(case.name, "fused"))

    def run():
        inputs = [
            to_device(v, a, dtype, device, True, requires_grad=a.differentiable)
            for a, v in zip(case.args, values)
        ]
        out = case.fn(*inputs)
        out.sum().backward()
        return _host(out), [_host(t.grad) if t.grad is not None else None for t in inputs]

    fused_out, fused_grads = run()
    with composite_only(device):
        ref_out, ref_grads = run()
    np.testing.assert_allclose(
        fused_out, ref_out, rtol=1e-4, atol=1e-5, err_msg=f"fused {case.fused} forward"
    )
    for i, (a, b) in enumerate(zip(fused_grads, ref_grads)):
        if b is not None:
            np.testing.assert_allclose(
                a, b, rtol=1e-4, atol=1e-5, err_msg=f"fused {case.fused} gradient of input {i}"
            )


def check_dtype_roundtrip(device: str, dtype: str) -> None:
    """Host -> device -> host is bit-exact, also through a strided copy."""
    require_dtype(device, dtype)
    npd = numpy_dtype(genesis._dtype.dtype_from_name(dtype))
    rng = _rng("roundtrip", dtype)
    host = (
        (rng.random((3, 5)) < 0.5)
        if dtype == "bool"
        else rng.integers(0, 100, (3, 5)).astype(npd)
        if dtype not in FLOATS
        else rng.standard_normal((3, 5)).astype(npd)
    )
    t = genesis.tensor(host, device=device)
    assert t.dtype.name == dtype
    np.testing.assert_array_equal(t.numpy(), host)
    np.testing.assert_array_equal(t.T.contiguous().numpy(), host.T)


def _draw(device: str, distribution: str):
    """64x64 float32 samples of ``distribution`` from seed 1234, through the public op."""
    genesis.manual_seed(1234)
    if distribution == "uniform":
        return genesis.rand(64, 64, device=device)
    if distribution == "normal":
        return genesis.randn(64, 64, device=device)
    if distribution == "randint":
        return genesis.randint(3, 9, (64, 64), device=device)
    if distribution not in protocol.RANDOM_DISTRIBUTIONS:
        raise ValueError(f"distribution={distribution!r}, expected one of "
                         f"{protocol.RANDOM_DISTRIBUTIONS}")
    return genesis.empty(64, 64, device=device).bernoulli_(0.3)


def check_random_distribution(device: str, distribution: str) -> None:
    """One random kernel: reproducible under a seed, and the right distribution (range and
    moments on 4,096 samples)."""
    first = _draw(device, distribution).numpy()
    np.testing.assert_array_equal(_draw(device, distribution).numpy(), first)
    h = first.astype(np.float64)
    if distribution == "uniform":
        assert h.min() >= 0 and h.max() < 1 and abs(h.mean() - 0.5) < 0.02, "uniform [0, 1)"
        assert abs(h.var() - 1 / 12) < 0.01, f"uniform variance {h.var()}, expected 1/12"
    elif distribution == "normal":
        assert abs(h.mean()) < 0.05 and abs(h.std() - 1) < 0.05, "standard normal moments"
        assert 0.6 < np.mean(np.abs(h) < 1) < 0.76, "normal: P(|x| < 1) ~ 0.683"
    elif distribution == "randint":
        assert set(np.unique(h)) == set(range(3, 9)), f"randint(3, 9) values {np.unique(h)}"
    else:
        assert set(np.unique(h)) <= {0.0, 1.0} and abs(h.mean() - 0.3) < 0.03, \
            f"bernoulli(0.3) mean {h.mean()}"


def check_random(device: str) -> None:
    """Counter-based streams: a stream moves on, and ``get_rng_state`` captures it."""
    genesis.manual_seed(1234)
    u = genesis.rand(64, 64, device=device)
    assert not np.array_equal(genesis.rand(64, 64, device=device).numpy(), u.numpy())
    state = genesis.get_rng_state()
    a = genesis.randn(10, device=device).numpy()
    genesis.set_rng_state(state)
    np.testing.assert_array_equal(genesis.randn(10, device=device).numpy(), a)


def run_kit(device: str, cases: list, *, first_failure: bool = False) -> list:
    """Run ``cases`` (forward in float64 and, where declared, int64; then gradients) and every
    random distribution on ``device``; the failures as ``(check name, message)`` pairs.

    The programmatic form of :func:`genesis.testing.conformance_suite`, used to show the kit
    catches a broken kernel; ``first_failure`` stops at the first one.
    """
    checks = []
    for case in cases:
        for dtype in ("float64", "int64"):
            if dtype in case.dtypes:
                checks.append((f"{case.name}[{dtype}]", check_forward, (case, dtype)))
    checks += [(f"{c.name}[grad]", check_backward, (c,)) for c in cases if c.grad]
    checks += [(f"random[{d}]", check_random_distribution, (d,))
               for d in protocol.RANDOM_DISTRIBUTIONS]
    failures = []
    for name, check, args in checks:
        try:
            check(device, *args)
        except ConformanceSkip:
            continue
        except Exception as exc:  # an assertion, or a kernel that crashed: both are failures
            failures.append((name, f"{type(exc).__name__}: {exc}"))
            if first_failure:
                break
    return failures
