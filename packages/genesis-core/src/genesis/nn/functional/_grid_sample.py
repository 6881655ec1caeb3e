"""``grid_sample`` (reading an image at arbitrary points) and ``affine_grid`` (the points of
an affine map), PyTorch's coordinate, padding and rounding rules.

Points are gathered from the flattened image with ``gather`` at integer taps computed from the
detached coordinates; the interpolation weights are differentiable functions of the grid, so
the gradient w.r.t. the grid is PyTorch's (zero through clamped coordinates, the mirror's
sign through reflected ones) and the one w.r.t. the input a scatter-add.
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import itertools
import warnings

import numpy as np

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import zeros
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor
from genesis.nn.functional._resample import CUBIC_A, _opmath

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners="
                  "False since 1.3.0. Please specify align_corners=True if the old behavior is "
                  "desired. See the documentation of grid_sample for details.")


@autocast_op("grid_sample")
def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear",
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` ``(N, C, H, W)`` at the points of ``grid`` ``(N, Ho, Wo, 2)``, given as
    ``(x, y)`` in ``[-1, 1]`` (``-1``: the left/top edge, or the first pixel's centre with
    ``align_corners=True``). Returns ``(N, C, Ho, Wo)``. Volumes: ``input`` ``(N, C, D, H, W)``,
    ``grid`` ``(N, Do, Ho, Wo, 3)`` of ``(x, y, z)``, ``"bilinear"`` meaning trilinear.

    ``mode``: ``"bilinear"``, ``"nearest"`` (round half to even) or ``"bicubic"`` (A = -0.75,
    padding applied to each of the 16 taps); ``padding_mode``: ``"zeros"`` (points outside
    read 0), ``"border"`` (clamped to the edge) or ``"reflection"`` (mirrored at the border).
    Differentiable in ``input`` and ``grid`` (nearest: a zero gradient for ``grid``).
    """
    check_tensor("grid_sample", "input", input)
    check_tensor("grid_sample", "grid", grid)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if input.ndim not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    k = input.ndim - 2
    if grid.ndim != input.ndim or grid.shape[-1] != k:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {k} in last dimension, "
                           f"but got grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and k != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.dtype is not input.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"grid_sample: input must be a floating-point tensor, got dtype "
                           f"{input.dtype}")
    n, c = input.shape[:2]
    sizes, out_sizes = tuple(input.shape[2:]), tuple(grid.shape[1:-1])
    if 0 in sizes:
        raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                           f"dimensions, but input has sizes {list(input.shape)}")
    points = int(np.prod(out_sizes))
    flat = input.reshape(n, c, int(np.prod(sizes)))
    grid_flat = grid.reshape(n, points, k)
    if mode == "bicubic":
        out = _bicubic(flat, grid_flat, sizes, padding_mode, align_corners)
        return out.reshape(n, c, *out_sizes)
    # grid's last dim is (x, y[, z]): the input's spatial dims in reverse
    coords = [_source_coordinate(grid_flat[..., k - 1 - d], sizes[d], padding_mode,
                                 align_corners) for d in range(k)]
    if mode == "nearest":
        out = _read(flat, [x.detach().round() for x in coords], sizes)
        return _ZeroGridGrad.apply(out.reshape(n, c, *out_sizes), grid)
    lows = [x.detach().floor() for x in coords]
    out = None
    for corner in itertools.product((0, 1), repeat=k):  # x fastest, as PyTorch sums them
        weight = None
        for d in reversed(range(k)):  # the x factor first, as PyTorch multiplies them
            f = (lows[d] + 1 - coords[d]) if corner[d] == 0 else (coords[d] - lows[d])
            weight = f if weight is None else weight * f
        part = _read(flat, [lo + b for lo, b in zip(lows, corner)], sizes) * weight.unsqueeze(1)
        out = part if out is None else out + part
    return out.reshape(n, c, *out_sizes)


class _ZeroGridGrad(Function):
    """Identity on the output that gives ``grid`` a zero gradient: nearest sampling is piecewise
    constant in the grid, and PyTorch returns zeros (not None) for it."""

    def forward(self, out, grid):
        self.shape, self.dtype, self.device = tuple(grid.shape), grid.dtype, grid.device
        return out.detach()

    def backward(self, g):
        return g, zeros(self.shape, dtype=self.dtype, device=self.device)


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _pad_taps(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """PyTorch's ``compute_coordinates`` on integer taps (no gradient flows through them)."""
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else \
            _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        coord = coord.clamp(0, size - 1)
    return coord


def _cubic_weights(t: Tensor) -> list:
    """PyTorch's cubic convolution coefficients (A = -0.75) for taps -1, 0, 1, 2."""
    a = CUBIC_A

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _bicubic(flat: Tensor, grid: Tensor, sizes: tuple, padding_mode: str,
             align_corners: bool) -> Tensor:
    """4 x 4 taps around ``floor`` of the unnormalised point; padding applies to each tap."""
    h, w = sizes
    ix = _unnormalize(grid[..., 0], w, align_corners)
    iy = _unnormalize(grid[..., 1], h, align_corners)
    x0, y0 = ix.detach().floor(), iy.detach().floor()
    wx, wy = _cubic_weights(ix - x0), _cubic_weights(iy - y0)
    xs = [_pad_taps(x0 + (j - 1), w, padding_mode, align_corners) for j in range(4)]
    ys = [_pad_taps(y0 + (i - 1), h, padding_mode, align_corners) for i in range(4)]
    out = None
    for i in range(4):
        row = None
        for j in range(4):
            part = _read(flat, [ys[i], xs[j]], sizes) * wx[j].unsqueeze(1)
            row = part if row is None else row + part
        part = row * wy[i].unsqueeze(1)
        out = part if out is None else out + part
    return out


def _source_coordinate(coord: Tensor, size: int, padding_mode: str,
                       align_corners: bool) -> Tensor:
    """Grid values -> pixel coordinates, then the padding's reflection / clamping (with
    PyTorch's gradients: 0 where a coordinate is clamped, the sign of each mirror)."""
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        limit = size - 1
        inside = (coord > 0) & (coord < limit)
        coord = coord.where(inside, coord.detach().clamp(0, limit))
    return coord


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    extra = coord.fmod(span)
    flips = (coord.detach() / span).floor()
    even = flips.fmod(2) == 0
    return (extra + low).where(even, span - extra + low)


def _read(flat: Tensor, coords: list, sizes: tuple) -> Tensor:
    """``flat[n, :, position]`` at integer-valued float coordinates ``(N, P)`` (one per spatial
    dim, in the input's order); 0 where a coordinate falls outside."""
    valid = index = None
    for coord, size in zip(coords, sizes):
        inside = (coord >= 0) & (coord <= size - 1)
        valid = inside if valid is None else valid & inside
        pos = coord.clamp(0, size - 1).to(dt.int64)
        index = pos if index is None else index * size + pos
    index = index.where(valid, 0)
    n, c, _ = flat.shape
    values = flat.gather(2, index.unsqueeze(1).expand(n, c, index.shape[1]))
    return values.where(valid.unsqueeze(1), 0.0)


def affine_grid(theta: Tensor, size: list | tuple, align_corners: bool | None = None) -> Tensor:
    """The sampling grid ``(N, H, W, 2)`` of the 2-D affine maps ``theta`` ``(N, 2, 3)`` for an
    output of ``size`` ``(N, C, H, W)``: ``grid[n, i, j] = theta[n] @ (x_j, y_i, 1)`` with
    ``x``, ``y`` the normalised pixel positions in ``[-1, 1]``; likewise ``(N, D, H, W, 3)``
    for 3-D maps ``(N, 3, 4)`` and a size ``(N, C, D, H, W)``. Differentiable in ``theta``.
    """
    check_tensor("affine_grid", "theta", theta)
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.ndim != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {list(theta.shape)}.")
    elif len(size) == 5:
        if theta.ndim != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {list(theta.shape)}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", stacklevel=2)
    if size[0] != theta.shape[0]:
        raise RuntimeError(f"affine_grid: size={size} has batch size {size[0]} but theta has "
                           f"{theta.shape[0]} matrices")
    n, spatial = size[0], size[2:]
    k = len(spatial)
    ftype = _opmath(theta.dtype)
    base = np.ones(tuple(spatial) + (k + 1,), dtype=ftype)
    for axis, steps in enumerate(spatial):  # last column of base: x (the last spatial dim)
        shape = [1] * k
        shape[axis] = steps
        base[..., k - 1 - axis] = _linspace_from_neg_one(steps, align_corners, ftype).reshape(
            shape)
    points = int(np.prod(spatial))
    grid = theta.new_tensor(base.reshape(1, points, k + 1), dtype=theta.dtype) @ \
        theta.transpose(1, 2)
    return grid.reshape(n, *spatial, k)


def _linspace_from_neg_one(steps: int, align_corners: bool, ftype) -> np.ndarray:
    if steps <= 1:
        return np.zeros(max(steps, 1), dtype=ftype)
    i = np.arange(steps)
    step = (ftype(1) - ftype(-1)) / ftype(steps - 1)
    # PyTorch's linspace fills the first half from the start and the second from the end
    values = np.where(i < steps // 2, ftype(-1) + step * i.astype(ftype),
                      ftype(1) - step * (steps - 1 - i).astype(ftype)).astype(ftype)
    if not align_corners:
        values = (values * ftype(steps - 1) / ftype(steps)).astype(ftype)
    return values
