"""Train a small MLP on a generated 3-class spiral data set and watch the loss fall.

    nox -s example          (or: python examples/train_mlp.py --epochs 30)

Everything runs on the CPU backend; no download. The run uses genesis.nn,
AdamW with a cosine schedule with warmup stepped per batch, and a checkpoint
saved at the end and loaded back.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import genesis
import genesis.nn as nn
import genesis.nn.functional as F
import genesis.optim as optim
import numpy as np


def spirals(n_per_class: int, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved noisy spirals: not linearly separable, learnable by a small MLP."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        theta = np.linspace(
            c * 2 * math.pi / classes, c * 2 * math.pi / classes + 4.0, n_per_class
        ) + rng.normal(0, 0.15, n_per_class)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(n_per_class, c))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    genesis.manual_seed(args.seed)
    x, y = spirals(400, seed=args.seed)
    perm = np.random.default_rng(args.seed).permutation(len(x))
    x, y = x[perm], y[perm]
    split = int(0.8 * len(x))
    x_train, y_train = genesis.tensor(x[:split]), genesis.tensor(y[:split])
    x_test, y_test = genesis.tensor(x[split:]), genesis.tensor(y[split:])

    model = nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3)
    )
    optimizer = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = math.ceil(split / args.batch_size)
    scheduler = optim.get_cosine_schedule_with_warmup(
        optimizer,
        num_warmup_steps=steps_per_epoch,
        num_training_steps=args.epochs * steps_per_epoch,
    )

    print(f"training {model} on {split} spiral points, {args.epochs} epochs")
    for epoch in range(args.epochs):
        model.train()
        order = genesis.randperm(split)
        total = 0.0
        for start in range(0, split, args.batch_size):
            idx = order[start : start + args.batch_size]
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * idx.shape[0]
        model.eval()
        with genesis.no_grad():
            accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        if epoch % 5 == 0 or epoch == args.epochs - 1:
            print(
                f"epoch {epoch:3d}  loss {total / split:.4f}  test accuracy {accuracy:.3f}  "
                f"lr {scheduler.get_last_lr():.6f}"
            )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spirals.safetensors"
        genesis.save_checkpoint(
            {
                "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "scheduler_state_dict": scheduler.state_dict(),
                "epoch": args.epochs,
                "accuracy": accuracy,
            },
            path,
        )
        restored = nn.Sequential(
            nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3)
        )
        restored.load_state_dict(genesis.load_checkpoint(path)["model_state_dict"])
        with genesis.no_grad():
            same = (restored(x_test).argmax(1) == model(x_test).argmax(1)).all().item()
        print(f"checkpoint {path.name}: {path.stat().st_size} bytes, reloaded model agrees: {same}")
    print(f"final test accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
