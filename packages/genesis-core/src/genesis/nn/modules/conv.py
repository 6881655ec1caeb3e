"""``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d`` with PyTorch's parameters and init."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from genesis._ops.creation import empty
from genesis._tensor import Tensor
from genesis.nn import functional as F
from genesis.nn import init
from genesis.nn.functional._conv import expand_param
from genesis.nn.modules.module import Module
from genesis.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d"]

PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}


class _ConvNd(Module):
    """What every convolution module shares: arguments checked as PyTorch checks them,
    ``weight`` ``(out, in / groups, *k)`` (transposed: ``(in, out / groups, *k)``) and
    ``bias`` ``(out,)``, both initialised as PyTorch does (``kaiming_uniform_(a=sqrt(5))``,
    bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)))."""

    _n = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 output_padding=0, device=None, dtype=None) -> None:
        super().__init__()
        name, n = type(self).__name__, self._n
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}: {arg}={value!r}, expected a non-negative int")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {PADDING_MODES}, but got "
                             f"padding_mode='{padding_mode}'")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = expand_param(name, "kernel_size", kernel_size, n)
        self.stride = expand_param(name, "stride", stride, n)
        self.dilation = expand_param(name, "dilation", dilation, n)
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        self.padding = padding if isinstance(padding, str) else expand_param(
            name, "padding", padding, n)
        self.output_padding = expand_param(name, "output_padding", output_padding, n)
        self.transposed, self.groups, self.padding_mode = self._transposed, groups, padding_mode
        if padding == "valid":
            self._reversed_padding_repeated_twice = [0, 0] * n
        elif padding == "same":
            self._reversed_padding_repeated_twice = [0] * (2 * n)
            for i, (d, k) in enumerate(zip(self.dilation, self.kernel_size)):
                total = d * (k - 1)
                left = total // 2
                self._reversed_padding_repeated_twice[2 * (n - 1 - i)] = left
                self._reversed_padding_repeated_twice[2 * (n - 1 - i) + 1] = total - left
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(self.padding)
                                                     for _ in range(2)]
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(empty(*shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._default_layer_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.kernel_size):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)


class _Conv(_ConvNd):
    _fn = staticmethod(F.conv2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        if self.padding_mode != "zeros":
            return self._fn(F.pad(input, tuple(self._reversed_padding_repeated_twice),
                                  mode=self.padding_mode),
                            weight, bias, self.stride, 0, self.dilation, self.groups)
        return self._fn(input, weight, bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over ``(N, C_in, L)``; weight ``(out_channels, in_channels / groups,
    kernel_size)``."""

    _n = 1
    _fn = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution over ``(N, C_in, H, W)``; weight ``(out_channels, in_channels /
    groups, kh, kw)``."""

    _n = 2
    _fn = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-D convolution over ``(N, C_in, D, H, W)``; weight ``(out_channels, in_channels /
    groups, kd, kh, kw)``."""

    _n = 3
    _fn = staticmethod(F.conv3d)


class _ConvTranspose(_ConvNd):
    _transposed = True
    _fn = staticmethod(F.conv_transpose2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        if isinstance(padding, str):
            raise TypeError(f"{type(self).__name__}: padding={padding!r}, expected an int or "
                            "a tuple of ints (no string padding for transposed convolution)")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The ``output_padding`` that makes the output ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        n = self._n
        has_batch = input.ndim == n + 2
        size = list(output_size)
        if len(size) == n + (2 if has_batch else 1):
            size = size[-n:]
        if len(size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must "
                             f"have {n} or {n + (2 if has_batch else 1)} elements (got "
                             f"{len(size)})")
        spatial = input.shape[-n:]
        smallest = [(spatial[d] - 1) * self.stride[d] - 2 * self.padding[d]
                    + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        largest = [s + self.stride[d] - 1 for d, s in enumerate(smallest)]
        for d in range(n):
            if not smallest[d] <= size[d] <= largest[d]:
                raise ValueError(f"requested an output size of {tuple(size)}, but valid sizes "
                                 f"range from {smallest} to {largest} (for an input of "
                                 f"{tuple(spatial)})")
        return tuple(size[d] - smallest[d] for d in range(n))

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        output_padding = self._output_padding(input, output_size)
        return self._fn(input, self.weight, self.bias, self.stride, self.padding,
                        output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution; weight ``(in_channels, out_channels / groups,
    kernel_size)``; ``forward(input, output_size=None)``."""

    _n = 1
    _fn = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution; weight ``(in_channels, out_channels / groups, kh, kw)``;
    ``forward(input, output_size=None)``."""

    _n = 2
    _fn = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution; weight ``(in_channels, out_channels / groups, kd, kh,
    kw)``; ``forward(input, output_size=None)``."""

    _n = 3
    _fn = staticmethod(F.conv_transpose3d)
