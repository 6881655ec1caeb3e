"""Random sampling: ``normal``, ``bernoulli`` and the in-place fills (``exponential_``,
``geometric_``, ``log_normal_``, ``cauchy_``, ``random_``, ``bernoulli_``) as composites of
the backend's counter-based draws (uniform, normal, randint, bernoulli with scalar
parameters) and ordinary tensor ops: inverse-CDF transforms of uniforms, ``uniform < p`` for
per-element probabilities. Every draw comes from a :class:`genesis.Generator`'s
(seed, offset) stream, so ``manual_seed`` and ``get_rng_state``/``set_rng_state`` reproduce it.
Poisson and multinomial sampling live in :mod:`genesis._ops.sampling_discrete`.

A sample is not a differentiable function of its parameters: as in PyTorch, a sample drawn
from tensors that require grad is recorded in the graph with a zero gradient for them.
"""

from __future__ import annotations

import math
import warnings

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops.creation import _random, zeros
from genesis._ops.elementwise import cos, exp, log1p, maximum, sin
from genesis._ops.reduction import all as _all
from genesis._ops.rounding import floor
from genesis._tensor import Tensor, broadcast_shapes
from genesis.random import Generator

__all__ = ["normal", "bernoulli"]

_FLOAT = 2


class Sampled(Function):
    """A sample drawn from tensor parameters: the graph records it with a zero gradient for
    each parameter (PyTorch's ``NormalBackward``, ``PoissonBackward``, ``BernoulliBackward``)."""

    def forward(self, sample, *params):
        self.like = [(p.shape, p.dtype, p.device) for p in params]
        return sample

    def backward(self, g):
        return (None, *(zeros(shape, dtype=dtype, device=device) if need else None
                        for (shape, dtype, device), need in
                        zip(self.like, self.needs_input_grad[1:])))


def sampled(sample: Tensor, *params: Tensor) -> Tensor:
    """``sample``, recorded as drawn from ``params`` (zero gradient) when one requires grad."""
    return Sampled.apply(sample, *params)


def holds(condition: Tensor) -> bool:
    """Whether every element of the bool tensor ``condition`` is True (a host sync)."""
    return bool(_all(condition).item())


def uniform(shape: tuple, device, generator: Generator | None) -> Tensor:
    """float64 samples of U[0, 1) from the generator's stream."""
    return _random("uniform", shape, 0.0, 1.0, dt.float64, device, generator)


def _work_dtype(*dtypes) -> dt.DType:
    """float64 when a participant is float64, else float32: half types are computed in
    float32 and rounded once, as PyTorch's kernels do."""
    return dt.float64 if dt.float64 in dtypes else dt.float32


def _require_float(fn: str, what: str, dtype: dt.DType) -> None:
    if dtype.kind != _FLOAT:
        raise NotImplementedError(f"{fn}: {what} has dtype {dtype.name}, expected a floating "
                                  "point dtype")


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, Tensor)


# -- normal --------------------------------------------------------------------------------------

def _check_std(std) -> None:
    if isinstance(std, Tensor):
        if not holds(std >= 0):
            raise RuntimeError(f"normal expects all elements of std >= 0.0, but std (shape "
                               f"{list(std.shape)}) has a negative or NaN element")
    elif not std >= 0:  # NaN fails too
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")


def normal(mean, std=1.0, size=None, *, generator: Generator | None = None,
           dtype: dt.DType | None = None, device=None, requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std^2), in PyTorch's four forms.

    - ``normal(mean: Tensor, std: Tensor)``: one sample per element of the broadcast of the
      two, with ``mean``'s dtype;
    - ``normal(mean: Tensor, std: float = 1.0)`` and ``normal(mean: float, std: Tensor)``:
      the shape and dtype of the tensor argument;
    - ``normal(mean: float, std: float, size, *, dtype, device, requires_grad)``: a new
      tensor of ``size`` (the default dtype unless ``dtype`` is given).

    ``std`` must be non-negative. Samples from tensors that require grad are recorded with a
    zero gradient for them, as in PyTorch.
    """
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        return _normal_size(mean, std, size, generator, dtype, device, requires_grad)
    if size is not None or dtype is not None or device is not None or requires_grad:
        raise TypeError("normal(): size, dtype, device and requires_grad go with a float mean "
                        "and a float std only; with a tensor mean or std the result takes its "
                        "shape, dtype and device")
    for name, value in (("mean", mean), ("std", std)):
        if not isinstance(value, Tensor) and not _is_number(value):
            raise TypeError(f"normal(): {name}={value!r}, expected a Tensor or a number")
    like = mean if isinstance(mean, Tensor) else std
    _require_float("normal", "mean" if like is mean else "std", like.dtype)
    _check_std(std)
    shape = broadcast_shapes(*(t.shape for t in (mean, std) if isinstance(t, Tensor)))
    params = [t for t in (mean, std) if isinstance(t, Tensor)]
    work = _work_dtype(*(t.dtype for t in params))
    z = _random("normal", shape, 0.0, 1.0, work, like.device, generator)
    m, s = (t.detach() if isinstance(t, Tensor) else t for t in (mean, std))
    return sampled((m + s * z).to(like.dtype), *params)


def _normal_size(mean, std, size, generator, dtype, device, requires_grad) -> Tensor:
    if not _is_number(mean) or not _is_number(std):
        raise TypeError(f"normal(): mean={mean!r}, std={std!r}: expected Tensors or numbers")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"normal(): size={size!r}: with a float mean and std, size (a tuple of "
                        "ints) is required")
    dtype = dtype or dt.get_default_dtype()
    _require_float("normal", "the requested dtype", dtype)
    _check_std(std)
    shape = tuple(int(n) for n in size)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"normal(): size={list(shape)}, expected non-negative dimensions")
    out = _random("normal", shape, float(mean), float(std), dtype, device, generator)
    return out.requires_grad_(True) if requires_grad else out


# -- bernoulli -----------------------------------------------------------------------------------

def _check_p(fn: str, p: float) -> None:
    if not _is_number(p):
        raise TypeError(f"{fn}: p={p!r}, expected a float or a Tensor of probabilities")
    if not 0 <= p <= 1:
        raise RuntimeError(f"{fn} expects p to be in [0, 1], but got p={p}")


def _bernoulli_from(fn: str, p: Tensor, shape: tuple, generator) -> Tensor:
    """A bool tensor of ``shape``: True with probability ``p`` (broadcast to ``shape``)."""
    _require_float(fn, "p", p.dtype)
    if not holds((p >= 0) & (p <= 1)):
        raise RuntimeError(f"{fn}: expected every probability p in [0, 1], but p (shape "
                           f"{list(p.shape)}) has an element outside [0, 1] or NaN")
    u = _random("uniform", shape, 0.0, 1.0, _work_dtype(p.dtype), p.device, generator)
    return u < p.detach()


def bernoulli(input: Tensor, p: float | None = None, *,
              generator: Generator | None = None) -> Tensor:
    """0/1 samples: ``input`` holds the probability of a 1 for each element; with a float
    ``p``, every element of a tensor shaped like ``input`` is 1 with probability ``p``.

    The result has ``input``'s shape and dtype (with ``p``, any dtype; without, a floating
    one); probabilities must lie in [0, 1].
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): input={input!r}, expected a Tensor")
    if p is None:
        out = _bernoulli_from("bernoulli", input, input.shape, generator).to(input.dtype)
    else:
        _check_p("bernoulli", p)
        out = _random("bernoulli", input.shape, float(p), 0.0, input.dtype, input.device,
                      generator)
    return sampled(out, input)


# -- in-place fills ------------------------------------------------------------------------------

def _fill(self: Tensor, sample: Tensor, *params: Tensor) -> Tensor:
    """Write ``sample`` into ``self`` as an in-place op: refused on a leaf that requires
    grad; on a tensor in a graph, its old value gets a zero gradient, as in PyTorch."""
    return self.copy_(sampled(sample, self, *params))


def _continuous_only(fn: str, name: str, self: Tensor) -> None:
    if self.dtype.kind != _FLOAT:
        raise RuntimeError(f"{name} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {self.dtype.name}"
                           f" ({fn})")


def bernoulli_(self: Tensor, p=0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill with 0/1 samples, 1 with probability ``p``: a float, or a tensor of
    probabilities that broadcasts to this tensor's shape. Any dtype."""
    if isinstance(p, Tensor):
        sample = _bernoulli_from("bernoulli_", p.expand(self.shape), self.shape, generator)
        return _fill(self, sample, p)
    _check_p("bernoulli_", p)
    return _fill(self, _random("bernoulli", self.shape, float(p), 0.0, self.dtype, self.device,
                               generator))


def exponential_(self: Tensor, lambd: float = 1.0, *,
                 generator: Generator | None = None) -> Tensor:
    """Fill with samples of the exponential distribution of rate ``lambd``:
    ``-log(1 - u) / lambd`` for uniform ``u``."""
    _continuous_only("exponential_", "Exponential", self)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    e = -log1p(-uniform(self.shape, self.device, generator))
    return _fill(self, e / lambd)


def geometric_(self: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    """Fill with the number of Bernoulli(``p``) trials up to the first success (1, 2, ...):
    ``ceil(log(1 - u) / log(1 - p))`` for uniform ``u``. Floating or integer dtypes."""
    if self.dtype is dt.bool_:
        raise NotImplementedError("geometric_: not implemented for bool tensors, expected a "
                                  "floating or integer dtype")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    ratio = log1p(-uniform(self.shape, self.device, generator)) / math.log1p(-p)
    return _fill(self, maximum(-floor(-ratio), 1.0))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *,
                generator: Generator | None = None) -> Tensor:
    """Fill with ``exp(x)`` for ``x`` of N(``mean``, ``std``^2)."""
    _require_float("log_normal_", "self", self.dtype)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    z = _random("normal", self.shape, float(mean), float(std), dt.float64, self.device,
                generator)
    return _fill(self, exp(z))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *,
            generator: Generator | None = None) -> Tensor:
    """Fill with samples of the Cauchy distribution: ``median + sigma * tan(pi * (u - 1/2))``
    for uniform ``u``."""
    _continuous_only("cauchy_", "Cauchy", self)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    angle = (uniform(self.shape, self.device, generator) - 0.5) * math.pi
    return _fill(self, sin(angle) / cos(angle) * sigma + median)


#: significand bits of each floating dtype: ``random_()`` draws integers in [0, 2**bits]
_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
_FLOAT_MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
              "float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308}


def _value_range(dtype: dt.DType) -> tuple:
    """The smallest and largest integer ``random_`` may write into ``dtype``."""
    if dtype is dt.bool_:
        return 0, 1
    if dtype.kind == _FLOAT:
        top = _FLOAT_MAX[dtype.name]
        return -top, top
    bits = dtype.itemsize * 8
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if dtype.is_signed else (0, (1 << bits) - 1)


def _random_args(args: tuple, kwargs: dict) -> tuple:
    """``(from, to)`` as given to ``random_()``, ``random_(to)``, ``random_(from, to)`` or
    with the keywords ``from``/``to`` (``to`` None when not given)."""
    if set(kwargs) - {"from", "to"} or len(args) > 2:
        raise TypeError(f"random_(): expected random_(from=0, to=None, *, generator=None), got "
                        f"positional {args} and keywords {sorted(kwargs)}")
    if len(args) == 1 and not kwargs:
        return 0, args[0]
    named = dict(zip(("from", "to"), args))
    twice = sorted(set(named) & set(kwargs))
    if twice:
        raise TypeError(f"random_(): got multiple values for {twice}")
    named.update(kwargs)
    low, high = named.get("from", 0), named.get("to")
    for name, value in (("from", low), ("to", high)):
        if value is not None and not isinstance(value, int):
            raise TypeError(f"random_(): {name}={value!r}, expected an int")
    return low, high


def _random_bounds(dtype: dt.DType, low: int, high: int | None) -> tuple:
    """``[from, to)`` with PyTorch's default ``to`` and its checks against ``dtype``."""
    if high is not None and low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    lo, hi = _value_range(dtype)
    exact = 1 << _DIGITS[dtype.name] if dtype.kind == _FLOAT else hi
    high = exact + 1 if high is None else high
    if not lo <= low <= hi:
        raise RuntimeError(f"random_: from={low} is out of bounds for {dtype.name}")
    if not lo <= high - 1 <= hi:
        raise RuntimeError(f"random_: to - 1 = {high - 1} is out of bounds for {dtype.name}")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high} (the default 'to' of {dtype.name})")
    if dtype.kind == _FLOAT and (low < -exact or high - 1 > exact):
        warnings.warn(f"random_: [from, to - 1] = [{low}, {high - 1}] reaches beyond "
                      f"[-{exact}, {exact}], where {dtype.name} holds every integer: some values "
                      "cannot be drawn", stacklevel=4)
    return low, high


def random_(self: Tensor, *args, generator: Generator | None = None, **kwargs) -> Tensor:
    """``random_(from=0, to=None, *, generator=None)``: fill with integers drawn uniformly
    from ``[from, to - 1]``; ``random_(to)`` draws from ``[0, to - 1]``. Without ``to`` the
    range ends at the dtype's largest value (``2**mantissa_bits`` for floating dtypes, so every
    value is representable)."""
    low, high = _random_bounds(self.dtype, *_random_args(args, kwargs))
    return _fill(self, _random("randint", self.shape, low, high, dt.int64, self.device,
                               generator))


TENSOR_METHODS = {
    "bernoulli": bernoulli,
    "bernoulli_": bernoulli_,
    "exponential_": exponential_,
    "geometric_": geometric_,
    "log_normal_": log_normal_,
    "cauchy_": cauchy_,
    "random_": random_,
}
