"""``genesis.nn``: layers (:class:`Module` and friends), ``functional``, ``init``, ``utils``."""

from genesis.nn import functional, init, parallel, utils
from genesis.nn.modules import *  # noqa: F403 -- every layer class, as modules.__all__ lists them
from genesis.nn.modules import __all__ as _layers
from genesis.nn.parameter import Parameter

__all__ = [*_layers, "Parameter", "functional", "init", "parallel", "utils"]
