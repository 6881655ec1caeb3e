"""Example 2: a small character-level transformer trained on the Python standard library's source.

    python examples/train_charlm.py                  # ~2-3 minutes on 2 CPU cores
    python examples/train_charlm.py --resume runs/charlm/last.safetensors
    python examples/train_charlm.py --amp            # mixed precision (bfloat16 autocast)
    python -m genesis.distributed.run -n 2 examples/train_charlm.py --ddp   # 2 processes

A GPT-style decoder (token + position embeddings, pre-LayerNorm blocks with
causal self-attention and a GELU MLP) trained with AdamW and the transformer
(Noam) schedule, gradient clipping with ``clip_grad_norm_``, a progress bar, the
loss printed every interval, a checkpoint at every interval, and a generated
sample at the end. The text is read from the standard library every Python
installation has: nothing is downloaded. ``--amp`` runs the forward pass under
``genesis.autocast`` with a ``GradScaler`` (unscaled before clipping; its scale shown in the
bar and its state checkpointed).

``--ddp`` trains data-parallel on the processes the launcher started: each rank
draws its share of every batch from its own stream, ``DistributedDataParallel``
averages the gradients; rank 0 prints and writes the checkpoint (with every
rank's data stream, so a resumed run continues exactly) while the others wait.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import genesis
import genesis.distributed as dist
import genesis.nn as nn
import genesis.nn.functional as F
import genesis.optim as optim
import numpy as np
from genesis.nn.parallel import DistributedDataParallel

STDLIB_FILES = (
    "textwrap.py",
    "string.py",
    "functools.py",
    "heapq.py",
    "bisect.py",
    "fnmatch.py",
    "shlex.py",
    "queue.py",
    "glob.py",
    "calendar.py",
    "argparse.py",
)


def stdlib_text(max_chars: int) -> str:
    """Source code of a fixed list of standard-library modules, concatenated."""
    root = Path(os.__file__).parent
    parts = [
        (root / name).read_text(encoding="utf-8") for name in STDLIB_FILES if (root / name).exists()
    ]
    return "\n".join(parts)[:max_chars]


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        heads = [
            t.reshape(B, T, self.n_heads, C // self.n_heads).transpose(1, 2) for t in (q, k, v)
        ]
        y = F.scaled_dot_product_attention(
            *heads, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model),
            nn.GELU(),
            nn.Linear(4 * d_model, d_model),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    def __init__(
        self,
        vocab: int,
        block: int,
        d_model: int = 128,
        n_heads: int = 4,
        n_layers: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.block = block
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(block, d_model)
        self.blocks = nn.Sequential(*[Block(d_model, n_heads, dropout) for _ in range(n_layers)])
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.tok(idx) + self.pos(genesis.arange(T, device=idx.device))
        return self.head(self.ln(self.blocks(x)))


def batch(data: np.ndarray, block: int, size: int, rng: np.random.Generator):
    starts = rng.integers(0, len(data) - block - 1, size)
    x = np.stack([data[s : s + block] for s in starts])
    y = np.stack([data[s + 1 : s + block + 1] for s in starts])
    return genesis.tensor(x), genesis.tensor(y)


def generate(
    model: CharTransformer,
    prompt: list[int],
    n: int,
    rng: np.random.Generator,
    temperature: float = 0.8,
) -> list[int]:
    model.eval()
    out = list(prompt)
    with genesis.no_grad():
        for _ in range(n):
            idx = genesis.tensor([out[-model.block :]])
            logits = model(idx)[0, -1].numpy().astype(np.float64) / temperature
            p = np.exp(logits - logits.max())
            out.append(int(rng.choice(len(p), p=p / p.sum())))
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block", type=int, default=64)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--interval", type=int, default=50)
    parser.add_argument("--max-chars", type=int, default=400_000)
    parser.add_argument("--sample-chars", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", type=Path, default=Path("runs/charlm"))
    parser.add_argument("--resume", type=Path, default=None)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--amp", action="store_true",
                        help="mixed precision: bfloat16 autocast and a GradScaler")
    parser.add_argument("--ddp", action="store_true",
                        help="data parallel over the launcher's ranks (global batch unchanged)")
    args = parser.parse_args(argv)

    rank, world = 0, 1
    if args.ddp:
        dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
        if args.batch_size % world:
            parser.error(f"--batch-size {args.batch_size} must divide over {world} ranks")
    genesis.manual_seed(args.seed)
    text = stdlib_text(args.max_chars)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    model = CharTransformer(len(chars), args.block, args.d_model, args.heads, args.layers)
    net = DistributedDataParallel(model) if args.ddp else model
    optimizer = optim.AdamW(
        model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.01
    )
    scheduler = optim.get_transformer_schedule(
        optimizer, d_model=args.d_model, warmup_steps=args.warmup
    )
    scaler = genesis.amp.GradScaler("cpu", enabled=args.amp)
    rng = np.random.default_rng([args.seed, rank] if args.ddp else args.seed)
    history = {"loss": [], "val_loss": [], "lr": []}
    step, running = 0, None
    if args.resume is not None:
        state = genesis.load_checkpoint(args.resume)
        model.load_state_dict(state["model_state_dict"])
        optimizer.load_state_dict(state["optimizer_state_dict"])
        scheduler.load_state_dict(state["scheduler_state_dict"])
        if state.get("scaler_state_dict"):
            scaler.load_state_dict(state["scaler_state_dict"])
        genesis.set_rng_state(state["rng_state"])
        data_rng = state["data_rng"]
        rng.bit_generator.state = _rng_state_from(data_rng[rank] if args.ddp else data_rng)
        history, step, running = state["history"], state["step"], state["running_loss"]
        print(f"resumed from {args.resume} at step {step}")

    n_params = sum(p.numel() for p in model.parameters())
    if rank == 0:
        print(
            f"{len(text):,} characters of stdlib source, vocabulary {len(chars)}, "
            f"model {n_params:,} parameters, {args.steps} steps"
        )
        args.run_dir.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    bar = tqdm(
        total=args.steps, initial=step, disable=args.no_progress or rank != 0, file=sys.stdout,
        desc="training"
    )
    while step < args.steps:
        model.train()
        x, y = batch(train, args.block, args.batch_size // world, rng)
        with genesis.autocast("cpu", enabled=args.amp):
            logits = net(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)  # clip the true gradients
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)  # skipped if a gradient is inf/NaN (only with --amp)
        scaler.update()
        history["lr"].append(scheduler.get_last_lr()[0])
        scheduler.step()
        step += 1
        value = loss.detach()
        if args.ddp:  # the loss of the global batch
            dist.all_reduce(value, op=dist.ReduceOp.AVG)
        running = value.item() if running is None else 0.9 * running + 0.1 * value.item()
        bar.update(1)
        bar.set_postfix(loss=f"{running:.3f}", lr=f"{scheduler.get_last_lr():.2e}",
                        **({"scale": f"{scaler.get_scale():g}"} if args.amp else {}))
        if step % args.interval == 0 or step == args.steps:
            model.eval()
            with genesis.no_grad():
                vx, vy = batch(val, args.block, args.batch_size, np.random.default_rng(step))
                vlogits = model(vx)
                vloss = F.cross_entropy(
                    vlogits.reshape(-1, vlogits.shape[-1]), vy.reshape(-1)
                ).item()
            history["loss"].append(running)
            history["val_loss"].append(vloss)
            data_rng = _rng_state_to(rng)
            if args.ddp:  # every rank's stream goes into the checkpoint
                streams = [None] * world
                dist.all_gather_object(streams, data_rng)
                data_rng = streams
            if rank != 0:
                dist.barrier()  # rank 0 is writing the checkpoint
                continue
            bar.write(
                f"step {step:5d}  train loss {running:.4f}  val loss {vloss:.4f}  "
                f"lr {scheduler.get_last_lr():.2e}"
            )
            genesis.save_checkpoint(
                {
                    "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": optimizer.state_dict(),
                    "scheduler_state_dict": scheduler.state_dict(),
                    "scaler_state_dict": scaler.state_dict(),
                    "rng_state": genesis.get_rng_state(),
                    "data_rng": data_rng,
                    "step": step,
                    "running_loss": running,
                    "history": history,
                    "vocab": "".join(chars),
                },
                args.run_dir / "last.safetensors",
            )
            if args.ddp:
                dist.barrier()  # written: the others may go on
    bar.close()
    if args.ddp:
        dist.destroy_process_group()
    if rank != 0:
        return history
    prompt = [stoi[c] for c in "def "]
    sample = "".join(
        chars[i]
        for i in generate(model, prompt, args.sample_chars, np.random.default_rng(args.seed))
    )
    print("---- sample ----\n" + sample + "\n----------------")
    history["sample"] = sample
    return history


def _rng_state_to(rng: np.random.Generator) -> dict:
    """numpy's bit-generator state as plain data (ints as decimal strings: they exceed int64)."""
    s = rng.bit_generator.state
    return {
        "bit_generator": s["bit_generator"],
        "state": str(s["state"]["state"]),
        "inc": str(s["state"]["inc"]),
        "has_uint32": s["has_uint32"],
        "uinteger": s["uinteger"],
    }


def _rng_state_from(d: dict) -> dict:
    return {
        "bit_generator": d["bit_generator"],
        "state": {"state": int(d["state"]), "inc": int(d["inc"])},
        "has_uint32": d["has_uint32"],
        "uinteger": d["uinteger"],
    }


if __name__ == "__main__":
    main()
