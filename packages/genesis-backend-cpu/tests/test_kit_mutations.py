"""The conformance kit catches a broken kernel: each primitive of the numpy backend is broken in
turn (a wrong table entry, an off-by-one, an ignored argument) and the kit must fail.

Also: the backend's kernel tables cover exactly the ops the protocol lists.
"""

from __future__ import annotations

import contextlib
import dataclasses

import genesis
import numpy as np
import pytest
from genesis.backends import protocol
from genesis.testing import STEP_CHECKS, build_cases, run_kit
from genesis_backend_cpu import backend as cpu
from genesis_backend_cpu._views import arr

#: a unary/binary/reduce/arg-reduce op -> the op of the same family a mistaken table would run
SWAPS = {
    "neg": "abs", "abs": "neg", "exp": "sigmoid", "log": "sqrt", "sqrt": "rsqrt",
    "rsqrt": "sqrt", "sin": "cos", "cos": "sin", "tanh": "erf", "sigmoid": "tanh",
    "relu": "abs", "erf": "tanh", "sign": "floor", "floor": "neg", "logical_not": "sign",
    "log1p": "log", "expm1": "exp", "erfinv": "erf",
    "add": "sub", "sub": "add", "mul": "add", "div": "mul", "pow": "mul",
    "maximum": "minimum", "minimum": "maximum", "eq": "le", "ne": "lt", "lt": "le", "le": "lt",
    "gt": "ge", "ge": "gt", "logical_and": "logical_or", "logical_or": "logical_xor",
    "logical_xor": "logical_and", "atan2": "div",
    "sum": "prod", "prod": "sum", "max": "min", "min": "max",
    "argmax": "argmin", "argmin": "argmax",
    "cumsum": "cumprod", "cumprod": "cumsum", "cummax": "cummin", "cummin": "cummax",
    "logcumsumexp": "cumsum",
}


def _drop_last_k(backend):
    def matmul(a, b, dtype):  # the K loop stops one short
        x, y = arr(a), arr(b)
        return cpu._store(np.matmul(x[..., :-1], y[..., :-1, :]), cpu.np_dtype(dtype))
    return matmul


def _copy_ignoring_strides(backend):
    def copy_(dst, src):  # reads the source as if it were contiguous
        d = arr(dst)
        flat = np.asarray(src.storage).reshape(-1)
        d[...] = flat[src.offset:src.offset + d.size].reshape(d.shape)
    return copy_


def _fill_ignoring_value(backend):
    def fill_(dst, value):
        arr(dst)[...] = 0
    return fill_


def _gather_off_by_one(backend):
    def gather(x, dim, index):
        a, idx = arr(x), arr(index)
        return cpu._store(np.take_along_axis(a, (idx + 1) % a.shape[dim], axis=dim), a.dtype)
    return gather


def _scatter_flipped(backend):
    original = backend.scatter_

    def scatter_(dst, dim, index, src, accumulate):
        original(dst, dim, index, src, not accumulate)
    return scatter_


def _where_swapped(backend):
    original = backend.where

    def where(cond, a, b, dtype):
        return original(cond, b, a, dtype)
    return where


def _sort_ties_reversed(backend):
    original = backend.sort

    def sort(x, axis, descending):  # right values, but equal ones in reverse input order
        a = arr(x)
        values, index = original(genesis.from_numpy(np.flip(a, axis).copy()), axis, descending)
        return values, cpu._store((a.shape[axis] - 1) - index, np.dtype(np.int64))
    return sort


def _random_broken(distribution: str):
    def make(backend):
        original = backend.random

        def random(dist, shape, dtype, index, seed, offset, a, b):
            if dist != distribution:
                return original(dist, shape, dtype, index, seed, offset, a, b)
            if dist == "bernoulli":  # never succeeds
                return np.zeros(shape, cpu.np_dtype(dtype))
            if dist == "randint":  # high treated as inclusive
                return original(dist, shape, dtype, index, seed, offset, a, b + 1)
            if dist == "normal":  # std taken as variance of 4
                return original(dist, shape, dtype, index, seed, offset, a, 2 * b)
            return original(dist, shape, dtype, index, seed, offset, a, b / 2)
        return random
    return make


METHOD_MUTANTS = {
    "matmul": _drop_last_k, "copy_": _copy_ignoring_strides, "fill_": _fill_ignoring_value,
    "gather": _gather_off_by_one, "scatter_": _scatter_flipped, "where": _where_swapped,
    "sort": _sort_ties_reversed,
    **{d: _random_broken(d) for d in protocol.RANDOM_DISTRIBUTIONS},
}


@contextlib.contextmanager
def mutated(op: str):
    """The CPU backend with kernel ``op`` broken, restored afterwards."""
    backend = genesis.device("cpu").backend
    saved = []
    if op in SWAPS:
        wrong = SWAPS[op]
        for table in (cpu.UNARY, cpu.BINARY, cpu._KERNELS, cpu.REDUCE, cpu.ARG_REDUCE, cpu.SCAN):
            if op in table:
                saved.append((table, op, table[op]))
                table[op] = table[wrong]
    else:
        method = "random" if op in protocol.RANDOM_DISTRIBUTIONS else op
        saved.append((backend.__dict__, method, backend.__dict__.get(method)))
        setattr(backend, method, METHOD_MUTANTS[op](backend))
    try:
        yield
    finally:
        for table, key, value in saved:
            if value is None:
                del table[key]
            else:
                table[key] = value


def test_every_primitive_has_a_mutant():
    assert sorted(SWAPS.keys() | METHOD_MUTANTS.keys()) == sorted(protocol.PRIMITIVE_OPS)


def test_the_kit_passes_on_the_unbroken_backend():
    assert run_kit("cpu", build_cases()) == []


@pytest.mark.parametrize("op", protocol.PRIMITIVE_OPS)
def test_the_kit_fails_when_a_kernel_is_broken(op):
    with mutated(op):
        failures = run_kit("cpu", build_cases(), first_failure=True)
    assert failures, f"the conformance kit did not notice a broken {op!r} kernel"
    assert run_kit("cpu", build_cases(), first_failure=True) == []  # restored


def test_kernel_tables_cover_exactly_the_protocol():
    assert sorted(cpu.UNARY) == sorted(protocol.UNARY_OPS)
    assert sorted(cpu.BINARY) == sorted(protocol.BINARY_OPS)
    assert sorted(cpu.REDUCE) == sorted(protocol.REDUCE_OPS)
    assert sorted(cpu.ARG_REDUCE) == sorted(protocol.ARG_REDUCE_OPS)
    assert sorted(cpu.SCAN) == sorted(protocol.SCAN_OPS)
    assert sorted(cpu._KERNELS) == sorted(protocol.UNARY_OPS + protocol.BINARY_OPS)
    assert sorted(cpu.RANDOM) == sorted(protocol.RANDOM_DISTRIBUTIONS)
    backend = genesis.device("cpu").backend
    assert all(callable(getattr(backend, k)) for k in protocol.KERNELS)


def _wrong_hyperparameter(kernel, key, change):
    def wrong(*args, **kwargs):
        kwargs[key] = change(kwargs[key])
        return kernel(*args, **kwargs)
    return wrong


@contextlib.contextmanager
def fused_replaced(name: str, make_wrong):
    """The CPU backend with fused kernel ``name`` replaced by ``make_wrong(kernel)``."""
    backend = genesis.device("cpu").backend
    saved = backend.capabilities
    wrong = make_wrong(saved.fused[name])
    backend.capabilities = dataclasses.replace(saved, fused={**saved.fused, name: wrong})
    try:
        yield
    finally:
        backend.capabilities = saved


@pytest.mark.parametrize("name, key, change", [
    ("adamw_step", "beta2", lambda b: 0.99), ("adamw_step", "amsgrad", lambda a: False),
    ("adamw_step", "decoupled", lambda d: not d), ("sgd_step", "nesterov", lambda n: not n),
    ("sgd_step", "dampening", lambda d: d + 0.1), ("rmsprop_step", "momentum", lambda m: m * 0.5),
    ("rmsprop_step", "alpha", lambda a: a * 0.9), ("adagrad_step", "lr_decay", lambda d: d + 0.1),
    ("adagrad_step", "eps", lambda e: e + 0.1), ("adamax_step", "beta1", lambda b: b * 0.5),
    ("adadelta_step", "rho", lambda r: r * 0.5), ("radam_step", "beta2", lambda b: 0.99),
    ("radam_step", "decoupled", lambda d: not d),
    ("nadam_step", "momentum_decay", lambda d: d * 10),
    ("nadam_step", "decoupled", lambda d: not d)])
def test_the_kit_fails_when_a_fused_step_is_broken(name, key, change):
    with fused_replaced(name, lambda k: _wrong_hyperparameter(k, key, change)):
        with pytest.raises(AssertionError):
            STEP_CHECKS[name]("cpu")
    STEP_CHECKS[name]("cpu")


def _slightly_off(kernel):
    """The kernel with its first output scaled by 1 + 1e-6 (a subtly wrong factorization)."""
    def wrong(*args, **kwargs):
        out = kernel(*args, **kwargs)
        first = out[0] if isinstance(out, tuple) else out
        if first is not None:
            first *= 1 + 1e-6
        return out
    return wrong


@pytest.mark.parametrize("name", ["linalg_solve", "linalg_slogdet", "linalg_cholesky",
                                  "linalg_qr", "linalg_eigh", "linalg_svd"])
def test_the_kit_fails_when_a_factorization_is_off(name):
    with fused_replaced(name, _slightly_off):
        with pytest.raises(AssertionError):
            STEP_CHECKS[name]("cpu")
    STEP_CHECKS[name]("cpu")
