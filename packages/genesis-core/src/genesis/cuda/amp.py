"""``genesis.cuda.amp``: PyTorch's deprecated ``torch.cuda.amp`` spellings of autocast and
GradScaler on device type ``"cuda"``, kept so code written for them runs; each warns with
PyTorch's FutureWarning naming the ``genesis.amp`` form to use instead."""

from __future__ import annotations

import warnings

from genesis import _dtype as dt
from genesis.amp import GradScaler as _GradScaler
from genesis.amp import autocast as _autocast

__all__ = ["autocast", "GradScaler"]


class autocast(_autocast):  # noqa: N801 (PyTorch's name)
    """``genesis.amp.autocast("cuda", ...)`` (deprecated spelling, as in PyTorch).

    Args:
        enabled: False turns autocast off inside.
        dtype: the lower-precision dtype (default float16).
        cache_enabled: cache each float32 parameter's lower-precision copy.
    """

    def __init__(self, enabled: bool = True, dtype: dt.DType = dt.float16,
                 cache_enabled: bool = True) -> None:
        warnings.warn("`genesis.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`genesis.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_GradScaler):
    """``genesis.amp.GradScaler("cuda", ...)`` (deprecated spelling, as in PyTorch); the
    arguments are :class:`genesis.amp.GradScaler`'s after ``device``."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("`genesis.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`genesis.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)
