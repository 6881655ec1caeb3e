"""Whole training steps of the nets issue 10 names: MNIST example net, residual CNN,
Embedding + LSTM, Transformer encoder.

Each net is built once per library from the same source text (``lib`` is ``genesis`` or
``torch``), with the torch net's initial weights copied into the Genesis one; PyTorch's
optimizer is its fused one where it has one. Nets with dropout are checked in eval mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

import genesis
import numpy as np
import torch
from _harness import Case, Contest
from _twins import copy_weights, step_contest

TITLE = "Training steps of issue 10's nets"


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


def layer_step(build, inputs: np.ndarray, optimizer: str) -> Contest:
    target = np.random.default_rng(1).integers(0, 10, inputs.shape[0])
    torch.manual_seed(0)
    t_model, g_model = build(torch), build(genesis)
    copy_weights(t_model, g_model, genesis)
    return step_contest(g_model, t_model, optimizer, {"lr": 1e-3}, inputs, target)


def cases(smoke: bool) -> list[Case]:
    batch, image, seq = (2, 8, 5) if smoke else (None, 32, None)

    def images(n, c, side):
        shape = (batch or n, c, side, side)
        return lambda: np.random.default_rng(0).standard_normal(shape).astype(np.float32)

    def ids(n, length):
        return lambda: np.random.default_rng(0).integers(0, 1000, (batch or n, seq or length))

    def case(name, build, make_input, optimizer, target):
        return Case(name, lambda: layer_step(build, make_input(), optimizer), target)

    return [
        case("MNIST example net step (batch 64, Adadelta)", mnist_net,
             images(64, 1, 28), "Adadelta", 1.3),
        case("residual CNN step (32×3×32×32, SGD)", residual_cnn,
             images(32, 3, image), "SGD", 1.5),
        case("Embedding + LSTM(128→256) step (32×35 ids, Adam)", lstm_classifier,
             ids(32, 35), "Adam", 1.5),
        case("2 × TransformerEncoderLayer(128, 4, 512) step (32×64 ids, AdamW)",
             transformer_encoder, ids(32, 64), "AdamW", 1.0),
    ]


if __name__ == "__main__":
    from run import main

    main([Path(__file__).stem, *sys.argv[1:]])
