"""Linear layers that read the same input, computed as one matmul at inference.

An attention block's query, key and value projections (and a SwiGLU MLP's gate and up
projections) all multiply the same hidden states. Packed, their weights are consecutive row
blocks of one buffer: each ``Parameter`` keeps its identity and views its block
(``param.data = block``), so in-place writes (optimizer steps, ``load_state_dict``,
``merge_lora``) reach the buffer, and a single ``linear`` gives every output, fewer
dispatches per decoded token. Only a decoding step (one position per row) is packed: a
longer input is matmul-bound, and the strided slices of a packed output would cost its
elementwise ops more than the saved dispatches. A weight given other storage (``Module.to``,
``load_state_dict(assign=True)``) is noticed and the buffer rebuilt; layers that are not
plain ``nn.Linear`` (LoRA adapters) run one by one, as does everything while autograd
records (each weight must get its own gradient).
"""

from __future__ import annotations

from collections.abc import Sequence

import genesis
import genesis.nn.functional as F
from genesis import Tensor, nn


def packed_linear(owner: nn.Module, names: Sequence[str], x: Tensor) -> Tensor | None:
    """``cat([owner.<name>(x) for name in names], -1)`` as one ``linear`` for ``x`` ``(*,
    1, in)``, or None when the layers cannot or need not be packed (see the module
    docstring): the caller then runs them itself."""
    if genesis.is_grad_enabled() or x.shape[-2] != 1:
        return None
    layers = [owner._modules[name] for name in names]
    if any(type(layer) is not nn.Linear for layer in layers):
        return None
    packed = owner.__dict__.get("_packed_linears")
    if packed is None or not _still_packed(packed, layers):
        packed = _pack(layers)
        if packed is None:
            return None
        owner.__dict__["_packed_linears"] = packed
    return F.linear(x, packed[0], packed[1])


def _still_packed(packed: tuple, layers: list[nn.Linear]) -> bool:
    weight, bias, offsets = packed
    for layer, (w_offset, b_offset) in zip(layers, offsets):
        if layer.weight.storage is not weight.storage or layer.weight.offset != w_offset:
            return False
        if bias is not None and (layer.bias.storage is not bias.storage
                                 or layer.bias.offset != b_offset):
            return False
    return True


def _pack(layers: list[nn.Linear]) -> tuple | None:
    """Copy the layers' weights (and biases) into one buffer and point each at its rows."""
    weights = [layer.weight for layer in layers]
    biases = [layer.bias for layer in layers]
    if len({(w.dtype, str(w.device)) for w in weights}) > 1:
        return None
    if any(b is None for b in biases) != all(b is None for b in biases):
        return None  # some layers with a bias, some without
    with genesis.no_grad():
        weight = genesis.cat([w.detach() for w in weights], 0)
        bias = None if biases[0] is None else genesis.cat([b.detach() for b in biases], 0)
        offsets, row = [], 0
        for w, b in zip(weights, biases):
            rows = w.shape[0]
            w.data = weight.narrow(0, row, rows)
            if b is not None:
                b.data = bias.narrow(0, row, rows)
            offsets.append((w.offset, None if b is None else b.offset))
            row += rows
    return weight, bias, tuple(offsets)
