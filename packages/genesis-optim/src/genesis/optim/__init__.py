"""genesis.optim: optimizers, learning-rate schedulers and schedule helpers.

Ships in the ``genesis-optim`` distribution; ``genesis/__init__.py`` (in
genesis-core) extends its ``__path__`` so this subpackage is found.
"""

from genesis.optim import lr_scheduler
from genesis.optim.lr_scheduler import *  # noqa: F403
from genesis.optim.lr_scheduler import __all__ as _scheduler_names
from genesis.optim.schedule_helpers import *  # noqa: F403
from genesis.optim.schedule_helpers import __all__ as _helper_names

__all__ = ["lr_scheduler", *_scheduler_names, *_helper_names]
