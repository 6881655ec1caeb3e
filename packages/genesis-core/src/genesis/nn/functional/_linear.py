"""``linear``: one autograd node for ``x @ W.T + b`` with a direct backward; ``bilinear``."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import math

from genesis._autograd.function import Function, ProductSaves
from genesis._ops.autocast import autocast_op
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


@autocast_op("linear")
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


@autocast_op("bilinear")
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]``.

    ``input1`` ``(*, in1)`` and ``input2`` ``(*, in2)`` share their leading dims (no
    broadcasting, as in PyTorch), ``weight`` is ``(out, in1, in2)``, ``bias`` ``(out,)``;
    the result is ``(*, out)``. Computed as one matmul and a product-sum.
    """
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        check_tensor("bilinear", name, t)
    if bias is not None:
        check_tensor("bilinear", "bias", bias)
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and "
                           f"{input2.ndim}")
    if input1.ndim == 0:
        raise IndexError("bilinear(): input1 and input2 are 0-D, expected at least 1 dim "
                         "(*, in_features)")
    for i, (a, b) in enumerate(zip(input1.shape[:-1], input2.shape[:-1])):
        if a != b:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: "
                               f"got {a} and {b}")
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight of shape {list(weight.shape)}, expected 3-D "
                           "(out_features, in1_features, in2_features)")
    n_out, n_in1, n_in2 = weight.shape
    for name, got, want in (("input1", input1.shape[-1], n_in1),
                            ("input2", input2.shape[-1], n_in2)):
        if got != want:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got {got} "
                               f"but expected {want}")
    if bias is not None and tuple(bias.shape) != (n_out,):
        raise RuntimeError(f"bilinear(): bias of shape {list(bias.shape)} does not match weight "
                           f"size: expected [{n_out}]")
    dtypes = [t.dtype for t in (input1, input2, weight, bias) if t is not None]
    if any(d is not dtypes[0] for d in dtypes):
        raise RuntimeError("bilinear(): all tensors must have the same dtype, got " + ", ".join(
            f"{name}: {t.dtype}" for name, t in (("input1", input1), ("input2", input2),
                                                 ("weight", weight), ("bias", bias))
            if t is not None))
    lead = tuple(input1.shape[:-1])
    rows = math.prod(lead)
    # x1 @ W viewed as (in1, out * in2), then the product-sum with x2 over in2
    mixed = input1.reshape(rows, n_in1) @ weight.permute(1, 0, 2).reshape(n_in1, n_out * n_in2)
    out = (mixed.reshape(rows, n_out, n_in2) * input2.reshape(rows, 1, n_in2)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (n_out,))
