"""Timing helpers shared by the benchmark scripts: medians of repeated runs, a ratio table."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable


def median_seconds(
    fn: Callable[[], object], repeats: int = 7, number: int | None = None, budget: float = 0.25
) -> float:
    """Median over ``repeats`` of the mean time of ``number`` calls (auto-sized to ~budget s)."""
    fn()  # warm up
    if number is None:
        t0 = time.perf_counter()
        fn()
        once = max(time.perf_counter() - t0, 1e-7)
        number = max(1, int(budget / once))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def median_pair(
    genesis_fn: Callable[[], object],
    torch_fn: Callable[[], object],
    rounds: int = 15,
    before: Callable[[], object] | None = None,
) -> tuple[float, float]:
    """Median seconds of one call of each, alternating them round by round: on a shared
    machine whose speed drifts, both sides see the same conditions. ``before`` runs,
    untimed, before every call."""
    genesis_fn(), torch_fn()  # warm up
    g, t = [], []
    for _ in range(rounds):
        for fn, samples in ((genesis_fn, g), (torch_fn, t)):
            if before is not None:
                before()
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
    return statistics.median(g), statistics.median(t)


def machine() -> str:
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def print_table(title: str, rows: list[tuple[str, float, float, str]]) -> None:
    """rows: (name, genesis, torch, unit). Ratio = genesis/torch for times, torch/genesis
    for throughputs (unit ending in '/s'), so < 1 is always 'Genesis is faster'."""
    print(f"\n{title}  ({machine()})")
    print(f"{'benchmark':44s} {'genesis':>12s} {'pytorch':>12s} {'ratio':>7s}")
    for name, g, t, unit in rows:
        ratio = t / g if unit.endswith("/s") else g / t
        scale, shown = (
            (1e3, "ms") if unit == "s" and g >= 1e-3 else (1e6, "us") if unit == "s" else (1, unit)
        )
        print(f"{name:44s} {g * scale:10.2f}{shown:>2s} {t * scale:10.2f}{shown:>2s} {ratio:7.2f}")
