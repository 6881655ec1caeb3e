"""Tensor contractions: einsum (ellipsis, implicit output, sublist form) and tensordot.

Both lower to the same steps, each a differentiable op: repeated subscripts of one operand
become a diagonal view, subscripts no other operand or the output needs are summed first,
and the operands are folded left to right, each pair contracted by one batched ``matmul``
(a broadcast multiply when nothing is contracted).
"""

from __future__ import annotations

from genesis._ops.autocast import autocast_active, autocast_op
from genesis._ops.linalg import matmul
from genesis._ops.linalg_common import check_tensor, torch_name
from genesis._ops.shape import Strided, contiguous
from genesis._tensor import Tensor, _wrap_dim

__all__ = ["einsum", "tensordot"]

_LETTERS = 52  # a-z and A-Z; ellipsis dimensions get the labels from 52 on


def _label(ch: str) -> int:
    return ord(ch) - ord("A") if ch <= "Z" else ord(ch) - ord("a") + 26


def _char(label: int) -> str:
    return chr(ord("A") + label) if label < 26 else chr(ord("a") + label - 26)


def _parse_term(term: str, start: int, what: str) -> list:
    """Labels of one comma-separated term (``None`` marks the ellipsis)."""
    out, i = [], 0
    while i < len(term):
        ch = term[i]
        if ch == ".":
            if None in out:
                raise RuntimeError(f"einsum(): found '.' for {what} for which an ellipsis was "
                                   "already found")
            if term[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for {what} that is not part of any "
                                   "ellipsis")
            out.append(None)
            i += 3
            continue
        if not ("a" <= ch <= "z" or "A" <= ch <= "Z"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {start + i} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
        out.append(_label(ch))
        i += 1
    return out


def _sublist(operands: tuple) -> tuple:
    """``einsum(op1, [0, 1], op2, [1, 2], [0, 2])`` as an equation and operands."""
    def term(sub) -> str:
        chars = []
        for n in sub:
            if n is Ellipsis:
                chars.append("...")
            elif isinstance(n, int) and 0 <= n < _LETTERS:
                chars.append(_char(n))
            else:
                raise ValueError("einsum(): subscript in subscript list is not within the valid "
                                 "range [0, 52)")
        return "".join(chars)
    tensors, terms = operands[0::2], operands[1::2]
    lhs = ",".join(term(s) for s in terms[:len(tensors)])
    out = "->" + term(operands[-1]) if len(operands) % 2 else ""
    return lhs + out, tuple(tensors[:len(terms)])


@autocast_op("einsum")
def einsum(*args) -> Tensor:
    """Sum of products over the subscripts of ``equation`` (``"ij,jk->ik"``), as
    ``torch.einsum``: ``...`` broadcasts, an omitted output lists the subscripts used once in
    alphabetical order, and operands may come as a list or in the sublist form."""
    if args and isinstance(args[0], Tensor):
        equation, operands = _sublist(args)
    else:
        if not args or not isinstance(args[0], str):
            raise TypeError("einsum(): equation must be a string")
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    for i, op in enumerate(operands):
        if not isinstance(op, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got "
                            f"{type(op).__name__}")
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms, pos = [], 0
    for i, term in enumerate(lhs.split(",")):
        if i >= len(operands):
            raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                               "equation")
        terms.append(_parse_term(term, pos, f"operand {i}"))
        pos += len(term) + 1
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    labels = [_expand_ellipsis(t, op, i) for i, (t, op) in enumerate(zip(terms, operands))]
    rank = max((n - len([x for x in t if x is not None]) for t, n in
                zip(terms, (op.ndim for op in operands)) if None in t), default=0)
    if arrow:
        output = _output_labels(_parse_term(rhs, len(lhs) + 2, "the output"), labels, rank)
    else:
        counts = {}
        for ls in labels:
            for x in ls:
                counts[x] = counts.get(x, 0) + 1
        output = list(range(_LETTERS, _LETTERS + rank)) + \
            sorted(x for x, c in counts.items() if c == 1 and 0 <= x < _LETTERS)
    return contract(list(operands), labels, output)


def _expand_ellipsis(term: list, op: Tensor, i: int) -> list:
    explicit = [x for x in term if x is not None]
    if None not in term:
        if len(explicit) != op.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(explicit)}) does not match the number of dimensions "
                               f"({op.ndim}) for operand {i} and no ellipsis was given")
        return explicit
    if len(explicit) > op.ndim:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(explicit)})"
                           f" is more than the number of dimensions ({op.ndim}) for operand {i}")
    at, k = term.index(None), op.ndim - len(explicit)
    # ellipsis dims are right-aligned across operands: the last one is label -1 (made
    # absolute once the widest ellipsis is known)
    return explicit[:at] + [-k + j for j in range(k)] + explicit[at:]


def _output_labels(out: list, labels: list, rank: int) -> list:
    seen, result = set(), []
    for x in out:
        if x is None:
            result.extend(range(_LETTERS, _LETTERS + rank))
            continue
        if x in seen:
            raise RuntimeError(f"einsum(): output subscript {_char(x)} appears more than once "
                               "in the output")
        if not any(x in ls for ls in labels):
            raise RuntimeError(f"einsum(): output subscript {_char(x)} does not appear in the "
                               "equation for any input operand")
        seen.add(x)
        result.append(x)
    return result


def _absolute(labels: list, rank: int) -> list:
    return [_LETTERS + rank + x if x < 0 else x for x in labels]


def contract(operands: list, labels: list, output: list) -> Tensor:
    """The einsum of ``operands`` with integer ``labels`` per dimension and ``output``
    labels; ellipsis labels are negative (right-aligned) on input."""
    rank = max([-min(ls, default=0) for ls in labels] + [0])
    labels = [_absolute(ls, rank) for ls in labels]
    dtype = operands[0].dtype
    for op in operands[1:]:
        # inside autocast the products cast their operands (PyTorch checks in bmm, after that)
        if op.dtype is not dtype and not autocast_active(op.device.type):
            raise RuntimeError(f"expected scalar type {torch_name(dtype)} but found "
                               f"{torch_name(op.dtype)}")
    ops = [_diagonal(op, ls, i) for i, (op, ls) in enumerate(zip(operands, labels))]
    sizes = _sizes([op for op, _ in ops], [ls for _, ls in ops])
    for i, (op, ls) in enumerate(ops):
        later = set(output).union(*(labels[j] for j in range(len(labels)) if j != i))
        ops[i] = _sum_out(op, ls, later, keep_dtype=len(operands) > 1)
    x, xl = ops[0]
    for k in range(1, len(ops)):
        y, yl = ops[k]
        keep = set(output).union(*(ls for _, ls in ops[k + 1:]))
        x, xl = _pair(x, xl, y, yl, keep)
        x, xl = _sum_out(x, xl, keep, keep_dtype=True)
    x, xl = _sum_out(x, xl, set(output), keep_dtype=len(ops) > 1)
    x = x.permute(*[xl.index(lab) for lab in output]) if xl != output else x
    shape = tuple(sizes[lab] for lab in output)
    return x.expand(*shape) if x.shape != shape else x


def _sizes(operands: list, labels: list) -> dict:
    sizes: dict = {}
    for i, (op, ls) in enumerate(zip(operands, labels)):
        for lab, n in zip(ls, op.shape):
            have = sizes.get(lab)
            if have is None or have == 1:
                sizes[lab] = n
            elif n != 1 and n != have:
                name = _char(lab) if lab < _LETTERS else "..."
                raise RuntimeError(f"einsum(): subscript {name} has size {n} for operand {i} "
                                   f"which does not broadcast with previously seen size {have}")
    return sizes


def _diagonal(x: Tensor, ls: list, i: int) -> tuple:
    """Repeated labels of one operand as one dimension: the diagonal (a strided view)."""
    if len(set(ls)) == len(ls):
        return x, ls
    if any(st == 0 and n > 1 for n, st in zip(x.shape, x.strides)):
        x = contiguous(x)  # a view's backward cannot scatter into repeated elements
    out, shape, strides = [], [], []
    for lab, n, st in zip(ls, x.shape, x.strides):
        if lab in out:
            j = out.index(lab)
            if shape[j] != n:
                raise RuntimeError(f"einsum(): subscript {_char(lab)} is repeated for operand {i}"
                                   f" but the sizes don't match, {n} != {shape[j]}")
            strides[j] += st
            continue
        out.append(lab)
        shape.append(n)
        strides.append(st)
    return Strided.apply(x, tuple(shape), tuple(strides), x.offset), out


def _sum_out(x: Tensor, ls: list, keep: set, keep_dtype: bool) -> tuple:
    axes = [d for d, lab in enumerate(ls) if lab not in keep]
    if not axes:
        return x, ls
    x = x.sum(axes, dtype=x.dtype) if keep_dtype else x.sum(axes)
    return x, [lab for lab in ls if lab in keep]


def _pair(x: Tensor, xl: list, y: Tensor, yl: list, keep: set) -> tuple:
    """Contract two operands over their shared labels not in ``keep``."""
    batch = [lab for lab in xl if lab in yl and lab in keep]
    summed = [lab for lab in xl if lab in yl and lab not in keep]
    left = [lab for lab in xl if lab not in yl]
    right = [lab for lab in yl if lab not in xl]
    for lab in summed:  # a size-1 dimension broadcasts: sum the other side first
        nx, ny = x.shape[xl.index(lab)], y.shape[yl.index(lab)]
        if nx != ny:
            if nx == 1:
                y = y.sum(yl.index(lab), keepdim=True, dtype=y.dtype)
            else:
                x = x.sum(xl.index(lab), keepdim=True, dtype=x.dtype)
    x = x.permute(*[xl.index(lab) for lab in batch + left + summed])
    y = y.permute(*[yl.index(lab) for lab in batch + summed + right])
    nb = len(batch)
    bshape = tuple(max(a, b) for a, b in zip(x.shape[:nb], y.shape[:nb]))
    lshape, rshape = x.shape[nb:nb + len(left)], y.shape[nb + len(summed):]
    if not summed:  # nothing to contract: an outer product by broadcasting
        x = x.reshape(*x.shape, *([1] * len(right)))
        y = y.reshape(*y.shape[:nb], *([1] * len(left)), *rshape)
        return x * y, batch + left + right
    if x.dtype.name == "bool":
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    k = 1
    for n in x.shape[nb + len(left):]:
        k *= n
    x = x.expand(*bshape, *x.shape[nb:]).reshape(*bshape, _prod(lshape), k)
    y = y.expand(*bshape, *y.shape[nb:]).reshape(*bshape, k, _prod(rshape))
    return matmul(x, y).reshape(*bshape, *lshape, *rshape), batch + left + right


def _prod(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


@autocast_op("tensordot")
def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Contract the last ``dims`` dimensions of ``a`` with the first ``dims`` of ``b``, or the
    dimensions listed in ``dims = (dims_a, dims_b)``."""
    check_tensor("tensordot", "a", a)
    check_tensor("tensordot", "b", b)
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.ndim == 0 else dims.tolist()
    if isinstance(dims, int) and not isinstance(dims, bool):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    elif isinstance(dims, (list, tuple)) and len(dims) == 2:
        da, db = dims
        if isinstance(da, int) or isinstance(db, int):
            raise TypeError("tensordot(): argument 'dims_self' must be tuple of ints, not int")
        da, db = [int(d) for d in da], [int(d) for d in db]
    else:
        raise RuntimeError(f"tensordot expects dims to be int or tuple[list[int], list[int]] or "
                           f"list[list[int]] containing two lists, but got dims={dims}")
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    da = [_wrap_dim(d, a.ndim) for d in da]
    db = [_wrap_dim(d, b.ndim) for d in db]
    for ds in (da, db):
        repeated = [d for i, d in enumerate(ds) if d in ds[:i]]
        if repeated:
            raise RuntimeError(f"dim {repeated[0]} appears multiple times in the list of dims")
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y] and 1 not in (a.shape[x], b.shape[y]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[x]} in dim {x} and second has size {b.shape[y]} in "
                               f"dim {y}")
    la = list(range(a.ndim))
    lb = [la[da[db.index(j)]] if j in db else a.ndim + j for j in range(b.ndim)]
    output = [lab for lab in la if lab not in da] + [a.ndim + j for j in range(b.ndim)
                                                       if j not in db]
    return contract([a, b], [la, lb], output)
