"""The same work built twice, once in Genesis and once in PyTorch: same weights, same data,
same optimizer configuration -- so the check can compare results and the timing is fair.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import genesis
import genesis.optim
import numpy as np
import torch
from _harness import Contest

# A whole step amplifies float32 rounding: a ReLU input near 0 flips, or Adam's first update
# (about lr * sign(grad)) flips for a gradient near 0, and one flip moves a small gradient
# array by up to ~1% (measured over seeds); a wrong formula or a skipped update, far more.
STEP_TOL = 5e-2


def copy_weights(source, target, lib) -> None:
    """Load ``source``'s state dict into ``target``, a model of library ``lib``."""
    target.load_state_dict({k: lib.tensor(v.detach().numpy().copy())
                            for k, v in source.state_dict().items()})


def torch_fused(name: str) -> bool:
    """Whether ``torch.optim.<name>`` has a fused (one-kernel) implementation."""
    return "fused" in inspect.signature(getattr(torch.optim, name)).parameters


def optimizer_options(name: str) -> dict[str, dict]:
    """PyTorch's CPU ways to run optimizer ``name``: its default (a per-tensor loop on CPU),
    ``foreach=True`` and, where it exists, ``fused=True``; label -> extra keyword arguments."""
    options = {"default": {}, "foreach=True": {"foreach": True}}
    if torch_fused(name):
        options["fused=True"] = {"fused": True}
    return options


def training_optimizers(name: str, g_params, t_params, **hyper) -> tuple:
    """(Genesis optimizer, PyTorch optimizer, PyTorch's option label) with the same
    hyperparameters; PyTorch's fused implementation where it has one. Genesis's optimizers
    take the backend's fused kernel by default, when the backend has one."""
    fused = torch_fused(name)
    t_opt = getattr(torch.optim, name)(t_params, **hyper, **({"fused": True} if fused else {}))
    g_opt = getattr(genesis.optim, name)(g_params, **hyper)
    return g_opt, t_opt, "fused=True" if fused else ""


def training_step(lib, model, optimizer, inputs, target, loss: Callable,
                  clip: float | None) -> Callable[[], object]:
    """One step: forward, loss, backward, optional gradient clipping, optimizer step.
    Returns the loss and every parameter's gradient, by name."""
    named = dict(model.named_parameters())

    def step():
        value = loss(lib, model(inputs), target)
        optimizer.zero_grad()
        value.backward()
        if clip is not None:
            lib.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return value, {k: p.grad for k, p in named.items()}

    return step


def amp_step(lib, model, optimizer, inputs, target, amp: bool, device: str = "cpu",
             dtype=None, scaled: bool = True) -> Callable[[], object]:
    """One step under ``lib.autocast(device, dtype, enabled=amp)`` with a GradScaler (on when
    ``amp and scaled``): forward, scaled backward, scaler step and update. Returns the loss,
    the logits' dtype name and every parameter's (unscaled) gradient, by name."""
    named = dict(model.named_parameters())
    scaler = lib.amp.GradScaler(device, enabled=amp and scaled)

    def step():
        with lib.autocast(device, dtype=dtype, enabled=amp):
            logits = model(inputs)
            loss = lib.nn.functional.cross_entropy(logits, target)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss, str(logits.dtype).split(".")[-1], {k: p.grad for k, p in named.items()}

    return step


def cross_entropy(lib, logits, target):
    return lib.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           target.reshape(-1))


def step_contest(g_model, t_model, optimizer: str, hyper: dict, inputs: np.ndarray,
                 target: np.ndarray, *, loss: Callable = cross_entropy,
                 clip: float | None = None) -> Contest:
    """A training-step row: ``g_model`` must already hold ``t_model``'s weights. Models with
    dropout are checked in eval mode (the masks are random) and timed in training mode."""
    g_opt, t_opt, label = training_optimizers(optimizer, g_model.parameters(),
                                              t_model.parameters(), **hyper)
    has_dropout = any("Dropout" in type(m).__name__ for m in t_model.modules())
    if has_dropout:
        g_model.eval(), t_model.eval()
    return Contest(
        genesis=training_step(genesis, g_model, g_opt, genesis.tensor(inputs),
                              genesis.tensor(target), loss, clip),
        torch={label: training_step(torch, t_model, t_opt, torch.tensor(inputs),
                                    torch.tensor(target), loss, clip)},
        tol=STEP_TOL,
        after_check=(lambda: (g_model.train(), t_model.train())) if has_dropout else None,
    )
