"""The deprecated ``nn.utils.weight_norm`` / ``remove_weight_norm`` (PyTorch's pre-
parametrization API): parameters ``<name>_g`` and ``<name>_v`` on the module itself, so
checkpoints saved with it (``weight_g``/``weight_v`` keys) load unchanged.

PyTorch recomputes ``module.weight`` in a forward pre-hook; Genesis modules have no hooks, so
the module's class is swapped for a same-named subclass whose ``<name>`` property computes
``g * v / ||v||`` on access (the same value, with the same gradients to ``g`` and ``v``).
"""

from __future__ import annotations

import warnings

from genesis._autograd.grad_mode import no_grad
from genesis.nn.modules.module import Module
from genesis.nn.parameter import Parameter
from genesis.nn.utils.parametrizations import _norm_except_dim

__all__ = ["remove_weight_norm", "weight_norm"]


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Deprecated: replace ``module.<name>`` by ``<name>_g * <name>_v / ||<name>_v||`` (norm over
    every dim but ``dim``; ``dim=None``: the whole tensor). Prefer
    :func:`genesis.nn.utils.parametrizations.weight_norm`."""
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    norms = type(module).__dict__.get("_genesis_weight_norms", {})
    if name in norms:
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise AttributeError(f"'{type(module).__name__}' object has no parameter '{name}'")
    dim = -1 if dim is None else dim
    if dim != -1 and dim < 0:
        dim += weight.ndim
    with no_grad():
        g = _norm_except_dim(weight, dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(g.detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    cls = type(module)
    if "_genesis_weight_norms" not in cls.__dict__:
        cls = type(cls.__name__, (cls,), {"_genesis_weight_norms": {},
                                          "_genesis_before_weight_norm": cls})
        module.__class__ = cls
    cls._genesis_weight_norms[name] = dim

    def compute(self):
        v = getattr(self, name + "_v")
        return v * (getattr(self, name + "_g") / _norm_except_dim(v, dim))

    setattr(cls, name, property(compute))
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`weight_norm`: ``<name>`` becomes a plain parameter holding the current
    normalised value."""
    cls = type(module)
    norms = cls.__dict__.get("_genesis_weight_norms", {})
    if name not in norms:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    with no_grad():
        weight = getattr(module, name).detach()
    del norms[name]
    delattr(cls, name)
    del module._parameters[name + "_g"]
    del module._parameters[name + "_v"]
    if not norms:
        module.__class__ = cls._genesis_before_weight_norm
    module.register_parameter(name, Parameter(weight))
    return module
