"""Genesis vs PyTorch (CPU) in one process: MLP and transformer training steps, eager dispatch.

Ratio = Genesis time / PyTorch time (below 1.0: Genesis is faster).
Run with ``nox -s bench`` (which unsets OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE).
"""

from __future__ import annotations

import sys
from pathlib import Path

import genesis
import genesis.nn as gnn
import genesis.nn.functional as gF
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _harness import median_seconds, print_table  # noqa: E402


def mlp_step_pair(sizes: tuple, batch: int = 128, lr: float = 0.01, adamw: bool = False):
    """One training step (forward, cross-entropy, backward, update) in each library: SGD done by
    hand, or AdamW from genesis.optim / torch.optim."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)

    def layers(lib):
        mods = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            mods.append(lib.Linear(a, b))
            if i < len(sizes) - 2:
                mods.append(lib.ReLU())
        return lib.Sequential(*mods)

    gmodel, tmodel = layers(gnn), layers(torch.nn)
    gx, gy = genesis.tensor(x), genesis.tensor(y)
    tx, ty = torch.tensor(x), torch.tensor(y)
    gparams, tparams = list(gmodel.parameters()), list(tmodel.parameters())
    if adamw:
        import genesis.optim as goptim

        gopt = goptim.AdamW(gparams, lr=1e-3)
        topt = torch.optim.AdamW(tparams, lr=1e-3)

        def g_adamw():
            loss = gF.cross_entropy(gmodel(gx), gy)
            gopt.zero_grad()
            loss.backward()
            gopt.step()

        def t_adamw():
            loss = torch.nn.functional.cross_entropy(tmodel(tx), ty)
            topt.zero_grad()
            loss.backward()
            topt.step()

        return g_adamw, t_adamw

    def g_step():
        loss = gF.cross_entropy(gmodel(gx), gy)
        for p in gparams:
            p.grad = None
        loss.backward()
        with genesis.no_grad():
            for p in gparams:
                p.sub_(p.grad, alpha=lr)

    def t_step():
        loss = torch.nn.functional.cross_entropy(tmodel(tx), ty)
        for p in tparams:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in tparams:
                p.sub_(p.grad, alpha=lr)

    return g_step, t_step


def transformer_pair(batch: int = 32, block: int = 64, vocab: int = 96):
    """Example 2's character transformer (2 layers, d_model 128) and the same model in torch:
    one AdamW training step with gradient clipping."""
    sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))
    from train_charlm import CharTransformer

    genesis.manual_seed(0)
    gmodel = CharTransformer(vocab, block, dropout=0.0)
    tmodel = TorchCharTransformer(vocab, block)
    import genesis.optim as goptim

    gopt = goptim.AdamW(gmodel.parameters(), lr=1e-3)
    topt = torch.optim.AdamW(tmodel.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = rng.integers(0, vocab, (batch, block))
    y = rng.integers(0, vocab, (batch, block))
    gx, gy, tx, ty = genesis.tensor(x), genesis.tensor(y), torch.tensor(x), torch.tensor(y)

    def g_step():
        logits = gmodel(gx)
        loss = gF.cross_entropy(logits.reshape(-1, vocab), gy.reshape(-1))
        gopt.zero_grad()
        loss.backward()
        gnn.utils.clip_grad_norm_(gmodel.parameters(), 1.0)
        gopt.step()

    def t_step():
        logits = tmodel(tx)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), ty.reshape(-1))
        topt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(tmodel.parameters(), 1.0)
        topt.step()

    return g_step, t_step


class TorchBlock(torch.nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.qkv, self.proj = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(d, 4 * d), torch.nn.GELU(), torch.nn.Linear(4 * d, d)
        )

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.reshape(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp(self.ln2(x))


class TorchCharTransformer(torch.nn.Module):
    def __init__(
        self, vocab: int, block: int, d: int = 128, heads: int = 4, layers: int = 2
    ) -> None:
        super().__init__()
        self.tok, self.pos = torch.nn.Embedding(vocab, d), torch.nn.Embedding(block, d)
        self.blocks = torch.nn.Sequential(*[TorchBlock(d, heads) for _ in range(layers)])
        self.ln, self.head = torch.nn.LayerNorm(d), torch.nn.Linear(d, vocab)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        return self.head(self.ln(self.blocks(x)))


def eager_pair():
    a = genesis.randn(16, 16, requires_grad=True)
    b = genesis.randn(16, 16, requires_grad=True)
    ta = torch.randn(16, 16, requires_grad=True)
    tb = torch.randn(16, 16, requires_grad=True)
    return (lambda: (a * b).sum().backward()), (lambda: (ta * tb).sum().backward())


def main() -> None:
    rows = []
    for name, (g, t) in [
        ("MLP step 784-2048-2048-10, batch 128, SGD", mlp_step_pair((784, 2048, 2048, 10))),
        ("MLP step 784-256-10, batch 128, SGD", mlp_step_pair((784, 256, 10))),
        (
            "MLP step 784-2048-2048-10, batch 128, AdamW",
            mlp_step_pair((784, 2048, 2048, 10), adamw=True),
        ),
        ("MLP step 784-256-10, batch 128, AdamW", mlp_step_pair((784, 256, 10), adamw=True)),
        ("transformer step (Example 2), 32x64 tokens", transformer_pair()),
        ("eager (a*b).sum().backward() 16x16", eager_pair()),
    ]:
        tg = median_seconds(g, repeats=9)
        tt = median_seconds(t, repeats=9)
        rows.append((name, tg, tt, "s"))
    print_table("Genesis vs PyTorch: training-step medians", rows)


if __name__ == "__main__":
    main()
