"""Batch normalisation: ``BatchNorm1d``/``2d``/``3d`` on a shared ``_NormBase`` (the
parameters and running-statistics buffers, also used by the instance norms)."""

# ruff: noqa: A002 - PyTorch's argument name ``input``

from __future__ import annotations

from genesis import _dtype as dt
from genesis import distributed as dist
from genesis._autograd.function import Function
from genesis._autograd.grad_mode import no_grad
from genesis._ops.creation import ones, tensor, zeros
from genesis._ops.shape import cat
from genesis._tensor import Tensor
from genesis.nn import functional as F
from genesis.nn import init
from genesis.nn.modules.module import Module
from genesis.nn.parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"]


class _NormBase(Module):
    """``weight`` (ones) and ``bias`` (zeros) of ``num_features`` when ``affine``; buffers
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` (int64 0)
    when ``track_running_stats`` (else registered as ``None``), as in PyTorch's state_dict."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, int) or isinstance(num_features, bool) or \
                num_features <= 0:
            raise ValueError(f"{name}: num_features={num_features!r}, expected a positive int")
        if momentum is not None and not isinstance(momentum, (int, float)):
            raise TypeError(f"{name}: momentum={momentum!r}, expected a float or None")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(zeros(num_features, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", zeros((), dtype=dt.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Training uses batch statistics and updates ``running_mean``/``running_var``
    (unbiased) with ``momentum`` (``None``: the cumulative average over
    ``num_batches_tracked`` batches); eval uses the running statistics, or batch statistics
    when the module keeps none (``track_running_stats=False``)."""

    _dims: tuple = ()

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"expected {want} input (got {input.ndim}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep_stats else None,
                            self.running_var if keep_stats else None, self.weight, self.bias,
                            use_batch, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` input per channel ``C``
    (``bias=False``, keyword, keeps the affine scale only)."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` input per channel ``C``."""

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of ``(N, C, D, H, W)`` input per channel ``C``."""

    _dims = (5,)


class _SumOverRanks(Function):
    """The sum of ``input`` over the group's ranks; its gradient is the sum of the ranks'
    gradients (every rank's output depends on every rank's input)."""

    def forward(self, input: Tensor, group) -> Tensor:
        self.group = group
        out = input.detach().clone()
        dist.all_reduce(out, group=group)
        return out

    def backward(self, grad: Tensor):
        out = grad.detach().clone()
        dist.all_reduce(out, group=self.group)
        return out, None


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose training statistics span the whole global batch: mean and
    variance per channel are reduced over every rank of ``process_group`` (default: the
    world), and so are their gradients. Input ``(N, C, *)``. In eval mode, or when no process
    group is initialized, it is ``BatchNorm`` of the local batch."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        if not use_batch or not dist.is_initialized():
            return super().forward(input)
        dims = (0, *range(2, input.ndim))
        shape = (1, self.num_features) + (1,) * (input.ndim - 2)
        count = tensor([input.numel() // self.num_features], dtype=input.dtype,
                       device=input.device)
        totals = _SumOverRanks.apply(cat([input.sum(dims), count]), self.process_group)
        n = totals[-1].item()
        mean = totals[:-1] / n
        centered = input - mean.reshape(shape)
        var = _SumOverRanks.apply((centered * centered).sum(dims), self.process_group) / n
        out = centered * (var + self.eps).rsqrt().reshape(shape)
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        if self.training and self.track_running_stats:
            self._update_running_stats(mean, var, n)
        return out

    def _update_running_stats(self, mean: Tensor, var: Tensor, n: float) -> None:
        with no_grad():
            self.num_batches_tracked.add_(1)
            factor = (1.0 / float(self.num_batches_tracked.item()) if self.momentum is None
                      else self.momentum)
            unbiased = var.detach() * (n / max(n - 1, 1))
            self.running_mean.mul_(1 - factor).add_(mean.detach() * factor)
            self.running_var.mul_(1 - factor).add_(unbiased * factor)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group=None) -> Module:
        """``module`` with every ``BatchNorm*D`` inside it replaced by a ``SyncBatchNorm``
        holding the same parameters, running statistics and training mode."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            return out
        for name, child in module.named_children():
            module.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return module
