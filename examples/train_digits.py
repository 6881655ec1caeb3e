"""Example 1: an MLP classifier for the 8x8 handwritten digits (1,797 real images, no download).

    python examples/train_digits.py                      # train, checkpoint every epoch
    python examples/train_digits.py --resume runs/digits # continue from the newest good one
    python examples/train_digits.py --amp                # mixed precision (bfloat16 autocast)
    python -m genesis.distributed.run -n 2 examples/train_digits.py --ddp   # 2 processes

AdamW with ``get_cosine_schedule_with_warmup`` stepped per batch, a tqdm bar
with loss and LR, test accuracy each epoch, a checkpoint per epoch written
with ``genesis.save_checkpoint``. ``--resume`` takes a checkpoint file or the
run folder; from a folder it picks the newest checkpoint that verifies,
skipping (and naming) corrupt or partial ones. A resumed run continues
exactly: same learning rates, same batches, same dropout masks, same final
accuracy. At the end it writes ``curves.png``: the LR schedule and the
train/test curves. ``--amp`` runs the forward pass under ``genesis.autocast`` with a
``GradScaler`` (its scale shown in the bar, its state checkpointed).

``--ddp`` trains data-parallel on the processes the launcher started: each rank
reads its share of every batch (``DistributedSampler``, same global batch size),
``DistributedDataParallel`` averages the gradients, rank 0 prints, plots and
writes the checkpoints while the others wait.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import genesis
import genesis.distributed as dist
import genesis.nn as nn
import genesis.nn.functional as F
import genesis.optim as optim
import numpy as np
from genesis.checkpoint import CheckpointError
from genesis.nn.parallel import DistributedDataParallel
from genesis.utils.data import DataLoader, DistributedSampler, TensorDataset

DATA = Path(__file__).parent / "data" / "digits.npz"


def load_digits(seed: int = 0, test_fraction: float = 0.2):
    """Pixels scaled to [0, 1], flattened to 64 features; a fixed stratification-free split."""
    with np.load(DATA) as f:
        x = f["images"].reshape(-1, 64).astype(np.float32) / 16.0
        y = f["labels"].astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return (
        TensorDataset(genesis.tensor(x[train]), genesis.tensor(y[train])),
        TensorDataset(genesis.tensor(x[test]), genesis.tensor(y[test])),
    )


def build_model() -> nn.Module:
    return nn.Sequential(
        nn.Linear(64, 128),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def evaluate(model: nn.Module, data: TensorDataset) -> float:
    model.eval()
    with genesis.no_grad():
        x, y = data.tensors
        return (model(x).argmax(1) == y).float().mean().item()


def newest_valid_checkpoint(path: Path) -> tuple[Path, dict]:
    """``path`` itself, or the newest ``epoch_*.safetensors`` in it that loads and verifies."""
    if path.is_file():
        return path, genesis.load_checkpoint(path)
    candidates = sorted(path.glob("epoch_*.safetensors"), reverse=True)
    for candidate in candidates:
        try:
            return candidate, genesis.load_checkpoint(candidate)
        except CheckpointError as err:
            print(f"skipping {candidate.name}: {err}", file=sys.stderr)
    raise FileNotFoundError(
        f"--resume {path}: no checkpoint that verifies (looked at {len(candidates)} file(s))"
    )


def plot(history: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_lr, ax_loss, ax_acc) = plt.subplots(1, 3, figsize=(13, 3.6))
    ax_lr.plot(history["lr"])
    ax_lr.set(title="learning rate (per batch)", xlabel="step")
    epochs = range(1, len(history["train_loss"]) + 1)
    ax_loss.plot(epochs, history["train_loss"], marker="o")
    ax_loss.set(title="train loss", xlabel="epoch", yscale="log")
    ax_acc.plot(epochs, history["test_accuracy"], marker="o", color="tab:green")
    ax_acc.set(title="test accuracy", xlabel="epoch", ylim=(0.8, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup-epochs", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", type=Path, default=Path("runs/digits"))
    parser.add_argument(
        "--resume",
        type=Path,
        default=None,
        help="a checkpoint file, or a run folder (newest valid checkpoint)",
    )
    parser.add_argument(
        "--stop-after",
        type=int,
        default=None,
        help="stop after this many epochs of this invocation (to test resume)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no tqdm bar")
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
    train, test = load_digits(args.seed)
    sampler = DistributedSampler(train, world, rank, seed=args.seed) if args.ddp else None
    loader = DataLoader(train, batch_size=args.batch_size // world, shuffle=sampler is None,
                        sampler=sampler)
    model = build_model()
    net = DistributedDataParallel(model) if args.ddp else model
    optimizer = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = len(loader)
    scheduler = optim.get_cosine_schedule_with_warmup(
        optimizer,
        num_warmup_steps=math.ceil(args.warmup_epochs * steps_per_epoch),
        num_training_steps=args.epochs * steps_per_epoch,
    )
    scaler = genesis.amp.GradScaler("cpu", enabled=args.amp)
    history = {"lr": [], "train_loss": [], "test_accuracy": []}
    start_epoch = 0

    if args.resume is not None:
        path, state = newest_valid_checkpoint(args.resume)
        model.load_state_dict(state["model_state_dict"])
        optimizer.load_state_dict(state["optimizer_state_dict"])
        scheduler.load_state_dict(state["scheduler_state_dict"])
        if state.get("scaler_state_dict"):
            scaler.load_state_dict(state["scaler_state_dict"])
        genesis.set_rng_state(state["rng_state"])
        history = state["history"]
        start_epoch = state["epoch"] + 1
        print(
            f"resumed from {path} (epoch {state['epoch'] + 1} done, "
            f"lr {scheduler.get_last_lr():.6f})"
        )

    if rank == 0:
        args.run_dir.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    last = (
        args.epochs if args.stop_after is None else min(args.epochs, start_epoch + args.stop_after)
    )
    for epoch in range(start_epoch, last):
        if sampler is not None:
            sampler.set_epoch(epoch)
        model.train()
        total, seen = 0.0, 0
        bar = tqdm(
            total=len(loader),
            desc=f"epoch {epoch + 1}/{args.epochs}",
            leave=False,
            disable=args.no_progress or rank != 0,
            file=sys.stdout,
        )
        for x, y in loader:
            with genesis.autocast("cpu", enabled=args.amp):
                loss = F.cross_entropy(net(x), y)
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(optimizer)  # skipped if a gradient is inf/NaN (only with --amp)
            scaler.update()
            history["lr"].append(scheduler.get_last_lr()[0])
            scheduler.step()
            total += loss.item() * len(y)
            seen += len(y)
            bar.set_postfix(loss=f"{loss.item():.4f}", lr=f"{scheduler.get_last_lr():.2e}",
                            **({"scale": f"{scaler.get_scale():g}"} if args.amp else {}),
                            refresh=False)
            bar.update(1)
        bar.close()
        if args.ddp:  # the loss over every rank's samples
            sums = genesis.tensor([total, seen], dtype=genesis.float64)
            dist.all_reduce(sums)
            total, seen = sums.tolist()
        history["train_loss"].append(total / seen)
        history["test_accuracy"].append(evaluate(model, test))
        if rank != 0:
            dist.barrier()  # rank 0 is writing the checkpoint
            continue
        print(
            f"epoch {epoch + 1:3d}/{args.epochs}  train loss {total / seen:.4f}  "
            f"test accuracy {history['test_accuracy'][-1]:.4f}  "
            f"lr {scheduler.get_last_lr():.6f}"
        )
        genesis.save_checkpoint(
            {
                "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "scheduler_state_dict": scheduler.state_dict(),
                "scaler_state_dict": scaler.state_dict(),
                "rng_state": genesis.get_rng_state(),
                "epoch": epoch,
                "loss": loss.detach(),
                "history": history,
            },
            args.run_dir / f"epoch_{epoch + 1:03d}.safetensors",
        )
        if args.ddp:
            dist.barrier()  # written: the others may go on (and may resume from it)
    if args.ddp:
        dist.destroy_process_group()
    if rank != 0:
        return history
    plot(history, args.run_dir / "curves.png")
    print(
        f"final test accuracy {history['test_accuracy'][-1]:.4f}; curves in "
        f"{args.run_dir / 'curves.png'}"
    )
    return history


if __name__ == "__main__":
    main()
