"""``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d``, composites of im2col/col2im and matmul.

Convolution copies every window of the (padded) input once into ``(C * K, N * L)`` columns
(:class:`~genesis.nn.functional._fold.Im2col`) and multiplies them by the ``(O, C * K)``
weight: one matmul with contiguous operands (one batched matmul over the groups), whose
``(O, N * L)`` result is moved to ``(N, O, *out)`` by the bias add (or one copy). The
gradients come from autograd: the matmul's, and col2im for the columns.
Transposed convolution is the adjoint: ``(C_out * K, C_in) @ (C_in, N * L)`` columns summed
into the output by col2im, then cropped by ``padding``.
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from genesis._ops.autocast import autocast_op
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor
from genesis.nn.functional._fold import Col2im, Im2col, window_counts
from genesis.nn.functional._padding import pad as _pad

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "expand_param"]


def expand_param(fn: str, name: str, value, n: int) -> tuple:
    """An int or a sequence of ``n`` ints as an ``n``-tuple."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) and not isinstance(v, bool)
                                                for v in value):
        if len(value) == 1:
            return tuple(value) * n
        if len(value) == n:
            return tuple(value)
        raise RuntimeError(f"{fn}: expected {name} to be a single integer value or a list of "
                           f"{n} values to match the convolution dimensions, but got "
                           f"{name}={list(value)}")
    raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not "
                    f"{type(value).__name__}")


def _check_common(fn: str, input, weight, bias, n: int, groups, transposed: bool):
    check_tensor(fn, "input", input)
    check_tensor(fn, "weight", weight)
    if bias is not None:
        check_tensor(fn, "bias", bias)
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {fn}, "
                           f"but got input of size: {list(input.shape)}")
    if weight.ndim != n + 2:
        raise RuntimeError(f"{fn}: expected weight to be {n + 2}-dimensional, but got weight "
                           f"of size {list(weight.shape)}")
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    x = input if input.ndim == n + 2 else input.unsqueeze(0)
    if transposed:
        if weight.shape[0] != x.shape[1]:
            raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, "
                               f"expected input{list(x.shape)} to have {weight.shape[0]} "
                               f"channels, but got {x.shape[1]} channels instead")
        if weight.shape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                               f"{groups} at dimension 0, but got weight of size "
                               f"[{list(weight.shape)}] instead")
        out_channels = weight.shape[1] * groups
    else:
        if weight.shape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                               f"{groups} at dimension 0, but got weight of size "
                               f"[{list(weight.shape)}] instead")
        if weight.shape[1] * groups != x.shape[1]:
            raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                               f"expected input{list(x.shape)} to have "
                               f"{weight.shape[1] * groups} channels, but got {x.shape[1]} "
                               "channels instead")
        out_channels = weight.shape[0]
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    if x.dtype != weight.dtype:
        raise RuntimeError(f"Input type ({x.dtype}) and weight type ({weight.dtype}) should be "
                           "the same")
    return x


def _positive(values, what: str) -> None:
    if any(v <= 0 for v in values):
        raise RuntimeError(f"non-positive {what} is not supported")


def _conv(fn: str, n: int, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    x = _check_common(fn, input, weight, bias, n, groups, transposed=False)
    stride = expand_param(fn, "stride", stride, n)
    dilation = expand_param(fn, "dilation", dilation, n)
    _positive(stride, "stride")
    _positive(dilation, "dilation")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * n
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            pads = tuple((t // 2, t - t // 2) for t in total)
        else:
            raise RuntimeError(f"Invalid padding string: {padding!r}")
    else:
        p = expand_param(fn, "padding", padding, n)
        if any(v < 0 for v in p):
            raise RuntimeError("negative padding is not supported")
        pads = tuple((v, v) for v in p)
    size = tuple(s + a + b for s, (a, b) in zip(x.shape[2:], pads))
    out = window_counts(size, kernel, dilation, stride)
    if min(out) < 1:
        span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
        raise RuntimeError("Calculated padded input size per channel: "
                           f"({' x '.join(map(str, size))}). Kernel size: "
                           f"({' x '.join(map(str, span))}). Kernel size can't be greater than "
                           "actual input size")
    if any(a or b for a, b in pads):
        x = _pad(x, tuple(v for a, b in reversed(pads) for v in (a, b)))
    cols = Im2col.apply(x, kernel, dilation, stride)  # (C, *kernel, N, *out), contiguous
    batch, channels, out_channels = x.shape[0], x.shape[1], weight.shape[0]
    taps = _prod(kernel)
    rows = batch * _prod(out)
    if groups == 1:
        # (O, C*K) @ (C*K, N*L): the columns' gradient W^T @ g comes out contiguous in the
        # layout col2im adds from
        k = channels * taps
        y = weight.reshape(out_channels, k).matmul(cols.reshape(k, rows))
    else:
        cg, og = channels // groups, out_channels // groups
        y = weight.reshape(groups, og, cg * taps).matmul(cols.reshape(groups, cg * taps, rows))
    y = y.reshape(out_channels, batch, *out).transpose(0, 1)
    if bias is not None:
        y = y + bias.reshape(out_channels, *((1,) * n))
    else:
        y = y.contiguous()
    return y if input.ndim == n + 2 else y.squeeze(0)


def _prod(values) -> int:
    p = 1
    for v in values:
        p *= v
    return p


def _conv_transpose(fn: str, n: int, input, weight, bias, stride, padding, output_padding,
                    groups, dilation) -> Tensor:
    x = _check_common(fn, input, weight, bias, n, groups, transposed=True)
    stride = expand_param(fn, "stride", stride, n)
    dilation = expand_param(fn, "dilation", dilation, n)
    padding = expand_param(fn, "padding", padding, n)
    output_padding = expand_param(fn, "output_padding", output_padding, n)
    _positive(stride, "stride")
    _positive(dilation, "dilation")
    if any(v < 0 for v in padding):
        raise RuntimeError("negative padding is not supported")
    if any(v < 0 for v in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    names = ("depth", "height", "width")[3 - n:] if n > 1 else ("width",)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        parts = ([f"output_padding_{a}: {v}" for a, v in zip(names, output_padding)]
                 + [f"stride_{a}: {v}" for a, v in zip(names, stride)]
                 + [f"dilation_{a}: {v}" for a, v in zip(names, dilation)])
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(parts))
    kernel = tuple(weight.shape[2:])
    spatial = tuple(x.shape[2:])
    full = tuple((i - 1) * s + d * (k - 1) + 1 + op for i, s, d, k, op
                 in zip(spatial, stride, dilation, kernel, output_padding))
    out = tuple(f - 2 * p for f, p in zip(full, padding))
    if min(out) < 1 or min(spatial) < 1:
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, spatial))}). "
                           f"Calculated output size per channel: ({' x '.join(map(str, out))}). "
                           "Output size is too small")
    batch, cin = x.shape[0], x.shape[1]
    cout, taps = weight.shape[1] * groups, _prod(kernel)
    rows = batch * _prod(spatial)
    xr = x.transpose(0, 1).reshape(cin, rows)
    if groups == 1:
        cols = weight.reshape(cin, cout * taps).t().matmul(xr)  # (cout * K, rows)
    else:
        cg, og = cin // groups, weight.shape[1]
        cols = weight.reshape(groups, cg, og * taps).transpose(1, 2).matmul(
            xr.reshape(groups, cg, rows))  # (G, og * K, rows)
    cols = cols.reshape(cout, *kernel, batch, *spatial)
    y = Col2im.apply(cols, full, kernel, dilation, stride)  # (N, cout, *full)
    if any(padding):
        y = y[(slice(None), slice(None)) + tuple(slice(p, p + o) for p, o in zip(padding, out))]
    if bias is not None:
        y = y + bias.reshape(cout, *((1,) * n))
    return y if input.ndim == n + 2 else y.squeeze(0)


@autocast_op("conv1d")
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) of ``(N, C_in, L)`` with weight
    ``(C_out, C_in / groups, k)``; ``padding`` may be an int, a tuple, ``'valid'`` or
    ``'same'``."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@autocast_op("conv2d")
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of ``(N, C_in, H, W)`` with weight
    ``(C_out, C_in / groups, kh, kw)``; ``padding`` may be an int, a tuple, ``'valid'`` or
    ``'same'``."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@autocast_op("conv3d")
def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """3-D convolution (cross-correlation) of ``(N, C_in, D, H, W)`` with weight
    ``(C_out, C_in / groups, kd, kh, kw)``."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


@autocast_op("conv_transpose1d")
def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution of ``(N, C_in, L)`` with weight
    ``(C_in, C_out / groups, k)`` (the gradient of :func:`conv1d` with respect to its input)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


@autocast_op("conv_transpose2d")
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution of ``(N, C_in, H, W)`` with weight
    ``(C_in, C_out / groups, kh, kw)``."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


@autocast_op("conv_transpose3d")
def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """3-D transposed convolution of ``(N, C_in, D, H, W)`` with weight
    ``(C_in, C_out / groups, kd, kh, kw)``."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)
