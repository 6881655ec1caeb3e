"""Render a scheduler's LR curve: a PNG via matplotlib, or text for a terminal.

Both read LRs through ``simulate`` (side-effect free): the scheduler is not stepped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from genesis.optim._validate import check_int

__all__ = ["format_schedule", "plot_schedule", "plot_schedule_text"]


def _curves(scheduler: Any, num_steps: int, metrics: Sequence[float] | None) -> list[list[float]]:
    """Per-group LR lists (one list per group) over steps ``0..num_steps-1``."""
    check_int("num_steps", num_steps, 1)
    if metrics is not None:
        from genesis.optim._plateau import ReduceLROnPlateau

        if isinstance(scheduler, ReduceLROnPlateau):
            rows = scheduler.simulate(list(metrics)[: num_steps - 1])
        else:
            rows = scheduler.simulate(num_steps, metrics=metrics)
    else:
        rows = scheduler.simulate(num_steps)
    return [list(col) for col in zip(*rows)]


def plot_schedule(
    scheduler: Any,
    num_steps: int,
    path: str | None = None,
    *,
    metrics: Sequence[float] | None = None,
    title: str | None = None,
    log_scale: bool = False,
) -> Any:
    """Plot every param group's LR over ``num_steps`` steps; save a PNG at ``path`` if given.

    ``metrics`` feeds schedulers containing ReduceLROnPlateau. Returns the
    matplotlib ``Figure``. Needs matplotlib (``pip install matplotlib``, or genesis-optim's
    ``plot`` extra: ``pip install "./packages/genesis-optim[plot]"`` in a Genesis checkout).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(
            "plot_schedule needs matplotlib; install it with `pip install matplotlib` (or "
            "genesis-optim's plot extra from the Genesis repository: "
            "`pip install \"./packages/genesis-optim[plot]\"` from a checkout), or use "
            "format_schedule() for a text rendering"
        ) from err
    curves = _curves(scheduler, num_steps, metrics)
    fig = Figure(figsize=(7, 3.5))
    ax = fig.add_subplot()
    for i, lrs in enumerate(curves):
        ax.plot(range(len(lrs)), lrs, label=f"group {i}")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.set_title(title or type(scheduler).__name__)
    if log_scale:
        ax.set_yscale("log")
    if len(curves) > 1:
        ax.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, format="png")
    return fig


def format_schedule(
    scheduler: Any,
    num_steps: int,
    *,
    group: int = 0,
    width: int = 60,
    height: int = 10,
    metrics: Sequence[float] | None = None,
) -> str:
    """A dependency-free ASCII chart of one group's LR over ``num_steps`` steps.

    Columns sample the steps evenly; the y axis is labelled with the max and min LR,
    the x axis with the first and last step.
    """
    check_int("width", width, 2)
    check_int("height", height, 2)
    curves = _curves(scheduler, num_steps, metrics)
    if not 0 <= group < len(curves):
        raise ValueError(f"group must be in [0, {len(curves) - 1}], got {group!r}")
    lrs = curves[group]
    cols = min(width, len(lrs))
    samples = [lrs[round(c * (len(lrs) - 1) / max(1, cols - 1))] for c in range(cols)]
    low, high = min(lrs), max(lrs)
    span = (high - low) or 1.0
    grid = [[" "] * cols for _ in range(height)]
    for c, v in enumerate(samples):
        grid[height - 1 - round((v - low) / span * (height - 1))][c] = "*"
    top, bottom = f"{high:.3e}", f"{low:.3e}"
    pad = max(len(top), len(bottom))
    lines = [f"{type(scheduler).__name__}, group {group}, steps 0..{num_steps - 1}"]
    for r, row in enumerate(grid):
        label = top if r == 0 else bottom if r == height - 1 else ""
        lines.append(f"{label:>{pad}} |{''.join(row)}")
    lines.append(f"{'':>{pad}} +{'-' * cols}")
    last = str(num_steps - 1)
    lines.append(f"{'':>{pad}}  0{last:>{cols - 1}}")
    return "\n".join(lines)


def plot_schedule_text(
    scheduler: Any, num_steps: int, file: IO[str] | None = None, **kwargs: Any
) -> None:
    """Print ``format_schedule(scheduler, num_steps, **kwargs)`` (to ``file`` or stdout)."""
    print(format_schedule(scheduler, num_steps, **kwargs), file=file)
