"""``interpolate`` (and the ``upsample*`` aliases): resampling of the spatial dims of a
``(N, C, *spatial)`` tensor with PyTorch's source-index rules.

Every mode is separable: along one spatial dim, output position ``i`` reads a few input
positions (taps) with weights that depend only on the sizes, the scale and ``align_corners``.
The taps are computed on the host (numpy, in the precision PyTorch's CPU kernels use) and
applied with ``index_select`` and a broadcast multiply, one dim after the other, so the
gradient (a scatter-add over the taps) comes from those ops' backward rules.
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import warnings

import numpy as np

from genesis import _dtype as dt
from genesis._ops.autocast import autocast_op
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor

MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR_DIMS = {"linear": 3, "bilinear": 4, "trilinear": 5}
CUBIC_A = -0.75  # PyTorch's bicubic coefficient


_KERNELS = {"nearest": "upsample_nearest{}d", "nearest-exact": "_upsample_nearest_exact{}d",
            "linear": "upsample_linear{}d", "bilinear": "upsample_bilinear{}d",
            "trilinear": "upsample_trilinear{}d", "bicubic": "upsample_bicubic{}d"}


def _upsample_kernel(input, size=None, scale_factor=None, mode="nearest", *args,
                     **kwargs) -> str | None:
    """The ATen kernel PyTorch's autocast sees for an ``interpolate`` call ("area" runs an
    adaptive average pool, in no autocast list)."""
    kernel = _KERNELS.get(mode)
    return kernel.format(input.ndim - 2) if kernel else None


@autocast_op("interpolate", "upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d",
             "_upsample_nearest_exact1d", "_upsample_nearest_exact2d",
             "_upsample_nearest_exact3d", "upsample_linear1d", "upsample_bilinear2d",
             "upsample_trilinear3d", "upsample_bicubic2d", pick=_upsample_kernel)
def interpolate(input: Tensor, size: int | tuple | list | None = None,
                scale_factor: float | tuple | list | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of ``input`` (3-D ``(N, C, L)``, 4-D ``(N, C, H, W)`` or 5-D
    ``(N, C, D, H, W)``) to ``size`` or by ``scale_factor``.

    ``mode``: ``"nearest"`` (PyTorch's legacy floor rule), ``"nearest-exact"`` (pixel centres),
    ``"linear"`` (3-D), ``"bilinear"`` (4-D), ``"bicubic"`` (4-D, A = -0.75, edge taps
    clamped), ``"trilinear"`` (5-D), ``"area"`` (adaptive average pooling). ``align_corners``
    (interpolating modes only) maps the corner pixels of input and output onto each other.
    With ``scale_factor`` and no ``recompute_scale_factor``, the given scale (not the size
    ratio) places the samples, as in PyTorch. ``antialias=True`` is not supported.
    """
    check_tensor("interpolate", "input", input)
    if mode not in MODES:
        raise NotImplementedError(f"interpolate: mode={mode!r} is not supported, expected one "
                                  f"of {MODES}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if antialias:
        if not (mode in ("bilinear", "bicubic") and input.ndim == 4):
            raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                             "modes and requires a 4-D tensor as input")
        raise NotImplementedError(f"interpolate: antialias=True (mode={mode!r}) is not "
                                  "supported by Genesis; pass antialias=False")
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if mode in _LINEAR_DIMS and input.ndim != _LINEAR_DIMS[mode]:
        wanted = {3: "linear", 4: "bilinear", 5: "trilinear"}[input.ndim]
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR_DIMS[mode]}D input (use mode={wanted!r})")
    if mode == "bicubic" and input.ndim != 4:
        raise NotImplementedError(f"Got {input.ndim}D input, but bicubic mode needs 4D input")
    if not input.dtype.is_floating_point and not (
            input.dtype is dt.uint8 and mode in ("nearest", "nearest-exact")):
        raise NotImplementedError(f"interpolate: mode={mode!r} is not implemented for dtype "
                                  f"{input.dtype} (floating-point inputs, and uint8 with the "
                                  "nearest modes, are)")
    in_sizes = tuple(input.shape[2:])
    out_sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor, mode)
    for n, o in zip(in_sizes, out_sizes):
        if n <= 0 or o <= 0:
            raise RuntimeError(f"interpolate: input spatial sizes {list(in_sizes)} and output "
                               f"sizes {list(out_sizes)} must all be greater than 0")
    out = input
    for axis, (n, o, s) in enumerate(zip(in_sizes, out_sizes, scales)):
        out = _resample_dim(out, axis + 2, n, o, s, mode, align_corners)
    return out


def _output_sizes(input: Tensor, size, scale_factor, recompute_scale_factor, mode):
    """The output sizes and the per-dim scales the kernels see (None: use the size ratio)."""
    dim = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dim
        if len(sizes) != dim:
            raise ValueError(f"Input and output must have the same number of spatial dimensions,"
                             f" but got input with spatial dimensions of {spatial} and output "
                             f"size of {size}. Please provide input tensor in (N, C, d1, d2, ..."
                             ",dK) format and output size in (o1, o2, ...,oK) format.")
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                            f"Tuple[int, int, int], but got size with types "
                            f"{[type(s) for s in sizes]}")
        return [int(s) for s in sizes], [None] * dim
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    factors = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else \
        [scale_factor] * dim
    if len(factors) != dim:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of {spatial} and "
                         f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                         "(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                         "format.")
    factors = [float(f) for f in factors]
    sizes = [int(n * f) for n, f in zip(spatial, factors)]  # truncation, as PyTorch
    if mode == "area" or recompute_scale_factor:
        return sizes, [None] * dim
    return sizes, factors


def _resample_dim(x: Tensor, axis: int, n: int, o: int, scale, mode: str,
                  align_corners) -> Tensor:
    if mode == "area":
        return _area_dim(x, axis, n, o)
    taps = _taps(n, o, scale, mode, align_corners, _opmath(x.dtype))
    if len(taps) == 1 and taps[0][1] is None and np.array_equal(taps[0][0], np.arange(n)):
        return x  # the identity (same size, nearest)
    bshape = [1] * x.ndim
    bshape[axis] = o
    out = None
    for idx, weight in taps:
        part = x.index_select(axis, x.new_tensor(idx, dtype=dt.int64))
        if weight is not None:
            part = part * x.new_tensor(weight.reshape(bshape), dtype=x.dtype)
        out = part if out is None else out + part
    return out


def _opmath(dtype) -> type:
    """The precision of PyTorch's index and weight arithmetic for ``dtype``."""
    return np.float64 if dtype is dt.float64 else np.float32


def _scale(n: int, o: int, scale, align_corners: bool, ftype) -> np.floating:
    """``area_pixel_compute_scale``: input step per output step."""
    if align_corners:
        return ftype(n - 1) / ftype(o - 1) if o > 1 else ftype(0)
    return ftype(1.0 / scale) if scale is not None and scale > 0 else ftype(n) / ftype(o)


def _taps(n: int, o: int, scale, mode: str, align_corners, ftype) -> list:
    """``[(input index per output position, weight per output position or None), ...]``."""
    dst = np.arange(o)
    if mode in ("nearest", "nearest-exact"):
        s = np.float32(1.0 / scale) if scale is not None and scale > 0 else \
            np.float32(n) / np.float32(o)
        pos = dst.astype(np.float32)
        if mode == "nearest-exact":
            pos = pos + np.float32(0.5)
        return [(np.minimum(np.floor(pos * s).astype(np.int64), n - 1), None)]
    cubic = mode == "bicubic"
    if o == n and not cubic:  # PyTorch's linear kernels copy a dim whose size is unchanged,
        return [(dst, None)]  # whatever the scale (its bicubic kernel does not)
    s = _scale(n, o, scale, align_corners, ftype)
    pos = dst.astype(ftype)
    if align_corners:
        src = s * pos
    else:
        src = s * (pos + ftype(0.5)) - ftype(0.5)
        if not cubic:
            src = np.maximum(src, ftype(0))
    # guard_index_and_lambda
    idx = np.minimum(np.floor(src).astype(np.int64), n - 1)
    lam = np.clip(src - idx.astype(ftype), ftype(0), ftype(1)).astype(ftype)
    if not cubic:
        nxt = idx + (idx < n - 1)
        return [(idx, (ftype(1) - lam).astype(ftype)), (nxt, lam)]
    a = ftype(CUBIC_A)

    def near(t):  # |t| <= 1
        return ((a + 2) * t - (a + 3)) * t * t + 1

    def far(t):  # 1 < |t| < 2
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a

    one = ftype(1)
    weights = (far(lam + one), near(lam), near(one - lam), far(ftype(2) - lam))
    return [(np.clip(idx - 1 + j, 0, n - 1), w.astype(ftype)) for j, w in enumerate(weights)]


def _area_dim(x: Tensor, axis: int, n: int, o: int) -> Tensor:
    """Adaptive average pooling along ``axis``: output ``i`` averages input positions
    ``[floor(i n / o), ceil((i + 1) n / o))`` (a matrix product with the averaging matrix)."""
    if n == o:
        return x
    start = (np.arange(o) * n) // o
    stop = -((-(np.arange(o) + 1) * n) // o)
    mat = np.zeros((n, o))
    for i in range(o):
        mat[start[i]:stop[i], i] = 1.0 / (stop[i] - start[i])
    moved = x.movedim(axis, -1)
    return (moved @ x.new_tensor(mat, dtype=x.dtype)).movedim(-1, axis)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of :func:`interpolate` (warns, as PyTorch does)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(..., mode="nearest")``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(..., mode="bilinear", align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["interpolate", "upsample", "upsample_bilinear", "upsample_nearest"]
