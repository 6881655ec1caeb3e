"""``pad`` (constant mode): grow or crop trailing dims."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from genesis._ops.creation import full
from genesis._ops.shape import cat
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor


def pad(input: Tensor, pad: tuple, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad with ``value`` (default 0): ``pad = (left, right)`` for the last dim, then
    ``(top, bottom)`` for the one before, and so on; negative amounts crop."""
    check_tensor("pad", "input", input)
    if mode != "constant":
        raise NotImplementedError(f"pad: mode={mode!r} is not supported; Genesis implements "
                                  "mode='constant'")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: pad={tuple(pad)} must have an even length of at most "
                         f"{2 * input.ndim} for a {input.ndim}-D input")
    out = input
    for i in range(len(pad) // 2):
        dim = input.ndim - 1 - i
        left, right = int(pad[2 * i]), int(pad[2 * i + 1])
        n = out.shape[dim]
        if left < 0 or right < 0:
            start, stop = max(-left, 0), n - max(-right, 0)
            if stop < start:
                raise ValueError(f"pad: pad={tuple(pad)} crops dimension {dim} of size {n} to a "
                                 "negative size")
            out = out.narrow(dim, start, stop - start)
        parts = []
        for amount in (max(left, 0), None, max(right, 0)):
            if amount is None:
                parts.append(out)
            elif amount:
                shape = out.shape[:dim] + (amount,) + out.shape[dim + 1:]
                parts.append(full(shape, 0 if value is None else value, dtype=out.dtype,
                                  device=out.device))
        out = cat(parts, dim) if len(parts) > 1 else out
    return out
