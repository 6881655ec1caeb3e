"""genesis.optim: optimizers, learning-rate schedulers and schedule helpers.

Ships in the ``genesis-optim`` distribution; ``genesis/__init__.py`` (in
genesis-core) extends its ``__path__`` so this subpackage is found.
"""

from genesis.optim import lr_finder, lr_scheduler, schedule_helpers, schedule_plot
from genesis.optim.adadelta import Adadelta
from genesis.optim.adagrad import Adagrad
from genesis.optim.adam import Adam, AdamW
from genesis.optim.adamax import Adamax
from genesis.optim.asgd import ASGD
from genesis.optim.lbfgs import LBFGS
from genesis.optim.lr_finder import LRRangeTestResult, lr_range_test
from genesis.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LambdaLR,
    LastLR,
    LinearLR,
    LRScheduler,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from genesis.optim.nadam import NAdam
from genesis.optim.optimizer import Optimizer
from genesis.optim.radam import RAdam
from genesis.optim.rmsprop import RMSprop
from genesis.optim.rprop import Rprop
from genesis.optim.schedule_helpers import (
    get_constant_schedule,
    get_constant_schedule_with_warmup,
    get_cosine_restarts_schedule,
    get_cosine_schedule_with_warmup,
    get_cosine_with_hard_restarts_schedule_with_warmup,
    get_inverse_sqrt_schedule,
    get_linear_schedule_with_warmup,
    get_polynomial_decay_schedule,
    get_polynomial_decay_schedule_with_warmup,
    get_step_decay_schedule,
    get_transformer_schedule,
    get_wsd_schedule,
)
from genesis.optim.schedule_plot import format_schedule, plot_schedule, plot_schedule_text
from genesis.optim.sgd import SGD
from genesis.optim.sparse_adam import SparseAdam

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "ASGD",
    "NAdam",
    "RAdam",
    "Rprop",
    "LBFGS",
    "SparseAdam",
    "lr_finder",
    "lr_scheduler",
    "schedule_helpers",
    "schedule_plot",
    *lr_finder.__all__,
    *lr_scheduler.__all__,
    *schedule_helpers.__all__,
    *schedule_plot.__all__,
]
