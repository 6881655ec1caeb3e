"""Genesis: a small deep learning framework with PyTorch's API.

Layers, bottom up (each module may import only the ones above it in this list):

    _dtype, backends (protocol, hookspecs, registry)   what a device must provide
    _device, _tensor                                   strided views + raw kernel calls
    autograd (grad_mode, function, engine)             the dynamic graph
    _ops (elementwise, reduction, shape, indexing,     differentiable ops built on the
          linalg, creation, tensor_methods)            backend primitives
    nn (functional, init, modules), serialization,     the user-facing library
    testing

The core never imports a backend by name: devices come from plugins found in
the ``genesis.backends`` entry-point group when this package is imported.
"""

from __future__ import annotations

from pkgutil import extend_path
from types import ModuleType as _ModuleType

__path__ = extend_path(__path__, __name__)  # genesis.optim ships in another distribution

from genesis import backends  # noqa: E402
from genesis._device import Device, device  # noqa: E402
from genesis._dtype import (  # noqa: E402
                            DType,
                            bfloat16,
                            float16,
                            float32,
                            float64,
                            get_default_dtype,
                            int8,
                            int16,
                            int32,
                            int64,
                            promote_types,
                            result_type,
                            set_default_dtype,
                            uint8,
)
from genesis._dtype import bool_ as bool
from genesis._install import import_optional as _import_optional  # noqa: E402
from genesis._ops import tensor_methods as _tensor_methods  # noqa: E402
from genesis._ops.creation import (  # noqa: E402
                            arange,
                            as_tensor,
                            empty,
                            empty_like,
                            eye,
                            from_numpy,
                            full,
                            full_like,
                            linspace,
                            ones,
                            ones_like,
                            rand,
                            rand_like,
                            randint,
                            randint_like,
                            randn,
                            randn_like,
                            randperm,
                            tensor,
                            zeros,
                            zeros_like,
)
from genesis._ops.elementwise import (  # noqa: E402
                            abs,
                            add,
                            clamp,
                            cos,
                            div,
                            eq,
                            erf,
                            exp,
                            ge,
                            gt,
                            le,
                            log,
                            logical_and,
                            logical_not,
                            logical_or,
                            logical_xor,
                            lt,
                            maximum,
                            minimum,
                            mul,
                            ne,
                            neg,
                            pow,
                            relu,
                            rsqrt,
                            sigmoid,
                            sign,
                            sin,
                            sqrt,
                            square,
                            sub,
                            tanh,
                            where,
)
from genesis._ops.indexing import gather, index_select, masked_fill, nonzero, scatter, scatter_add  # noqa: E402
from genesis._ops.linalg import bmm, matmul, mm  # noqa: E402
from genesis._ops.reduction import (  # noqa: E402
                            all,
                            amax,
                            amin,
                            any,
                            argmax,
                            argmin,
                            logsumexp,
                            max,
                            mean,
                            min,
                            prod,
                            std,
                            sum,
                            var,
)
from genesis._ops.shape import (  # noqa: E402
                            cat,
                            chunk,
                            expand,
                            flatten,
                            narrow,
                            permute,
                            reshape,
                            split,
                            squeeze,
                            stack,
                            t,
                            transpose,
                            unbind,
                            unsqueeze,
                            view,
)
from genesis._tensor import Tensor, broadcast_shapes  # noqa: E402
from genesis.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: E402
from genesis.random import (  # noqa: E402
                            Generator,
                            default_generator,
                            get_rng_state,
                            initial_seed,
                            manual_seed,
                            seed,
                            set_rng_state,
)

_tensor_methods.bind()
clip = clamp
concat = concatenate = cat
float = float32  # noqa: A001 - PyTorch's aliases
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

from genesis import autograd, cuda, nn, utils  # noqa: E402
from genesis.checkpoint import load, load_checkpoint, save, save_checkpoint  # noqa: E402

backends.registry.load_entry_points()

__version__ = "0.1.0"


def __getattr__(name: str) -> _ModuleType:
    """``genesis.optim`` without ``import genesis.optim`` (PEP 562; imported on first use).

    Raises AttributeError naming the distribution to install when it is missing.
    """
    return _import_optional(name)
