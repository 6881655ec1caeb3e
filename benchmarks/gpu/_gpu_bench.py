"""Checking, timing and recording for the GPU benchmark (``bench_triton.py``).

Every row is checked before it is timed: each check compares a Genesis result with
PyTorch's on the device, in float64, and a failed check is kept in the results (the row's
``checks`` and the top-level ``mismatches``) so the script can exit non-zero once every row
has run. Timing: ``rounds`` rounds of ``reps`` calls between CUDA events after one warm-up
call (which also compiles and autotunes); median, min and max per call over the rounds. In
smoke mode (``TRITON_INTERPRET=1``, CPU torch) the same code runs on tiny shapes with
``time.perf_counter``: it checks the script, its timings mean nothing.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import genesis
import numpy as np
import torch

ROUNDS = 5


class Bench:
    """The rows of one run, its checks, failures and the machine it ran on."""

    def __init__(self, smoke: bool) -> None:
        self.smoke = smoke
        self.torch_device = "cpu" if smoke else "cuda"
        self.rows: list[dict] = []
        self.mismatches: list[dict] = []
        self.errors: list[dict] = []
        self.elapsed: dict[str, float] = {}
        self._pending: list[dict] = []
        self._since = time.perf_counter()  # start of the current row: its checks, compiles
        self.machine = machine(smoke)

    # --- moving tensors between the libraries -------------------------------------------

    def sync(self) -> None:
        genesis.cuda.synchronize()
        if not self.smoke:
            torch.cuda.synchronize()

    def to_torch(self, t) -> torch.Tensor:
        """A torch copy of Genesis tensor ``t`` on the torch side's device (device to device
        on a GPU)."""
        t = t.detach()
        if self.smoke:
            host = t.float().numpy() if t.dtype is genesis.bfloat16 else t.numpy()
            out = torch.from_numpy(np.ascontiguousarray(host))
            return out.to(torch.bfloat16) if t.dtype is genesis.bfloat16 else out
        import pycuda.driver as cuda

        t = t.contiguous()
        out = torch.empty(tuple(t.shape), dtype=getattr(torch, t.dtype.name), device="cuda")
        self.sync()
        cuda.memcpy_dtod(out.data_ptr(), t.storage.ptr + t.offset * t.dtype.itemsize,
                         out.numel() * out.element_size())
        return out

    def to_device(self, t):
        """Genesis tensor ``t`` (on "cuda") and its torch copy on the torch side's device."""
        return t, self.to_torch(t)

    # --- checks -------------------------------------------------------------------------

    def check(self, name: str, got, ref, tol: float, metric: str = "max") -> None:
        """Compare Genesis ``got`` (a tensor or number) with torch ``ref``; ``metric`` "max":
        max |got - ref| / max |ref|; "l2": ||got - ref|| / ||ref||. Kept for the next row."""
        if isinstance(ref, torch.Tensor):
            a = self.to_torch(got).double()
            b = ref.detach().to(a.device).double()
            if tuple(a.shape) != tuple(b.shape):
                self._add_check(name, float("inf"), tol, metric, f"shape {tuple(a.shape)} "
                                f"vs {tuple(b.shape)}")
                return
        else:
            a, b = torch.tensor(float(got), dtype=torch.float64), \
                torch.tensor(float(ref), dtype=torch.float64)
        diff = a - b
        if metric == "max":
            err = diff.abs().max() / b.abs().max().clamp_min(1e-30)
        else:
            err = torch.linalg.vector_norm(diff) / torch.linalg.vector_norm(b).clamp_min(1e-30)
        err = float(err.item())
        self._add_check(name, err if err == err else float("inf"), tol, metric)

    def check_equal(self, name: str, got, ref) -> None:
        """Exact equality of two plain values (token ids, dtype names)."""
        self._add_check(name, 0.0 if got == ref else float("inf"), 0.0, "equal",
                        "" if got == ref else f"{got!r} vs {ref!r}")

    def _add_check(self, name: str, err: float, tol: float, metric: str, note: str = "") -> None:
        ok = err <= tol
        entry = {"name": name, "metric": metric, "error": err, "tol": tol, "ok": ok}
        if note:
            entry["note"] = note
        self._pending.append(entry)
        print(f"  check {name}: {metric} error {err:.2e} (tol {tol:.0e}) "
              f"{'ok' if ok else 'MISMATCH ' + note}", flush=True)

    # --- timing and rows ----------------------------------------------------------------

    def timed(self, fn: Callable[[], object], reps: int, rounds: int = ROUNDS) -> dict:
        """Per-call milliseconds of ``fn``: median, min and max over ``rounds``."""
        fn()
        self.sync()
        samples = []
        for _ in range(rounds):
            if self.smoke:
                t0 = time.perf_counter()
                for _ in range(reps):
                    fn()
                samples.append((time.perf_counter() - t0) * 1e3 / reps)
                continue
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(reps):
                fn()
            end.record()
            end.synchronize()
            genesis.cuda.synchronize()
            samples.append(start.elapsed_time(end) / reps)
        return {"median": round(statistics.median(samples), 4), "min": round(min(samples), 4),
                "max": round(max(samples), 4)}

    def row(self, group: str, name: str, g_fn: Callable, t_fn: Callable, reps: int, *,
            work: float | None = None, unit: str = "", target: float | None = None,
            note: str = "", rounds: int = ROUNDS) -> None:
        """Time both sides and record the row with the checks made since the last row.
        ``work``: FLOPs (unit TFLOP/s), bytes (GB/s) or tokens (tokens/s) per call.
        ``target``: the ratio Genesis / PyTorch the issue asks for at most."""
        checks, self._pending = self._pending, []
        g_ms, t_ms = self.timed(g_fn, reps, rounds), self.timed(t_fn, reps, rounds)
        ratio = g_ms["median"] / t_ms["median"]
        row = {"group": group, "name": name, "genesis_ms": g_ms, "torch_ms": t_ms,
               "ratio": round(ratio, 3), "target": target, "note": note, "checks": checks,
               "ok": all(c["ok"] for c in checks) and bool(checks),
               "wall_s": round(time.perf_counter() - self._since, 2)}
        self._since = time.perf_counter()
        line = (f"{group:14s} {name:48s} genesis {g_ms['median']:9.3f} ms  torch "
                f"{t_ms['median']:9.3f} ms  ratio {ratio:6.2f}")
        if work is not None:
            scale = {"TFLOP/s": 1e9, "GB/s": 1e6, "tokens/s": 1e-3}[unit]
            row.update(unit=unit, genesis=round(work / g_ms["median"] / scale, 2),
                       torch=round(work / t_ms["median"] / scale, 2))
            line += f"   {row['genesis']:9.2f} vs {row['torch']:9.2f} {unit}"
        if target is not None:
            line += f"   target <= {target:.2f}: {'met' if ratio <= target else 'missed'}"
        line += f"   [{row['wall_s']:.1f} s with checks, compiles, tuning]"
        if not row["ok"]:
            self.mismatches.append({"group": group, "name": name,
                                    "checks": [c for c in checks if not c["ok"]] or
                                    "no check before this row"})
            line += "   CHECK FAILED"
        self.rows.append(row)
        print(line, flush=True)

    def group(self, name: str, fn: Callable[[], None], results: str | None) -> None:
        """Run one group of rows; an exception is recorded and the next group runs."""
        t0 = self._since = time.perf_counter()
        for step in (fn, self._release):
            try:
                step()
            except Exception as error:  # noqa: BLE001 (a failed group must not stop the rest)
                traceback.print_exc()
                self.errors.append({"group": name, "error": f"{type(error).__name__}: {error}"})
        self._pending = []
        self.elapsed[name] = round(time.perf_counter() - t0, 1)
        print(f"[{name}: {self.elapsed[name]:.1f} s]", flush=True)
        if results:
            self.write(results)

    def _release(self) -> None:
        """Free both caching allocators' blocks: the next group starts with an empty card."""
        self.sync()
        if not self.smoke:
            torch.cuda.empty_cache()
        genesis.cuda.empty_cache()

    # --- the results file ---------------------------------------------------------------

    def results(self) -> dict:
        return {"machine": self.machine, "date": datetime.date.today().isoformat(),
                "smoke": self.smoke, "rounds": ROUNDS, "elapsed_s": self.elapsed,
                "rows": self.rows, "mismatches": self.mismatches, "errors": self.errors}

    def write(self, path: str) -> None:
        Path(path).write_text(json.dumps(self.results(), indent=1) + "\n", encoding="utf-8")

    @property
    def failed(self) -> bool:
        return bool(self.mismatches or self.errors)


def _driver_version() -> str:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version",
                              "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.splitlines()[0] if out else "unknown"


def _cuda_driver_api() -> str:
    """The CUDA version the driver supports (``cuDriverGetVersion``)."""
    try:
        import pycuda.driver as cuda

        v = cuda.get_driver_version()
    except Exception:  # noqa: BLE001 (a missing figure must not stop the benchmark)
        return "unknown"
    return f"{v // 1000}.{v % 1000 // 10}"


def _genesis_commit() -> str:
    """The commit measured: ``GENESIS_COMMIT`` (device_check.sh sets it from the wheels'
    ``.whl/COMMIT``), else this checkout's HEAD."""
    if os.environ.get("GENESIS_COMMIT"):
        return os.environ["GENESIS_COMMIT"]
    root = Path(__file__).resolve().parents[2]
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine(smoke: bool) -> dict:
    """The card, driver, CUDA, library versions and the float32 matmul precision in use."""
    import triton
    from genesis_backend_triton.kernels.matmul import FLOAT32_PRECISION

    info = {"card": "Triton interpreter (smoke)", "driver": "none", "cuda_driver_api": "none",
            "cuda_torch": torch.version.cuda, "torch": torch.__version__,
            "triton": triton.__version__, "python": platform.python_version(),
            "genesis_commit": _genesis_commit(),
            "float32_matmul": {"genesis": FLOAT32_PRECISION["value"],
                               "torch_matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
                               "torch_cudnn_allow_tf32": torch.backends.cudnn.allow_tf32}}
    if not smoke:
        info.update(card=torch.cuda.get_device_name(), driver=_driver_version(),
                    cuda_driver_api=_cuda_driver_api())
    return info
