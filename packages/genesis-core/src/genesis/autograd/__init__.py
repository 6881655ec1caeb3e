"""Autograd: the graph recorder (:class:`Function`), the engine, grad modes, gradcheck."""

from genesis.autograd.function import Function, mark_modified
from genesis.autograd.functional import grad
from genesis.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from genesis.autograd.gradcheck import gradcheck

__all__ = ["Function", "enable_grad", "grad", "gradcheck", "is_grad_enabled", "mark_modified",
           "no_grad", "set_grad_enabled"]
