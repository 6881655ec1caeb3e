"""Genesis: a small deep learning framework with PyTorch's API.

Layers, bottom up: a module imports only from its own line or the lines above it
(``tests/test_layers.py`` checks every import against this list, function-level ones too):

    genesis._dtype
    genesis._install                  how to install the packages (hints in errors)
    genesis._nested                   nested Python sequences -> arrays (genesis.tensor)
    genesis.backends                  what a device must provide: protocol, hookspecs, registry
    genesis._device
    genesis._autograd                 the dynamic graph: grad modes, Function, the engine
    genesis._tensor                   strided views + raw kernel calls
    genesis.random                    counter-based random streams
    genesis._ops.autocast_policy      autocast's per-device op lists (data)
    genesis._ops.autocast             autocast regions: the cast step every listed op runs
    genesis._ops.creation             differentiable ops on the backend primitives,
    genesis._ops.fused                one module per family (fused: the door to a
    genesis._ops.arguments              backend's optional kernels)
    genesis._ops.inplace_variant
    genesis._ops.elementwise
    genesis._ops.shape
    genesis._ops.reduction
    genesis._ops.indexing
    genesis._ops.linalg
    genesis._ops.linalg_common        factorizations through optional backend kernels,
    genesis._ops.linalg_solvers         with their backward formulas
    genesis._ops.spectral
    genesis._ops.determinants
    genesis._ops.norms
    genesis._ops.einsum
    genesis._ops.products
    genesis._ops.transcendental
    genesis._ops.structure            views and copies that rearrange elements
    genesis._ops.joins                repeat, tile, splits and stacks
    genesis._ops.selection            index_add/copy/fill, scatter_reduce, masked_select
    genesis._ops.predicates           isnan, isclose, allclose, isin, nan_to_num
    genesis._ops.rounding             ceil, trunc, round, fmod, remainder
    genesis._ops.pointwise_composites lerp, hypot, logaddexp, copysign, xlogy, log2
    genesis._ops.paired_reductions    var_mean, std_mean, aminmax
    genesis._ops.sampling             random draws from distributions, built on uniform/normal
    genesis._ops.sampling_discrete
    genesis._ops.scan                 cumulative ops and diff
    genesis._ops.sorting              sort, top-k, kth value, median, mode
    genesis._ops.search               unique, searchsorted/bucketize, bincount
    genesis._ops.inplace              recording in-place writes; x[key] = value
    genesis._ops.tensor_methods       methods and operators bound onto Tensor
    genesis._map_location             load(map_location=...)
    genesis.serialization             the user-facing library
    genesis.checkpoint
    genesis.autograd
    genesis.linalg
    genesis.distributed               collectives over a collective-backend plugin (MPI, NCCL)
    genesis.nn
    genesis.utils
    genesis.amp                       autocast and GradScaler
    genesis.cuda
    genesis.testing

The core never imports a backend by name: devices come from plugins found in
the ``genesis.backends`` entry-point group when this package is imported.
"""

from __future__ import annotations

from pkgutil import extend_path
from types import ModuleType as _ModuleType

__path__ = extend_path(__path__, __name__)  # genesis.optim ships in another distribution

from genesis import backends  # noqa: E402
from genesis._autograd.grad_mode import (  # noqa: E402
                            enable_grad,
                            inference_mode,
                            is_grad_enabled,
                            is_inference_mode_enabled,
                            no_grad,
                            set_grad_enabled,
)
from genesis._device import Device, device  # noqa: E402
from genesis._dtype import (  # noqa: E402
                            DType,
                            bfloat16,
                            finfo,
                            float16,
                            float32,
                            float64,
                            get_default_dtype,
                            iinfo,
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
from genesis._ops.autocast import (  # noqa: E402
                            autocast,
                            clear_autocast_cache,
                            get_autocast_dtype,
                            is_autocast_cache_enabled,
                            is_autocast_enabled,
                            set_autocast_cache_enabled,
                            set_autocast_dtype,
)
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
                            logspace,
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
from genesis._ops.determinants import det, logdet, slogdet  # noqa: E402
from genesis._ops.einsum import einsum, tensordot  # noqa: E402
from genesis._ops.elementwise import (  # noqa: E402
                            abs,
                            add,
                            atan2,
                            clamp,
                            cos,
                            div,
                            eq,
                            erf,
                            erfinv,
                            exp,
                            expm1,
                            ge,
                            gt,
                            le,
                            log,
                            log1p,
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
from genesis._ops.joins import (  # noqa: E402
                            atleast_1d,
                            atleast_2d,
                            atleast_3d,
                            column_stack,
                            dstack,
                            hstack,
                            repeat_interleave,
                            row_stack,
                            tensor_split,
                            tile,
                            vstack,
)
from genesis._ops.linalg import bmm, matmul, mm  # noqa: E402
from genesis._ops.linalg_solvers import cholesky, inverse  # noqa: E402
from genesis._ops.norms import cdist, norm  # noqa: E402
from genesis._ops.paired_reductions import aminmax, std_mean, var_mean  # noqa: E402
from genesis._ops.pointwise_composites import (  # noqa: E402
                            clamp_max,
                            clamp_min,
                            copysign,
                            exp2,
                            float_power,
                            hypot,
                            lerp,
                            log2,
                            log10,
                            logaddexp,
                            logaddexp2,
                            reciprocal,
                            xlogy,
)
from genesis._ops.predicates import (  # noqa: E402
                            allclose,
                            count_nonzero,
                            equal,
                            isclose,
                            isfinite,
                            isin,
                            isinf,
                            isnan,
                            isneginf,
                            isposinf,
                            nan_to_num,
                            signbit,
)
from genesis._ops.products import (  # noqa: E402
                            addbmm,
                            addmm,
                            addmv,
                            addr,
                            baddbmm,
                            cross,
                            dot,
                            ger,
                            inner,
                            mv,
                            outer,
                            vdot,
)
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
from genesis._ops.rounding import (  # noqa: E402
                            ceil,
                            fix,
                            floor,
                            floor_divide,
                            fmod,
                            frac,
                            remainder,
                            round,
                            trunc,
)
from genesis._ops.sampling import bernoulli, normal  # noqa: E402
from genesis._ops.sampling_discrete import multinomial, poisson  # noqa: E402
from genesis._ops.scan import cummax, cummin, cumprod, cumsum, diff, logcumsumexp  # noqa: E402
from genesis._ops.search import (  # noqa: E402
                            bincount,
                            bucketize,
                            histc,
                            searchsorted,
                            unique,
                            unique_consecutive,
)
from genesis._ops.selection import (  # noqa: E402
                            argwhere,
                            index_add,
                            index_copy,
                            index_fill,
                            masked_select,
                            scatter_reduce,
                            take_along_dim,
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
                            unflatten,
                            unsqueeze,
                            view,
)
from genesis._ops.sorting import (  # noqa: E402
                            argsort,
                            kthvalue,
                            median,
                            mode,
                            msort,
                            nanmedian,
                            sort,
                            topk,
)
from genesis._ops.spectral import qr, svd  # noqa: E402
from genesis._ops.structure import (  # noqa: E402
                            broadcast_tensors,
                            broadcast_to,
                            diag,
                            diag_embed,
                            diagonal,
                            flip,
                            fliplr,
                            flipud,
                            meshgrid,
                            moveaxis,
                            movedim,
                            roll,
                            rot90,
                            trace,
                            tril,
                            triu,
)
from genesis._ops.transcendental import (  # noqa: E402
                            acos,
                            acosh,
                            arccos,
                            arccosh,
                            arcsin,
                            arcsinh,
                            arctan,
                            arctanh,
                            asin,
                            asinh,
                            atan,
                            atanh,
                            cosh,
                            sinh,
                            tan,
)
from genesis._tensor import (  # noqa: E402
                            Size,
                            Tensor,
                            broadcast_shapes,
                            channels_last,
                            channels_last_3d,
                            contiguous_format,
                            is_floating_point,
                            is_tensor,
                            numel,
                            preserve_format,
                            set_printoptions,
)
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
arctan2 = atan2
clip = clamp
divide = true_divide = div  # PyTorch's aliases
multiply, subtract, negative = mul, sub, neg
concat = concatenate = cat
float = float32  # noqa: A001 - PyTorch's aliases
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

from genesis import amp, autograd, cuda, distributed, linalg, nn, utils  # noqa: E402
from genesis.nn.functional import log_softmax, softmax  # noqa: E402

_tensor_methods.bind_methods(nn.functional.TENSOR_METHODS)
from genesis.checkpoint import load, load_checkpoint, save, save_checkpoint  # noqa: E402

backends.registry.load_entry_points()

__version__ = "0.1.0"


def __getattr__(name: str) -> _ModuleType:
    """``genesis.optim`` without ``import genesis.optim`` (PEP 562; imported on first use).

    Raises AttributeError naming the distribution to install when it is missing.
    """
    return _import_optional(name)
