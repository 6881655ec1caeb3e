"""Recurrent layers with PyTorch's parameters, initialisation, gate order and signatures:
``RNN``, ``LSTM``, ``GRU`` and the single-step ``RNNCell``, ``LSTMCell``, ``GRUCell``."""

# ruff: noqa: A002 - PyTorch's argument names

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from genesis._ops.creation import empty, zeros
from genesis._tensor import Tensor
from genesis.nn import init
from genesis.nn.functional._rnn import CELLS, run_layers
from genesis.nn.modules.module import Module
from genesis.nn.parameter import Parameter
from genesis.nn.utils.rnn import PackedSequence

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_sizes(cls: str, **sizes) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero")


class RNNBase(Module):
    """The stacked, optionally bidirectional recurrence shared by ``RNN``, ``LSTM``, ``GRU``.

    Parameters per layer ``k`` and direction (suffix ``_reverse`` for the backward one):
    ``weight_ih_l{k}`` ``(G*H, in)``, ``weight_hh_l{k}`` ``(G*H, H_out)``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` ``(G*H,)`` and, for an LSTM with ``proj_size``, ``weight_hr_l{k}``
    ``(proj_size, H)``; all drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        _check_sizes(type(self).__name__, hidden_size=hidden_size, num_layers=num_layers)
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if not isinstance(proj_size, int) or isinstance(proj_size, bool) or proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_in = input_size if layer == 0 else real_hidden * directions
                shapes = [("weight_ih", (gate_size, layer_in)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(empty(*shape, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """Accepted for PyTorch compatibility; the weights are never flattened here."""

    @property
    def all_weights(self) -> list:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self) -> list:
        out = []
        for names in self._all_weights:
            w = {n.split("_l")[0]: getattr(self, n) for n in names}
            out.append((w["weight_ih"], w["weight_hh"], w.get("bias_ih"), w.get("bias_hh"),
                        w.get("weight_hr")))
        return out

    def _state_shapes(self, batch: int) -> list:
        d = 2 if self.bidirectional else 1
        h_out = self.proj_size if self.proj_size > 0 else self.hidden_size
        shapes = [(self.num_layers * d, batch, h_out)]
        if self.mode == "LSTM":
            shapes.append((self.num_layers * d, batch, self.hidden_size))
        return shapes

    def forward(self, input: Tensor | PackedSequence, hx=None) -> tuple:
        """``(output, h_n)`` (``(output, (h_n, c_n))`` for an LSTM). ``input``: ``(L, N, H_in)``
        (``(N, L, H_in)`` with ``batch_first``), ``(L, H_in)`` unbatched, or a PackedSequence
        (then ``output`` is packed too). ``hx``: ``(num_layers * D, N, H_out)`` (and ``c_0``
        ``(num_layers * D, N, hidden_size)``), zeros when omitted; ``output`` holds the last
        layer's ``h_t`` for every step, both directions concatenated."""
        is_lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes = input.data, input.batch_sizes
            sizes = [int(s) for s in np.asarray(batch_sizes.cpu().numpy()).reshape(-1)]
            batch, batched = sizes[0], True
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{type(self).__name__}: input must be a Tensor or a "
                                f"PackedSequence, got {type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                                 f"{input.ndim}D instead")
            batched = input.ndim == 3
            if not batched:
                input = input.unsqueeze(1)
            elif self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.shape[0], input.shape[1]
            data, sizes = input.reshape(steps * batch, input.shape[2]), [batch] * steps
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {data.shape[-1]}")
        shapes = self._state_shapes(batch)
        if hx is None:
            states = tuple(zeros(*s, dtype=data.dtype, device=data.device) for s in shapes)
        else:
            states = tuple(hx) if is_lstm else (hx,)
            if not batched and not packed:
                if any(s.ndim != 2 for s in states):
                    dims = ", ".join(f"{s.ndim}-D" for s in states)
                    raise RuntimeError(
                        "For unbatched 2-D input, hx and cx should also be 2-D but got "
                        f"({dims}) tensors" if is_lstm else
                        f"For unbatched 2-D input, hx should also be 2-D but got {dims} tensor")
                states = tuple(s.unsqueeze(1) for s in states)
            elif any(s.ndim != 3 for s in states):
                dims = ", ".join(f"{s.ndim}-D" for s in states)
                raise RuntimeError(
                    "For batched 3-D input, hx and cx should also be 3-D but got "
                    f"({dims}) tensors" if is_lstm else
                    f"For batched 3-D input, hx should also be 3-D but got {dims} tensor")
            for i, (s, shape) in enumerate(zip(states, shapes)):
                if tuple(s.shape) != shape:
                    which = f"hidden[{i}]" if is_lstm else "hidden"
                    raise RuntimeError(f"Expected {which} size {shape}, got {list(s.shape)}")
            if packed and input.sorted_indices is not None:
                states = tuple(s.index_select(1, input.sorted_indices) for s in states)
        out, finals = run_layers(self.mode, data, sizes, states, self._layer_weights(),
                                 self.num_layers, 2 if self.bidirectional else 1, self.dropout,
                                 self.training)
        if packed:
            if input.unsorted_indices is not None:
                finals = tuple(f.index_select(1, input.unsorted_indices) for f in finals)
            output = PackedSequence(out, input.batch_sizes, input.sorted_indices,
                                    input.unsorted_indices)
        else:
            output = out.reshape(len(sizes), batch, out.shape[-1])
            if not batched:
                output = output.squeeze(1)
                finals = tuple(f.squeeze(1) for f in finals)
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, (finals if is_lstm else finals[0])

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, ``act`` tanh or
    relu. ``forward(input, h_0=None) -> (output, h_n)``; ``input`` ``(L, N, H_in)``
    (``(N, L, H_in)`` with ``batch_first``), ``(L, H_in)`` unbatched, or a PackedSequence."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None, **kwargs) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, gates (input, forget, cell, output) as PyTorch;
    ``forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))``. With ``proj_size > 0`` the
    hidden state is projected by ``weight_hr_l{k}`` to ``proj_size`` features."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates (reset, update, new) as PyTorch, the reset gate applied to
    ``W_hn h + b_hn``; ``forward(input, h_0=None) -> (output, h_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


class RNNCellBase(Module):
    """One step of a recurrence: ``weight_ih`` ``(G*H, in)``, ``weight_hh`` ``(G*H, H)``,
    ``bias_ih``/``bias_hh`` ``(G*H,)``, drawn from U(-1/sqrt(H), 1/sqrt(H))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, device=device,
                                         dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, device=device,
                                         dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _step(self, mode: str, input: Tensor, hx: tuple | None) -> tuple:
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        if hx is None:
            n = 2 if mode == "LSTM" else 1
            hx = tuple(zeros(input.shape[0], self.hidden_size, dtype=input.dtype,
                             device=input.device) for _ in range(n))
        else:
            if any(h.ndim != input.ndim + (0 if batched else -1) for h in hx):
                raise RuntimeError(f"{name}: Expected hidden to be {1 + batched}D, got "
                                   f"{', '.join(f'{h.ndim}D' for h in hx)} instead")
            hx = tuple(h if batched else h.unsqueeze(0) for h in hx)
            for i, h in enumerate(hx):
                if h.shape[0] != input.shape[0]:
                    raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match "
                                       f"hidden{i} batch size {h.shape[0]}")
                if h.shape[1] != self.hidden_size:
                    raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got "
                                       f"{h.shape[1]}, expected {self.hidden_size}")
        xw = input @ self.weight_ih.t()
        if self.bias_ih is not None:
            xw = xw + self.bias_ih
        out = CELLS[mode](xw, hx, self.weight_hh, self.bias_hh)
        return out if batched else tuple(o.squeeze(0) for o in out)


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``, ``act`` tanh or relu."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity not in ("tanh", "relu"):  # checked here, as PyTorch
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return self._step(mode, input, None if hx is None else (hx,))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step, gates (input, forget, cell, output); returns ``(h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        return self._step("LSTM", input, None if hx is None else tuple(hx))


class GRUCell(RNNCellBase):
    """One GRU step, gates (reset, update, new), the reset gate applied to
    ``W_hn h + b_hn``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._step("GRU", input, None if hx is None else (hx,))[0]
