"""``genesis.amp``: automatic mixed precision, PyTorch's ``torch.amp``.

:class:`autocast` (also ``genesis.autocast``) runs listed ops in lower precision;
:class:`GradScaler` scales the loss so float16 gradients do not underflow.
"""

from genesis._ops.autocast import (
    autocast,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_enabled,
)
from genesis.amp.grad_scaler import GradScaler, OptState

__all__ = ["GradScaler", "OptState", "autocast", "get_autocast_dtype", "is_autocast_available",
           "is_autocast_enabled"]
