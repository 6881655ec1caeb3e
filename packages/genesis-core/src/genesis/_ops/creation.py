"""Factory functions: ``tensor``, ``zeros``, ``arange``, ``rand``... and their ``*_like``."""

from __future__ import annotations

import math

import numpy as np

from genesis import _dtype as dt
from genesis._device import Device
from genesis._device import device as _device
from genesis._tensor import Tensor, _full_raw, _make, from_data, numpy_dtype
from genesis.random import Generator, default_generator


def _shape(size, name: str = "size") -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        shape = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{name}={size!r}: expected a sequence of non-negative ints") from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    return shape


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype: dt.DType | None = None, device: str | Device | None = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, numpy arrays, tensors).

    Python floats become the default dtype (float32), ints int64, bools bool;
    numpy arrays keep their dtype.

    >>> genesis.tensor([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    """
    return _finish(from_data(data, dtype=dtype, device=device), requires_grad)


def as_tensor(data, dtype: dt.DType | None = None, device: str | Device | None = None) -> Tensor:
    """``data`` itself when it already is a tensor of that dtype and device, else a copy."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype is dtype) and \
            (device is None or data.device == _device(device)):
        return data
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    return from_data(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor holding a copy of a numpy array (same dtype)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    return from_data(array)


def full(size, fill_value, *, dtype: dt.DType | None = None, device=None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value)."""
    shape = _shape((size,) if isinstance(size, int) else tuple(size))
    if dtype is None:
        dtype = dt.result_type(fill_value) if not isinstance(fill_value, Tensor) else \
            fill_value.dtype
        fill_value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    return _finish(_full_raw(shape, fill_value, dtype, _device(device)), requires_grad)


def zeros(*size, dtype: dt.DType | None = None, device=None, requires_grad: bool = False):
    """A tensor of zeros (default dtype float32)."""
    return _finish(_full_raw(_shape(size), 0, dtype or dt.get_default_dtype(), _device(device)),
                   requires_grad)


def ones(*size, dtype: dt.DType | None = None, device=None, requires_grad: bool = False):
    """A tensor of ones (default dtype float32)."""
    return _finish(_full_raw(_shape(size), 1, dtype or dt.get_default_dtype(), _device(device)),
                   requires_grad)


def empty(*size, dtype: dt.DType | None = None, device=None, requires_grad: bool = False):
    """An uninitialised tensor."""
    dev = _device(device)
    shape = _shape(size)
    dtype = dtype or dt.get_default_dtype()
    b = dev.backend
    return _finish(_make(b.empty(shape, dtype, dev.index), shape, dtype, dev, b), requires_grad)


def arange(start, end=None, step=1, *, dtype: dt.DType | None = None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values ``start, start+step, ...`` below ``end`` (int64 if all arguments are ints)."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        dtype = dt.int64 if all(isinstance(v, int) for v in (start, end, step)) else \
            dt.get_default_dtype()
    n = max(0, math.ceil((end - start) / step))
    values = start + np.arange(n, dtype=np.float64 if dtype.kind == 2 else np.int64) * step
    return _finish(from_data(values.astype(numpy_dtype(dtype)), device=device), requires_grad)


def linspace(start, end, steps: int, *, dtype: dt.DType | None = None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError(f"linspace: steps={steps!r}, expected a non-negative int")
    values = np.linspace(start, end, steps, dtype=np.float64)
    dtype = dtype or dt.get_default_dtype()
    return _finish(from_data(values.astype(numpy_dtype(dtype)), device=device), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype: dt.DType | None = None,
             device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` values ``base ** e`` for exponents evenly spaced from ``start`` to ``end``.

    For an integer ``dtype`` the exponents' ends are truncated to integers first and the
    powers truncated after, as PyTorch does.
    """
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError(f"logspace: steps={steps!r}, expected a non-negative int")
    dtype = dtype or dt.get_default_dtype()
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    if dtype.kind != 2:
        start, end = int(start), int(end)
    values = np.power(float(base), np.linspace(start, end, steps, dtype=np.float64))
    return _finish(from_data(values.astype(numpy_dtype(dtype)), device=device), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: dt.DType | None = None, device=None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix (``n x m``)."""
    values = np.eye(n, n if m is None else m, dtype=numpy_dtype(dtype or dt.get_default_dtype()))
    return _finish(from_data(values, device=device), requires_grad)


def _random(distribution: str, shape: tuple, a, b, dtype: dt.DType, device,
            generator: Generator | None) -> Tensor:
    dev = _device(device)
    gen = generator or default_generator
    count = 1
    for n in shape:
        count *= n
    offset = gen.next_offset(count)
    backend = dev.backend
    storage = backend.random(distribution, shape, dtype, dev.index, gen._seed, offset, a, b)
    return _make(storage, shape, dtype, dev, backend)


def _float_dtype(fn: str, dtype: dt.DType | None) -> dt.DType:
    dtype = dtype or dt.get_default_dtype()
    if not dtype.is_floating_point:
        raise NotImplementedError(f"{fn}: dtype={dtype}, expected a floating point dtype")
    return dtype


def rand(*size, generator: Generator | None = None, dtype: dt.DType | None = None, device=None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    return _finish(_random("uniform", _shape(size), 0.0, 1.0, _float_dtype("rand", dtype),
                           device, generator), requires_grad)


def randn(*size, generator: Generator | None = None, dtype: dt.DType | None = None, device=None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    return _finish(_random("normal", _shape(size), 0.0, 1.0, _float_dtype("randn", dtype),
                           device, generator), requires_grad)


def randint(low, high=None, size=None, *, generator: Generator | None = None,
            dtype: dt.DType | None = None, device=None, requires_grad: bool = False) -> Tensor:
    """Integers uniform in [low, high) (``randint(high, size)`` also works)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low=0, high, size)")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    return _finish(_random("randint", _shape(tuple(size)), low, high, dtype or dt.int64, device,
                           generator), requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype: dt.DType | None = None,
             device=None) -> Tensor:
    """A random permutation of ``0..n-1`` (from the generator's counter stream)."""
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"randperm: n={n!r}, expected a non-negative int")
    gen = generator or default_generator
    offset = gen.next_offset(max(n, 1))
    rng = np.random.Generator(np.random.Philox(key=gen._seed, counter=offset))
    return from_data(rng.permutation(n).astype(numpy_dtype(dtype or dt.int64)), device=device)


def _like(name, factory):
    def fn(input: Tensor, *, dtype: dt.DType | None = None, device=None,
           requires_grad: bool = False) -> Tensor:
        return factory(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                       requires_grad=requires_grad)
    fn.__name__ = name
    fn.__doc__ = f"``{factory.__name__}`` with the shape (and by default dtype, device) of input."
    return fn


zeros_like = _like("zeros_like", zeros)
ones_like = _like("ones_like", ones)
empty_like = _like("empty_like", empty)


def rand_like(input: Tensor, *, generator: Generator | None = None,
              dtype: dt.DType | None = None, device=None, requires_grad: bool = False) -> Tensor:
    """``rand`` with the shape (and by default dtype, device) of input."""
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator: Generator | None = None,
               dtype: dt.DType | None = None, device=None, requires_grad: bool = False) -> Tensor:
    """``randn`` with the shape (and by default dtype, device) of input."""
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype,
                 device=device or input.device, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, *, dtype: dt.DType | None = None, device=None,
              requires_grad: bool = False) -> Tensor:
    """A tensor like ``input`` (shape; dtype and device by default) filled with ``fill_value``."""
    return full(input.shape, fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, *, generator: Generator | None = None,
                 dtype: dt.DType | None = None, device=None,
                 requires_grad: bool = False) -> Tensor:
    """Random integers in [low, high) with the shape of ``input``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def fill_random_(t: Tensor, distribution: str, a, b, generator: Generator | None = None) -> Tensor:
    """Fill ``t`` in place with random numbers (``uniform_``, ``normal_``...)."""
    src = _random(distribution, t.shape, a, b, t.dtype, t.device, generator)
    t._backend.copy_(t, src)
    return t
