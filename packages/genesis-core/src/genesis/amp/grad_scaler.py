"""``GradScaler``: loss scaling for float16 training, with PyTorch's API and semantics.

The scaler needs only tensors and an optimizer's ``param_groups``/``step()`` (any object
that has them), so it lives in the core and does not import ``genesis.optim``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from enum import Enum

import numpy as np

from genesis import _dtype as dt
from genesis._autograd.grad_mode import no_grad
from genesis._device import device as _device
from genesis._ops.creation import full
from genesis._ops.predicates import isfinite
from genesis._ops.shape import stack
from genesis._tensor import Tensor

__all__ = ["GradScaler", "OptState"]

_FIX = ("This may indicate your script did not use scaler.scale(loss or outputs) earlier in "
        "the iteration.")


class OptState(Enum):
    """Where an optimizer stands between two ``update()`` calls."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict:
    return {"stage": OptState.READY, "found_inf_per_device": {}, "found_inf": None}


class GradScaler:
    """Scale the loss so float16 gradients do not underflow, unscale them before the step,
    and skip steps whose gradients hold an inf or NaN, adapting the scale as PyTorch does.

    Args:
        device: the device type the loss and gradients live on (``"cuda"`` or ``"cpu"``).
        init_scale: the first scale factor.
        growth_factor: multiplies the scale after ``growth_interval`` steps without inf/NaN
            (must be > 1).
        backoff_factor: multiplies the scale after a step with inf/NaN (must be < 1).
        growth_interval: the number of consecutive clean steps before growing the scale.
        enabled: False makes every method a pass-through (``scale`` returns its input,
            ``step`` calls ``optimizer.step()``).

    Each ``unscale_`` checks all of an optimizer's gradients on one device in one pass of
    device ops and one host read per device at ``step``, not one sync per tensor.
    ``skipped_steps`` counts the optimizer steps skipped for inf/NaN gradients, and each
    ``step`` records on the optimizer whether it was skipped (``_amp_step_skipped``) for the
    LR schedulers.

    Example::

        scaler = genesis.amp.GradScaler("cpu")
        for x, y in data:
            optimizer.zero_grad()
            with genesis.autocast("cpu"):
                loss = loss_fn(model(x), y)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)               # optional: before clipping
            genesis.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)                   # skipped if a gradient is inf/NaN
            scaler.update()
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        if not isinstance(device, str):
            raise TypeError(f"GradScaler: device={device!r}, expected a device type string "
                            "such as 'cuda' or 'cpu'")
        self._device = device
        self._enabled = bool(enabled)
        if self._enabled:
            try:
                _device(device).backend  # noqa: B018 - raises when no backend serves it here
            except RuntimeError as err:
                warnings.warn(f"GradScaler is enabled, but device {device!r} is not available "
                              f"({err}). Disabling.", stacklevel=2)
                self._enabled = False
        if self._enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"GradScaler: growth_factor={growth_factor!r}, expected > 1.0")
            if not backoff_factor < 1.0:
                raise ValueError(f"GradScaler: backoff_factor={backoff_factor!r}, expected "
                                 "< 1.0")
            if not isinstance(growth_interval, int) or growth_interval <= 0:
                raise ValueError(f"GradScaler: growth_interval={growth_interval!r}, expected "
                                 "a positive int")
        self._init_scale = float(init_scale)
        self._scale: Tensor | None = None
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._growth_tracker = 0
        self._per_optimizer_states: dict = {}
        self.skipped_steps = 0

    # -- scaling -------------------------------------------------------------------------
    def scale(self, outputs):
        """``outputs`` (a tensor, or nested lists/tuples of them) times the scale factor."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._scale = full((), self._init_scale, dtype=dt.float32,
                                   device=outputs.device)
            scale = self._scale if self._scale.device == outputs.device \
                else self._scale.to(outputs.device)
            return outputs * scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if isinstance(outputs, Iterable):
            return map(self.scale, outputs)
        raise ValueError(f"GradScaler.scale: outputs={type(outputs).__name__}, expected a "
                         "Tensor or an iterable of Tensors")

    def _check_scale(self, funcname: str) -> None:
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  {_FIX}")

    def _state(self, optimizer) -> dict:
        return self._per_optimizer_states.setdefault(id(optimizer), _fresh_state())

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale in place and record whether any is
        inf/NaN. Call it at most once per optimizer between ``update()`` calls, before
        ``step``; needed only to work on true gradients first (e.g. clipping)."""
        if not self._enabled:
            return
        self._check_scale("unscale_")
        state = self._state(optimizer)
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # PyTorch's 1/scale: computed in float64, rounded to float32
        inv_scale = float(np.float32(1.0 / float(np.float32(self.get_scale()))))
        by_device: dict = {}
        for group in optimizer.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                if grad.dtype is dt.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                by_device.setdefault(grad.device, []).append(grad)
        with no_grad():
            state["found_inf_per_device"] = {
                dev: _non_finite_check_and_unscale_(grads, inv_scale)
                for dev, grads in by_device.items()}
        state["stage"] = OptState.UNSCALED

    # -- stepping ------------------------------------------------------------------------
    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` on unscaled gradients, unless one of them is
        inf/NaN (then the step is skipped and None returned)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_scale("step")
        state = self._state(optimizer)
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if not state["found_inf_per_device"]:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        skipped = _found_inf(state)
        if not skipped:
            retval = optimizer.step(*args, **kwargs)
        else:
            self.skipped_steps += 1
        # recorded for LR schedulers (genesis.optim's may hold the LR on a skipped step)
        optimizer._amp_step_skipped = skipped
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Adapt the scale: multiply by ``backoff_factor`` if any optimizer saw inf/NaN since
        the last update, by ``growth_factor`` after ``growth_interval`` clean updates; or set
        it to ``new_scale``."""
        if not self._enabled:
            return
        self._check_scale("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                reason = ("new_scale should be a float or a 1-element Tensor with "
                          "requires_grad=False.")
                if new_scale.device.type != self._device or new_scale.numel() != 1 or \
                        new_scale.requires_grad:
                    raise AssertionError(reason)
                new_scale = new_scale.item()
            self._scale.fill_(float(np.float32(new_scale)))
        else:
            states = [s for s in self._per_optimizer_states.values()
                      if s["found_inf_per_device"]]
            if not states:
                raise AssertionError("No inf checks were recorded prior to update.")
            found_inf = any(_found_inf(s) for s in states)
            self._scale.fill_(self._updated_scale(found_inf))
        self._per_optimizer_states = {}

    def _updated_scale(self, found_inf: bool) -> float:
        """PyTorch's ``_amp_update_scale_`` in float32, advancing the growth tracker."""
        scale = np.float32(self.get_scale())
        if found_inf:
            self._growth_tracker = 0
            return float(scale * np.float32(self._backoff_factor))
        self._growth_tracker += 1
        if self._growth_tracker == self._growth_interval:
            self._growth_tracker = 0
            with np.errstate(over="ignore"):
                grown = scale * np.float32(self._growth_factor)
            if np.isfinite(grown):
                return float(grown)
        return float(scale)

    # -- getters, setters, state ---------------------------------------------------------
    def get_scale(self) -> float:
        """The current scale factor (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self) -> float:
        """The factor the scale grows by after ``growth_interval`` clean updates."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the growth factor."""
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        """The factor the scale shrinks by after an update with inf/NaN gradients."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the backoff factor."""
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        """The number of consecutive clean updates before the scale grows."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set the growth interval."""
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self) -> int:
        """Clean updates since the scale last changed (0 when disabled)."""
        return self._growth_tracker if self._enabled else 0

    def is_enabled(self) -> bool:
        """Whether the scaler does anything."""
        return self._enabled

    def state_dict(self) -> dict:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval`` and
        ``_growth_tracker`` (PyTorch's keys); empty when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned (also one saved by PyTorch)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale.fill_(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


def _non_finite_check_and_unscale_(grads: list, inv_scale: float) -> Tensor:
    """Multiply ``grads`` (all on one device) by ``inv_scale`` in place; a 0-d float32 flag on
    that device, nonzero when any element was inf or NaN. Device ops only, no host read."""
    finite = []
    for g in grads:
        finite.append(isfinite(g).all())
        g.mul_(inv_scale)
    return (~stack(finite).all()).to(dt.float32)


def _found_inf(state: dict) -> bool:
    """Whether any of an optimizer's devices saw inf/NaN: one host read per device, cached."""
    if state["found_inf"] is None:
        state["found_inf"] = any(flag.item() != 0.0
                                 for flag in state["found_inf_per_device"].values())
    return state["found_inf"]
