"""``Upsample`` and its fixed-mode forms ``UpsamplingNearest2d`` / ``UpsamplingBilinear2d``."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from genesis._tensor import Tensor
from genesis.nn import functional as F
from genesis.nn.modules.module import Module

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]


class Upsample(Module):
    """:func:`genesis.nn.functional.interpolate` as a layer (same arguments, no parameters)."""

    def __init__(self, size: int | tuple | None = None, scale_factor: float | tuple | None = None,
                 mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    """The fixed-mode form ``Upsample(mode="nearest")`` for 4-D inputs."""

    def __init__(self, size: int | tuple | None = None,
                 scale_factor: float | tuple | None = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """The fixed-mode form ``Upsample(mode="bilinear", align_corners=True)``."""

    def __init__(self, size: int | tuple | None = None,
                 scale_factor: float | tuple | None = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
