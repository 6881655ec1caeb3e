"""Movement ops as stride metadata (reshape, permute, expand, slicing) and joins (cat, stack)."""

from __future__ import annotations

from genesis import _dtype as dt
from genesis._autograd.function import Function
from genesis._ops.autocast import autocast_op
from genesis._ops.creation import zeros
from genesis._tensor import (
    Tensor,
    _contiguous_raw,
    _empty_raw,
    _expand_raw,
    _view,
    _wrap_dim,
    contiguous_strides,
    numel_of,
)

# -- raw stride arithmetic --------------------------------------------------------------------

def infer_shape(shape, numel: int) -> tuple:
    """Resolve a requested shape (with at most one -1) against ``numel`` elements."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = numel_of(tuple(s for s in shape if s != -1))
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if any(s < 0 for s in shape) or numel_of(shape) != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def view_strides(x: Tensor, shape: tuple) -> tuple | None:
    """Strides that let ``shape`` view ``x`` without a copy, or None.

    PyTorch's rule (``computeStride``): walk the old dims from the right in chunks whose
    elements are evenly spaced; each chunk must be covered exactly by consecutive new dims.
    Size-1 dims get the strides PyTorch gives them, so ``.stride()`` matches too.
    """
    if x.strides == contiguous_strides(x.shape):
        return contiguous_strides(shape)
    if numel_of(shape) == 0:
        return x.strides if shape == x.shape else contiguous_strides(shape)
    old_shape, old_strides = x.shape, x.strides
    new_strides = [0] * len(shape)
    view_d = len(shape) - 1
    chunk_base = old_strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[d]
        if d == 0 or (old_shape[d - 1] != 1 and
                      old_strides[d - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                chunk_base = old_strides[d - 1]
                tensor_numel = view_numel = 1
    return tuple(new_strides) if view_d == -1 else None


def reshape_raw(x: Tensor, shape: tuple) -> Tensor:
    strides = view_strides(x, shape)
    if strides is None:
        x = _contiguous_raw(x)
        strides = contiguous_strides(shape)
    return _view(x, shape, strides, x.offset)


def transpose_raw(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view of ``x`` with dims ``dim0`` and ``dim1`` swapped (no autograd, no copy)."""
    shape, strides = list(x.shape), list(x.strides)
    shape[dim0], shape[dim1] = shape[dim1], shape[dim0]
    strides[dim0], strides[dim1] = strides[dim1], strides[dim0]
    return _view(x, tuple(shape), tuple(strides), x.offset)


# -- differentiable movement ops ---------------------------------------------------------------

class Reshape(Function):
    def forward(self, x, shape):
        self.shape = x.shape
        return reshape_raw(x, shape)

    def backward(self, g):
        return g.reshape(self.shape)


class Permute(Function):
    def forward(self, x, dims):
        self.dims = dims
        return _view(x, tuple(x.shape[d] for d in dims), tuple(x.strides[d] for d in dims),
                     x.offset)

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return g.permute(*inverse)


class Unsqueeze(Function):
    """A size-1 dim at ``dim``, with the stride PyTorch gives it (``size * stride`` of the
    dim it precedes, 1 at the end)."""

    def forward(self, x, dim):
        self.dim = dim
        st = x.shape[dim] * x.strides[dim] if dim < x.ndim else 1
        return _view(x, x.shape[:dim] + (1,) + x.shape[dim:],
                     x.strides[:dim] + (st,) + x.strides[dim:], x.offset)

    def backward(self, g):
        return g.squeeze(self.dim)


class Expand(Function):
    def forward(self, x, shape):
        return _expand_raw(x, shape)

    def backward(self, g):
        return g  # the engine sums broadcast gradients back to the input shape


class Contiguous(Function):
    def forward(self, x):
        return _contiguous_raw(x)

    def backward(self, g):
        return g


class Strided(Function):
    """A view at ``(shape, strides, offset)`` of the input's storage (basic indexing, narrow)."""

    def forward(self, x, shape, strides, offset):
        self.x_shape, self.x_strides, self.x_offset = x.shape, x.strides, x.offset
        self.shape, self.strides, self.offset = shape, strides, offset
        return _view(x, shape, strides, offset)

    def backward(self, g):
        # a zero buffer laid out like the input (strides are never negative here), g written
        # into the viewed positions, returned in the input's layout
        if 0 in self.x_shape:
            return zeros(self.x_shape, dtype=g.dtype, device=g.device)
        span = 1 + sum((n - 1) * st for n, st in zip(self.x_shape, self.x_strides))
        buf = zeros((span,), dtype=g.dtype, device=g.device)
        target = _view(buf, self.shape, self.strides, self.offset - self.x_offset)
        buf._backend.copy_(target, g)
        return _view(buf, self.x_shape, self.x_strides, 0)

    def backward_into(self, g, buffer) -> bool:
        """Add ``g`` into the viewed positions of ``buffer``, a gradient this kind of node's
        :meth:`backward` made for the same input (the engine owns it): the pieces of a split
        then share one zero buffer, where each would fill its own and the engine add them
        (Example 2's q/k/v split: 3 fills and 2 adds of the whole projection per layer).
        False, touching nothing, when ``buffer`` has another layout."""
        if (buffer.shape != self.x_shape or buffer.strides != self.x_strides or buffer.offset
                or buffer.dtype is not g.dtype or 0 in self.x_shape):
            return False
        _view(buffer, self.shape, self.strides, self.offset - self.x_offset).add_(g)
        return True


# -- public functions ----------------------------------------------------------------------------

def reshape(input, *shape):
    """A tensor with ``shape`` and the same data: a view when strides allow, else a copy."""
    shape = infer_shape(shape, input.numel())
    if shape == input.shape:
        return input
    return Reshape.apply(input, shape)


def view(input, *shape):
    """Like :func:`reshape` but never copies: raises if the strides cannot express ``shape``."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        return input.to(shape[0])
    shape = infer_shape(shape, input.numel())
    if view_strides(input, shape) is None:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return Reshape.apply(input, shape) if shape != input.shape else input


def permute(input, *dims):
    """Reorder dimensions (a view)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    dims = tuple(_wrap_dim(d, input.ndim) for d in dims)
    if sorted(dims) != list(range(input.ndim)):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}"
                           if len(dims) != input.ndim else f"permute: dims={dims} repeat a dim")
    return Permute.apply(input, dims)


def transpose(input, dim0: int, dim1: int):
    """Swap two dimensions (a view)."""
    dims = list(range(input.ndim))
    a, b = _wrap_dim(dim0, input.ndim, "dim0"), _wrap_dim(dim1, input.ndim, "dim1")
    if a == b:
        return input
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, tuple(dims))


def t(input):
    """Transpose a tensor of at most 2 dimensions."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def expand(input, *sizes):
    """Broadcast size-1 dimensions to ``sizes`` (a view; -1 keeps a size)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if len(sizes) < input.ndim:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({input.ndim})")
    lead = len(sizes) - input.ndim
    shape = tuple(input.shape[i - lead] if s == -1 and i >= lead else int(s)
                  for i, s in enumerate(sizes))
    if shape == input.shape:
        return input
    return Expand.apply(input, shape)


def expand_as(input, other):
    return expand(input, other.shape)


def squeeze(input, dim=None):
    """Drop size-1 dimensions (all of them, or those in ``dim``)."""
    if dim is None:
        axes = [i for i, n in enumerate(input.shape) if n == 1]
    else:
        dims = (dim,) if isinstance(dim, int) else dim
        axes = [_wrap_dim(d, input.ndim) for d in dims] if input.ndim else []
        axes = [a for a in axes if input.shape[a] == 1]
    if not axes:
        return input
    return reshape(input, tuple(n for i, n in enumerate(input.shape) if i not in axes))


def unsqueeze(input, dim: int):
    """Insert a size-1 dimension at ``dim``."""
    return Unsqueeze.apply(input, _wrap_dim(dim, input.ndim + 1))


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    """Merge dimensions ``start_dim..end_dim`` into one."""
    if input.ndim == 0:
        return reshape(input, (1,))
    s, e = _wrap_dim(start_dim, input.ndim), _wrap_dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape[:s] + (numel_of(input.shape[s:e + 1]),) + input.shape[e + 1:]
    return reshape(input, shape)


def unflatten(input, dim: int, sizes):
    """Split dimension ``dim`` into ``sizes`` (one of them may be -1)."""
    d = _wrap_dim(dim, input.ndim)
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = input.shape[d] if input.ndim else 1
    try:
        sizes = infer_shape(sizes, n)
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({n}) in the input tensor") from None
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


def contiguous(input):
    """The tensor itself if row-major contiguous, else a contiguous copy."""
    if input.offset == 0 and input.strides == contiguous_strides(input.shape):
        return input
    return Contiguous.apply(input)


def narrow(input, dim: int, start, length: int):
    """The slice ``start:start+length`` of dimension ``dim`` (a view); ``start`` may be
    negative, or a 0-d integer tensor."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, Tensor):
        if start.ndim or start.dtype.kind != 1:
            raise RuntimeError(f"narrow(): start must be an 0-dim integral Tensor, got shape "
                               f"{list(start.shape)} of {start.dtype}")
        start = start.item()
    d = _wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if input.requires_grad and any(st == 0 and m > 1 for m, st in zip(input.shape,
                                                                     input.strides)):
        input = contiguous(input)  # Strided's backward cannot scatter into aliased elements
    if not -n <= start <= n:
        raise IndexError(f"narrow(): start out of range (expected to be in range of [{-n}, {n}], "
                         f"but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError(f"narrow(): length must be non-negative, got {length}")
    if start + length > n:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension "
                           f"size ({n}) of dimension {d}")
    shape = input.shape[:d] + (length,) + input.shape[d + 1:]
    return Strided.apply(input, shape, input.strides, input.offset + start * input.strides[d])


class Cat(Function):
    """Concatenation; inputs flagged in ``skip`` (1-D empty tensors) contribute nothing."""

    def forward(self, *tensors, dim, skip):
        self.dim, self.skip = dim, skip
        self.sizes = [0 if k else t.shape[dim] for t, k in zip(tensors, skip)]
        ref = next(t for t, k in zip(tensors, skip) if not k)
        shape = list(ref.shape)
        shape[dim] = sum(self.sizes)
        dtype = dt.result_type(*tensors)
        out = _empty_raw(tuple(shape), dtype, ref.device)
        pos = 0
        for t, n in zip(tensors, self.sizes):
            if n:
                dst_shape = out.shape[:dim] + (n,) + out.shape[dim + 1:]
                dst = _view(out, dst_shape, out.strides, out.offset + pos * out.strides[dim])
                out._backend.copy_(dst, t)
            pos += n
        return out

    def backward(self, g):
        grads, pos = [], 0
        for n, k in zip(self.sizes, self.skip):
            grads.append(g.new_zeros((0,)) if k else narrow(g, self.dim, pos, n))
            pos += n
        return tuple(grads)


@autocast_op("cat")
def cat(tensors, dim: int = 0):
    """Concatenate along ``dim`` into a new tensor; all shapes must match elsewhere.

    As in PyTorch, 1-D empty tensors are ignored (they still get a gradient, of size 0).
    """
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    skip = tuple(t.ndim == 1 and t.shape[0] == 0 for t in tensors)
    if all(skip):
        skip = (False,) * len(tensors)
    ref = next(t for t, k in zip(tensors, skip) if not k)
    d = _wrap_dim(dim, ref.ndim)
    for i, (t, k) in enumerate(zip(tensors, skip)):
        if k:
            continue
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape))
                                     if j != d):
            raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension {d}. "
                               f"Expected {ref.shape} (except dim {d}) but got {t.shape} for "
                               f"tensor number {i} in the list.")
        if t.device != ref.device:
            raise RuntimeError(f"cat(): all tensors must be on the same device; got {ref.device} "
                               f"and {t.device}")
    return Cat.apply(*tensors, dim=d, skip=skip)


@autocast_op("stack")
def stack(tensors, dim: int = 0):
    """Stack equally-shaped tensors along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{tensors[0].shape} at entry 0 and {t.shape} at entry {i}")
    d = _wrap_dim(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(tensor, split_size_or_sections, dim: int = 0):
    """Split into chunks of ``split_size`` (last may be smaller) or of the listed sizes."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, tensor.ndim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [min(size, n - i) for i in range(0, n, size)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                               f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    out, pos = [], 0
    for s in sizes:
        out.append(narrow(tensor, d, pos, s))
        pos += s
    return tuple(out)


def chunk(input, chunks: int, dim: int = 0):
    """Split into ``chunks`` pieces of ``ceil(n / chunks)`` (the last may be smaller)."""
    if not isinstance(chunks, int) or isinstance(chunks, bool):
        raise TypeError(f"chunk(): argument 'chunks' must be int, not {type(chunks).__name__}")
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if n == 0:  # as in torch: `chunks` empty pieces
        return split(input, [0] * chunks, d)
    return split(input, -(-n // chunks), d)


def unbind(input, dim: int = 0):
    """The slices along ``dim``, each without that dimension (views)."""
    if input.ndim == 0:
        raise IndexError("unbind: Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, input.ndim)
    if input.shape[d] == 0:
        return ()
    return tuple(squeeze(p, d) for p in split(input, 1, d))
