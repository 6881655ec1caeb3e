"""What a backend must implement: the one interface a backend author reads.

The core keeps every view (reshape, transpose, permute, slicing, expand) as
stride metadata. A kernel therefore receives *views*: objects with

    ``storage``  the backend's own buffer object (what ``empty`` returned)
    ``shape``    tuple of ints
    ``strides``  tuple of ints, in elements (0 for a broadcast dimension)
    ``offset``   int, in elements, into ``storage``
    ``dtype``    a :class:`genesis.DType`

and returns a new *contiguous* storage holding the result (row-major, shape
decided by the core), or writes into an ``out`` view when one is given.
Genesis tensors are such views, so a kernel may be handed a tensor directly.
A view also has a ``_cache`` slot a backend may use to memoize its own handle
for that view (the core resets it when the view's metadata changes; a backend
should still check the handle belongs to the current ``storage``).

The primitive set is closed and small. Everything else -- broadcasting
(the core passes inputs already expanded to the result shape), type
promotion, autograd, composite ops such as softmax or layer norm -- lives in
the core and works on every backend that provides these primitives.

Primitives (the ``op`` strings each kernel accepts):

    unary      neg abs exp log sqrt rsqrt sin cos tanh sigmoid relu erf sign
               floor logical_not
    binary     add sub mul div pow maximum minimum eq ne lt le gt ge
               logical_and logical_or logical_xor
    reduce     sum prod max min   (over a tuple of axes)
    arg_reduce argmax argmin      (over one axis)
    where, matmul, copy_ (strided copy with cast), fill_, gather,
    scatter_ / scatter_add_, random

A backend may also provide *fused* kernels for composite ops (see
``Capabilities.fused``); the core uses them when present and the
conformance kit (:mod:`genesis.testing`) checks they agree with the
composite path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from genesis._dtype import DType

UNARY_OPS = ("neg", "abs", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid",
             "relu", "erf", "sign", "floor", "logical_not")
BINARY_OPS = ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le",
              "gt", "ge", "logical_and", "logical_or", "logical_xor")
REDUCE_OPS = ("sum", "prod", "max", "min")
ARG_REDUCE_OPS = ("argmax", "argmin")
RANDOM_DISTRIBUTIONS = ("uniform", "normal", "randint", "bernoulli")
#: what a registered backend object must have (checked when a plugin registers it)
REQUIRED_MEMBERS = ("name", "capabilities", "availability", "device_count", "empty",
                    "from_numpy", "to_numpy", "copy_", "fill_", "unary", "binary", "where",
                    "reduce", "arg_reduce", "matmul", "gather", "scatter_", "random")


class View(Protocol):
    """A strided view of a backend storage (a genesis Tensor is one)."""

    storage: Any
    shape: tuple
    strides: tuple
    offset: int
    dtype: DType


@dataclass(frozen=True)
class Capabilities:
    """What a backend declares it supports; the conformance kit tests exactly this.

    ``dtypes``: names of the dtypes the backend's kernels handle.
    ``fused``: composite-op name -> kernel. Known names and signatures:

        ``"adamw_step"(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, lr, beta1,
        beta2, eps, weight_decay, steps, amsgrad, maximize, decoupled) -> None``: one Adam
        step, in place, over lists of views of equal shapes per index (PyTorch's formula,
        see ``genesis.optim.Adam``). ``steps[i]`` is parameter ``i``'s step count, already
        incremented; ``max_exp_avg_sqs`` is ``None`` unless ``amsgrad``; ``decoupled``
        selects AdamW's weight decay. May return ``NotImplemented`` *before touching
        anything* for inputs it does not handle (e.g. a dtype): the caller then runs
        the composite path.
        ``"sgd_step"(params, grads, momentum_buffers, *, first, lr, weight_decay, momentum,
        dampening, nesterov, maximize) -> None``: one SGD step in place (PyTorch's formula,
        see ``genesis.optim.SGD``); ``first[i]`` marks a new momentum buffer, which takes
        the gradient. May return ``NotImplemented`` before touching anything.
        ``"softmax"(x, dim) / "log_softmax"(x, dim) -> storage`` and their
        ``"softmax_backward"(y, grad, dim) / "log_softmax_backward"(y, grad, dim)``.
        ``"layer_norm"(x, weight, bias, eps) -> (storage y, storage mean, storage rstd)``
        over the last dimension, and ``"layer_norm_backward"(grad, x, weight, mean, rstd)
        -> (storage dx, storage dweight | None, storage dbias | None)``. ``mean``/``rstd``
        (one value per row) are opaque to the core: it wraps them in tensors of any
        dtype label and hands them back, unread, to the backward kernel, so a backend
        may keep them in its accumulation type (float32 for half inputs).
        ``"rms_norm"(x, weight | None, eps) -> (storage y, storage rstd)`` and
        ``"rms_norm_backward"(grad, x, weight, rstd) -> (storage dx, storage dweight | None)``
        (last dimension; ``rstd`` opaque as above).
        ``"cross_entropy"(logits (N, C), target (N,) int64, ignore_index) -> (storage loss
        (N,) of the logits' dtype, 0 where the target is ignored; storage lse (N,), opaque)``
        and ``"cross_entropy_backward"(grad (N,), logits, target, lse, ignore_index) ->
        storage dlogits``; reduction, weights and label smoothing stay in the core.
        ``"gelu"(x, approximate) / "gelu_backward"(grad, x, approximate)`` with
        ``approximate`` ``"none"`` or ``"tanh"``; ``"silu"(x) / "silu_backward"(grad, x)``:
        storages of x's shape and dtype. Optionally ``"gelu_backward_from_output"(grad, x,
        y, approximate)``: the same gradient given the forward's output ``y`` too (``y / x``
        is the cdf, so no erf needs recomputing); the core calls it when ``y`` is still
        alive and unmodified at backward, else ``"gelu_backward"``.
        ``"dropout"(x, p, seed, offset) -> (storage y, storage mask bool)`` with
        ``y = x * mask / (1 - p)``, drawn from the (seed, offset) stream like ``random``.
    """

    dtypes: frozenset = frozenset({"float32", "float64", "float16", "bfloat16", "int8", "uint8",
                                   "int16", "int32", "int64", "bool"})
    fused: Mapping[str, Callable] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """A device implementation, registered through the ``genesis.backends`` entry points."""

    #: device type users pass to ``genesis.device`` (``"cpu"``, ``"cuda"``, ...)
    name: str
    capabilities: Capabilities

    def availability(self) -> tuple[bool, str]:
        """``(True, "")`` if usable, else ``(False, reason)`` -- e.g. no driver, no GPU."""

    def device_count(self) -> int:
        """How many devices of this type exist (``genesis.device("cuda:1")`` needs 2)."""

    # -- memory ------------------------------------------------------------------------
    def empty(self, shape: tuple, dtype: DType, index: int) -> Any:
        """A new uninitialised contiguous storage for ``shape`` on device ``index``."""

    def from_numpy(self, array: np.ndarray, index: int) -> Any:
        """A new contiguous storage holding a copy of a host array (already of the right dtype)."""

    # optional: ``adopt_numpy(array, index)`` -- like ``from_numpy`` for a host array the core
    # hands over (a freshly loaded checkpoint); a host-memory backend may keep it without a copy.

    def to_numpy(self, x: View) -> np.ndarray:
        """A host copy of view ``x`` (shape ``x.shape``, numpy dtype of ``x.dtype``)."""

    def copy_(self, dst: View, src: View) -> None:
        """Write ``src`` into ``dst`` (same shape, any strides, casting ``src.dtype``)."""

    def fill_(self, dst: View, value: float | int | bool) -> None:
        """Set every element of ``dst`` to ``value``."""

    # -- compute -------------------------------------------------------------------------
    def unary(self, op: str, x: View, dtype: DType, out: View | None = None) -> Any:
        """Elementwise ``op`` of :data:`UNARY_OPS`, computing and returning ``dtype``."""

    def binary(self, op: str, a: View | float, b: View | float, dtype: DType,
               out: View | None = None) -> Any:
        """Elementwise ``op`` of :data:`BINARY_OPS`.

        ``a`` and ``b`` have the result's shape (broadcast by the core with stride 0),
        or one of them is a Python scalar. The result has ``dtype`` (comparisons: bool);
        the computation runs in the promoted input dtype.
        """

    def where(self, cond: View, a: View | float, b: View | float, dtype: DType) -> Any:
        """``a`` where ``cond`` else ``b``; all of the result's shape (or scalars)."""

    def reduce(self, op: str, x: View, axes: tuple, dtype: DType) -> Any:
        """Reduce ``axes`` of ``x`` with ``op`` of :data:`REDUCE_OPS`; result drops them.

        The result has ``dtype``. ``sum``/``prod`` of half inputs (float16, bfloat16) and
        into half results accumulate in float32 and round once at the end, as PyTorch does
        (the core relies on it: ``mean`` asks for a float32 sum of a half input); integers
        accumulate in ``dtype``.
        """

    def arg_reduce(self, op: str, x: View, axis: int) -> Any:
        """Index (int64) of the first max/min along ``axis``; result drops the axis."""

    def matmul(self, a: View, b: View, dtype: DType) -> Any:
        """Batched ``(..., n, k) @ (..., k, m)``; batch dims are equal (broadcast by core)."""

    def gather(self, x: View, dim: int, index: View) -> Any:
        """``out[i][j] = x[index[i][j]][j]`` for dim 0 and so on (index: int64 view)."""

    def scatter_(self, dst: View, dim: int, index: View, src: View, accumulate: bool) -> None:
        """In place: ``dst[index[i][j]][j] = src[i][j]`` (``+=`` when ``accumulate``)."""

    def random(self, distribution: str, shape: tuple, dtype: DType, index: int, seed: int,
               offset: int, a: float, b: float) -> Any:
        """Counter-based random numbers: same (seed, offset) -> same values.

        ``uniform`` in [a, b), ``normal`` with mean a and std b, ``randint`` in
        [a, b), ``bernoulli`` with probability a. The core advances ``offset``
        by the number of elements after each call.
        """
