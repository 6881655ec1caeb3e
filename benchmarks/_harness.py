"""The one harness every benchmark runs through: Genesis against PyTorch, checked, then timed.

A benchmark module exposes ``cases(smoke: bool) -> list[Case]`` (``smoke``: a few elements
per tensor, for CI) and a ``TITLE``; ``run.py`` finds every ``bench_*.py`` module. A case
builds its :class:`Contest` only when it runs, so one case's tensors live at a time. Then:

1. Check. Each side is called twice from the same starting state, and what Genesis
   returns is compared with what every PyTorch option returns (``assert_same``): a
   benchmark whose two sides compute different things fails instead of printing a ratio.
   These calls are also the warm-up (allocations, compiled kernels, caches).
2. Time. Repetitions of alternating blocks -- Genesis, then each PyTorch option, the
   order reversed every other repetition -- each block as many calls as fill ``budget``
   seconds, so a machine whose speed drifts slows both sides alike. Each block follows
   ``SETTLE_S`` seconds of untimed calls of the same side: numpy's OpenBLAS keeps its
   threads busy-waiting for about 0.1 s after a call, and without the warm-up they took the
   2 cores from PyTorch's next block (residual CNN step: PyTorch 82 ms median, range
   49-105 ms, in blocks right after Genesis's; 52 ms when run alone), which flattered
   Genesis. A pause instead would not do: Genesis's first calls after an idle spell are
   slower (the same step: 100 ms back to back, 140 ms after 0.15 s idle), while a training
   loop runs back to back.
3. Report. Per side, the median and min-max over repetitions of the per-call time. The
   PyTorch option with the lowest median wins, and the ratio Genesis / PyTorch is taken
   repetition by repetition against it (blocks timed side by side): median and min-max of
   those paired ratios. Below 1: Genesis is faster.

A case whose sides cannot run in this process (collectives need several MPI ranks) builds an
:class:`External` instead: it checks and times the sides itself by the same rules and hands
back the per-block samples, which are reported as above.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Contest:
    """The two sides of one benchmark row, built and ready to call.

    ``genesis`` and each of ``torch`` (option label -> call; ``""`` for PyTorch's one way)
    do the timed work once and return what the check compares: tensors, numbers, strings,
    and lists/tuples/dicts of them. ``read_genesis``/``read_torch``, when given, return the
    result to compare instead (a save is checked by reading the file back, untimed).
    ``before`` runs untimed before every call (then each block is one call);
    ``after_check`` once after the check (e.g. to put models back in training mode).
    ``tol``: relative error allowed between the two results (see ``assert_same``).
    ``megabytes`` moved per call turns the row into a throughput row.
    """

    genesis: Callable[[], object]
    torch: dict[str, Callable[[], object]]
    tol: float = 1e-4
    before: Callable[[], object] | None = None
    after_check: Callable[[], object] | None = None
    read_genesis: Callable[[], object] | None = None
    read_torch: Callable[[], object] | None = None
    megabytes: float | None = None


@dataclass(frozen=True)
class Case:
    """One row: its name, how to build its contest, the target ratio (Genesis / PyTorch,
    median, must stay at or below) and a note (e.g. where a library, not Genesis, decides)."""

    name: str
    build: Callable[[], Contest] = field(repr=False)
    target: float | None = None
    note: str = ""


@dataclass
class Timings:
    """Seconds per call of each side, one sample per repetition (blocks timed side by side),
    as measured elsewhere; ``extra``: a measured remark shown after the row's note."""

    genesis: list[float]
    torch: dict[str, list[float]]
    calls_per_block: list[int]
    extra: str = ""


@dataclass
class External:
    """A row checked and timed outside this process: ``run(repeats, budget)`` checks the two
    sides' results, then times ``repeats`` alternating blocks of calls filling ``budget``
    seconds each (smoke: ``run(1, 0.0)``, one call per block) and returns the
    :class:`Timings`."""

    run: Callable[[int, float], Timings]
    megabytes: float | None = None


def to_numpy(value: object) -> np.ndarray:
    """A copy, so later in-place updates of a tensor do not change what was recorded."""
    if hasattr(value, "detach"):
        value = value.detach().numpy()
    return np.array(value, copy=True)


def leaves(value: object, path: str = "") -> list[tuple[str, np.ndarray]]:
    """The arrays of a nested result, each with its path (``[0]``, ``['weight']``)."""
    if isinstance(value, dict):
        return [leaf for key in sorted(value) for leaf in leaves(value[key], f"{path}[{key!r}]")]
    if isinstance(value, (list, tuple)):
        return [leaf for i, item in enumerate(value) for leaf in leaves(item, f"{path}[{i}]")]
    return [(path, to_numpy(value))]


def assert_same(genesis: object, torch: object, tol: float, where: str = "") -> None:
    """Genesis's result equals PyTorch's: same structure and shapes, all finite, and each
    float array within ``tol`` relative error in the L2 norm
    (``|g - t| <= tol * |t|``; exact equality for ``tol == 0`` and for other dtypes).

    A norm, not element by element: the same float32 work done in another order flips a
    ReLU whose input is near 0, or the sign of an Adam update whose gradient is near 0,
    which moves a few elements far but the whole array little."""
    compare_leaves(leaves(genesis), leaves(torch), tol, where)


def compare_leaves(got: list, want: list, tol: float, where: str) -> None:
    if [p for p, _ in got] != [p for p, _ in want]:
        raise AssertionError(f"{where}Genesis returned {[p for p, _ in got]}, "
                             f"PyTorch {[p for p, _ in want]}")
    for (path, g), (_, t) in zip(got, want):
        if g.shape != t.shape:
            raise AssertionError(f"{where}{path}: shape {g.shape} vs PyTorch's {t.shape}")
        if tol == 0 or t.dtype.kind not in "fc":
            np.testing.assert_array_equal(g, t, err_msg=f"{where}{path}")
            continue
        if not (np.isfinite(g).all() and np.isfinite(t).all()):
            raise AssertionError(f"{where}{path}: NaN or inf (Genesis: "
                                 f"{(~np.isfinite(g)).sum()}, PyTorch: {(~np.isfinite(t)).sum()})")
        error = np.linalg.norm((g - t).astype(np.float64))
        size = np.linalg.norm(t.astype(np.float64))
        if error > tol * size:
            raise AssertionError(f"{where}{path}: relative error {error / size:.2e} "
                                 f"> {tol:g}, |Genesis - PyTorch| = {error:.3g}, "
                                 f"|PyTorch| = {size:.3g}")


def _result(fn: Callable[[], object], before, read) -> list:
    if before is not None:
        before()
    out = fn()
    return leaves(out if read is None else read())


def check(name: str, contest: Contest) -> None:
    """Call each side twice, comparing Genesis with every PyTorch option after each call."""
    for call in (1, 2):
        genesis = _result(contest.genesis, contest.before, contest.read_genesis)
        for label, fn in contest.torch.items():
            torch = _result(fn, contest.before, contest.read_torch)
            compare_leaves(genesis, torch, contest.tol,
                           f"{name}, call {call}, PyTorch {label or 'default'}: ")
    if contest.after_check is not None:
        contest.after_check()


# seconds of untimed calls before each block: longer than OpenBLAS's idle spin (2^28 cycles,
# its default THREAD_TIMEOUT), so no block runs beside the other library's spinning threads
SETTLE_S = 0.15


def time_block(fn: Callable[[], object], number: int, before=None) -> float:
    """Seconds per call over ``number`` back-to-back calls (``before`` untimed, number 1)."""
    if before is not None:
        before()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def warm_up(fn: Callable[[], object], seconds: float, before=None) -> None:
    """Call ``fn`` (untimed, ``before`` each time) until ``seconds`` have passed; once at least."""
    end = time.perf_counter() + seconds
    while True:
        if before is not None:
            before()
        fn()
        if time.perf_counter() >= end:
            return


def calls_per_block(fn: Callable[[], object], budget: float) -> int:
    """How many calls fill ``budget`` seconds, from a block grown until it is measurable."""
    number = 1
    while True:
        seconds = time_block(fn, number) * number
        if seconds >= budget / 8 or number >= 1 << 20:
            return max(1, round(number * budget / max(seconds, 1e-9)))
        number *= 4


def spread(samples: list[float]) -> dict:
    return {"median": _sig(statistics.median(samples)), "min": _sig(min(samples)),
            "max": _sig(max(samples))}


def _sig(x: float) -> float:
    return float(f"{x:.4g}")


def measure(module: str, case: Case, repeats: int, budget: float, smoke: bool) -> dict:
    """Check, then time one case (see the module docstring); the row as a JSON-ready dict.
    ``smoke``: one block of one call per side."""
    contest = case.build()
    if isinstance(contest, External):
        timings = contest.run(1, 0.0) if smoke else contest.run(repeats, budget)
        return row(module, case, timings, contest.megabytes)
    check(case.name, contest)
    calls = [contest.genesis, *contest.torch.values()]
    if smoke:
        repeats, numbers = 1, [1] * len(calls)
    elif contest.before is not None:
        numbers = [1] * len(calls)
    else:
        numbers = [calls_per_block(fn, budget) for fn in calls]
    samples: list[list[float]] = [[] for _ in calls]
    for rep in range(repeats):
        order = range(len(calls)) if rep % 2 == 0 else reversed(range(len(calls)))
        for i in order:
            if not smoke:
                warm_up(calls[i], SETTLE_S, contest.before)
            samples[i].append(time_block(calls[i], numbers[i], contest.before))
    timings = Timings(samples[0], dict(zip(contest.torch, samples[1:])), numbers)
    megabytes = contest.megabytes
    del contest, calls
    gc.collect()  # free this case's tensors before the next one is built
    return row(module, case, timings, megabytes)


def row(module: str, case: Case, timings: Timings, megabytes: float | None) -> dict:
    """The JSON-ready row of one timed case: spreads, the fastest PyTorch option and the
    paired ratios against it."""
    genesis, options = timings.genesis, timings.torch
    best = min(options, key=lambda label: statistics.median(options[label]))
    out = {
        "module": module, "name": case.name, "target": case.target, "note": case.note,
        "megabytes": megabytes, "genesis_s": spread(genesis),
        "torch_s": spread(options[best]), "torch_option": best,
        "ratio": spread([g / t for g, t in zip(genesis, options[best])]),
        "calls_per_block": timings.calls_per_block,
    }
    if len(options) > 1:
        out["torch_options_median_s"] = {k: _sig(statistics.median(v))
                                         for k, v in options.items()}
    if timings.extra:
        out["extra"] = timings.extra
    return out
