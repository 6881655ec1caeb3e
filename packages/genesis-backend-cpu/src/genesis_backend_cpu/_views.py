"""numpy views of genesis views: a view's ndarray over its storage, dtype mapping."""

from __future__ import annotations

import ml_dtypes
import numpy as np
from genesis.backends.layout import contiguous_strides

_NP_DTYPES: dict = {}


def np_dtype(dtype) -> np.dtype:
    d = _NP_DTYPES.get(dtype)
    if d is None:
        d = np.dtype(ml_dtypes.bfloat16) if dtype.name == "bfloat16" else np.dtype(dtype.name)
        _NP_DTYPES[dtype] = d
    return d


def arr(v) -> np.ndarray:
    """The ndarray for a view (the storage itself when the view covers all of it).

    Memoized in the view's ``_cache`` slot, checked against the current storage.
    """
    s = v.storage
    h = getattr(v, "_cache", None)
    if h is not None and (h is s or h.base is s):
        return h
    if v.offset == 0 and s.shape == v.shape and v.strides == contiguous_strides(v.shape):
        h = s
    elif 0 in v.shape:  # an empty view may sit at any offset, even past the storage's end
        h = np.ndarray(v.shape, s.dtype, s, 0, (0,) * len(v.shape))
    else:
        item = s.itemsize
        h = np.ndarray(v.shape, s.dtype, s, v.offset * item, tuple(x * item for x in v.strides))
    try:
        v._cache = h
    except AttributeError:  # a view object without the slot: no memo
        pass
    return h
