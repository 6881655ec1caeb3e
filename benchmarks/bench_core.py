"""Training steps of MLPs and of Example 2's transformer, and eager dispatch overhead.

Each step (forward, cross-entropy, backward, optimizer step) starts from the same weights
in both libraries; PyTorch's optimizer is its fused one (the option column says so).
"""

from __future__ import annotations

import sys
from pathlib import Path

import genesis
import genesis.nn as gnn
import numpy as np
import torch
from _harness import Case, Contest
from _twins import copy_weights, step_contest

TITLE = "Training steps (MLP, Example 2's transformer) and eager dispatch"
WIDE, SMALL = (784, 2048, 2048, 10), (784, 256, 10)
BLAS_NOTE = ("matmul-bound: numpy's sgemm (OpenBLAS) against torch's (MKL); see the "
             "matmul row")


def mlp(nn, sizes: tuple) -> object:
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def mlp_step(sizes: tuple, batch: int, optimizer: str, hyper: dict) -> Contest:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    torch.manual_seed(0)
    t_model, g_model = mlp(torch.nn, sizes), mlp(gnn, sizes)
    copy_weights(t_model, g_model, genesis)
    return step_contest(g_model, t_model, optimizer, hyper, x, y)


class TorchAttention(torch.nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv, self.proj = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.reshape(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class TorchBlock(torch.nn.Module):
    """examples/train_charlm.py's Block in PyTorch, with the same parameter names."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.attn = TorchAttention(d, heads)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(d, 4 * d), torch.nn.GELU(),
                                       torch.nn.Linear(4 * d, d))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TorchCharTransformer(torch.nn.Module):
    """examples/train_charlm.py's CharTransformer (dropout 0) in PyTorch."""

    def __init__(self, vocab: int, block: int, d_model: int, n_heads: int, n_layers: int):
        super().__init__()
        self.tok, self.pos = torch.nn.Embedding(vocab, d_model), torch.nn.Embedding(block, d_model)
        self.blocks = torch.nn.Sequential(*[TorchBlock(d_model, n_heads)
                                            for _ in range(n_layers)])
        self.ln, self.head = torch.nn.LayerNorm(d_model), torch.nn.Linear(d_model, vocab)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        return self.head(self.ln(self.blocks(x)))


def transformer_step(batch: int, block: int, vocab: int, size: dict) -> Contest:
    """Example 2's model and optimizer (AdamW, betas (0.9, 0.98), eps 1e-9, weight decay
    0.01, gradient clipping at 1), one step on random tokens."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from train_charlm import CharTransformer

    genesis.manual_seed(0)
    g_model = CharTransformer(vocab, block, dropout=0.0, **size)
    t_model = TorchCharTransformer(vocab, block, **size)
    copy_weights(g_model, t_model, torch)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, vocab, (batch, block)), rng.integers(0, vocab, (batch, block))
    hyper = {"lr": 1e-3, "betas": (0.9, 0.98), "eps": 1e-9, "weight_decay": 0.01}
    return step_contest(g_model, t_model, "AdamW", hyper, x, y, clip=1.0)


def eager() -> Contest:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 16, 16)).astype(np.float32)
    ga, gb = genesis.tensor(a, requires_grad=True), genesis.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)

    def g_call():
        (ga * gb).sum().backward()
        return ga.grad

    def t_call():
        (ta * tb).sum().backward()
        return ta.grad

    return Contest(genesis=g_call, torch={"": t_call})


def cases(smoke: bool) -> list[Case]:
    wide, small, batch = ((32, 64, 64, 10), (32, 16, 10), 8) if smoke else (WIDE, SMALL, 128)
    size = ({"d_model": 16, "n_heads": 2, "n_layers": 1} if smoke
            else {"d_model": 128, "n_heads": 4, "n_layers": 2})
    tokens = (2, 8, 20) if smoke else (32, 64, 96)
    sgd, adamw = {"lr": 0.01}, {"lr": 1e-3}
    return [
        Case("MLP step 784-2048-2048-10, batch 128, SGD",
             lambda: mlp_step(wide, batch, "SGD", sgd), 0.85, BLAS_NOTE),
        Case("MLP step 784-256-10, batch 128, SGD",
             lambda: mlp_step(small, batch, "SGD", sgd), 1.2),
        Case("MLP step 784-2048-2048-10, batch 128, AdamW",
             lambda: mlp_step(wide, batch, "AdamW", adamw), 0.85, BLAS_NOTE),
        Case("MLP step 784-256-10, batch 128, AdamW",
             lambda: mlp_step(small, batch, "AdamW", adamw), 1.2),
        Case("transformer step (Example 2's model, AdamW, clipping), 32×64 tokens",
             lambda: transformer_step(*tokens, size), 0.9),
        Case("eager (a*b).sum().backward(), 16×16", eager, 1.0,
             "per-op Python overhead"),
    ]


if __name__ == "__main__":
    from run import main

    main([Path(__file__).stem, *sys.argv[1:]])
