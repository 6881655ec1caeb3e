"""Genesis vs PyTorch (CPU) in one process: whole training steps of the nets issue 10 names.

Each net is built once per library from the same source text (``lib`` is ``genesis`` or
``torch``) with the torch net's initial weights copied into the Genesis one, and one step
(forward, loss, backward, optimizer step) is timed with the two libraries alternating round
by round (``median_pair``). Ratio = Genesis time / PyTorch time. Targets (issue 10): MNIST
net <= 1.3, residual CNN <= 1.5, LSTM <= 1.5, Transformer encoder <= 1.0.
"""

from __future__ import annotations

import sys
from pathlib import Path

import genesis
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _harness import median_pair, print_table  # noqa: E402


def mnist_net(lib):
    """The official PyTorch MNIST example's net."""
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128),
                         nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))


def residual_cnn(lib):
    """A small residual CNN for 3x32x32 images."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
            self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

        def forward(self, x):
            y = self.bn1(self.conv1(x)).relu()
            return (self.bn2(self.conv2(y)) + x).relu()

    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32),
                         nn.ReLU(), Block(32), nn.MaxPool2d(2), Block(32),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


def lstm_classifier(lib):
    """Embedding + LSTM(128 -> 256) + linear head on the last step."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(1000, 128)
            self.lstm = nn.LSTM(128, 256, batch_first=True)
            self.head = nn.Linear(256, 10)

        def forward(self, ids):
            out, _ = self.lstm(self.embed(ids))
            return self.head(out[:, -1])

    return Net()


def transformer_encoder(lib):
    """Two TransformerEncoderLayer(128, 4, 512) over embedded tokens, mean-pooled."""
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(1000, 128)
            layer = nn.TransformerEncoderLayer(128, 4, 512, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = nn.Linear(128, 10)

        def forward(self, ids):
            return self.head(self.encoder(self.embed(ids)).mean(1))

    return Net()


def step_pair(build, make_input, optimizer: str):
    rng = np.random.default_rng(0)
    x = make_input(rng)
    y = rng.integers(0, 10, x.shape[0])
    t_model, g_model = build(torch), build(genesis)
    g_model.load_state_dict({k: genesis.tensor(v.detach().numpy())
                             for k, v in t_model.state_dict().items()})
    t_opt = getattr(torch.optim, optimizer)(t_model.parameters(), lr=1e-3)
    g_opt = getattr(genesis.optim, optimizer)(g_model.parameters(), lr=1e-3)
    tx, ty, gx, gy = torch.tensor(x), torch.tensor(y), genesis.tensor(x), genesis.tensor(y)

    def run(lib, model, opt, inputs, target):
        def step():
            loss = lib.nn.functional.cross_entropy(model(inputs), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step

    return run(genesis, g_model, g_opt, gx, gy), run(torch, t_model, t_opt, tx, ty)


CASES = [
    ("MNIST example net step (batch 64, Adadelta)", mnist_net,
     lambda rng: rng.standard_normal((64, 1, 28, 28)).astype(np.float32), "Adadelta"),
    ("residual CNN step (32x3x32x32, SGD)", residual_cnn,
     lambda rng: rng.standard_normal((32, 3, 32, 32)).astype(np.float32), "SGD"),
    ("Embedding + LSTM(128->256) step (32x35 ids, Adam)", lstm_classifier,
     lambda rng: rng.integers(0, 1000, (32, 35)), "Adam"),
    ("2 x TransformerEncoderLayer(128, 4, 512) step (32x64 ids, AdamW)", transformer_encoder,
     lambda rng: rng.integers(0, 1000, (32, 64)), "AdamW"),
]


def main() -> None:
    rows = []
    for name, build, make_input, optimizer in CASES:
        g, t = median_pair(*step_pair(build, make_input, optimizer), rounds=7)
        rows.append((name, g, t, "s"))
    print_table("Genesis vs PyTorch: training-step medians", rows)


if __name__ == "__main__":
    main()
