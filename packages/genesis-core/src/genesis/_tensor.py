"""The Tensor: a strided view of a backend storage, plus autograd fields.

This module holds the object and the *raw* layer under autograd: helpers
that call a backend kernel and wrap the storage it returns. Differentiable
ops (``genesis._ops``) are built on them and attach themselves as methods.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np

from genesis import _dtype as dt
from genesis._autograd import engine
from genesis._autograd.engine import PostAccumulateGradHook
from genesis._autograd.grad_mode import _State
from genesis._device import Device
from genesis._device import device as _device
from genesis._nested import sequence_to_numpy
from genesis.backends.layout import contiguous_strides

__all__ = ["Size", "Tensor"]

_UNIT_SEEDS: dict = {}  # the implicit gradient 1 of scalar outputs, per (shape, dtype, device)


class Size(tuple):
    """A tensor's shape: a tuple of ints with ``numel()`` (what ``.shape`` and ``.size()``
    return, as ``torch.Size``); it compares equal to the plain tuple. ``+`` and ``*`` give a
    Size; a slice is a plain tuple (indexing stays tuple's C fast path: the core indexes
    shapes on every op)."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        return numel_of(self)

    def __repr__(self) -> str:
        return f"genesis.Size({list(self)})"

    def __add__(self, other):
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, times):
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__


class MemoryFormat:
    """A layout name for ``is_contiguous``/``contiguous``/``to`` (``genesis.channels_last``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"genesis.{self.name}"


contiguous_format = MemoryFormat("contiguous_format")
preserve_format = MemoryFormat("preserve_format")
channels_last = MemoryFormat("channels_last")
channels_last_3d = MemoryFormat("channels_last_3d")

_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "bfloat16": "BFloat16Tensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "int16": "ShortTensor", "int32": "IntTensor", "int64": "LongTensor",
               "bool": "BoolTensor"}


def _dense(shape: tuple, strides: tuple, order) -> bool:
    """Whether dims in ``order`` (outermost first) are packed without gaps (size-1 dims free)."""
    expected = 1
    for d in reversed(tuple(order)):
        if shape[d] != 1 and strides[d] != expected:
            return False
        expected *= shape[d]
    return True


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` takes the hook out again."""

    def __init__(self, hooks: list, hook) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)}
_PRINT = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """How tensors print, as ``torch.set_printoptions``: digits after the point, the element
    count beyond which the middle is summarised, items kept at each edge, line width, a
    ``profile`` (``"default"``, ``"short"``, ``"full"``) and ``sci_mode`` (None: automatic)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile={profile!r}, expected one of "
                             f"{sorted(_PROFILES)}")
        _PRINT.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"set_printoptions: {name}={value!r}, expected a number >= 0")
            _PRINT[name] = value
    _PRINT["sci_mode"] = sci_mode


def _format_body(values: np.ndarray) -> str:
    p = _PRINT
    threshold = p["threshold"]
    options = dict(separator=", ", precision=p["precision"], edgeitems=p["edgeitems"],
                   max_line_width=p["linewidth"], prefix="tensor(",
                   threshold=sys.maxsize if threshold == float("inf") else int(threshold))
    if p["sci_mode"] is not None and values.dtype.kind == "f":
        spec = f".{p['precision']}{'e' if p['sci_mode'] else 'f'}"
        options["formatter"] = {"float_kind": lambda v: format(v, spec)}
    return np.array2string(values, **options)


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a genesis Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """Whether ``input`` has a floating dtype."""
    return input.dtype.is_floating_point


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input.numel()


_SIZES: dict = {}


def _new_size(shape: tuple) -> Size:
    """The shared :class:`Size` of ``shape`` (the cache is cleared when it grows large)."""
    if len(_SIZES) > 4096:
        _SIZES.clear()
    size = Size(shape)
    _SIZES[size] = size
    return size


def numel_of(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


class Tensor:
    """An n-dimensional array on a device, with autograd.

    Create tensors with :func:`genesis.tensor`, :func:`genesis.zeros` and the
    other factory functions. Attributes ``storage``, ``shape``, ``strides``
    (in elements), ``offset`` and ``dtype`` describe the view a backend kernel
    reads (see :mod:`genesis.backends.protocol`).
    """

    __slots__ = (
        "storage",
        "shape",
        "strides",
        "offset",
        "dtype",
        "device",
        "_backend",
        "requires_grad",
        "grad",
        "_ctx",
        "_retains_grad",
        "_cache",
        "_base",
        "_views",
        "_hooks",
        "__weakref__",
    )

    # -- construction ------------------------------------------------------------------
    def __init__(
        self,
        data=None,
        *,
        dtype: dt.DType | None = None,
        device: str | Device | None = None,
        requires_grad: bool = False,
    ) -> None:
        src = from_data(data if data is not None else [], dtype=dtype, device=device)
        for name in ("storage", "shape", "strides", "offset", "dtype", "device", "_backend"):
            setattr(self, name, getattr(src, name))
        self.requires_grad = bool(requires_grad)
        self._cache = None
        self._base = self._views = self._hooks = None
        self.grad = None
        self._ctx = None
        self._retains_grad = False

    # -- metadata ----------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    def dim(self) -> int:
        return len(self.shape)

    def size(self, dim: int | None = None):
        """The shape, or its length along ``dim``."""
        if dim is None:
            return self.shape
        return self.shape[_wrap_dim(dim, len(self.shape), "dim")]

    def numel(self) -> int:
        return numel_of(self.shape)

    def stride(self, dim: int | None = None):
        return self.strides if dim is None else self.strides[_wrap_dim(dim, self.ndim, "dim")]

    def storage_offset(self) -> int:
        return self.offset

    def element_size(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes the elements of this view take (``numel() * itemsize``)."""
        return self.numel() * self.dtype.itemsize

    def is_contiguous(self, memory_format: MemoryFormat | None = None) -> bool:
        """Whether the elements are laid out row-major without gaps (size-1 dims aside); with
        ``memory_format=genesis.channels_last``, whether a 4-D tensor is NHWC-contiguous."""
        if memory_format is None or memory_format is contiguous_format:  # empty: always
            return 0 in self.shape or _dense(self.shape, self.strides, range(self.ndim))
        if memory_format is channels_last:
            return self.ndim == 4 and _dense(self.shape, self.strides, (0, 2, 3, 1))
        if memory_format is channels_last_3d:
            return self.ndim == 5 and _dense(self.shape, self.strides, (0, 2, 3, 4, 1))
        raise ValueError(f"is_contiguous: memory_format={memory_format!r}, expected "
                         "genesis.contiguous_format, channels_last or channels_last_3d")

    def type(self, dtype=None, non_blocking: bool = False) -> str | Tensor:
        """``type()``: the type name (``'genesis.FloatTensor'``); ``type(dtype)``: a cast (a
        dtype, or a type name such as ``'torch.LongTensor'``)."""
        if dtype is None:
            return f"genesis.{_TYPE_NAMES[self.dtype.name]}"
        if isinstance(dtype, str):
            name = dtype.rpartition(".")[2]
            by_name = {v: k for k, v in _TYPE_NAMES.items()}
            if name not in by_name:
                raise ValueError(f"type: dtype={dtype!r}, expected a dtype or one of "
                                 f"{sorted(by_name)}")
            dtype = dt.dtype_from_name(by_name[name])
        return self.to(dtype)

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever the gradient of this tensor is computed; a tensor it
        returns replaces the gradient. Returns a handle whose ``remove()`` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if not callable(hook):
            raise TypeError(f"register_hook: hook={hook!r}, expected a callable")
        if self._ctx is not None:
            hooks = self._ctx.hooks
            if hooks is None:
                hooks = self._ctx.hooks = []
        else:
            hooks = self._hooks
            if hooks is None:
                hooks = self._hooks = []
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf after its gradient has been accumulated into
        ``.grad`` during backward (``hook`` returns None; it may read or modify ``tensor.grad``
        in place). Returns a handle whose ``remove()`` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self._ctx is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if not callable(hook):
            raise TypeError(f"register_post_accumulate_grad_hook: hook={hook!r}, expected a "
                            "callable")
        if self._hooks is None:
            self._hooks = []
        entry = PostAccumulateGradHook(hook)
        self._hooks.append(entry)
        return RemovableHandle(self._hooks, entry)

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None or not self.requires_grad

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def data(self) -> Tensor:
        """This tensor's values without autograd history (shares storage)."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: expected a Tensor, got {type(value).__name__}")
        for name in ("storage", "shape", "strides", "offset", "dtype", "device", "_backend"):
            setattr(self, name, getattr(value, name))
        self._cache = None
        self._base = self._views = None

    # -- autograd ----------------------------------------------------------------------
    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Accumulate gradients of this tensor into the ``.grad`` of graph leaves.

        ``gradient`` is required unless the tensor has exactly one element.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; this "
                    f"tensor has shape {self.shape}: pass gradient="
                )
            key = (self.shape, self.dtype, self.device)
            gradient = _UNIT_SEEDS.get(key)
            if gradient is None:  # shared and read-only: the engine copies before storing it
                gradient = _UNIT_SEEDS[key] = _full_raw(self.shape, 1, self.dtype, self.device)
        elif not isinstance(gradient, Tensor) or gradient.shape != self.shape:
            raise RuntimeError(
                f"backward: gradient must be a Tensor of shape {self.shape}, got "
                f"{getattr(gradient, 'shape', type(gradient).__name__)}"
            )
        engine.run_backward(
            self,
            gradient,
            retain_graph=create_graph if retain_graph is None else retain_graph,
            create_graph=create_graph,
        )

    def detach(self) -> Tensor:
        """A view of the same storage that is not part of any graph."""
        return _make(
            self.storage,
            self.shape,
            self.dtype,
            self.device,
            self._backend,
            self.strides,
            self.offset,
        )

    def detach_(self) -> Tensor:
        self._ctx = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf and not requires_grad:
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad flags of leaf variables"
            )
        if requires_grad and not (self.dtype.is_floating_point):
            raise RuntimeError(
                f"requires_grad_: only floating point tensors can require "
                f"gradients, got dtype {self.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor during backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None:
            self._retains_grad = True
            self._ctx.retained = weakref.ref(self)  # the engine hands this node's grad here

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    # -- host interop ------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A host numpy copy (errors if the tensor requires grad, like PyTorch)."""
        if self.requires_grad and _State.enabled:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use "
                "tensor.detach().numpy() instead."
            )
        return self._backend.to_numpy(self)

    def __array__(self, dtype=None, copy=None):
        a = self._backend.to_numpy(self)
        return a if dtype is None else a.astype(dtype)

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar"
            )
        return self._backend.to_numpy(self).reshape(()).item()

    def tolist(self):
        return self._backend.to_numpy(self).tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __index__(self) -> int:
        if self.dtype.kind != 1 or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    # the registry of live views (weak references), hooks and a backend's memo are per object:
    # copies and pickles start without them
    _UNCOPIED = ("_views", "_cache", "_hooks", "__weakref__")

    def __getstate__(self) -> tuple:
        slots = (name for cls in type(self).__mro__ for name in getattr(cls, "__slots__", ()))
        return None, {name: getattr(self, name) for name in slots
                      if name not in Tensor._UNCOPIED and hasattr(self, name)}

    def __setstate__(self, state: tuple) -> None:
        for name, value in state[1].items():
            setattr(self, name, value)
        self._views = self._cache = self._hooks = None

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy with its own storage (same class, device and backend object), and of ``.grad``.

        Only leaves can be deep-copied, as in PyTorch.
        """
        if id(self) in memo:
            return memo[id(self)]
        if self._ctx is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) "
                "support the deepcopy protocol at the moment."
            )
        out = type(self).__new__(type(self))
        out.storage = _contiguous_copy(self).storage
        out.shape, out.strides, out.offset = self.shape, contiguous_strides(self.shape), 0
        out.dtype, out.device, out._backend = self.dtype, self.device, self._backend
        out.requires_grad, out._ctx, out._retains_grad = self.requires_grad, None, False
        out._cache = out._base = out._views = out._hooks = None
        memo[id(self)] = out
        out.grad = None if self.grad is None else self.grad.__deepcopy__(memo)
        return out

    def __format__(self, spec: str) -> str:
        if self.numel() == 1 and spec:
            return format(self.item(), spec)
        return str(self) if not spec else format(str(self), spec)

    def __repr__(self) -> str:
        values = self._backend.to_numpy(self)
        if self.dtype is dt.bfloat16:
            values = values.astype(np.float32)
        body = _format_body(values)
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (dt.float32, dt.int64, dt.bool_):
            extras.append(f"dtype={self.dtype}")
        if self._ctx is not None and self.requires_grad:
            extras.append(f"grad_fn=<{self._ctx.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _wrap_dim(dim: int, ndim: int, name: str = "dim") -> int:
    """Normalise a possibly negative dimension index, with PyTorch's error message."""
    n = max(ndim, 1)
    if not isinstance(dim, int) and hasattr(dim, "__index__"):  # numpy ints, 1-element tensors
        dim = dim.__index__()
    if not isinstance(dim, int) or not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
            f"but got {dim!r}) for argument {name!r}"
        )
    return dim + n if dim < 0 else dim


# -- raw layer: wrap kernel results (no autograd) ----------------------------------------


def _make(
    storage,
    shape: tuple,
    dtype: dt.DType,
    device: Device,
    backend,
    strides: tuple | None = None,
    offset: int = 0,
) -> Tensor:
    t = Tensor.__new__(Tensor)
    t.storage = storage
    size = _SIZES.get(shape)  # shapes repeat: one Size object per shape, not one per tensor
    t.shape = size if size is not None else _new_size(shape)
    t.strides = contiguous_strides(shape) if strides is None else strides
    t.offset = offset
    t.dtype = dtype
    t.device = device
    t._backend = backend
    t.requires_grad = False
    t.grad = None
    t._ctx = None
    t._retains_grad = False
    t._cache = None  # a backend may memoize its handle for this view here
    t._base = None  # for a view: the tensor that owns the storage (in-place writes reach it)
    t._views = None  # for a base in a graph: its live views (refreshed after in-place writes)
    t._hooks = None  # a leaf's gradient hooks (a non-leaf's live on its node)
    return t


def _view(x: Tensor, shape: tuple, strides: tuple, offset: int) -> Tensor:
    t = _make(x.storage, shape, x.dtype, x.device, x._backend, strides, offset)
    base = t._base = x if x._base is None else x._base
    if base.requires_grad or x.requires_grad:  # only views in a graph need the bookkeeping
        if base._views is None:
            base._views = weakref.WeakSet()
        base._views.add(t)
    return t


def _empty_raw(shape: tuple, dtype: dt.DType, device: Device) -> Tensor:
    b = device.backend
    return _make(b.empty(shape, dtype, device.index), shape, dtype, device, b)


def _full_raw(shape: tuple, value, dtype: dt.DType, device: Device) -> Tensor:
    t = _empty_raw(shape, dtype, device)
    t._backend.fill_(t, value)
    return t


def _cast_raw(x: Tensor, dtype: dt.DType) -> Tensor:
    if x.dtype is dtype:
        return x
    out = _empty_raw(x.shape, dtype, x.device)
    x._backend.copy_(out, x)
    return out


def _contiguous_copy(x: Tensor) -> Tensor:
    out = _empty_raw(x.shape, x.dtype, x.device)
    x._backend.copy_(out, x)
    return out


def _contiguous_raw(x: Tensor) -> Tensor:
    if x.offset == 0 and x.strides == contiguous_strides(x.shape):
        return x
    out = _empty_raw(x.shape, x.dtype, x.device)
    x._backend.copy_(out, x)
    return out


def _expand_raw(x: Tensor, shape: tuple) -> Tensor:
    """Broadcast ``x`` to ``shape`` as a stride-0 view."""
    lead = len(shape) - len(x.shape)
    strides = [0] * lead
    for i, (n, st) in enumerate(zip(x.shape, x.strides)):
        if n == shape[lead + i]:
            strides.append(st)
        elif n == 1:
            strides.append(0)
        else:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[lead + i]}) must match the "
                f"existing size ({n}) at non-singleton dimension {lead + i}. Target "
                f"sizes: {list(shape)}. Tensor sizes: {list(x.shape)}"
            )
    return _view(x, shape, tuple(strides), x.offset)


def broadcast_shapes(*shapes: tuple) -> tuple:
    """The shape all ``shapes`` broadcast to (PyTorch/numpy rules)."""
    ndim = max(len(s) for s in shapes)
    out = [1] * ndim
    for s in shapes:
        for i, n in enumerate(s, ndim - len(s)):
            if n != out[i]:
                if out[i] == 1:
                    out[i] = n
                elif n != 1:
                    raise RuntimeError(
                        f"shapes {[tuple(x) for x in shapes]} cannot be broadcast "
                        f"together (mismatch at dimension {i})"
                    )
    return tuple(out)


# -- host data -> tensor ------------------------------------------------------------------


def numpy_dtype(dtype: dt.DType) -> np.dtype:
    """The numpy dtype that holds ``dtype`` on the host (bfloat16 via ``ml_dtypes``)."""
    if dtype is dt.bfloat16:
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype.name)


def dtype_of_numpy(npdtype: np.dtype) -> dt.DType:
    name = np.dtype(npdtype).name
    if name in (
        "float32",
        "float64",
        "float16",
        "bfloat16",
        "int8",
        "uint8",
        "int16",
        "int32",
        "int64",
        "bool",
    ):
        return dt.dtype_from_name(name)
    raise TypeError(
        f"can't convert numpy array of dtype {name}; supported: float64, float32, "
        "float16, bfloat16, int64, int32, int16, int8, uint8, bool"
    )


def from_data(data, dtype: dt.DType | None = None, device: str | Device | None = None) -> Tensor:
    """Build a tensor holding a copy of ``data`` (nested lists, scalars, numpy arrays, tensors)."""
    dev = _device(device)
    if isinstance(data, Tensor):
        arr = data._backend.to_numpy(data)
    elif isinstance(data, (list, tuple)):
        arr, inferred = sequence_to_numpy(data, Tensor)
        dtype = dtype or inferred
    else:
        arr = np.asarray(data)
    if dtype is None:
        if arr.dtype.kind == "f" and not isinstance(data, (np.ndarray, np.generic)):
            dtype = dt.get_default_dtype()
        elif arr.dtype.kind in "iu" and not isinstance(data, (np.ndarray, np.generic)):
            dtype = dt.int64
        elif arr.dtype.kind == "O":
            raise TypeError(
                f"tensor: could not infer dtype of data={data!r:.80}; expected numbers, "
                "nested lists of equal length or a numpy array"
            )
        else:
            dtype = dtype_of_numpy(arr.dtype)
    elif not isinstance(dtype, dt.DType):
        raise TypeError(
            f"tensor: dtype={dtype!r}, expected a genesis dtype such as genesis.float32"
        )
    arr = np.asarray(arr, dtype=numpy_dtype(dtype), order="C")  # ascontiguousarray makes 0-d 1-d
    b = dev.backend
    return _make(b.from_numpy(arr, dev.index), arr.shape, dtype, dev, b)
