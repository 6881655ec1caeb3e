"""``weight_norm`` and ``spectral_norm`` as parametrizations (PyTorch's
``torch.nn.utils.parametrizations``): the same module classes, attributes and state-dict keys
(``parametrizations.weight.original0``/``original1``; ``parametrizations.weight.original``
with ``parametrizations.weight.0._u``/``_v``)."""

from __future__ import annotations

from genesis._autograd.grad_mode import no_grad
from genesis._tensor import Tensor
from genesis.nn import functional as F
from genesis.nn.modules.module import Module
from genesis.nn.utils import parametrize

__all__ = ["spectral_norm", "weight_norm"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dim but ``dim`` (kept as size-1 dims); ``dim=-1``: the
    norm of the whole tensor (a 0-d tensor), as ``torch.norm_except_dim``."""
    if dim == -1:
        return (v * v).sum().sqrt()
    axes = tuple(d for d in range(v.ndim) if d != dim)
    return (v * v).sum(axes, keepdim=True).sqrt() if axes else v.abs()


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple:
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (norm over every dim but ``dim``;
    ``dim=None``: the whole tensor): ``original0`` is ``g``, ``original1`` is ``v``."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"weight_norm: dim={dim!r}, expected an int or None")
    weight = getattr(module, name, None)
    if isinstance(weight, Tensor) and dim is not None and dim != -1:
        if not -weight.ndim <= dim < weight.ndim:
            raise IndexError(f"weight_norm: dim={dim} is out of range for the {weight.ndim}-D "
                             f"tensor '{name}'")
        dim = dim + weight.ndim if dim < 0 else dim
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            weight_mat = weight_mat.detach()
            for _ in range(n_power_iterations):
                self._u = F.normalize(weight_mat @ self._v, dim=0, eps=self.eps)
                self._v = F.normalize(weight_mat.transpose(0, 1) @ self._u, dim=0, eps=self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


_TRANSPOSED_CONVS = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Reparametrize ``module.<name>`` as ``W / sigma(W)``, ``sigma`` the largest singular value
    estimated by power iteration (one step per forward in training mode; ``_u``, ``_v`` are
    buffers). ``dim`` (default 0, 1 for transposed convolutions) is the output dim."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        kind = parametrize.type_before_parametrizations(module)
        dim = 1 if kind.__name__ in _TRANSPOSED_CONVS else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
