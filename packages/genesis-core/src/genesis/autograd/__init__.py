"""Autograd: the graph recorder (:class:`Function`), grad modes, ``grad`` and ``gradcheck``.

The machinery lives in ``genesis._autograd`` (below the tensor); this package is the public
face, with the tools that are themselves written with tensors.
"""

from genesis._autograd.function import Function, mark_modified
from genesis._autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from genesis.autograd.functional import grad
from genesis.autograd.gradcheck import gradcheck

__all__ = ["Function", "enable_grad", "grad", "gradcheck", "is_grad_enabled", "mark_modified",
           "no_grad", "set_grad_enabled"]
