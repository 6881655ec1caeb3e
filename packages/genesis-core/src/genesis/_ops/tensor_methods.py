"""Tensor methods and Python operators, bound onto :class:`genesis.Tensor`.

Conversions (``to``, ``float``, ``clone``...) and in-place ops live here;
everything else forwards to the op modules under PyTorch's method names.
"""

from __future__ import annotations

from genesis import _dtype as dt
from genesis._autograd.function import Function, Versions, mark_modified
from genesis._device import Device
from genesis._device import device as _device
from genesis._ops import (
    creation,
    determinants,
    indexing,
    joins,
    linalg,
    linalg_solvers,
    norms,
    paired_reductions,
    pointwise_composites,
    predicates,
    products,
    rounding,
    sampling,
    sampling_discrete,
    scan,
    search,
    selection,
    sorting,
    spectral,
    structure,
    transcendental,
)
from genesis._ops import elementwise as E
from genesis._ops import reduction as R
from genesis._ops import shape as S
from genesis._ops.autocast import Cast
from genesis._ops.elementwise import binary_raw, unary_raw
from genesis._ops.inplace import _alias, _check_inplace_shape, _rebind, _tracked, setitem
from genesis._tensor import Tensor, _empty_raw, _make, from_data

#: op modules with a ``TENSOR_METHODS`` dict (method name -> function) bound onto Tensor below;
#: a new op family lists its methods there instead of in :func:`bind`
METHOD_MODULES: tuple = (transcendental, structure, joins, selection, predicates, rounding,
                         pointwise_composites, paired_reductions, products, norms,
                         linalg_solvers, determinants, spectral, sampling,
                         sampling_discrete, scan, sorting, search)

# -- conversions -------------------------------------------------------------------------------


class ToDevice(Function):
    def forward(self, x, dev):
        self.src = x.device
        arr = x._backend.to_numpy(x)
        b = dev.backend
        return _make(b.from_numpy(arr, dev.index), x.shape, x.dtype, dev, b)

    def backward(self, g):
        return g.to(self.src)


class Clone(Function):
    def forward(self, x):
        out = _empty_raw(x.shape, x.dtype, x.device)
        x._backend.copy_(out, x)
        return out

    def backward(self, g):
        return g


def parse_to_args(fn: str, args: tuple, kwargs: dict) -> tuple:
    """``(device, dtype, copy)`` from PyTorch's ``to(device)``, ``to(dtype)``,
    ``to(device, dtype)``, ``to(tensor)`` and keyword forms."""
    dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"{fn}: unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, dt.DType):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, (str, Device)):
            dev = a
        else:
            raise TypeError(f"{fn}: expected a device, dtype or tensor argument, got {a!r}")
    return dev, dtype, copy


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``; ``copy=True`` copies."""
    dev, dtype, copy = parse_to_args("to()", args, kwargs)
    out = self
    if dev is not None:
        d = _device(dev)
        if d is not self.device and d != self.device:
            out = ToDevice.apply(out, d)
    if dtype is not None and dtype is not out.dtype:
        if not isinstance(dtype, dt.DType):
            raise TypeError(f"to(): dtype={dtype!r}, expected a genesis dtype")
        out = Cast.apply(out, dtype)
    if copy and out is self:
        out = Clone.apply(self)
    return out


def _caster(dtype):
    def fn(self):
        return to(self, dtype)

    fn.__doc__ = f"``self.to({dtype})``"
    return fn


def clone(self: Tensor) -> Tensor:
    """A copy with its own storage (gradient flows back to the original)."""
    return Clone.apply(self)


def new_tensor(self: Tensor, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return creation.tensor(
        data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad
    )


def _new(factory):
    def fn(self, *size, dtype=None, device=None, requires_grad=False):
        return factory(
            *size,
            dtype=dtype or self.dtype,
            device=device or self.device,
            requires_grad=requires_grad,
        )

    fn.__name__ = "new_" + factory.__name__
    return fn


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return creation.full(
        size,
        fill_value,
        dtype=dtype or self.dtype,
        device=device or self.device,
        requires_grad=requires_grad,
    )


# -- in-place ops --------------------------------------------------------------------------------


def _inplace_binary(op: str, public):
    def fn(self, other, *, alpha=1):
        if _tracked(self, other):
            old = _alias(self)
            other = old if other is self else other
            new = public(old, other, alpha=alpha) if op in ("add", "sub") else public(old, other)
            return _rebind(self, new)
        _check_inplace_shape(self, other)
        if alpha != 1:
            other = binary_raw("mul", other, alpha)
        binary_raw(op, self, other, out=self)
        return self

    fn.__name__ = op + "_"
    fn.__doc__ = f"In-place :func:`{op}`."
    return fn


def _inplace_unary(op: str, public):
    def fn(self):
        if _tracked(self):
            return _rebind(self, public(_alias(self)))
        unary_raw(op, self, out=self)
        return self

    fn.__name__ = op + "_"
    fn.__doc__ = f"In-place :func:`{op}`."
    return fn


def addcmul_(self, tensor1, tensor2, *, value=1):
    """``self += value * tensor1 * tensor2``."""
    if _tracked(self, tensor1, tensor2):
        return _rebind(self, _alias(self) + tensor1 * tensor2 * value)
    prod = binary_raw("mul", tensor1, tensor2)
    if value != 1:
        binary_raw("mul", prod, value, out=prod)
    binary_raw("add", self, prod, out=self)
    return self


def addcdiv_(self, tensor1, tensor2, *, value=1):
    """``self += value * tensor1 / tensor2``."""
    if _tracked(self, tensor1, tensor2):
        return _rebind(self, _alias(self) + tensor1 / tensor2 * value)
    q = binary_raw("div", tensor1, tensor2)
    if value != 1:
        binary_raw("mul", q, value, out=q)
    binary_raw("add", self, q, out=self)
    return self


def lerp_(self, end, weight):
    """In-place :func:`genesis.lerp` (PyTorch's two-sided formula)."""
    if _tracked(self, end, weight):
        return _rebind(self, pointwise_composites.lerp(_alias(self), end, weight))
    _check_inplace_shape(self, end)
    _check_inplace_shape(self, weight)
    if isinstance(weight, Tensor) or abs(weight) >= 0.5:
        self._backend.copy_(self, pointwise_composites.lerp(self, end, weight))
        return self
    pointwise_composites.check_lerp_arguments(self, end, weight)
    d = binary_raw("sub", end, self)
    binary_raw("mul", d, weight, out=d)
    binary_raw("add", self, d, out=self)
    return self


def clamp_(self, min=None, max=None):  # noqa: A002
    """In-place :func:`genesis.clamp`."""
    if _tracked(self, min, max):
        return _rebind(self, E.clamp(_alias(self), min, max))
    if min is None and max is None:
        raise RuntimeError("clamp_(): at least one of 'min' or 'max' must not be None")
    _check_inplace_shape(self, min)
    _check_inplace_shape(self, max)
    if min is not None:
        binary_raw("maximum", self, min, out=self)
    if max is not None:
        binary_raw("minimum", self, max, out=self)
    return self


def fill_(self, value):
    """Set every element to ``value``."""
    if _tracked(self):
        keep = creation.zeros_like(self, dtype=dt.bool_)
        return _rebind(self, E.where(keep, _alias(self), value))
    self._backend.fill_(self, value.item() if isinstance(value, Tensor) else value)
    return self


def zero_(self):
    return fill_(self, 0)


def copy_(self, src, non_blocking: bool = False):
    """Copy ``src`` (broadcast, cast, from any device) into this tensor."""
    if not isinstance(src, Tensor):
        src = from_data(src, dtype=self.dtype, device=self.device)
    if _tracked(self, src):
        return _rebind(self, (src.to(self.device, self.dtype) + creation.zeros_like(self)))
    _check_inplace_shape(self, src)
    if src.device != self.device:
        src = src.detach().to(self.device)
    if src.shape != self.shape:
        src = src.detach().expand(self.shape)
    self._backend.copy_(self, src)
    return self


def masked_fill_(self, mask, value):
    if _tracked(self, value):
        return _rebind(self, indexing.masked_fill(_alias(self), mask, value))
    setitem(self, mask.expand(self.shape) if mask.shape != self.shape else mask, value)
    return self


def scatter_(self, dim, index, src, *, reduce=None):
    d = indexing._check_index("scatter_", self, dim, index)
    if _tracked(self, src):
        return _rebind(self, indexing.scatter(_alias(self), d, index, src, reduce=reduce))
    indexing.scatter_raw(self, d, index, src, reduce == "add")
    return self


def scatter_add_(self, dim, index, src):
    d = indexing._check_index("scatter_add_", self, dim, index)
    if _tracked(self, src):
        return _rebind(self, indexing.scatter_add(_alias(self), d, index, src))
    indexing.scatter_raw(self, d, index, src, True)
    return self


def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None):
    """Fill with samples of U(a, b)."""
    _tracked(self)
    return creation.fill_random_(self, "uniform", a, b, generator)


def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None):
    """Fill with samples of N(mean, std^2)."""
    _tracked(self)
    return creation.fill_random_(self, "normal", mean, std, generator)


# -- small composites used as methods -----------------------------------------------------------


def _operator(fn):
    """A binary dunder: unknown operand types give NotImplemented (Python then falls back)."""

    def op(self, other):
        if (
            not isinstance(other, (Tensor, int, float, bool, list, tuple))
            and type(other).__module__ != "numpy"
        ):
            return NotImplemented
        return fn(self, other)

    op.__name__ = fn.__name__
    return op


def _reversed(fn):
    def r(self, other):
        return fn(other, self)

    return r


def _bitwise(op: str):
    def fn(self, other):
        if self.dtype is not dt.bool_ or getattr(other, "dtype", dt.bool_) is not dt.bool_:
            raise TypeError(
                f"{op}: Genesis supports & | ^ ~ on bool tensors only; got {self.dtype}"
            )
        return binary_raw(op, self, other)

    return fn


def _invert(self):
    if self.dtype is not dt.bool_:
        raise TypeError(f"~: Genesis supports ~ on bool tensors only; got {self.dtype}")
    return unary_raw("logical_not", self)


def _where_method(self, condition, other):
    return E.where(condition, self, other)


def _writes(fn):
    """An in-place method: after it, autograd knows the tensor's storage was written."""
    def method(self, *args, **kwargs):
        before = self._ctx
        out = fn(self, *args, **kwargs)
        mark_modified(self)
        if self._ctx is not None and self._ctx is not before and self._ctx.saves:
            # a recorded in-place op gave the tensor a new node, whose saved values are the
            # ones just written: it is consistent as of now
            self._ctx.epoch = Versions.epoch
        return out
    method.__name__, method.__doc__ = fn.__name__, fn.__doc__
    return method


def bind_methods(methods: dict) -> None:
    """Attach ``name -> function`` methods to :class:`Tensor` (a library layer above the ops,
    such as ``nn.functional``, lists its Tensor methods and the package root binds them)."""
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


def bind() -> None:
    """Attach methods and operators to :class:`Tensor` (called once at import)."""
    T = Tensor
    methods = {
        # arithmetic
        "add": E.add,
        "sub": E.sub,
        "mul": E.mul,
        "div": E.div,
        "pow": E.pow,
        "neg": E.neg,
        "abs": E.abs,
        "exp": E.exp,
        "log": E.log,
        "sqrt": E.sqrt,
        "rsqrt": E.rsqrt,
        "sin": E.sin,
        "cos": E.cos,
        "tanh": E.tanh,
        "sigmoid": E.sigmoid,
        "relu": E.relu,
        "erf": E.erf,
        "sign": E.sign,
        "square": E.square,
        "maximum": E.maximum,
        "minimum": E.minimum,
        "clamp": E.clamp,
        "clip": E.clamp,
        "where": _where_method,
        "log1p": E.log1p,
        "expm1": E.expm1,
        "erfinv": E.erfinv,
        "atan2": E.atan2,
        "arctan2": E.atan2,
        "true_divide": E.div,
        "subtract": E.sub,
        "multiply": E.mul,
        "divide": E.div,
        "negative": E.neg,
        "eq": E.eq,
        "ne": E.ne,
        "lt": E.lt,
        "le": E.le,
        "gt": E.gt,
        "ge": E.ge,
        "logical_and": E.logical_and,
        "logical_or": E.logical_or,
        "logical_xor": E.logical_xor,
        "logical_not": E.logical_not,
        # reductions
        "sum": R.sum,
        "mean": R.mean,
        "prod": R.prod,
        "max": R.max,
        "min": R.min,
        "amax": R.amax,
        "amin": R.amin,
        "argmax": R.argmax,
        "argmin": R.argmin,
        "var": R.var,
        "std": R.std,
        "logsumexp": R.logsumexp,
        "all": R.all,
        "any": R.any,
        # shape
        "reshape": S.reshape,
        "view": S.view,
        "permute": S.permute,
        "transpose": S.transpose,
        "t": S.t,
        "expand": S.expand,
        "expand_as": S.expand_as,
        "squeeze": S.squeeze,
        "unsqueeze": S.unsqueeze,
        "flatten": S.flatten,
        "unflatten": S.unflatten,
        "contiguous": S.contiguous,
        "narrow": S.narrow,
        "split": S.split,
        "chunk": S.chunk,
        "unbind": S.unbind,
        "swapaxes": S.transpose,
        # indexing
        "gather": indexing.gather,
        "scatter": indexing.scatter,
        "scatter_add": indexing.scatter_add,
        "index_select": indexing.index_select,
        "masked_fill": indexing.masked_fill,
        "nonzero": indexing.nonzero,
        "__getitem__": indexing.getitem,
        "__setitem__": setitem,
        # linalg
        "matmul": linalg.matmul,
        "mm": linalg.mm,
        "bmm": linalg.bmm,
        # conversion
        "to": to,
        "clone": clone,
        "cpu": lambda self: to(self, "cpu"),
        "cuda": lambda self, device=None: to(
            self,
            "cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device,
        ),
        "float": _caster(dt.float32),
        "double": _caster(dt.float64),
        "half": _caster(dt.float16),
        "bfloat16": _caster(dt.bfloat16),
        "long": _caster(dt.int64),
        "int": _caster(dt.int32),
        "short": _caster(dt.int16),
        "char": _caster(dt.int8),
        "byte": _caster(dt.uint8),
        "bool": _caster(dt.bool_),
        "type_as": lambda self, other: to(self, other.dtype),
        "new_tensor": new_tensor,
        "new_zeros": _new(creation.zeros),
        "new_ones": _new(creation.ones),
        "new_empty": _new(creation.empty),
        "new_full": new_full,
        # in place
        "add_": _inplace_binary("add", E.add),
        "sub_": _inplace_binary("sub", E.sub),
        "mul_": _inplace_binary("mul", E.mul),
        "div_": _inplace_binary("div", E.div),
        "pow_": _inplace_binary("pow", E.pow),
        "maximum_": _inplace_binary("maximum", E.maximum),
        "neg_": _inplace_unary("neg", E.neg),
        "abs_": _inplace_unary("abs", E.abs),
        "exp_": _inplace_unary("exp", E.exp),
        "log_": _inplace_unary("log", E.log),
        "sqrt_": _inplace_unary("sqrt", E.sqrt),
        "relu_": _inplace_unary("relu", E.relu),
        "sigmoid_": _inplace_unary("sigmoid", E.sigmoid),
        "tanh_": _inplace_unary("tanh", E.tanh),
        "log1p_": _inplace_unary("log1p", E.log1p),
        "expm1_": _inplace_unary("expm1", E.expm1),
        "erfinv_": _inplace_unary("erfinv", E.erfinv),
        "addcmul_": addcmul_,
        "addcdiv_": addcdiv_,
        "lerp_": lerp_,
        "clamp_": clamp_,
        "clip_": clamp_,
        "fill_": fill_,
        "zero_": zero_,
        "copy_": copy_,
        "masked_fill_": masked_fill_,
        "scatter_": scatter_,
        "scatter_add_": scatter_add_,
        "uniform_": uniform_,
        "normal_": normal_,
        # operators
        "__add__": E.add,
        "__radd__": _reversed(E.add),
        "__sub__": E.sub,
        "__rsub__": _reversed(E.sub),
        "__mul__": E.mul,
        "__rmul__": _reversed(E.mul),
        "__truediv__": E.div,
        "__rtruediv__": _reversed(E.div),
        "__pow__": E.pow,
        "__rpow__": _reversed(E.pow),
        "__neg__": E.neg,
        "__abs__": E.abs,
        "__pos__": lambda s: s,
        "__matmul__": linalg.matmul,
        "__rmatmul__": _reversed(linalg.matmul),
        "__eq__": _operator(E.eq),
        "__ne__": _operator(E.ne),
        "__lt__": E.lt,
        "__le__": E.le,
        "__gt__": E.gt,
        "__ge__": E.ge,
        "__and__": _bitwise("logical_and"),
        "__or__": _bitwise("logical_or"),
        "__xor__": _bitwise("logical_xor"),
        "__invert__": _invert,
    }
    for module in METHOD_MODULES:  # op modules that list their own methods
        methods.update(module.TENSOR_METHODS)
    for name, fn in methods.items():
        inplace = name.endswith("_") and not name.startswith("__") or name == "__setitem__"
        setattr(T, name, _writes(fn) if inplace else fn)
    for op in ("add", "sub", "mul", "truediv"):
        setattr(T, f"__i{op}__", getattr(T, {"truediv": "div"}.get(op, op) + "_"))
    T.T = property(lambda self: S.permute(self, tuple(reversed(range(self.ndim)))))
    T.mT = property(lambda self: S.transpose(self, -2, -1))
    T.__hash__ = lambda self: id(self)
