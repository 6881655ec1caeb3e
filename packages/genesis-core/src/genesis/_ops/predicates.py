"""Predicates and value tests: isnan/isinf/isfinite and friends, signbit, isclose/allclose,
equal, isin, count_nonzero, and nan_to_num (which replaces what the predicates find).

All of them are composites of the comparison and where primitives; the predicates return bool
tensors (no gradient), ``allclose`` and ``equal`` return Python bools.
"""

from __future__ import annotations

from genesis import _dtype as dt
from genesis._ops import creation
from genesis._ops.arguments import require_tensor
from genesis._ops.elementwise import binary_raw, unary_raw, where
from genesis._ops.inplace_variant import inplace_variant
from genesis._ops.reduction import normalize_dims
from genesis._ops.reduction import sum as _sum
from genesis._ops.shape import cat
from genesis._tensor import Tensor

__all__ = ["isnan", "isinf", "isposinf", "isneginf", "isfinite", "signbit", "isclose",
           "allclose", "equal", "isin", "count_nonzero", "nan_to_num"]

_FLOAT = 2
_INF = float("inf")
#: the largest finite value of each floating dtype (``torch.finfo(dtype).max``)
FLOAT_MAX = {dt.float16: 65504.0, dt.bfloat16: 3.3895313892515355e38,
             dt.float32: 3.4028234663852886e38, dt.float64: 1.7976931348623157e308}
#: how many element comparisons ``isin`` makes per step (bounds its temporary memory)
_ISIN_BLOCK = 1 << 22


def _constant(input: Tensor, value: bool) -> Tensor:
    return (creation.ones_like if value else creation.zeros_like)(input, dtype=dt.bool_)


def _float_test(name: str, input: Tensor, test) -> Tensor:
    """``test(input)`` for a floating tensor; all False for integer and bool tensors."""
    require_tensor(name, "input", input)
    return test(input) if input.dtype.kind == _FLOAT else _constant(input, False)


def isnan(input: Tensor) -> Tensor:
    """True where ``input`` is NaN (never for integer and bool tensors)."""
    return _float_test("isnan", input, lambda x: binary_raw("ne", x, x))


def isinf(input: Tensor) -> Tensor:
    """True where ``input`` is +inf or -inf."""
    return _float_test("isinf", input, lambda x: binary_raw("eq", unary_raw("abs", x), _INF))


def isposinf(input: Tensor) -> Tensor:
    """True where ``input`` is +inf."""
    return _float_test("isposinf", input, lambda x: binary_raw("eq", x, _INF))


def isneginf(input: Tensor) -> Tensor:
    """True where ``input`` is -inf."""
    return _float_test("isneginf", input, lambda x: binary_raw("eq", x, -_INF))


def isfinite(input: Tensor) -> Tensor:
    """True where ``input`` is neither infinite nor NaN (always for integer and bool tensors)."""
    require_tensor("isfinite", "input", input)
    if input.dtype.kind != _FLOAT:
        return _constant(input, True)
    return binary_raw("lt", unary_raw("abs", input), _INF)  # NaN compares False


def signbit_raw(x: Tensor) -> Tensor:
    """True where the sign of ``x`` is negative, -0.0 included (``1 / -0.0`` is -inf).

    Divergence: the sign of a NaN is not observable with the primitive kernels; NaN gives
    False (PyTorch reads the bit, so -NaN gives True there).
    """
    if x.dtype.kind != _FLOAT:
        return binary_raw("lt", x, 0) if x.dtype.is_signed else _constant(x, False)
    return binary_raw("logical_or", binary_raw("lt", x, 0),
                      binary_raw("lt", binary_raw("div", 1.0, x), 0))


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit of ``input`` is set: negative numbers, -0.0 and -inf
    (NaN gives False, see :func:`signbit_raw`)."""
    require_tensor("signbit", "input", input)
    return signbit_raw(input)


def _check_tolerances(fn: str, input, other, rtol: float, atol: float) -> None:
    require_tensor(fn, "input", input)
    require_tensor(fn, "other", other)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{fn}(): input dtype {input.dtype} did not match other dtype "
                           f"{other.dtype}")
    if rtol < 0:
        raise RuntimeError(f"{fn}(): rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"{fn}(): atol must be greater than or equal to zero, but got {atol}")


def _isclose(input: Tensor, other: Tensor, rtol: float, atol: float, equal_nan: bool) -> Tensor:
    close = binary_raw("eq", input, other)  # also equal infinities
    if input.dtype.kind == _FLOAT and equal_nan:
        close = binary_raw("logical_or", close,
                           binary_raw("logical_and", isnan(input), isnan(other)))
    if rtol == 0 and atol == 0:
        return close
    if input.dtype.kind != _FLOAT:  # integers and bools measure their error in the default dtype
        input, other = input.to(dt.get_default_dtype()), other.to(dt.get_default_dtype())
    allowed = binary_raw("add", unary_raw("abs", binary_raw("mul", other, rtol)), atol)
    actual = unary_raw("abs", binary_raw("sub", input, other))
    within = binary_raw("logical_and", binary_raw("le", actual, allowed),
                        binary_raw("lt", actual, _INF))
    return binary_raw("logical_or", close, within)


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """True where ``|input - other| <= atol + rtol * |other|`` (broadcast), or where both are
    equal (infinities included), or both NaN with ``equal_nan``. Both tensors must have the
    same dtype."""
    _check_tolerances("isclose", input, other, rtol, atol)
    return _isclose(input, other, rtol, atol, equal_nan)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether :func:`isclose` holds everywhere (a Python bool)."""
    _check_tolerances("allclose", input, other, rtol, atol)
    return not _any_true(unary_raw("logical_not", _isclose(input, other, rtol, atol, equal_nan)))


def _any_true(mask: Tensor) -> bool:
    return mask.numel() > 0 and bool(_sum(mask).item())


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether both tensors have the same shape and the same values (NaN never equals)."""
    require_tensor("equal", "input", input)
    require_tensor("equal", "other", other)
    if input.shape != other.shape:
        return False
    return not _any_true(binary_raw("ne", input, other))


def isin(elements, test_elements, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """True where an element of ``elements`` occurs in ``test_elements`` (False with
    ``invert``); the result has the shape of ``elements``. Either argument may be a number.
    ``assume_unique`` is accepted for PyTorch compatibility (it only allows a faster path)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): expected elements or test_elements to be a Tensor, got "
                        f"{type(elements).__name__} and {type(test_elements).__name__}")
    for arg, value in (("elements", elements), ("test_elements", test_elements)):
        if isinstance(value, Tensor):
            if value.dtype is dt.bool_:
                raise RuntimeError(f"isin(): unsupported input type Bool for {arg}")
        elif type(value) not in (int, float):
            raise TypeError(f"isin(): argument '{arg}' must be a Tensor or a number, not "
                            f"{type(value).__name__}")
    if not isinstance(test_elements, Tensor):
        found = binary_raw("eq", elements, test_elements)
    elif not isinstance(elements, Tensor):
        found = _contains(elements, test_elements.reshape(-1))
    else:
        flat = elements.reshape(-1)
        tests = test_elements.reshape(1, -1)
        step = max(1, _ISIN_BLOCK // max(tests.shape[1], 1))
        parts = [_contains(flat[i:i + step].reshape(-1, 1), tests)
                 for i in range(0, flat.shape[0], step)]
        found = (cat(parts) if len(parts) > 1 else parts[0] if parts else
                 _constant(flat, False)).reshape(elements.shape)
    return unary_raw("logical_not", found) if invert else found


def _contains(values, tests: Tensor) -> Tensor:
    """``values`` (a number, or a column) compared with every element of ``tests``: any equal,
    along the last dimension."""
    hits = binary_raw("eq", values, tests)
    if tests.numel() == 0:
        return creation.zeros(hits.shape[:-1], dtype=dt.bool_, device=hits.device)
    return binary_raw("gt", _sum(hits, -1), 0)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """How many elements of ``input`` are non-zero over ``dim`` (an int, a tuple, or all);
    an int64 tensor."""
    require_tensor("count_nonzero", "input", input)
    return _sum(binary_raw("ne", input, 0), normalize_dims(dim, input.ndim))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and the
    dtype's largest and lowest finite values); integer and bool tensors are returned copied.
    The gradient flows to the finite elements only."""
    require_tensor("nan_to_num", "input", input)
    if input.dtype.kind != _FLOAT:
        return input.clone()
    big = FLOAT_MAX[input.dtype]
    out = where(isnan(input), float(nan), input)
    out = where(isposinf(input), big if posinf is None else float(posinf), out)
    return where(isneginf(input), -big if neginf is None else float(neginf), out)


TENSOR_METHODS = {
    "isnan": isnan, "isinf": isinf, "isposinf": isposinf, "isneginf": isneginf,
    "isfinite": isfinite, "signbit": signbit, "isclose": isclose, "allclose": allclose,
    "equal": equal, "count_nonzero": count_nonzero, "nan_to_num": nan_to_num,
    "nan_to_num_": inplace_variant(nan_to_num, "nan_to_num_"),
}
