"""Data types and PyTorch's type-promotion rules.

A :class:`DType` is a small immutable description; backends map its ``name``
to their own representation (numpy uses the same names, with ``ml_dtypes``
for bfloat16).
"""

from __future__ import annotations

import ml_dtypes
import numpy as np

__all__ = [
    "DType", "float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16",
    "int32", "int64", "bool_", "all_dtypes", "promote_types", "result_type",
    "get_default_dtype", "set_default_dtype", "dtype_from_name", "finfo", "iinfo",
]

# Promotion kinds, ordered: a participant of a higher kind always wins.
_BOOL, _INT, _FLOAT = 0, 1, 2


class DType:
    """A tensor element type (``genesis.float32`` and friends)."""

    __slots__ = ("name", "itemsize", "kind", "is_signed")

    def __init__(self, name: str, itemsize: int, kind: int, is_signed: bool) -> None:
        self.name = name
        self.itemsize = itemsize
        self.kind = kind
        self.is_signed = is_signed

    @property
    def is_floating_point(self) -> bool:
        return self.kind == _FLOAT

    def __repr__(self) -> str:
        return f"genesis.{self.name}"

    def __reduce__(self):  # dtypes are singletons, also across copy/deepcopy
        return (dtype_from_name, (self.name,))


float32 = DType("float32", 4, _FLOAT, True)
float64 = DType("float64", 8, _FLOAT, True)
float16 = DType("float16", 2, _FLOAT, True)
bfloat16 = DType("bfloat16", 2, _FLOAT, True)
int8 = DType("int8", 1, _INT, True)
uint8 = DType("uint8", 1, _INT, False)
int16 = DType("int16", 2, _INT, True)
int32 = DType("int32", 4, _INT, True)
int64 = DType("int64", 8, _INT, True)
bool_ = DType("bool", 1, _BOOL, False)

all_dtypes = (float32, float64, float16, bfloat16, int8, uint8, int16, int32, int64, bool_)
_BY_NAME = {d.name: d for d in all_dtypes}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "long": int64,
                 "int": int32, "short": int16, "bool_": bool_})

_default_dtype = float32


def dtype_from_name(name: str) -> DType:
    """Return the dtype called ``name`` (``"float32"``, ``"bfloat16"``, ``"long"``...)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise TypeError(f"dtype: unknown dtype name {name!r}; expected one of "
                        f"{sorted(_BY_NAME)}") from None


def get_default_dtype() -> DType:
    """The floating dtype used for Python floats and float factory functions."""
    return _default_dtype


def set_default_dtype(dtype: DType) -> None:
    """Set the default floating dtype (float32, float64, float16 or bfloat16)."""
    global _default_dtype
    if not isinstance(dtype, DType) or not dtype.is_floating_point:
        raise TypeError(f"set_default_dtype: dtype={dtype!r}, expected a floating genesis dtype")
    _default_dtype = dtype


class finfo:  # noqa: N801 (PyTorch's name)
    """Machine limits of a floating dtype (``torch.finfo``): ``bits``, ``eps``, ``max``,
    ``min``, ``tiny`` (= ``smallest_normal``), ``resolution``, ``dtype``."""

    def __init__(self, type: DType | None = None) -> None:
        dtype = get_default_dtype() if type is None else type
        if not isinstance(dtype, DType) or not dtype.is_floating_point:
            raise TypeError(f"finfo: type={dtype!r}, expected a floating genesis dtype")
        info = ml_dtypes.finfo(ml_dtypes.bfloat16) if dtype.name == "bfloat16" else \
            np.finfo(dtype.name)
        self.dtype = dtype.name
        self.bits = dtype.itemsize * 8
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801
    """Limits of an integer dtype (``torch.iinfo``): ``bits``, ``max``, ``min``, ``dtype``."""

    def __init__(self, type: DType) -> None:
        if not isinstance(type, DType) or type.kind != _INT:
            raise TypeError(f"iinfo: type={type!r}, expected an integer genesis dtype")
        self.dtype = type.name
        self.bits = type.itemsize * 8
        self.min = -(1 << (self.bits - 1)) if type.is_signed else 0
        self.max = (1 << (self.bits - 1)) - 1 if type.is_signed else (1 << self.bits) - 1

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def _build_table() -> dict:
    """The promotion lattice of PyTorch for the dtypes Genesis has."""
    ints = [uint8, int8, int16, int32, int64]
    table = {}
    for a in all_dtypes:
        for b in all_dtypes:
            if a is b:
                r = a
            elif a.kind != b.kind:
                r = a if a.kind > b.kind else b
            elif a.kind == _FLOAT:
                if {a, b} == {float16, bfloat16}:
                    r = float32
                else:
                    r = a if a.itemsize > b.itemsize else b
            else:  # both integers
                if a.is_signed == b.is_signed:
                    r = a if a.itemsize > b.itemsize else b
                else:  # uint8 with a signed int: the signed type wide enough for both
                    s = a if a.is_signed else b
                    r = s if s.itemsize > 1 else int16
                r = r if r in ints else int64
            table[a, b] = r
    return table


_PROMOTE = _build_table()


def promote_types(a: DType, b: DType) -> DType:
    """The smallest dtype both ``a`` and ``b`` convert to (``torch.promote_types``)."""
    return _PROMOTE[a, b]


def scalar_kind(value) -> int:
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int):
        return _INT
    if isinstance(value, float):
        return _FLOAT
    raise TypeError(f"expected a bool, int or float scalar, got {type(value).__name__}")


def result_type(*operands) -> DType:
    """PyTorch's ``result_type``: dimensioned tensors, then 0-d tensors, then scalars.

    A lower-priority participant changes the result only if it is of a higher
    kind (bool < int < float); Python floats then map to the default dtype and
    Python ints to int64.
    """
    dim_t = zero_t = scal = None
    for x in operands:
        dt = getattr(x, "dtype", None)
        if isinstance(dt, DType):
            if x.ndim:
                dim_t = dt if dim_t is None else _PROMOTE[dim_t, dt]
            else:
                zero_t = dt if zero_t is None else _PROMOTE[zero_t, dt]
        else:
            k = scalar_kind(x)
            scal = k if scal is None else max(scal, k)
    result = dim_t
    if zero_t is not None:
        if result is None:
            result = zero_t
        elif zero_t.kind > result.kind:
            result = zero_t
    if scal is not None:
        sdt = (bool_, int64, _default_dtype)[scal]
        if result is None:
            result = sdt
        elif scal > result.kind:
            result = _default_dtype if scal == _FLOAT else sdt
    return result
