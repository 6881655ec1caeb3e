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

The primitives are data below (:data:`UNARY_OPS`, :data:`BINARY_OPS`, :data:`REDUCE_OPS`,
:data:`ARG_REDUCE_OPS`, :data:`SCAN_OPS`, :data:`RANDOM_DISTRIBUTIONS`, :data:`KERNELS`): the
registry checks a
backend against this module, the conformance kit generates one case per listed op, and each
backend's tests check its kernel table covers exactly these lists. Adding an op means: its
name here, its float64 reference in ``genesis.testing._references``, a kernel in every backend,
and its differentiable wrapper in ``genesis._ops``.

A backend may also provide *fused* kernels (:data:`FUSED_OPS`, declared in
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

#: the op strings of each kernel family: the primitive set, closed and small. The registry, the
#: conformance kit (one case per op) and each backend's kernel-table test all read these.
UNARY_OPS = ("neg", "abs", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid",
             "relu", "erf", "sign", "floor", "logical_not", "log1p", "expm1", "erfinv")
BINARY_OPS = ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le",
              "gt", "ge", "logical_and", "logical_or", "logical_xor", "atan2")
REDUCE_OPS = ("sum", "prod", "max", "min")
ARG_REDUCE_OPS = ("argmax", "argmin")
#: inclusive scans along one axis (``cummax``/``cummin`` give values only: the core derives
#: their indices with a second ``cummax`` over positions)
SCAN_OPS = ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp")
RANDOM_DISTRIBUTIONS = ("uniform", "normal", "randint", "bernoulli")
#: the kernels that are one method each (no op string)
KERNELS = ("where", "matmul", "copy_", "fill_", "gather", "scatter_", "sort")
#: op family -> the backend method that runs it
FAMILIES = {"unary": UNARY_OPS, "binary": BINARY_OPS, "reduce": REDUCE_OPS,
            "arg_reduce": ARG_REDUCE_OPS, "scan": SCAN_OPS, "random": RANDOM_DISTRIBUTIONS}
#: every primitive a backend must provide, by name
PRIMITIVE_OPS = (UNARY_OPS + BINARY_OPS + REDUCE_OPS + ARG_REDUCE_OPS + SCAN_OPS
                 + RANDOM_DISTRIBUTIONS + KERNELS)

#: the optional kernels a backend may declare in ``Capabilities.fused``: name -> signature.
#: The core runs them through :func:`genesis._ops.fused.fused_kernel` when declared and falls
#: back to its composite (or, for the factorizations, raises naming the kernel) otherwise.
FUSED_OPS = {
    "adamw_step": "(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, lr, beta1, beta2, "
                  "eps, weight_decay, steps, amsgrad, maximize, decoupled) "
                  "-> None | NotImplemented",
    "sgd_step": "(params, grads, momentum_buffers, *, first, lr, weight_decay, momentum, "
                "dampening, nesterov, maximize) -> None | NotImplemented",
    "rmsprop_step": "(params, grads, square_avgs, grad_avgs | None, momentum_buffers | None, *, "
                    "lr, alpha, eps, weight_decay, momentum, centered, maximize) "
                    "-> None | NotImplemented",
    "adagrad_step": "(params, grads, state_sums, *, lr, lr_decay, weight_decay, eps, steps, "
                    "maximize) -> None | NotImplemented",
    "adamax_step": "(params, grads, exp_avgs, exp_infs, *, lr, beta1, beta2, eps, weight_decay, "
                   "steps, maximize) -> None | NotImplemented",
    "adadelta_step": "(params, grads, square_avgs, acc_deltas, *, lr, rho, eps, weight_decay, "
                     "maximize) -> None | NotImplemented",
    "radam_step": "(params, grads, exp_avgs, exp_avg_sqs, *, lr, beta1, beta2, eps, weight_decay, "
                  "decoupled, steps, maximize) -> None | NotImplemented",
    "nadam_step": "(params, grads, exp_avgs, exp_avg_sqs, *, lr, beta1, beta2, eps, weight_decay, "
                  "momentum_decay, decoupled, steps, mu_products, maximize) "
                  "-> None | NotImplemented",
    "softmax": "(x, dim) -> storage",
    "softmax_backward": "(y, grad, dim) -> storage",
    "log_softmax": "(x, dim) -> storage",
    "log_softmax_backward": "(y, grad, dim) -> storage",
    "layer_norm": "(x, weight | None, bias | None, eps) -> (y, mean, rstd)",
    "layer_norm_backward": "(grad, x, weight | None, mean, rstd) -> (dx, dweight | None, "
                           "dbias | None)",
    "rms_norm": "(x, weight | None, eps) -> (y, rstd)",
    "rms_norm_backward": "(grad, x, weight | None, rstd) -> (dx, dweight | None)",
    "cross_entropy": "(logits (N, C), target (N,) int64, ignore_index) -> (loss (N,), lse (N,))",
    "cross_entropy_backward": "(grad (N,), logits, target, lse, ignore_index) -> dlogits",
    "gelu": "(x, approximate) -> storage",
    "gelu_backward": "(grad, x, approximate) -> storage",
    "gelu_backward_from_output": "(grad, x, y, approximate) -> storage",
    "silu": "(x) -> storage",
    "silu_backward": "(grad, x) -> storage",
    "relu_backward": "(grad, out) -> storage",
    "dropout": "(x, p, seed, offset) -> (y, mask bool)",
    "max_pool2d": "(x (N, C, H, W) floating, kernel_size, stride, padding, dilation, "
                  "output_size: pairs) -> (values, indices int64)",
    "max_pool2d_backward": "(grad (N, C, oh, ow), indices, input_size (H, W)) -> dx",
    "batch_norm": "(x (N, C, *) floating, weight | None, bias | None, eps) -> (y, mean (C,), "
                  "var (C,), rstd (C,))",
    "batch_norm_backward": "(grad, x, weight | None, mean, rstd) -> (dx, dweight, dbias)",
    "lstm_cell": "(xw (B, 4H), hw (B, 4H), c (B, H)) -> ([h' | c'] (B, 2H), workspace (B, 5H))",
    "lstm_cell_backward": "(grad (B, 2H), c, workspace) -> (dgates (B, 4H), dc (B, H))",
    "gru_cell": "(xw (B, 3H), hw (B, 3H), h (B, H)) -> (h' (B, H), workspace (B, 4H))",
    "gru_cell_backward": "(grad (B, H), h, workspace) -> (dxw (B, 3H), dhw (B, 3H), dh (B, H))",
    "im2col": "(x (N, C, *size), kernel, dilation, stride, padding, out) -> cols (C, *kernel, "
              "N, *out)",
    "col2im": "(cols (C, *kernel, N, *out), size, kernel, dilation, stride, padding) -> image "
              "(N, C, *size)",
    "linalg_solve": "(a (..., n, n), b (..., n, k), equal batch dims) -> (x, info (...,) int32)",
    "linalg_slogdet": "(a (..., n, n)) -> (sign (...,), logabsdet (...,))",
    "linalg_cholesky": "(a (..., n, n)) -> (L lower, info (...,) int32)",
    "linalg_qr": "(a (..., m, n), mode 'reduced' | 'complete' | 'r') -> (Q | None, R)",
    "linalg_eigh": "(a (..., n, n), upper) -> (eigenvalues (..., n), eigenvectors (..., n, n))",
    "linalg_svd": "(a (..., m, n), full_matrices, compute_uv) -> (U, S, Vh) | S",
}


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
    ``fused``: kernel name (one of :data:`FUSED_OPS`) -> kernel. Their semantics:

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
        ``"rmsprop_step"(params, grads, square_avgs, grad_avgs, momentum_buffers, *, lr, alpha,
        eps, weight_decay, momentum, centered, maximize) -> None`` and ``"adagrad_step"(params,
        grads, state_sums, *, lr, lr_decay, weight_decay, eps, steps, maximize) -> None``:
        one RMSprop / Adagrad step in place (PyTorch's formulas, see ``genesis.optim``);
        ``grad_avgs`` is ``None`` unless ``centered``, ``momentum_buffers`` ``None`` unless
        ``momentum > 0``; ``steps[i]`` is Adagrad's step count, already incremented. Either
        may return ``NotImplemented`` before touching anything. Likewise ``"adamax_step"``,
        ``"adadelta_step"``, ``"radam_step"`` and ``"nadam_step"`` (signatures in
        :data:`FUSED_OPS`) for Adamax, Adadelta, RAdam and NAdam (``decoupled`` as for Adam;
        NAdam's ``mu_products[i]`` already include this step's momentum, as the optimizer
        keeps them).
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
        ``"relu_backward"(grad, out) -> storage``: ``grad`` where the ReLU's output ``out``
        is positive, else 0 (NaN outputs give 0), in one pass instead of a comparison and a
        ``where``.
        ``"dropout"(x, p, seed, offset) -> (storage y, storage mask bool)`` with
        ``y = x * mask / (1 - p)``, drawn from the (seed, offset) stream like ``random``.
        ``"max_pool2d"(x, kernel_size, stride, padding, dilation, output_size) -> (storage
        values, storage indices int64)``, both ``(N, C, *output_size)``, for a floating ``x``
        ``(N, C, H, W)`` (any strides) and ``(h, w)`` pairs already checked by the core: each
        window's maximum and its flat ``h * W + w`` index, PyTorch's rules (padding slots
        skipped, the first maximum of a tie, the last NaN of a window; an all ``-inf`` window
        points at its first slot inside the input). ``"max_pool2d_backward"(grad, indices,
        input_size) -> storage dx`` ``(N, C, *input_size)``: zeros plus every gradient added
        at its index.
        ``"batch_norm"(x, weight, bias, eps) -> (storage y, storage mean, storage var,
        storage rstd)``: training-mode batch norm of ``x`` ``(N, C, *)`` over every dim but
        1, ``var`` biased, ``rstd = 1 / sqrt(var + eps)``, the statistics ``(C,)`` of ``x``'s
        dtype; ``"batch_norm_backward"(grad, x, weight, mean, rstd) -> (storage dx, storage
        dweight, storage dbias)`` (``mean``/``rstd`` as returned, possibly reshaped to
        broadcast; a missing weight counts as ones).
        ``"lstm_cell"(xw, hw, c) -> (storage hc, storage workspace)``: one LSTM step's gates
        (PyTorch's order i, f, g, o) on the projections ``xw = x W_ih^T + b_ih`` and ``hw = h
        W_hh^T + b_hh``: ``c' = sigmoid(f) c + sigmoid(i) tanh(g)``, ``h' = sigmoid(o)
        tanh(c')``, returned side by side as ``hc = [h' | c']``; ``"lstm_cell_backward"(grad,
        c, workspace) -> (storage dgates, storage dc)`` from the gradient of ``hc``.
        ``"gru_cell"(xw, hw, h) -> (storage h', storage workspace)``: ``r, z = sigmoid``,
        ``n = tanh(x_n + r * h_n)``, ``h' = n + z (h - n)`` (gates r, z, n);
        ``"gru_cell_backward"(grad, h, workspace) -> (storage dxw, storage dhw, storage dh)``.
        Any strides; the workspace (``(B, 5H)``/``(B, 4H)`` of the input's dtype) is opaque
        to the core.
        ``"im2col"(x, kernel, dilation, stride, padding, out) -> storage cols`` ``(C, *kernel,
        N, *out)``: slot ``k`` of window ``o`` along a dim reads ``x`` (any strides) at ``o *
        stride - padding + k * dilation``, zero outside the input (tuples per spatial dim,
        1 to 3 of them; ``padding`` is the padding before each dim). ``"col2im"(cols, size,
        kernel, dilation, stride, padding) -> storage image`` ``(N, C, *size)``: its adjoint,
        every column added at the position it reads, positions outside the image dropped.
        The matrix factorizations (LAPACK's semantics; results of the input's dtype; the
        core checks shapes and dtypes, float32/float64, and raises from ``info``):
        ``"linalg_solve"(a, b) -> (storage x, storage info)``: ``x = a^-1 b`` per matrix;
        ``info`` (int32, one per matrix) is 0, or ``i > 0`` when ``a`` is singular (the
        ``i``-th pivot of its LU factorization is zero; ``x`` is then unspecified there).
        ``"linalg_slogdet"(a) -> (storage sign, storage logabsdet)``: ``(0, -inf)`` for a
        singular matrix. ``"linalg_cholesky"(a) -> (storage L, storage info)``: lower
        ``L`` with ``a = L L^T``, read from ``a``'s lower triangle; ``info`` 0, or the order
        of the first leading minor that is not positive-definite. ``"linalg_qr"(a, mode)
        -> (storage Q | None, storage R)``: Householder QR, ``Q`` ``(..., m, min(m, n))``
        and ``R`` ``(..., min(m, n), n)`` for ``"reduced"``, ``(..., m, m)`` and ``(..., m,
        n)`` for ``"complete"``, no ``Q`` for ``"r"`` (``R`` as for ``"reduced"``).
        ``"linalg_eigh"(a, upper) -> (storage eigenvalues, storage eigenvectors)``:
        ascending eigenvalues, eigenvectors as columns, of the symmetric matrix read from
        ``a``'s upper (``upper``) or lower triangle. ``"linalg_svd"(a, full_matrices,
        compute_uv) -> (storage U, storage S, storage Vh)``, or ``storage S`` alone when not
        ``compute_uv``: ``a = U diag(S) Vh``, ``S`` descending, ``U`` ``(..., m, k)`` and
        ``Vh`` ``(..., k, n)`` with ``k = min(m, n)`` (``m`` and ``n`` when
        ``full_matrices``).
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

    def scan(self, op: str, x: View, axis: int, dtype: DType) -> Any:
        """Inclusive scan ``op`` of :data:`SCAN_OPS` along ``axis``; result has ``x.shape``.

        ``out[..., i, ...]`` combines ``x[..., 0..i, ...]``: ``cumsum``/``cumprod`` compute in
        ``dtype`` (int64 for integer and bool inputs, chosen by the core; half types may
        accumulate in float32), ``cummax``/``cummin`` propagate NaN like ``maximum``/``minimum``
        (``dtype`` is ``x.dtype``), ``logcumsumexp`` is ``log(cumsum(exp(x)))`` without
        overflow or underflow (a running log-add-exp; floating ``dtype`` only).
        """

    def sort(self, x: View, axis: int, descending: bool) -> tuple:
        """Stable sort along ``axis``: ``(values storage, int64 indices storage)``, both of
        ``x.shape``; ``indices`` are positions along ``axis`` in ``x``.

        NaN is larger than every number (last ascending, first descending); equal elements
        (NaNs among themselves too) keep their order in ``x`` in both directions.
        """

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


def required_members() -> tuple:
    """The attributes and methods of :class:`Backend`, read off the protocol class itself."""
    names = set(Backend.__annotations__)
    names.update(n for n, v in vars(Backend).items() if callable(v) and not n.startswith("_"))
    return tuple(sorted(names))


def contract_problems(backend: object) -> list:
    """What ``backend`` lacks or declares wrongly against this contract (empty: it conforms).

    Checks every member of :class:`Backend`, that ``capabilities`` is a :class:`Capabilities`,
    and that each declared fused kernel is one of :data:`FUSED_OPS` and callable (a misspelled
    name would otherwise never be called).
    """
    problems = [f"lacks {name!r}" for name in required_members() if not hasattr(backend, name)]
    caps = getattr(backend, "capabilities", None)
    if caps is not None and not isinstance(caps, Capabilities):
        problems.append(f"capabilities is a {type(caps).__name__}, expected "
                        "genesis.backends.Capabilities")
    elif caps is not None:
        for name, kernel in caps.fused.items():
            if name not in FUSED_OPS:
                problems.append(f"declares fused kernel {name!r}, which is not one of "
                                f"genesis.backends.protocol.FUSED_OPS {sorted(FUSED_OPS)}")
            elif not callable(kernel):
                problems.append(f"declares fused kernel {name!r} as {kernel!r}, not a callable")
    return problems
