"""Normalisation: layer_norm (one node, closed-form backward), rms_norm, batch_norm, normalize."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from genesis._autograd.function import Function
from genesis._autograd.grad_mode import _State, no_grad
from genesis._ops.autocast import autocast_op
from genesis._ops.fused import fused_kernel, wrap
from genesis._tensor import Tensor
from genesis.nn.functional._checks import check_tensor, wrap_dim
from genesis.nn.functional._distance import vector_norm

#: ``torch.finfo(dtype).eps`` for the floating dtypes (RMSNorm's default eps)
FINFO_EPS = {"float32": 1.1920928955078125e-07, "float64": 2.220446049250313e-16,
             "float16": 0.0009765625, "bfloat16": 0.0078125}


def _normalized_axes(fn: str, input: Tensor, normalized_shape) -> tuple:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or k > input.ndim or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"{fn}: normalized_shape={list(shape)} does not match the trailing "
                           f"dimensions of input of shape {list(input.shape)}")
    return tuple(range(input.ndim - k, input.ndim))


def _stats(x: Tensor, axes: tuple, eps: float) -> tuple:
    mean = x.mean(axes, keepdim=True)
    xc = x - mean
    rstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    return xc * rstd, rstd, mean


class LayerNorm(Function):
    """``(x - mean) * rstd * w + b`` over the trailing ``axes``.

    Backward: ``dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat))`` with ``gw = g * w``,
    ``dw = sum(g * xhat)``, ``db = sum(g)`` over the leading dims.
    """
    saves = (0, 1)

    def forward(self, x, weight, bias, axes, eps):
        self.x, self.weight, self.axes, self.eps = x, weight, axes, eps
        self.fused = len(axes) == 1 and fused_kernel("layer_norm", x)
        if self.fused:
            y, mean, rstd = self.fused(x, weight, bias, eps)
            kept = x.shape[:-1] + (1,)
            self.mean, self.rstd = wrap(mean, kept, x), wrap(rstd, kept, x)
            return wrap(y, x.shape, x)
        self.xhat, self.rstd, _ = _stats(x.detach(), axes, eps)
        y = self.xhat
        if weight is not None:
            y = y * weight.detach()
        if bias is not None:
            y = y + bias.detach()
        return y

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad[:3]
        x, weight, axes = self.x, self.weight, self.axes
        if self.fused and not _State.enabled:
            kernel = fused_kernel("layer_norm_backward", x)
            if kernel is not None:
                return self._fused_backward(kernel, g)
        if self.fused or _State.enabled:  # recompute differentiably (double backward) or unfused
            xhat, rstd, _ = _stats(x, axes, self.eps)
        else:
            xhat, rstd = self.xhat, self.rstd
        lead = tuple(range(x.ndim - len(axes)))
        gx = gw = gb = None
        if need_x:
            gxhat = g * weight if weight is not None else g
            gx = rstd * (gxhat - gxhat.mean(axes, keepdim=True)
                         - xhat * (gxhat * xhat).mean(axes, keepdim=True))
        if need_w:
            gw = (g * xhat).sum(lead) if lead else g * xhat
        if need_b:
            gb = g.sum(lead) if lead else g
        return gx, gw, gb, None, None

    def _fused_backward(self, kernel, g):
        x = self.x
        dx, dw, db = kernel(g, x, self.weight, self.mean, self.rstd)
        norm = x.shape[-1:]
        need_x, need_w, need_b = self.needs_input_grad[:3]
        return (wrap(dx, x.shape, x) if need_x else None, wrap(dw, norm, x) if need_w else None,
                wrap(db, norm, x) if need_b else None, None, None)


@autocast_op("layer_norm")
def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims to zero mean and unit (biased)
    variance, then scale by ``weight`` and shift by ``bias`` (both of ``normalized_shape``)."""
    check_tensor("layer_norm", "input", input)
    axes = _normalized_axes("layer_norm", input, normalized_shape)
    norm_shape = tuple(input.shape[axes[0]:])
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != norm_shape:
            raise RuntimeError(f"layer_norm: {name} of shape {list(t.shape)}, expected "
                               f"normalized_shape {list(norm_shape)}")
    return LayerNorm.apply(input, weight, bias, axes, eps)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x**2) + eps) * weight`` over the trailing ``normalized_shape`` dims;
    ``eps=None`` means ``finfo(input.dtype).eps`` (PyTorch 2.4+)."""
    check_tensor("rms_norm", "input", input)
    axes = _normalized_axes("rms_norm", input, normalized_shape)
    if eps is None:
        eps = FINFO_EPS[input.dtype.name]
    kernel = len(axes) == 1 and fused_kernel("rms_norm", input)
    if kernel:
        if weight is not None and weight.dtype is not input.dtype:
            weight = weight.to(input.dtype)
        return RMSNorm.apply(input, weight, eps, kernel)
    out = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return in_input_dtype(out * weight, input) if weight is not None else out


class RMSNorm(Function):
    """RMSNorm over the last dim through the backend's fused kernels.

    Backward: ``dx = rstd * (gw - xhat * mean(gw * xhat))`` with ``gw = g * w``, ``xhat =
    x * rstd``; ``dw = sum(g * xhat)`` over the leading dims.
    """
    saves = (0, 1)

    def forward(self, x, weight, eps, kernel):
        self.x, self.weight, self.eps = x, weight, eps
        y, rstd = kernel(x, weight, eps)
        self.rstd = wrap(rstd, x.shape[:-1] + (1,), x)
        return wrap(y, x.shape, x)

    def backward(self, g):
        x, weight = self.x, self.weight
        need_x, need_w = self.needs_input_grad[:2]
        kernel = fused_kernel("rms_norm_backward", x)
        if kernel is not None and not _State.enabled:
            dx, dw = kernel(g, x, weight, self.rstd)
            return (wrap(dx, x.shape, x) if need_x else None,
                    wrap(dw, x.shape[-1:], x) if need_w and dw is not None else None, None, None)
        rstd = ((x * x).mean(-1, keepdim=True) + self.eps).rsqrt()  # differentiable recompute
        xhat = x * rstd
        gw = g * weight if weight is not None else g
        gx = rstd * (gw - xhat * (gw * xhat).mean(-1, keepdim=True)) if need_x else None
        lead = tuple(range(x.ndim - 1))
        gwt = ((g * xhat).sum(lead) if lead else g * xhat) if need_w else None
        return gx, gwt, None, None


def _channel_stats(x: Tensor, axes: tuple, eps: float) -> tuple:
    """Per-channel ``(mean, biased var, xhat, rstd)`` over ``axes``, kept as broadcastable.

    The mean gets one correction pass (the mean of ``x - mean``): a sum over a batch dim
    carries rounding error that ``xhat`` inherits as a non-zero mean, which the backward's
    ``xhat * mean(g * xhat)`` term turns into gradient where the exact one is 0.
    """
    first = x.mean(axes, keepdim=True)
    xc = x - first
    correction = xc.mean(axes, keepdim=True)
    mean, xc = first + correction, xc - correction
    var = (xc * xc).mean(axes, keepdim=True)
    rstd = (var + eps).rsqrt()
    return mean, var, xc * rstd, rstd


class BatchNorm(Function):
    """Training-mode batch norm, one node: ``xhat * w + b`` with ``xhat = (x - mean) * rstd``
    per channel, the statistics taken over ``axes`` (every dim but 1).

    Backward in the closed form PyTorch uses: ``dx = (g - mean(g) - xhat * mean(g * xhat))
    * rstd * w``, ``dw = sum(g * xhat)``, ``db = sum(g)`` over ``axes``. ``w`` stays out of
    the means (a float32 mean of ``g * w`` over a long batch dim is not exactly ``g * w``
    where ``g`` is constant per channel). Autograd through the composite instead cancels the
    mean and variance branches against each other in float32: 3e-5 where the exact gradient
    is 0 on a 2048x2048 input, against torch's 2.6e-7. With grad mode on during backward
    (``create_graph``) the statistics are recomputed from ``x`` so the gradient can be
    differentiated again.
    """
    saves = (0, 1)

    def forward(self, x, weight, bias, xhat, rstd, axes, eps):
        self.x, self.weight, self.axes, self.eps = x, weight, axes, eps
        self.xhat, self.rstd = xhat, rstd
        shape = rstd.shape
        y = xhat * weight.detach().reshape(shape) if weight is not None else xhat
        return y + bias.detach().reshape(shape) if bias is not None else y

    def backward(self, g):
        need_x, need_w, need_b = self.needs_input_grad[:3]
        x, weight, axes = self.x, self.weight, self.axes
        if _State.enabled:  # double backward: the statistics as functions of x
            _, _, xhat, rstd = _channel_stats(x, axes, self.eps)
        else:
            xhat, rstd = self.xhat, self.rstd
        gx = gw = gb = None
        if need_x:
            scale = rstd * weight.reshape(rstd.shape) if weight is not None else rstd
            gx = (g - g.mean(axes, keepdim=True)
                  - xhat * (g * xhat).mean(axes, keepdim=True)) * scale
        if need_w:
            gw = (g * xhat).sum(axes)
        if need_b:
            gb = g.sum(axes)
        return gx, gw, gb, None, None, None, None


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) with batch statistics (``training``) or the running ones.

    In training, ``running_mean``/``running_var`` (when given) are updated in place:
    ``r = (1 - momentum) * r + momentum * stat``, the variance unbiased.
    """
    check_tensor("batch_norm", "input", input)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of at least 2 dims (N, C, ...), got "
                         f"shape {list(input.shape)}")
    c = input.shape[1]
    axes = (0,) + tuple(range(2, input.ndim))
    stat_shape = (1, c) + (1,) * (input.ndim - 2)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"batch_norm: {name} of shape {list(t.shape)}, expected [{c}] "
                               "(the channel count, input.shape[1])")
    if training:
        n = input.numel() // c if c else 0
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {list(input.shape)}")
        with no_grad():
            mean, var, xhat, rstd = _channel_stats(input, axes, eps)
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean.reshape(c) * momentum)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(var.reshape(c) * (momentum * n / (n - 1)))
        return in_input_dtype(BatchNorm.apply(input, weight, bias, xhat, rstd, axes, eps), input)
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var are required when "
                           "training=False")
    out = (input - running_mean.reshape(stat_shape)) * \
        (running_var.reshape(stat_shape) + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(stat_shape)
    if bias is not None:
        out = out + bias.reshape(stat_shape)
    return in_input_dtype(out, input)


def in_input_dtype(out: Tensor, input: Tensor) -> Tensor:
    """``out`` in ``input``'s dtype: a norm of a bfloat16/float16 input with float32
    parameters or statistics returns the input's dtype, as PyTorch's mixed-dtype kernels do."""
    return out if out.dtype is input.dtype else out.to(input.dtype)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """``input / max(norm_p(input, dim), eps)`` for any ``p`` (``inf`` included); the gradient
    is finite at zero vectors. ``out`` receives the result when given."""
    check_tensor("normalize", "input", input)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"normalize: input has dtype {input.dtype}, expected a floating "
                           "point dtype")
    d = wrap_dim("normalize", dim, input.ndim)
    result = input / vector_norm(input, p, (d,) if input.ndim else (), True).clamp(min=eps)
    if out is None:
        return result
    check_tensor("normalize", "out", out)
    return out.copy_(result)
