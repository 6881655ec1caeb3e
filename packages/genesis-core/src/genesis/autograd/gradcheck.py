"""Finite-difference gradient check (float64), as ``torch.autograd.gradcheck``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from genesis._autograd.grad_mode import no_grad
from genesis._ops.creation import tensor


def gradcheck(fn: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Compare analytic gradients of ``sum(fn(*inputs) * w)`` with central differences.

    Inputs that require grad must be float64. A random projection ``w`` turns a
    tensor output into a scalar, so every output element is checked.
    """
    diff = [x for x in inputs if getattr(x, "requires_grad", False)]
    for x in diff:
        if x.dtype.name != "float64":
            raise ValueError(f"gradcheck: inputs requiring grad must be float64, got {x.dtype}")
    out = fn(*inputs)
    rng = np.random.default_rng(0)
    w = tensor(rng.standard_normal(out.shape), dtype=out.dtype, device=out.device)
    for x in diff:
        x.grad = None
    (out * w).sum().backward()
    analytic = [x.grad.numpy() if x.grad is not None else np.zeros(x.shape) for x in diff]
    with no_grad():
        for x, a in zip(diff, analytic):
            base = x.numpy().copy()
            numeric = np.zeros_like(base)
            for idx in np.ndindex(base.shape):
                for sign in (1, -1):
                    pert = base.copy()
                    pert[idx] += sign * eps
                    x.copy_(tensor(pert, dtype=x.dtype, device=x.device))
                    numeric[idx] += sign * float((fn(*inputs) * w).sum().item())
                numeric[idx] /= 2 * eps
            x.copy_(tensor(base, dtype=x.dtype, device=x.device))
            if not np.allclose(a, numeric, atol=atol, rtol=rtol, equal_nan=True):
                if raise_exception:
                    raise AssertionError(f"gradcheck: analytic and numerical gradients differ; "
                                         f"max abs diff {np.nanmax(np.abs(a - numeric)):.3g}\n"
                                         f"analytic={a}\nnumeric={numeric}")
                return False
    return True
