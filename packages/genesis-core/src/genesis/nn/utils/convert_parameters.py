"""``parameters_to_vector`` / ``vector_to_parameters``: all parameters as one flat vector."""

from __future__ import annotations

from collections.abc import Iterable

from genesis._ops.shape import cat
from genesis._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param: Tensor, old_device):
    if old_device is not None and param.device != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return param.device


def parameters_to_vector(parameters: Iterable[Tensor] | Tensor) -> Tensor:
    """One 1-D tensor: the parameters flattened and concatenated in order (differentiable)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    device, parts = None, []
    for param in parameters:
        device = _check_param_device(param, device)
        parts.append(param.view(-1))
    if not parts:
        raise ValueError("parameters_to_vector: parameters is empty, expected a non-empty list "
                         "of Tensors")
    return cat(parts)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor] | Tensor) -> None:
    """Point each parameter's ``.data`` at its slice of ``vec`` (views, as PyTorch)."""
    if not isinstance(vec, Tensor):
        kind = type(vec)
        name = kind.__qualname__ if kind.__module__ == "builtins" else \
            f"{kind.__module__}.{kind.__qualname__}"
        raise TypeError(f"expected torch.Tensor, but got: {name}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    device, pointer = None, 0
    for param in parameters:
        device = _check_param_device(param, device)
        num = param.numel()
        param.data = vec[pointer:pointer + num].view_as(param).data
        pointer += num
