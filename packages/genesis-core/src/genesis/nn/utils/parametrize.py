"""``register_parametrization``: a module's tensor computed on access from stored originals
(PyTorch's ``torch.nn.utils.parametrize``, same attribute and state-dict layout).

Registering a parametrization on ``module.weight`` moves the stored tensor(s) to
``module.parametrizations.weight.original`` (or ``original0``, ``original1``, ... when the
parametrization's ``right_inverse`` returns a tuple), swaps the module's class for a
``Parametrized<Class>`` subclass whose ``weight`` property runs the parametrizations, and
assigning ``module.weight = value`` stores ``right_inverse(value)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

from genesis._autograd.grad_mode import no_grad
from genesis._tensor import Tensor
from genesis.nn.modules.container import ModuleDict, ModuleList
from genesis.nn.modules.module import Module
from genesis.nn.parameter import Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]

_cache_enabled = 0
_cache: dict = {}


@contextmanager
def cached():
    """Within this context each parametrized tensor is computed once (on first access)."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


def _register_original(owner: Module, name: str, value: Tensor, like: Tensor) -> None:
    if isinstance(like, Parameter):
        owner.register_parameter(name, value if isinstance(value, Parameter) else
                                 Parameter(value, like.requires_grad))
    else:
        owner.register_buffer(name, value)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order to the stored original(s)."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        with no_grad():
            new = original
            for module in reversed(self):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if not unsafe and (tuple(new.shape) != tuple(original.shape) or
                               new.dtype is not original.dtype):
                raise ValueError(f"When `right_inverse` outputs one tensor, it must have the same "
                                 f"dtype and shape as the original. original.shape: "
                                 f"{tuple(original.shape)}, right_inverse(original).shape: "
                                 f"{tuple(new.shape)}")
            with no_grad():
                if tuple(new.shape) == tuple(original.shape) and new.dtype is original.dtype:
                    if new is not original:
                        original.copy_(new)
                    value = original  # the same tensor object stays the stored original
                else:
                    value = new.detach()
            _register_original(self, "original", value, original)
        else:
            for i, originali in enumerate(new):
                if not isinstance(originali, Tensor):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the "
                                     f"sequence with type {type(originali).__name__}.")
                _register_original(self, f"original{i}", originali.detach(), original)
        if not unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(z).__name__}.")
            _check_unchanged(original, z)

    def right_inverse(self, value: Tensor) -> None:
        """Store ``value``: run the ``right_inverse`` of each parametrization, last first."""
        with no_grad():
            for module in reversed(self):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
                elif len(self) > 1 or not self.is_tensor:
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
            if self.is_tensor:
                self.original.copy_(value)
            else:
                if not isinstance(value, (list, tuple)) or len(value) != self.ntensors:
                    raise ValueError(f"'right_inverse' must return a sequence of "
                                     f"{self.ntensors} tensors, got {type(value).__name__}")
                for i, tensor in enumerate(value):
                    getattr(self, f"original{i}").copy_(tensor)

    def forward(self) -> Tensor:
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            x = module(x)
        return x


def _check_unchanged(before: Tensor, after: Tensor) -> None:
    for what, old, new in (("dtype", before.dtype, after.dtype),
                           ("shape", tuple(before.shape), tuple(after.shape))):
        if old != new:
            raise ValueError(f"Registering a parametrization may not change the {what} of the "
                             f"tensor, unless `unsafe` flag is enabled.\nunparametrized "
                             f"{what}: {old}\nparametrized {what}: {new}")


def _inject_new_class(module: Module) -> None:
    cls = module.__class__
    new_cls = type(f"Parametrized{cls.__name__}", (cls,), {"_genesis_unparametrized": cls})
    module.__class__ = new_cls


def _inject_property(module: Module, tensor_name: str) -> None:
    def get_parametrized(self) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        if _cache_enabled:
            key = (id(self), tensor_name)
            if key not in _cache:
                _cache[key] = parametrization()
            return _cache[key]
        return parametrization()

    def set_original(self, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` applied to the stored
    original(s); a second registration on the same name chains after the first."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: parametrization must be a Module, got "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            if not isinstance(x, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got "
                                 f"{type(x).__name__}.")
            _check_unchanged(y, x)
        plist.append(parametrization)
        plist.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has parametrizations (on ``tensor_name``, if given)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if parametrizations is None or not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else \
        tensor_name in parametrizations


def type_before_parametrizations(module: Module) -> type:
    """The module's class before parametrizations swapped it."""
    return type(module).__dict__.get("_genesis_unparametrized", type(module))


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo the parametrizations of ``tensor_name``: it becomes a plain parameter holding the
    current parametrized value (or the stored original if ``leave_parametrized=False``)."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
            with no_grad():
                if tuple(t.shape) == tuple(original.shape) and t.dtype is original.dtype:
                    original.copy_(t)
                else:
                    original = Parameter(t, original.requires_grad) if \
                        isinstance(original, Parameter) else t
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        with no_grad():
            t = getattr(module, tensor_name)
        first = plist.original0
        original = Parameter(t.detach(), first.requires_grad) if \
            isinstance(first, Parameter) else t.detach()
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_original(module, tensor_name, original, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type_before_parametrizations(module)
    return module
