"""``unfold`` / ``fold``: sliding blocks of a batched image as columns (im2col) and their
adjoint, summing columns back into an image (col2im).

The two are one pair of autograd nodes, each the other's backward, shared by convolution:
:class:`Im2col` reads every window of a zero-padded ``(N, C, *spatial)`` tensor through
strided views (``Tensor.unfold`` per spatial dim, a step for the dilation) and copies them once
into ``(C, *kernel, N, *out)`` (runs of the last output dim move together, and it is the
``(C * K, N * L)`` matrix the convolution's matmul reads transposed); :class:`Col2im` adds
such columns back with one strided in-place add per kernel offset and drops the padding.
A backend may run either as one fused kernel (``"im2col"``/``"col2im"``), padding included.
"""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import itertools

from genesis._autograd.function import Function
from genesis._autograd.grad_mode import no_grad
from genesis._ops.creation import zeros
from genesis._ops.fused import fused_kernel, wrap
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor
from genesis.nn.functional._padding import pad as _pad

__all__ = ["Col2im", "Im2col", "fold", "unfold", "window_counts"]


def _names(n: int) -> tuple:
    return ("depth", "height", "width")[3 - n:] if n <= 3 else tuple(f"dim{i}" for i in range(n))


def window_counts(size, kernel, dilation, stride) -> tuple:
    """How many windows fit along each dim (may be <= 0: callers raise their own error)."""
    return tuple((s - d * (k - 1) - 1) // st + 1
                 for s, k, d, st in zip(size, kernel, dilation, stride))


def _windows(x: Tensor, kernel, dilation, stride, out) -> Tensor:
    """The first ``out`` windows along each dim of ``x`` ``(N, C, *spatial)`` as a strided
    view ``(C, *kernel, N, *out)``."""
    n = len(kernel)
    w = x
    for d, (k, dil, st) in enumerate(zip(kernel, dilation, stride)):
        w = w.unfold(2 + d, dil * (k - 1) + 1, st)
        if w.shape[2 + d] != out[d]:
            w = w.narrow(2 + d, 0, out[d])
    if any(d != 1 for d in dilation):
        w = w[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)]
    # (N, C, *out, *kernel) -> (C, *kernel, N, *out): the copy then moves runs of the last
    # output dim, contiguous in the input when the stride is 1
    return w.permute(1, *range(2 + n, 2 + 2 * n), 0, *range(2, 2 + n))


def _after(size, kernel, dilation, stride, before, out) -> tuple:
    """The padding past the end that the last of ``out`` windows reaches (0 inside)."""
    return tuple(max(0, (o - 1) * st + d * (k - 1) + 1 - s - b)
                 for s, k, d, st, b, o in zip(size, kernel, dilation, stride, before, out))


class Im2col(Function):
    """``(N, C, *size)`` -> contiguous ``(C, *kernel, N, *out)``: the first ``out`` windows
    per dim of the input zero-padded by ``padding`` before each dim (and past the end as far
    as they reach), copied once; reshaped ``(C * K, N * L)``. Runs the backend's ``"im2col"``
    fused kernel when it declares one."""

    def forward(self, x, kernel, dilation, stride, padding, out):
        self.size, self.kernel = tuple(x.shape[2:]), tuple(kernel)
        self.dilation, self.stride = tuple(dilation), tuple(stride)
        self.padding, self.out = tuple(padding), tuple(out)
        kern = fused_kernel("im2col", x)
        if kern is not None:
            cols = kern(x, self.kernel, self.dilation, self.stride, self.padding, self.out)
            return wrap(cols, (x.shape[1], *self.kernel, x.shape[0], *self.out), x)
        after = _after(self.size, self.kernel, self.dilation, self.stride, self.padding,
                       self.out)
        with no_grad():
            if any(self.padding) or any(after):
                x = _pad(x, tuple(v for b, a in zip(reversed(self.padding), reversed(after))
                                  for v in (b, a)))
            return _windows(x, self.kernel, self.dilation, self.stride, self.out).contiguous()

    def backward(self, g):
        return Col2im.apply(g, self.size, self.kernel, self.dilation, self.stride, self.padding)


class Col2im(Function):
    """Columns ``(C, *kernel, N, *out)`` (any strides) summed into ``(N, C, *size)``: each
    kernel offset's ``(C, N, *out)`` slab is added, in place, to the strided positions of the
    image padded by ``padding`` before each dim that it was read from; the padding is then
    dropped. Runs the backend's ``"col2im"`` fused kernel when it declares one."""

    def forward(self, cols, size, kernel, dilation, stride, padding):
        n = len(kernel)
        self.kernel, self.dilation, self.stride = tuple(kernel), tuple(dilation), tuple(stride)
        self.padding, size = tuple(padding), tuple(size)
        channels, batch, out = cols.shape[0], cols.shape[1 + n], tuple(cols.shape[2 + n:])
        self.out = out
        kern = fused_kernel("col2im", cols)
        if kern is not None and 0 not in cols.shape:
            image = kern(cols, size, self.kernel, self.dilation, self.stride, self.padding)
            return wrap(image, (batch, channels, *size), cols)
        after = _after(size, kernel, dilation, stride, self.padding, out)
        padded = tuple(s + b + a for s, b, a in zip(size, self.padding, after))
        with no_grad():
            image = zeros((batch, channels, *padded), dtype=cols.dtype, device=cols.device)
            if 0 in cols.shape:
                return image
            cols = cols.contiguous()
            target = image.transpose(0, 1)  # (C, N, *padded), a view
            for offset in itertools.product(*(range(k) for k in kernel)):
                where = tuple(slice(i * d, i * d + st * (o - 1) + 1, st)
                              for i, d, st, o in zip(offset, dilation, stride, out))
                target[(slice(None), slice(None)) + where].add_(cols[(slice(None),) + offset])
        if any(self.padding) or any(after):
            image = image[(slice(None), slice(None))
                          + tuple(slice(b, b + s) for b, s in zip(self.padding, size))]
        return image

    def backward(self, g):
        return Im2col.apply(g, self.kernel, self.dilation, self.stride, self.padding, self.out)


def _pair(fn: str, name: str, value, n: int = 2) -> tuple:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) and not isinstance(v, bool)
                                                for v in value):
        if len(value) != n:
            raise RuntimeError(f"It is expected {name} equals to {n}, but got size {len(value)}")
        return tuple(value)
    raise TypeError(f"{fn}: {name}={value!r}, expected an int or a tuple of {n} ints")


def _check_block_args(kernel, dilation, padding, stride) -> None:
    for label, values, ok in (("kernel size", kernel, "greater than zero"),
                              ("dilation", dilation, "greater than zero"),
                              ("stride", stride, "greater than zero"),
                              ("padding", padding, "non-negative")):
        if any(v < 0 if label == "padding" else v <= 0 for v in values):
            short = {"kernel size": "kernel", "padding": "pad"}.get(label, label)
            raise RuntimeError(f"{label} should be {ok}, but got {short}_height: {values[0]} "
                               f"{short}_width: {values[1]}")


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding local blocks: ``(N, C, H, W)`` -> ``(N, C * kh * kw, L)`` (or the
    unbatched ``(C, H, W)`` -> ``(C * kh * kw, L)``), ``L`` the number of blocks."""
    check_tensor("unfold", "input", input)
    kernel = _pair("unfold", "kernel_size", kernel_size)
    dilation, padding = _pair("unfold", "dilation", dilation), _pair("unfold", "padding", padding)
    stride = _pair("unfold", "stride", stride)
    if input.ndim < 3:  # torch fails indexing the missing dim: IndexError
        raise IndexError(f"unfold: expected a 3D (unbatched) or 4D input, got input of size "
                         f"{list(input.shape)}: dimension {input.ndim} is out of range")
    if input.ndim > 4:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {list(input.shape)}")
    _check_block_args(kernel, dilation, padding, stride)
    batched = input.ndim == 4
    x = input if batched else input.unsqueeze(0)
    size = tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    out = window_counts(size, kernel, dilation, stride)
    if min(out) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(x.shape[2:])}, kernel_size="
                           f"{kernel}, dilation={dilation}, padding={padding}, calculated shape "
                           f"of the array of sliding blocks as {out}, but its components must "
                           "be at least one.")
    cols = Im2col.apply(x, kernel, dilation, stride, padding, out)  # (C, kh, kw, N, oh, ow)
    n, c = x.shape[0], x.shape[1]
    cols = cols.permute(3, 0, 1, 2, 4, 5).reshape(n, c * kernel[0] * kernel[1], out[0] * out[1])
    return cols if batched else cols.squeeze(0)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding local blocks into an image: ``(N, C * kh * kw, L)`` -> ``(N, C, *output_size)``
    (or unbatched ``(C * kh * kw, L)`` -> ``(C, *output_size)``); the adjoint of
    :func:`unfold`."""
    check_tensor("fold", "input", input)
    size = _pair("fold", "output_size", output_size)
    kernel = _pair("fold", "kernel_size", kernel_size)
    dilation, padding = _pair("fold", "dilation", dilation), _pair("fold", "padding", padding)
    stride = _pair("fold", "stride", stride)
    if input.ndim not in (2, 3):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           "batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    _check_block_args(kernel, dilation, padding, stride)
    if any(s <= 0 for s in size):
        raise RuntimeError(f"output size should be greater than zero, but got output_height: "
                           f"{size[0]} output_width: {size[1]}")
    batched = input.ndim == 3
    x = input if batched else input.unsqueeze(0)
    k = kernel[0] * kernel[1]
    if x.shape[1] % k:
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={kernel}.")
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    out = window_counts(padded, kernel, dilation, stride)
    if min(out) < 1 or out[0] * out[1] != x.shape[2]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={kernel}, dilation="
                           f"{dilation}, padding={padding}, stride={stride}, expected size of "
                           "input's dimension 2 to match the calculated number of sliding "
                           f"blocks {out[0]} * {out[1]} = {out[0] * out[1]}, but got "
                           f"input.size(2)={x.shape[2]}.")
    n, c = x.shape[0], x.shape[1] // k
    cols = x.reshape(n, c, kernel[0], kernel[1], out[0], out[1]).permute(1, 2, 3, 0, 4, 5)
    image = Col2im.apply(cols, size, kernel, dilation, stride, padding)
    return image if batched else image.squeeze(0)
