"""Mixed precision as a dispatch step: ``genesis.autocast`` regions and the one wrapper every
listed op passes through.

An op joins by being defined under :func:`autocast_op` with its PyTorch name. While a region
is on for the device type of the op's tensors, the wrapper looks the name up in that device
type's policy (:mod:`genesis._ops.autocast_policy`), casts the floating inputs on that device
(float64 excepted) and runs the op with autocast off inside, as PyTorch's autocast dispatch
key does; ops listed for no device pass through unchanged. Outside every region the wrapper
costs one attribute test.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TypeVar

from genesis import _dtype as dt
from genesis._autograd.function import Function, Versions
from genesis._autograd.grad_mode import _State as _GradState
from genesis._ops.autocast_policy import (
    BANNED,
    DEFAULT_DTYPES,
    FP32,
    LOWER,
    NATIVE,
    POLICIES,
    SUPPORTED_DTYPES,
)
from genesis._tensor import Tensor, _cast_raw

__all__ = ["autocast", "autocast_op", "autocast_active", "is_autocast_available",
           "is_autocast_enabled",
           "get_autocast_dtype", "set_autocast_dtype", "is_autocast_cache_enabled",
           "set_autocast_cache_enabled", "clear_autocast_cache", "Cast", "AUTOCAST_OPS"]

F = TypeVar("F", bound=Callable)

_BCE_BANNED = (
    "genesis.nn.functional.binary_cross_entropy and genesis.nn.BCELoss are unsafe to autocast. "
    "Many models use a sigmoid layer right before the binary cross entropy layer. In this case, "
    "combine the two layers using genesis.nn.functional.binary_cross_entropy_with_logits or "
    "genesis.nn.BCEWithLogitsLoss. binary_cross_entropy_with_logits and BCEWithLogits are safe "
    "to autocast.")

AUTOCAST_OPS: dict = {}
"""Op name -> the function defined under :func:`autocast_op` with that name (for the tests
that check every policy entry names a real op)."""


class _Regions:
    # device type -> lower-precision dtype, for the device types a region is on for; read by
    # every listed op (a class attribute is the cheapest global), empty when none is
    enabled: dict = {}
    dtypes: dict = {device: getattr(dt, name) for device, name in DEFAULT_DTYPES.items()}
    cache_enabled = True
    nesting = 0
    # id(float32 leaf) -> (leaf, epoch of the cast, its lower-precision copy)
    cache: dict = {}


class Cast(Function):
    """Differentiable dtype conversion (``Tensor.to(dtype)``); the engine casts the gradient
    back to the input's dtype."""

    def forward(self, x, dtype):
        return _cast_raw(x, dtype)

    def backward(self, g):
        return g


def _check_device_type(fn: str, device_type) -> None:
    if device_type not in POLICIES:
        raise RuntimeError(f"{fn}: device_type={device_type!r} is not supported by autocast; "
                           f"expected one of {sorted(POLICIES)}")


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports ``device_type`` ("cpu" and "cuda")."""
    return device_type in POLICIES


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether an autocast region is on for ``device_type`` (PyTorch: "cuda" by default)."""
    _check_device_type("is_autocast_enabled", device_type)
    return device_type in _Regions.enabled


def autocast_active(device_type: str) -> bool:
    """Whether ops on ``device_type`` currently autocast (False inside a listed op)."""
    return device_type in _Regions.enabled


def get_autocast_dtype(device_type: str) -> dt.DType:
    """The lower-precision dtype autocast uses on ``device_type`` (default bfloat16 on "cpu",
    float16 on "cuda"; inside a region, the region's)."""
    _check_device_type("get_autocast_dtype", device_type)
    return _Regions.dtypes[device_type]


def set_autocast_dtype(device_type: str, dtype: dt.DType) -> None:
    """Set the dtype :func:`get_autocast_dtype` returns and regions use by default."""
    _check_device_type("set_autocast_dtype", device_type)
    _check_dtype(device_type, dtype)
    _Regions.dtypes[device_type] = dtype


def is_autocast_cache_enabled() -> bool:
    """Whether regions cache the lower-precision copies of float32 parameters."""
    return _Regions.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Turn the parameter cast cache on or off for regions entered afterwards."""
    _Regions.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Drop every cached lower-precision parameter copy (done when the outermost region ends)."""
    _Regions.cache.clear()


def _check_dtype(device_type: str, dtype) -> None:
    if not isinstance(dtype, dt.DType):
        raise TypeError(f"autocast: dtype={dtype!r}, expected a genesis dtype such as "
                        "genesis.bfloat16")


class autocast:  # noqa: N801 (PyTorch's name)
    """Run listed ops in lower precision: a context manager and a decorator.

    Args:
        device_type: ``"cpu"`` or ``"cuda"``; only ops on tensors of that device type cast.
        dtype: the lower-precision dtype (default :func:`get_autocast_dtype`: bfloat16 on
            CPU, float16 on CUDA). An unsupported one warns and disables the region, as in
            PyTorch.
        enabled: False turns autocast off inside (also inside an enclosing region).
        cache_enabled: cache each float32 parameter's lower-precision copy for the
            outermost region (default :func:`is_autocast_cache_enabled`).

    Ops named in PyTorch's lower-precision list (matmul, linear, conv*, ...) cast their
    floating inputs to ``dtype``; those in the float32 list (losses, ``prod``, and on CUDA
    softmax, the norms, exp, ...) to float32; the promote ops (``cat``, ``stack``, ...) to the
    widest input type. Parameters stay float32 and their gradients arrive in float32.

    Example::

        with genesis.autocast("cpu"):
            loss = loss_fn(model(x), y)   # matmuls in bfloat16, the loss in float32
        loss.backward()
    """

    def __init__(self, device_type: str, dtype: dt.DType | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise TypeError(f"autocast: device_type={device_type!r}, expected a string such "
                            "as 'cpu' or 'cuda'")
        _check_device_type("autocast", device_type)
        if not isinstance(enabled, bool):
            raise TypeError(f"autocast: enabled={enabled!r}, expected a bool")
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        _check_dtype(device_type, self.fast_dtype)
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None \
            else bool(cache_enabled)
        if enabled and self.fast_dtype.name not in SUPPORTED_DTYPES[device_type]:
            warnings.warn(f"In {device_type} autocast, but the target dtype "
                          f"{self.fast_dtype} is not supported. Disabling autocast. "
                          f"{device_type} autocast supports "
                          f"{', '.join(SUPPORTED_DTYPES[device_type])}.", stacklevel=2)
            enabled = False
        self._enabled = enabled

    def __enter__(self) -> autocast:
        self._prev = (dict(_Regions.enabled), _Regions.dtypes[self.device],
                      _Regions.cache_enabled)
        regions = dict(_Regions.enabled)
        if self._enabled:
            regions[self.device] = self.fast_dtype
        else:
            regions.pop(self.device, None)
        _Regions.enabled = regions
        _Regions.dtypes[self.device] = self.fast_dtype
        _Regions.cache_enabled = self._cache_enabled
        _Regions.nesting += 1
        return self

    def __exit__(self, *exc) -> None:
        _Regions.nesting -= 1
        if _Regions.nesting == 0:
            _Regions.cache.clear()
        _Regions.enabled, _Regions.dtypes[self.device], _Regions.cache_enabled = self._prev

    def __call__(self, fn: F) -> F:
        settings = (self.device, self.fast_dtype, self._enabled, self._cache_enabled)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(*settings):  # a fresh region per call: recursion nests correctly
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _device_type_of(args: tuple, kwargs: dict) -> str | None:
    """The device type of an op's first tensor argument (also inside a list, as for cat)."""
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor):
            return a.device.type
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], Tensor):
            return a[0].device.type
    return None


def _eligible(t, device_type: str) -> bool:
    return isinstance(t, Tensor) and t.device.type == device_type and \
        t.dtype.kind == dt.float32.kind and t.dtype is not dt.float64


def _widest(args: tuple, kwargs: dict, device_type: str, lower: dt.DType) -> dt.DType:
    """float32 when any eligible input is float32 (or another non-``lower`` float), else
    ``lower`` (PyTorch's ``promote_type``; float64 inputs are left out)."""
    for a in (*args, *kwargs.values()):
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            if _eligible(t, device_type) and t.dtype is not lower:
                return dt.float32
    return lower


def _cached_cast(t: Tensor, dtype: dt.DType, lower: dt.DType) -> Tensor:
    """``t`` cast to ``dtype``, once per outermost region for a float32 parameter: the copy
    is reused until the region ends, the parameter is written in place, or a backward pass
    has freed the copy's graph node."""
    if dtype is lower and t.dtype is dt.float32 and t.requires_grad and \
            t._ctx is None and t._base is None and _Regions.cache_enabled and \
            _GradState.enabled:
        hit = _Regions.cache.get(id(t))
        if hit is not None and hit[0] is t and not Versions.written_after(t.storage, hit[1]):
            node = hit[2]._ctx
            if node is not None and node.inputs is not None:
                return hit[2]
        out = Cast.apply(t, dtype)
        _Regions.cache[id(t)] = (t, Versions.epoch, out)
        return out
    return Cast.apply(t, dtype)


def _cast_args(args: tuple, kwargs: dict, dtype: dt.DType, device_type: str,
               lower: dt.DType) -> tuple:
    def cast(a):
        if isinstance(a, Tensor):
            return _cached_cast(a, dtype, lower) if _eligible(a, device_type) and \
                a.dtype is not dtype else a
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], Tensor):
            return type(a)(cast(t) for t in a)
        return a

    return tuple(cast(a) for a in args), {k: cast(v) for k, v in kwargs.items()}


def _run(name: str, policy: str, fn: Callable, device_type: str, args: tuple, kwargs: dict):
    lower = _Regions.enabled[device_type]
    if policy is BANNED:
        raise RuntimeError(_BCE_BANNED if name == "binary_cross_entropy" else
                           f"{name} is unsafe to autocast on {device_type!r}")
    if policy is not NATIVE:
        dtype = lower if policy is LOWER else dt.float32 if policy is FP32 else \
            _widest(args, kwargs, device_type, lower)
        args, kwargs = _cast_args(args, kwargs, dtype, device_type, lower)
    regions = _Regions.enabled
    _Regions.enabled = {}  # the op's own inner ops do not cast again (PyTorch excludes its key)
    try:
        return fn(*args, **kwargs)
    finally:
        _Regions.enabled = regions


def autocast_op(name: str, *variants: str,
                pick: Callable[..., str | None] | None = None) -> Callable[[F], F]:
    """Decorator: ``fn`` is the op PyTorch's autocast lists call ``name``; inside an autocast
    region it runs under that device type's policy for ``name``.

    An op that PyTorch dispatches to differently listed kernels by its arguments (``pad`` by
    mode and padded dims) names them as ``variants`` and passes ``pick(*args, **kwargs)``,
    which returns the one a call runs; a call whose kernel has no policy on the device
    follows ``name``'s.
    """
    names = (name, *variants)
    policies = {key: {device: table[key] for device, table in POLICIES.items() if key in table}
                for key in names}
    unknown = [key for key, found in policies.items() if not found]
    if unknown:
        raise KeyError(f"autocast_op: {unknown} in no autocast policy table "
                       f"(genesis._ops.autocast_policy)")
    fixed = None if pick else policies[name]

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def op(*args, **kwargs):
            if _Regions.enabled:
                device_type = _device_type_of(args, kwargs)
                key, policy = name, None
                if fixed is not None:
                    policy = fixed.get(device_type)
                else:
                    key = pick(*args, **kwargs)
                    policy = policies.get(key, {}).get(device_type)
                    if policy is None:
                        key, policy = name, policies[name].get(device_type)
                if policy is not None and device_type in _Regions.enabled:
                    return _run(key, policy, fn, device_type, args, kwargs)
            return fn(*args, **kwargs)

        for key in names:
            AUTOCAST_OPS[key] = op
        return op  # type: ignore[return-value]

    return decorate
