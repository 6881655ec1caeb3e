"""Losses: cross_entropy (one node, backward ``softmax - onehot``), nll, mse, l1, smooth l1,
binary cross entropy (with logits); kl_div, huber, margin ranking, triplet margin, cosine
embedding, Poisson and Gaussian negative log likelihood (composites)."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

import math
import warnings

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._autograd.grad_mode import _State
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import full, full_like
from genesis._ops.elementwise import minimum, where
from genesis._ops.fused import fused_kernel, wrap
from genesis._tensor import Tensor
from genesis.nn.functional._activation import log_softmax, log_softmax_raw, softmax
from genesis.nn.functional._checks import check_reduction, check_tensor, reduce_loss
from genesis.nn.functional._distance import pairwise_distance

# -- class-index targets: shared shape handling ------------------------------------------------

def _classes_last(fn: str, input: Tensor, target: Tensor) -> tuple:
    """``input`` as ``(M, C)`` and an index ``target`` as ``(M,)``; plus the unreduced shape."""
    if input.ndim == 0:
        raise ValueError(f"{fn}: input must have at least 1 dim (C,) or (N, C, ...), got a 0-D "
                         "tensor")
    if target.dtype.kind != 1:
        raise RuntimeError(f"{fn}: expected class-index target of an integer dtype, got "
                           f"{target.dtype} (class probabilities need target.shape == "
                           "input.shape)")
    expected = () if input.ndim == 1 else input.shape[:1] + input.shape[2:]
    if tuple(target.shape) != tuple(expected):
        raise ValueError(f"{fn}: expected target of shape {list(expected)} for input of shape "
                         f"{list(input.shape)}, got {list(target.shape)}")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if input.ndim == 1:
        x = input.unsqueeze(0)
    elif input.ndim == 2:
        x = input
    else:
        x = input.permute((0,) + tuple(range(2, input.ndim)) + (1,)).reshape(-1, c)
    t = target.reshape(-1)
    return x, (t if t.dtype is dt.int64 else t.to(dt.int64)), expected


def _check_targets(fn: str, target: Tensor, num_classes: int, ignore_index: int) -> bool:
    """Raise on a class index outside [0, C) (other than ignore_index); True if any is ignored."""
    host = target.detach().numpy()
    ignored = host == ignore_index
    bad = ~ignored & ((host < 0) | (host >= num_classes))
    if bad.any():
        raise IndexError(f"{fn}: Target {host[bad][0]} is out of bounds: expected class indices "
                         f"in [0, {num_classes}) or ignore_index={ignore_index}")
    return bool(ignored.any())


def _check_weight(fn: str, weight, c: int, like: Tensor) -> None:
    if weight is not None:
        check_tensor(fn, "weight", weight)
        if tuple(weight.shape) != (c,):
            raise RuntimeError(f"{fn}: weight of shape {list(weight.shape)}, expected [{c}] "
                               "(one weight per class)")
        if weight.dtype is not like.dtype:
            raise RuntimeError(f"{fn}: weight dtype {weight.dtype} does not match input dtype "
                               f"{like.dtype}")


class CrossEntropy(Function):
    """Cross entropy of ``(M, C)`` logits and ``(M,)`` class indices as one node.

    Per row ``loss = (1 - e) * w[t] * -logp[t] + (e / C) * -sum_j w[j] logp[j]`` (``e`` the
    label smoothing, ignored rows 0); ``mean`` divides by ``sum(w[t])`` over kept rows.
    Backward ``g * (A * softmax - (1 - e) * w[t] * onehot - (e / C) * w)`` with
    ``A = (1 - e) * w[t] + (e / C) * sum(w)``.
    """
    saves = (0, 1)

    def forward(self, x, target, weight, ignored, ignore_index, reduction, smoothing):
        m, c = x.shape
        self.x, self.weight, self.reduction, self.smoothing = x, weight, reduction, smoothing
        self.fused = weight is None and not smoothing and \
            fused_kernel("cross_entropy", x)
        if self.fused:
            return self._fused_forward(x, target, ignored, ignore_index, reduction)
        self.logp = logp = log_softmax_raw(x, 1)
        self.index = target.reshape(m, 1)
        if ignored:
            self.valid = (target != ignore_index).to(x.dtype)
            self.index = where(self.index == ignore_index, 0, self.index)
        else:
            self.valid = None
        picked = logp.gather(1, self.index).reshape(m)
        wt = self.valid
        if weight is not None:
            wt = weight.detach().gather(0, self.index.reshape(m))
            wt = wt * self.valid if ignored else wt
        self.wt = wt
        loss = -picked if wt is None else picked * wt * -1.0
        if smoothing:
            per_class = logp if weight is None else logp * weight.detach()
            smooth = per_class.sum(1) * (-smoothing / c)
            smooth = smooth * self.valid if ignored else smooth
            loss = loss * (1.0 - smoothing) + smooth
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "sum":
            return total
        self.denom = wt.sum() if wt is not None else m
        return total / self.denom

    def _fused_forward(self, x, target, ignored, ignore_index, reduction):
        """The backend's ``cross_entropy`` kernel: per-row losses (0 where ignored) + opaque lse;
        the reduction stays here."""
        loss_s, lse_s = self.fused(x, target, ignore_index)
        m = x.shape[0]
        self.target, self.ignore_index = target, ignore_index
        self.lse, loss = wrap(lse_s, (m,), x), wrap(loss_s, (m,), x)
        if reduction == "none":
            return loss
        if reduction == "sum":
            return loss.sum()
        self.denom = (target != ignore_index).sum().item() if ignored else m
        return loss.sum() / self.denom if self.denom else loss.sum() * float("nan")

    def _fused_backward(self, g):
        x, m = self.x, self.x.shape[0]
        kernel = fused_kernel("cross_entropy_backward", x)
        if kernel is None:
            return None
        if self.reduction == "mean":
            g = g / self.denom
        rows = g.expand(m) if g.ndim == 0 else g
        dx = kernel(rows.contiguous(), x, self.target, self.lse, self.ignore_index)
        return wrap(dx, x.shape, x)

    def backward(self, g):
        if self.fused:
            if not _State.enabled:
                dx = self._fused_backward(g)
                if dx is not None:
                    return dx, None, None, None, None, None, None
            self._composite_state()
        m, c = self.x.shape
        e, weight, wt = self.smoothing, self.weight, self.wt
        p = softmax(self.x, 1) if _State.enabled else self.logp.exp()
        if self.reduction == "mean":
            g = g / self.denom
        if e:
            total_w = weight.sum() if weight is not None else float(c)
            valid = self.valid if self.valid is not None else 1.0
            row = (wt if wt is not None else 1.0) * (1.0 - e) + valid * total_w * (e / c)
        else:
            row = wt if wt is not None else 1.0
        grad = p * (row.unsqueeze(1) if isinstance(row, Tensor) else row)
        hit = (wt * (1.0 - e)).unsqueeze(1) if wt is not None else \
            full((m, 1), 1.0 - e, dtype=p.dtype, device=p.device)
        grad = grad.scatter_add(1, self.index, -hit)
        if e:
            per_class = weight.reshape(1, c) * (e / c) if weight is not None else e / c
            valid = self.valid.unsqueeze(1) if self.valid is not None else 1.0
            grad = grad - valid * per_class
        g = g.unsqueeze(1) if g.ndim == 1 else g
        return grad * g, None, None, None, None, None, None

    def _composite_state(self) -> None:
        """What the composite backward reads, for a forward that ran the fused kernel
        (double backward, or a backend without the backward kernel)."""
        x, m = self.x, self.x.shape[0]
        self.logp = log_softmax_raw(x.detach(), 1)
        self.index = self.target.reshape(m, 1)
        ignored = (self.target == self.ignore_index).any().item()
        self.valid = (self.target != self.ignore_index).to(x.dtype) if ignored else None
        if ignored:
            self.index = where(self.index == self.ignore_index, 0, self.index)
        self.wt = self.valid


@autocast_op("cross_entropy")
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between ``input`` logits ``(C,)``/``(N, C)``/``(N, C, d1, ...)`` and
    class indices (``(N, d1, ...)``, int) or class probabilities (``input``'s shape, float).

    ``weight`` rescales each class, ``ignore_index`` drops targets, ``label_smoothing`` mixes
    the target with the uniform distribution; ``mean`` divides by the total weight of kept
    targets (by the number of rows for probability targets), as PyTorch does.
    """
    check_tensor("cross_entropy", "input", input)
    check_tensor("cross_entropy", "target", target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction("cross_entropy", reduction)
    if not isinstance(label_smoothing, (int, float)) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing={label_smoothing!r}, expected a float "
                         "in [0.0, 1.0]")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"cross_entropy: input must be floating point logits, got "
                           f"{input.dtype}")
    c = input.shape[0] if input.ndim == 1 else input.shape[1] if input.ndim else 0
    _check_weight("cross_entropy", weight, c, input)
    if target.dtype.is_floating_point and target.shape == input.shape and input.ndim:
        return _cross_entropy_probs(input, target, weight, reduction, float(label_smoothing), c)
    x, t, shape = _classes_last("cross_entropy", input, target)
    ignored = _check_targets("cross_entropy", t, c, ignore_index)
    if x.shape[0] == 0:
        loss = x.sum(1)
        return reduce_loss(loss, reduction).reshape(shape) if reduction == "none" else \
            reduce_loss(loss, reduction)
    out = CrossEntropy.apply(x, t, weight, ignored, ignore_index, reduction,
                             float(label_smoothing))
    return out.reshape(shape) if reduction == "none" else out


def _cross_entropy_probs(input, target, weight, reduction, smoothing, c):
    logp = log_softmax(input, 0 if input.ndim == 1 else 1)
    if smoothing:
        target = target * (1.0 - smoothing) + smoothing / c
    if weight is not None:
        logp = logp * weight.reshape((c,) + (1,) * max(input.ndim - 2, 0))
    loss = -(logp * target).sum(0 if input.ndim == 1 else 1)
    return reduce_loss(loss, reduction)


@autocast_op("nll_loss")
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of log-probabilities ``input`` at class indices ``target``
    (shapes as for :func:`cross_entropy`); ``mean`` divides by the kept targets' weight."""
    check_tensor("nll_loss", "input", input)
    check_tensor("nll_loss", "target", target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction("nll_loss", reduction)
    x, t, shape = _classes_last("nll_loss", input, target)
    m, c = x.shape
    _check_weight("nll_loss", weight, c, input)
    ignored = _check_targets("nll_loss", t, c, ignore_index)
    keep = (t != ignore_index).to(x.dtype) if ignored else None
    index = where(t == ignore_index, 0, t) if ignored else t
    wt = weight.gather(0, index) if weight is not None else None
    if keep is not None:
        wt = keep if wt is None else wt * keep
    loss = -x.gather(1, index.reshape(m, 1)).reshape(m)
    if wt is not None:
        loss = loss * wt
    if reduction == "none":
        return loss.reshape(shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (wt.sum() if wt is not None else m)


# -- regression and binary losses ------------------------------------------------------------

def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else "mean" if size_average else "sum"


def _pair(fn: str, input, target) -> None:
    check_tensor(fn, "input", input)
    check_tensor(fn, "target", target)


@autocast_op("mse_loss")
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target) ** 2`` (broadcast), reduced."""
    _pair("mse_loss", input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction("mse_loss", reduction)
    d = input - target
    loss = d * d
    return reduce_loss(loss * weight if weight is not None else loss, reduction)


@autocast_op("l1_loss")
def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|``, reduced."""
    _pair("l1_loss", input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction("l1_loss", reduction)
    return reduce_loss((input - target).abs(), reduction)


@autocast_op("smooth_l1_loss")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta`` (``d`` the error)."""
    _pair("smooth_l1_loss", input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta={beta!r}, expected a non-negative number")
    d = (input - target).abs()
    if beta == 0:
        return reduce_loss(d, reduction)
    return reduce_loss(where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta), reduction)


def _check_binary(name: str, input: Tensor, target: Tensor, size_average, reduce,
                  reduction: str) -> str:
    """The checks both binary cross entropies make; returns the effective reduction."""
    _pair(name, input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction(name, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{name}: target size {list(target.shape)} must be the same as input "
                         f"size {list(input.shape)}")
    return reduction


@autocast_op("binary_cross_entropy")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``-(t * log(x) + (1 - t) * log(1 - x))`` for probabilities ``input`` (logs clamped at
    -100, as PyTorch does)."""
    reduction = _check_binary("binary_cross_entropy", input, target, size_average, reduce,
                              reduction)
    host = input.detach().numpy()
    if host.size and not ((host >= 0) & (host <= 1)).all():
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                           "and 1")
    loss = -(target * input.log().clamp(min=-100.0)
             + (1 - target) * (1 - input).log().clamp(min=-100.0))
    return reduce_loss(loss * weight if weight is not None else loss, reduction)


class BCEWithLogits(Function):
    """``(1 - t) * x + (1 + (pw - 1) * t) * softplus(-x)``, stable for any ``x``."""
    saves = (0, 1)

    def forward(self, x, t, pos_weight):
        self.x, self.t, self.pos_weight = x, t, pos_weight
        xd, td = x.detach(), t.detach()
        self.sp = sp = _softplus_neg(xd)
        loss = (1 - td) * xd
        if pos_weight is None:
            return loss + sp
        return loss + (td * (pos_weight.detach() - 1) + 1) * sp

    def backward(self, g):
        x, t, pw = self.x, self.t, self.pos_weight
        lw = 1 if pw is None else t * (pw - 1) + 1
        sp = _softplus_neg(x) if _State.enabled else self.sp
        gx = g * ((1 - t) - lw * (-x).sigmoid()) if self.needs_input_grad[0] else None
        gt = None
        if self.needs_input_grad[1]:
            gt = g * (-x if pw is None else (pw - 1) * sp - x)
        gpw = g * t * sp if pw is not None and self.needs_input_grad[2] else None
        return gx, gt, gpw


def _softplus_neg(x: Tensor) -> Tensor:
    """``log(1 + exp(-x))`` without overflow: ``relu(-x) + log(1 + exp(-|x|))``."""
    return (-x).relu() + ((-x.abs()).exp() + 1).log()


@autocast_op("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """``binary_cross_entropy(sigmoid(input), target)`` computed stably from logits;
    ``pos_weight`` (broadcast over the last dim) weighs positive targets."""
    reduction = _check_binary("binary_cross_entropy_with_logits", input, target, size_average,
                              reduce, reduction)
    loss = BCEWithLogits.apply(input, target.to(input.dtype), pos_weight)
    if target.dtype.is_floating_point and target.dtype is not loss.dtype:
        loss = loss.to(target.dtype)  # PyTorch's kernel returns the target's float dtype
    return reduce_loss(loss * weight if weight is not None else loss, reduction)



# -- divergence, robust-regression, ranking, embedding and likelihood losses ------------------

_KL_REDUCTIONS = ("none", "batchmean", "sum", "mean")


def _check_floats(fn: str, **tensors) -> None:
    for name, t in tensors.items():
        check_tensor(fn, name, t)
        if not t.dtype.is_floating_point:
            raise RuntimeError(f"{fn}: {name} has dtype {t.dtype}, expected a floating point "
                               "dtype")


def _xlogy_self(t: Tensor) -> Tensor:
    """``t * log(t)``, 0 where ``t == 0`` (whose gradient is then 0, not nan)."""
    zero = t == 0
    return where(zero, 0.0, t * where(zero, 1.0, t).log())


@autocast_op("kl_div")
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``target * (log(target) - input)`` pointwise, for
    log-probabilities ``input`` and probabilities ``target`` (log-probabilities when
    ``log_target``); ``0 * log(0)`` counts as 0.

    ``reduction='batchmean'`` divides the sum by ``input.shape[0]`` (the KL divergence per
    sample); ``'mean'`` divides by the number of elements, and warns as PyTorch does.
    """
    _check_floats("kl_div", input=input, target=target)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if reduction not in _KL_REDUCTIONS:
        raise ValueError(f"kl_div: reduction={reduction!r}, expected 'none', 'batchmean', "
                         "'sum' or 'mean'")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _xlogy_self(target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return reduce_loss(loss, reduction)


@autocast_op("huber_loss")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)`` (``d`` the
    error, broadcast), optionally times ``weight`` (``input``'s shape), reduced."""
    _pair("huber_loss", input, target)
    check_reduction("huber_loss", reduction)
    if not dt.result_type(input, target).is_floating_point:
        raise NotImplementedError(f"huber_loss: input ({input.dtype}) and target "
                                  f"({target.dtype}), expected floating point dtypes")
    if not delta > 0:
        raise RuntimeError(f"huber_loss: delta={delta!r}, expected a positive number")
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({list(target.shape)}) that is different to the "
                      f"input size ({list(input.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      stacklevel=2)
    z = (input - target.to(input.dtype)).abs()  # computed in input's dtype, as in PyTorch
    loss = where(z < delta, z * z * 0.5, (z - 0.5 * delta) * delta)
    if weight is not None:
        check_tensor("huber_loss", "weight", weight)
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError(f"huber_loss: weight of shape {list(weight.shape)}, expected the "
                             f"input's shape {list(input.shape)}")
        loss = loss * weight
    return reduce_loss(loss, reduction)


@autocast_op("margin_ranking_loss")
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)``: ``target`` 1 asks ``input1`` to rank
    higher than ``input2``, -1 lower (the three broadcast together)."""
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        check_tensor("margin_ranking_loss", name, t)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction("margin_ranking_loss", reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss: all input tensors should have the same number "
                           f"of dims, got input1 {list(input1.shape)}, input2 "
                           f"{list(input2.shape)}, target {list(target.shape)}")
    return reduce_loss((-target * (input1 - input2) + margin).clamp(min=0), reduction)


@autocast_op("triplet_margin_loss")
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """``max(0, d(anchor, positive) - d(anchor, negative) + margin)`` with ``d`` the
    :func:`pairwise_distance` (``p``, ``eps``) over the last dim; ``swap`` uses
    ``min(d(a, n), d(p, n))`` as the negative distance."""
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        check_tensor("triplet_margin_loss", name, t)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction("triplet_margin_loss", reduction)
    if not margin > 0:
        raise ValueError(f"triplet_margin_loss: margin={margin!r}, expected a number greater "
                         "than 0")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"triplet_margin_loss: the anchor, positive, and negative tensors are "
                           f"expected to have the same number of dimensions, but got: anchor "
                           f"{anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return reduce_loss((d_pos - d_neg + margin).clamp(min=0), reduction)


_COSINE_EPSILON = 1e-12


@autocast_op("cosine_embedding_loss")
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``target == -1`` (0 elsewhere); inputs ``(N, D)`` with target ``(N,)``, or ``(D,)`` with a
    0-D target."""
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        check_tensor("cosine_embedding_loss", name, t)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction("cosine_embedding_loss", reduction)
    if target.ndim > 1:
        raise RuntimeError(f"cosine_embedding_loss: target of shape {list(target.shape)}, "
                           "expected a 0-D or 1-D target (multi-target not supported)")
    if input1.ndim != target.ndim + 1 or input2.ndim != target.ndim + 1:
        raise RuntimeError(f"cosine_embedding_loss: a {target.ndim}-D target expects "
                           f"{target.ndim + 1}-D inputs, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}")
    d = target.ndim
    dot = (input1 * input2).sum(d)
    norms = ((input1 * input1).sum(d) + _COSINE_EPSILON) * \
        ((input2 * input2).sum(d) + _COSINE_EPSILON)
    cos = dot / norms.sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0),
                                                    0.0)
    return reduce_loss(loss, reduction)


@autocast_op("poisson_nll_loss")
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood: ``exp(input) - target * input`` for a log-rate
    ``input`` (``log_input``), else ``input - target * log(input + eps)``; ``full`` adds the
    Stirling term ``t * log(t) - t + 0.5 * log(2 * pi * t)`` where ``target > 1``."""
    _pair("poisson_nll_loss", input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_reduction("poisson_nll_loss", reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        above = target > 1
        t = where(above, target, 2.0)  # the term is dropped elsewhere: keep log() finite there
        stirling = t * t.log() - t + (t * (2 * math.pi)).log() * 0.5
        loss = loss + where(above, stirling, 0.0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Gaussian negative log likelihood ``0.5 * (log(var) + (input - target)**2 / var)``
    (plus ``0.5 * log(2 * pi)`` when ``full``), ``var`` clamped to at least ``eps``.

    ``var`` is a non-negative number, a tensor of ``input``'s shape, or one that broadcasts
    with a single mismatched dim (``input.shape[:-1]`` gets a trailing 1). As in PyTorch, the
    clamp does not cut ``var``'s gradient.
    """
    _pair("gaussian_nll_loss", input, target)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"gaussian_nll_loss: var={var!r} is negative, expected a "
                             "non-negative variance")
        var = full_like(input, float(var))
    else:
        check_tensor("gaussian_nll_loss", "var", var)
        if (var < 0).any().item():
            raise ValueError("gaussian_nll_loss: var has negative entries, expected "
                             "non-negative variances")
        if tuple(var.shape) != tuple(input.shape):
            if tuple(input.shape[:-1]) == tuple(var.shape):
                var = var.unsqueeze(-1)
            elif not (var.ndim == input.ndim and sum(
                    v for i, v in zip(input.shape, var.shape) if i != v) == 1):
                raise ValueError(f"gaussian_nll_loss: var of shape {list(var.shape)} is of "
                                 f"incorrect size for input of shape {list(input.shape)}: "
                                 "expected the input's shape, the input's shape without its "
                                 "last dim, or one broadcasting along a single dim")
    check_reduction("gaussian_nll_loss", reduction)
    value = var.detach()
    var = where(value < eps, var - value + eps, var)
    d = input - target
    loss = (var.log() + d * d / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)
