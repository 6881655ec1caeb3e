"""``LRScheduler``: PyTorch's scheduler surface over closed-form schedules.

Each param group has a schedule (see ``_schedules``); the LR at step ``t`` is
``schedule.lr(base_lr, t)``. Stepping, resuming and previewing are all the
same evaluation at a different ``t``: ``step()`` advances ``last_epoch`` and
writes ``lr_at(last_epoch)`` into ``optimizer.param_groups``; nothing else of
the optimizer is used, so ``torch.optim`` optimizers work unchanged.

Logging the LR each step needs no extra object::

    for batch in loader:
        ...
        optimizer.step()
        scheduler.step()
        print(f"lr {scheduler.get_last_lr():.6f}")   # one group; else index [i]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from genesis.optim._schedules import Rescaled, Schedule, UserFactor, schedule_from_dict
from genesis.optim._validate import check_choice, param_groups

HORIZON_POLICIES = ("error", "saved", "rescale")


class LastLR(list):
    """The per-group LRs returned by ``get_last_lr()``: a list that also formats.

    ``lrs[0]``, iteration, ``len`` and ``==`` behave as for a list; with exactly
    one group ``f"{lrs:.6f}"`` formats that LR. Several groups need an index.
    """

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        if len(self) == 1:
            return format(self[0], spec)
        raise TypeError(
            f"cannot format {len(self)} learning rates (one per param group) with "
            f"{spec!r}; format one group, e.g. f'{{lrs[0]:{spec}}}'"
        )


class LRScheduler:
    """Base scheduler: ``lr[g](t) = schedules[g].lr(base_lrs[g], t)``.

    Args:
        optimizer: anything with ``param_groups`` (a list of dicts with ``'lr'``).
        schedules: one schedule per param group.
        last_epoch: ``-1`` starts fresh (sets ``initial_lr`` in each group and the
            LR at step 0); ``k >= 0`` resumes at step ``k + 1`` as PyTorch does and
            needs ``'initial_lr'`` in every group.
        verbose: print every LR update.

    A step that a ``genesis.amp.GradScaler`` skipped (inf/NaN gradients) is recorded on the
    optimizer: no warning follows (PyTorch warns "Detected call of ``lr_scheduler.step()``
    before ``optimizer.step()``" when the first step is skipped), and by default the
    schedule still advances exactly as PyTorch's does. Set ``hold_on_skipped_step = True``
    to keep the LR (and ``last_epoch``) where it was on such steps instead.
    """

    _extra_state: tuple[str, ...] = ()
    #: True: a ``step()`` right after an optimizer step a GradScaler skipped changes nothing
    hold_on_skipped_step: bool = False

    def __init__(
        self,
        optimizer: Any,
        schedules: Sequence[Schedule],
        last_epoch: int = -1,
        verbose: bool = False,
    ) -> None:
        groups = param_groups(optimizer)
        if len(schedules) != len(groups):
            raise ValueError(
                f"expected {len(groups)} schedules, one per param group, got {len(schedules)}"
            )
        self.optimizer = optimizer
        self.verbose = verbose
        self._schedules = list(schedules)
        self.base_lrs = _initial_lrs(groups, last_epoch)
        self.last_epoch: float = last_epoch + 1
        self._apply(self.last_epoch)

    # -- the schedule ----------------------------------------------------------
    def _transform(self, lrs: list[float], step: float) -> list[float]:
        """LRs at ``step`` when each group's base LR is ``lrs`` (used by ChainedScheduler)."""
        return [s.lr(b, step) for s, b in zip(self._schedules, lrs)]

    def _lrs(self, step: float) -> list[float]:
        """LRs at ``step`` from this scheduler's own base LRs and current state."""
        return self._transform(list(self.base_lrs), step)

    def lr_at(self, step: float) -> list[float]:
        """Per-group LRs at ``step``, computed in closed form; changes nothing."""
        return self._lrs(step)

    def momentum_at(self, step: float) -> list[float] | None:
        """Per-group momentum (or beta1) at ``step``, if this scheduler cycles it."""
        return None

    def simulate(self, num_steps: int) -> list[list[float]]:
        """``[lr_at(0), ..., lr_at(num_steps - 1)]``: the LRs that steps 0..n-1 will use."""
        return [self.lr_at(t) for t in range(num_steps)]

    # -- stepping --------------------------------------------------------------
    def step(self, epoch: float | None = None, metrics: float | None = None) -> None:
        """Advance one step (or jump to ``epoch``) and write the new LRs.

        ``metrics`` is accepted by every scheduler and ignored unless it uses it.
        """
        if epoch is None and self.hold_on_skipped_step and \
                getattr(self.optimizer, "_amp_step_skipped", False):
            return
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        self._advance_top(self.last_epoch, metrics)
        self._apply(self.last_epoch)

    def _advance(self, step: float, metrics: float | None, lrs_in: list[float]) -> None:
        """Move internal state to ``step``; ``lrs_in`` are the LRs fed into this scheduler."""
        self.last_epoch = step

    def _advance_top(self, step: float, metrics: float | None) -> None:
        self._advance(step, metrics, list(self.base_lrs))

    def _tree(self) -> list[LRScheduler]:
        """This scheduler and every scheduler nested in it."""
        return [self]

    def _snapshot(self) -> dict[str, Any]:
        return {"last_epoch": self.last_epoch}

    def _restore_snapshot(self, saved: dict[str, Any]) -> None:
        for k, v in saved.items():
            setattr(self, k, v)

    def _apply(self, step: float, quiet: bool = False) -> None:
        lrs = self._lrs(step)
        momenta = self.momentum_at(step)
        for i, group in enumerate(self.optimizer.param_groups):
            group["lr"] = lrs[i]
            if momenta is not None:
                _set_momentum(group, momenta[i])
            if self.verbose and not quiet:
                print(f"Adjusting learning rate of group {i} to {lrs[i]:.4e}.")
        self._last_lr = lrs

    def get_last_lr(self) -> LastLR:
        """The LRs written by the latest step, one per param group."""
        return LastLR(self._last_lr)

    # -- checkpoints -----------------------------------------------------------
    def horizon(self) -> list[dict[str, Any]]:
        """Per-group step-count parameters (warmup, T_max, milestones, ...)."""
        return [s.horizon() for s in self._schedules]

    def state_dict(self) -> dict[str, Any]:
        """Plain data: type, ``last_epoch``, ``base_lrs``, last LRs and each schedule.

        A schedule that wraps a plain function or lambda is stored as None and
        reported with a warning: re-create it before ``load_state_dict``.
        """
        schedules = [s.to_dict() for s in self._schedules]
        lost = [i for i, data in enumerate(schedules) if data is None]
        if lost:
            names = sorted({_describe(self._schedules[i]) for i in lost})
            warnings.warn(
                f"{type(self).__name__}: the schedule of param group(s) {lost} "
                f"({', '.join(names)}) "
                "is a plain function and is not saved in state_dict; construct the scheduler "
                "with the same function before load_state_dict",
                UserWarning,
                stacklevel=2,
            )
        state = {
            "type": type(self).__name__,
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "last_lr": list(self._last_lr),
            "schedules": schedules,
        }
        state.update({k: _plain(getattr(self, k)) for k in self._extra_state})
        return state

    def load_state_dict(self, state_dict: dict[str, Any], horizon: str = "error") -> None:
        """Restore a ``state_dict()`` and write its LRs into the optimizer.

        Args:
            state_dict: output of ``state_dict()``.
            horizon: what to do when a saved schedule's horizon (``horizon()``)
                differs from this scheduler's: ``"error"`` raises ValueError,
                ``"saved"`` keeps the saved schedule, ``"rescale"`` stretches the
                saved schedule's remaining steps to this scheduler's end so the LR
                continues without a jump.

        The optimizer's LRs are rewritten, so the result does not depend on
        whether the optimizer state was loaded before or after.
        """
        check_choice("horizon", horizon, HORIZON_POLICIES)
        _check_type(self, state_dict)
        self.last_epoch = state_dict["last_epoch"]
        self.base_lrs = list(state_dict["base_lrs"])
        saved = state_dict.get("schedules") or [None] * len(self._schedules)
        self._schedules = [
            _restore(i, cur, data, horizon, self.last_epoch)
            for i, (cur, data) in enumerate(zip(self._schedules, saved))
        ]
        for k in self._extra_state:
            if k in state_dict:
                setattr(self, k, state_dict[k])
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["initial_lr"] = base
        self._apply(self.last_epoch, quiet=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lrs={self._last_lr})"


def _initial_lrs(groups: list[dict[str, Any]], last_epoch: int) -> list[float]:
    if last_epoch == -1:
        for group in groups:
            group.setdefault("initial_lr", group["lr"])
    else:
        for i, group in enumerate(groups):
            if "initial_lr" not in group:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                    f"an optimizer (last_epoch={last_epoch}); load the optimizer state first "
                    "or start with last_epoch=-1"
                )
    return [group["initial_lr"] for group in groups]


def _set_momentum(group: dict[str, Any], momentum: float) -> None:
    if "betas" in group:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _describe(schedule: Schedule) -> str:
    fn = schedule.fn if isinstance(schedule, UserFactor) else schedule
    return getattr(fn, "__qualname__", None) or repr(fn)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _check_type(scheduler: Any, state_dict: dict[str, Any]) -> None:
    saved = state_dict.get("type", type(scheduler).__name__)
    if saved != type(scheduler).__name__:
        raise ValueError(
            f"state_dict is for a {saved}, cannot load it into a {type(scheduler).__name__}"
        )


def _restore(
    index: int, current: Schedule, data: dict[str, Any] | None, policy: str, step: float
) -> Schedule:
    """The schedule to use for one group after loading ``data`` under ``policy``."""
    if data is None:
        return current
    saved = schedule_from_dict(data)
    if isinstance(current, UserFactor) or saved.horizon() == current.horizon():
        return saved
    if policy == "saved":
        return saved
    if policy == "rescale":
        if saved.end is None or current.end is None:
            raise ValueError(
                f"horizon='rescale' needs schedules that end; param group {index} has "
                f"{type(saved).__name__} with horizon {saved.horizon()}"
            )
        return Rescaled(saved, step, saved.end, current.end)
    raise ValueError(
        f"saved schedule horizon {saved.horizon()} differs from this scheduler's "
        f"{current.horizon()} (param group {index}); pass horizon='saved' to keep the saved "
        "horizon or horizon='rescale' to stretch the remaining steps"
    )
