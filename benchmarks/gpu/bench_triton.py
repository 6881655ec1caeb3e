"""Genesis's Triton backend against PyTorch CUDA, side by side in one process.

Run on a GPU host (``genesis-backend-triton[cuda]`` and a CUDA build of torch
installed)::

    python benchmarks/gpu/bench_triton.py [--json results.json]

Every number is the median of several timed rounds (CUDA events around
``reps`` calls, after a warm-up that also autotunes). Ratios are Genesis
time / PyTorch time (< 1: Genesis faster); throughputs are TFLOP/s or GB/s.
``--smoke`` runs tiny shapes with the Triton interpreter and CPU torch, to
check the script itself on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

SMOKE = "--smoke" in sys.argv
if SMOKE:
    os.environ["TRITON_INTERPRET"] = "1"

import genesis  # noqa: E402
import genesis.nn as gnn  # noqa: E402
import genesis.nn.functional as gF  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from genesis.optim import AdamW as GAdamW  # noqa: E402
from genesis_backend_triton.backend import View  # noqa: E402

DEV = "cpu" if SMOKE else "cuda"
ROWS: list[dict] = []


def sync() -> None:
    genesis.cuda.synchronize()
    if not SMOKE:
        torch.cuda.synchronize()


def timed(fn, reps: int, rounds: int = 5) -> float:
    """Median milliseconds per call of ``fn`` over ``rounds`` rounds of ``reps`` calls."""
    fn()
    sync()
    samples = []
    for _ in range(rounds):
        if SMOKE:
            t0 = time.perf_counter()
            for _ in range(reps):
                fn()
            samples.append((time.perf_counter() - t0) * 1e3 / reps)
            continue
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) / reps)
    return statistics.median(samples)


def record(group: str, name: str, g_ms: float, t_ms: float, work: float | None = None,
           unit: str = "") -> None:
    row = {"group": group, "name": name, "genesis_ms": round(g_ms, 4), "torch_ms": round(t_ms, 4),
           "ratio": round(g_ms / t_ms, 3)}
    line = f"{group:14s} {name:44s} genesis {g_ms:9.3f} ms  torch {t_ms:9.3f} ms  ratio " \
           f"{g_ms / t_ms:6.2f}"
    if work is not None:  # work: FLOPs (unit TFLOP/s) or bytes moved (unit GB/s)
        scale = 1e9 if unit == "TFLOP/s" else 1e6
        row.update({"unit": unit, "genesis": round(work / g_ms / scale, 2),
                    "torch": round(work / t_ms / scale, 2)})
        line += f"   {row['genesis']:8.2f} vs {row['torch']:8.2f} {unit}"
    ROWS.append(row)
    print(line, flush=True)


def to_torch(t) -> torch.Tensor:
    """A torch copy of genesis tensor ``t`` (device to device on a GPU)."""
    if SMOKE:
        return torch.from_numpy(np.ascontiguousarray(t.float().numpy() if t.dtype is
                                                     genesis.bfloat16 else t.numpy()))
    import pycuda.driver as cuda
    t = t.contiguous()
    tdt = getattr(torch, t.dtype.name)
    out = torch.empty(t.shape, dtype=tdt, device="cuda")
    sync()
    cuda.memcpy_dtod(out.data_ptr(), t.storage.ptr + t.offset * t.dtype.itemsize,
                     out.numel() * out.element_size())
    return out


def check(name: str, g, t: torch.Tensor, tol: float) -> None:
    got = to_torch(g).double().cpu()
    ref = t.detach().double().cpu()
    err = ((got - ref).abs().max() / ref.abs().max().clamp_min(1e-12)).item()
    status = "ok" if err <= tol else "MISMATCH"
    print(f"  check {name}: max error / max |ref| = {err:.2e} ({status})", flush=True)
    if err > tol:
        ROWS.append({"group": "check", "name": name, "error": err})


def bench_matmul(n: int) -> None:
    for dt in ("float16", "bfloat16", "float32"):
        a = genesis.randn(n, n, dtype=getattr(genesis, dt), device="cuda")
        b = genesis.randn(n, n, dtype=getattr(genesis, dt), device="cuda")
        ta, tb = to_torch(a).to(DEV), to_torch(b).to(DEV)
        if SMOKE and dt != "float32":
            ta, tb = ta.float(), tb.float()
        check(f"matmul {dt}", a @ b, ta @ tb, 2e-2 if dt != "float32" else 1e-4)
        reps = 3 if SMOKE else 20
        record("matmul", f"{n}x{n}x{n} {dt}", timed(lambda a=a, b=b: a @ b, reps),
               timed(lambda ta=ta, tb=tb: ta @ tb, reps), 2 * n**3, "TFLOP/s")


def bench_rows(m: int, n: int) -> None:
    reps = 2 if SMOKE else 10
    x = genesis.randn(m, n, device="cuda")
    tx = to_torch(x).to(DEV)
    check("softmax", gF.softmax(x, -1), torch.softmax(tx, -1), 1e-5)
    record("softmax", f"{m}x{n} float32 fwd", timed(lambda: gF.softmax(x, -1), reps),
           timed(lambda: torch.softmax(tx, -1), reps), 2 * x.numel() * 4, "GB/s")
    xb, txb = x.to(genesis.bfloat16), tx.to(torch.bfloat16)
    record("softmax", f"{m}x{n} bfloat16 fwd", timed(lambda: gF.softmax(xb, -1), reps),
           timed(lambda: torch.softmax(txb, -1), reps), 2 * x.numel() * 2, "GB/s")

    h = n // 4
    xl, txl = x[:, :h].contiguous(), tx[:, :h].contiguous()
    w, b = genesis.randn(h, device="cuda"), genesis.randn(h, device="cuda")
    tw, tb = to_torch(w).to(DEV), to_torch(b).to(DEV)
    check("layer_norm", gF.layer_norm(xl, (h,), w, b),
          torch.nn.functional.layer_norm(txl, (h,), tw, tb), 1e-4)
    record("layer_norm", f"{m}x{h} float32 fwd",
           timed(lambda: gF.layer_norm(xl, (h,), w, b), reps),
           timed(lambda: torch.nn.functional.layer_norm(txl, (h,), tw, tb), reps),
           2 * xl.numel() * 4, "GB/s")
    xr, wr, br = (v.detach().requires_grad_() for v in (xl, w, b))
    txr, twr, tbr = (v.detach().requires_grad_() for v in (txl, tw, tb))
    gy = genesis.randn(m, h, device="cuda")
    tgy = to_torch(gy).to(DEV)
    record("layer_norm", f"{m}x{h} float32 fwd+bwd",
           timed(lambda: gF.layer_norm(xr, (h,), wr, br).backward(gy), reps),
           timed(lambda: torch.nn.functional.layer_norm(txr, (h,), twr, tbr).backward(tgy),
                 reps))

    fused = genesis.device("cuda").backend.capabilities.fused
    target = genesis.randint(0, n, (m,), device="cuda")
    ttarget = to_torch(target).to(DEV)
    ones, tones = genesis.ones(m, device="cuda"), torch.ones(m, device=DEV)
    txc = tx.detach().requires_grad_()

    def g_ce():
        loss, lse = fused["cross_entropy"](x, target, -100)
        lse_view = View(lse, (m,), (1,), 0, genesis.float32)
        return loss, fused["cross_entropy_backward"](ones, x, target, lse_view, -100)

    def t_ce():
        loss = torch.nn.functional.cross_entropy(txc, ttarget, reduction="none")
        return loss, torch.autograd.grad(loss, txc, tones)[0]

    record("cross_entropy", f"{m}x{n} float32 fwd+bwd", timed(g_ce, reps), timed(t_ce, reps),
           3 * x.numel() * 4, "GB/s")


def bench_elementwise(n: int) -> None:
    reps = 2 if SMOKE else 20
    a, b = genesis.randn(n, device="cuda"), genesis.randn(n, device="cuda")
    ta, tb = to_torch(a).to(DEV), to_torch(b).to(DEV)
    out, tout = genesis.empty(n, device="cuda"), torch.empty(n, device=DEV)
    record("elementwise", f"add {n} float32", timed(lambda: a + b, reps),
           timed(lambda: ta + tb, reps), 3 * n * 4, "GB/s")
    record("elementwise", f"copy_ {n} float32 (driver memcpy)", timed(lambda: out.copy_(a), reps),
           timed(lambda: tout.copy_(ta), reps), 2 * n * 4, "GB/s")
    at, tat = a.view(-1, 1024).t(), ta.view(-1, 1024).t()
    record("elementwise", f"strided copy {n} float32 (transpose)",
           timed(lambda: at.contiguous(), reps), timed(lambda: tat.contiguous(), reps),
           2 * n * 4, "GB/s")
    record("elementwise", f"cast {n} float32->bfloat16",
           timed(lambda: a.to(genesis.bfloat16), reps),
           timed(lambda: ta.to(torch.bfloat16), reps), 6 * n, "GB/s")


def bench_adamw(count: int, size: int) -> None:
    reps = 2 if SMOKE else 10
    params = [genesis.randn(size, device="cuda").requires_grad_() for _ in range(count)]
    tparams = [to_torch(p.detach()).to(DEV).requires_grad_() for p in params]
    for p, tp in zip(params, tparams):
        p.grad = genesis.randn(size, device="cuda")
        tp.grad = to_torch(p.grad).to(DEV)
    opt = GAdamW(params, lr=1e-3, fused=True)
    topt = torch.optim.AdamW(tparams, lr=1e-3, fused=not SMOKE)
    opt.step()
    topt.step()
    check("adamw", params[0].detach(), tparams[0], 1e-5)
    record("adamw", f"{count} x {size} float32 step", timed(opt.step, reps),
           timed(topt.step, reps), 7 * count * size * 4, "GB/s")


def bench_mlp(batch: int, width: int, depth: int) -> None:
    reps = 1 if SMOKE else 5

    def layers(nn):
        mods = []
        for _ in range(depth):
            mods += [nn.Linear(width, width), nn.GELU()]
        return nn.Sequential(*mods, nn.Linear(width, 10))

    model = layers(gnn).to("cuda")
    tmodel = layers(torch.nn).to(DEV)
    opt = GAdamW(model.parameters(), lr=1e-4, fused=True)
    topt = torch.optim.AdamW(tmodel.parameters(), lr=1e-4, fused=not SMOKE)
    x = genesis.randn(batch, width, device="cuda")
    y = genesis.randint(0, 10, (batch,), device="cuda")
    tx, ty = to_torch(x).to(DEV), to_torch(y).to(DEV)

    def g_step():
        opt.zero_grad()
        gF.cross_entropy(model(x), y).backward()
        opt.step()

    def t_step():
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tmodel(tx), ty).backward()
        topt.step()

    flops = 6 * batch * (depth * width * width + width * 10)
    record("mlp", f"train step b{batch} {depth}x{width} float32", timed(g_step, reps),
           timed(t_step, reps), flops, "TFLOP/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--smoke", action="store_true", help="tiny shapes, interpreter, CPU torch")
    args = parser.parse_args()
    card = "Triton interpreter (smoke)" if SMOKE else torch.cuda.get_device_name()
    print(f"device: {card}; torch {torch.__version__}; triton "
          f"{__import__('triton').__version__}", flush=True)
    if args.smoke:
        bench_matmul(64)
        bench_rows(8, 256)
        bench_elementwise(4096)
        bench_adamw(3, 1000)
        bench_mlp(16, 32, 2)
    else:
        bench_matmul(4096)
        bench_rows(4096, 32768)
        bench_elementwise(1 << 27)
        bench_adamw(24, 4 << 20)
        bench_mlp(8192, 2048, 4)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": card, "torch": torch.__version__, "rows": ROWS}, f, indent=1)


if __name__ == "__main__":
    main()
