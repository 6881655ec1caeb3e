"""``linear``: one autograd node for ``x @ W.T + b`` with a direct backward."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from genesis._autograd.function import Function, ProductSaves
from genesis._ops.elementwise import binary_raw
from genesis._ops.linalg import matmul_raw
from genesis._ops.shape import reshape_raw, transpose_raw
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor


class Linear(ProductSaves, Function):
    """``y = x @ W.T + b`` over the last dim of ``x``; W.T is a stride view, never a copy.

    Backward: ``dx = g @ W``, ``dW = g.T @ x``, ``db = g.sum(0)`` (batch dims flattened).
    """

    def forward(self, x, weight, bias):
        self.x, self.weight = x, weight
        n_out, n_in = weight.shape
        x2 = x if x.ndim == 2 else reshape_raw(x, (x.numel() // n_in if n_in else 0, n_in))
        out = matmul_raw(x2, transpose_raw(weight, 0, 1))
        if bias is not None:
            binary_raw("add", out, bias, out=out)
        return out if x.ndim == 2 else reshape_raw(out, x.shape[:-1] + (n_out,))

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad
        x, weight = self.x, self.weight
        g2 = g if g.ndim == 2 else g.reshape(-1, weight.shape[0])
        gx = gw = gb = None
        if need_x:
            gx = g2 @ weight
            gx = gx if x.ndim == 2 else gx.reshape(x.shape)
        if need_w:
            gw = g2.t() @ (x if x.ndim == 2 else x.reshape(-1, weight.shape[1]))
        if need_b:
            gb = g2.sum(0)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: ``input`` ``(*, in)``, ``weight`` ``(out, in)``,
    ``bias`` ``(out,)`` or None; the result is ``(*, out)``."""
    check_tensor("linear", "input", input)
    check_tensor("linear", "weight", weight)
    if weight.ndim != 2:
        raise RuntimeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                           f"{tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"linear: input shape {tuple(input.shape)} cannot be multiplied by "
                           f"weight.T (weight shape {tuple(weight.shape)}): expected "
                           f"input.shape[-1] == {weight.shape[1]}")
    if bias is not None:
        check_tensor("linear", "bias", bias)
        if bias.shape not in ((weight.shape[0],), ()):
            raise RuntimeError(f"linear: bias shape {tuple(bias.shape)}, expected "
                               f"({weight.shape[0]},)")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype is not input.dtype:
            raise RuntimeError(f"linear: input and {name} must have the same dtype, but got "
                               f"{input.dtype} and {t.dtype}")
    if input.ndim == 1:
        return Linear.apply(input.unsqueeze(0), weight, bias).squeeze(0)
    return Linear.apply(input, weight, bias)
