"""The layer classes of :mod:`genesis.nn`."""

from genesis.nn.modules.activation import (
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from genesis.nn.modules.attention import MultiheadAttention
from genesis.nn.modules.container import ModuleDict, ModuleList, Sequential
from genesis.nn.modules.dropout import Dropout
from genesis.nn.modules.flatten import Flatten, Unflatten
from genesis.nn.modules.linear import Identity, Linear
from genesis.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from genesis.nn.modules.module import Module
from genesis.nn.modules.normalization import BatchNorm1d, LayerNorm, RMSNorm
from genesis.nn.modules.sparse import Embedding

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GELU",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "MultiheadAttention",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "RMSNorm",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Tanh",
    "Unflatten",
]
