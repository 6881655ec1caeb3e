"""``genesis.nn``: layers (:class:`Module` and friends), ``functional``, ``init``, ``utils``."""

from genesis.nn import functional, init, utils
from genesis.nn.modules import (
                                GELU,
                                BatchNorm1d,
                                BCELoss,
                                BCEWithLogitsLoss,
                                CrossEntropyLoss,
                                Dropout,
                                Embedding,
                                Flatten,
                                Identity,
                                L1Loss,
                                LayerNorm,
                                LeakyReLU,
                                Linear,
                                LogSoftmax,
                                Module,
                                ModuleDict,
                                ModuleList,
                                MSELoss,
                                MultiheadAttention,
                                NLLLoss,
                                ReLU,
                                RMSNorm,
                                Sequential,
                                Sigmoid,
                                SiLU,
                                SmoothL1Loss,
                                Softmax,
                                Tanh,
                                Unflatten,
)
from genesis.nn.parameter import Parameter

__all__ = ["BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout",
           "Embedding", "Flatten", "GELU", "Identity", "L1Loss", "LayerNorm", "LeakyReLU",
           "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleDict", "ModuleList",
           "MultiheadAttention", "NLLLoss",
           "Parameter", "RMSNorm", "ReLU", "Sequential", "SiLU", "Sigmoid", "SmoothL1Loss",
           "Softmax", "Tanh", "Unflatten", "functional", "init", "utils"]
