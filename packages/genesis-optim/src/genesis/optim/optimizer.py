"""The :class:`Optimizer` base: parameter groups, per-parameter state, state dicts.

Bookkeeping lives here; each algorithm (``sgd.py``, ``adam.py``, ...) only
creates its per-parameter state and calls a pure update function from
:mod:`genesis.optim._functional` (or a backend's fused kernel) on the
parameters of one group that have a gradient.

State-dict layout (PyTorch's)::

    {"state": {0: {"step": 3.0, "exp_avg": Tensor, ...}, 1: {...}},
     "param_groups": [{"lr": 0.001, ..., "params": [0, 1], "param_names": [...]}]}

Parameters are integer indices in group order; ``param_names`` is present
when the optimizer was built from ``named_parameters()`` pairs. ``step`` is
kept as a Python ``float`` (PyTorch keeps a 0-d float32 tensor): reading it
then costs no device round trip, and a tensor ``step`` from a PyTorch-shaped
dict is accepted on load. The dict holds only tensors, numbers, strings,
``None``, lists, tuples and dicts, so :func:`genesis.save` can write it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import genesis
from genesis import DType, Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyperparameter every param group must give (no default)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_DTYPE_POLICIES = ("keep", "param")


def _refuse_torch_tensor(value: Any, where: str) -> None:
    """Raise a TypeError that says so when ``value`` is a PyTorch tensor (torch not imported)."""
    if any(c.__module__ == "torch" and c.__name__ == "Tensor" for c in type(value).__mro__):
        raise TypeError(f"optimizer: {where} is a PyTorch tensor ({type(value).__module__}."
                        f"{type(value).__qualname__}, shape {tuple(value.shape)}), expected "
                        "genesis.Tensor parameters, e.g. model.parameters() of a "
                        "genesis.nn.Module; genesis.optim does not update PyTorch tensors "
                        "(copy one with genesis.from_numpy(t.detach().numpy()))")


class Optimizer:
    """Base class of all optimizers: PyTorch's ``torch.optim.Optimizer`` surface.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs (what
            ``module.named_parameters()`` yields), or of dicts each defining a
            param group (``{"params": ..., "lr": ...}``).
        defaults: default hyperparameters, filled into every group that does
            not set them; a value of :data:`required` must be set by each group.

    Subclasses implement ``_step_group(group, params)``, called under
    :func:`genesis.no_grad` with the parameters of ``group`` whose ``grad`` is
    not ``None``.
    """

    #: state entries kept as Python floats (PyTorch keeps 0-d tensors); a loaded
    #: tensor value of one of these keys is read back as a float
    _scalar_state: tuple[str, ...] = ("step",)
    #: state tensors that are not shaped like their parameter (LBFGS's flat vectors)
    _flat_state: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        _refuse_torch_tensor(params, "params")
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            for i, p in enumerate(groups):
                _refuse_torch_tensor(p, f"params[{i}]")
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups ---------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (defaults fill the rest).

        ``param_group["params"]`` is a tensor, or a list of tensors or of
        ``(name, tensor)`` pairs (then the group gets ``param_names``).

        Raises:
            TypeError: ``params`` is a set or holds something other than tensors.
            ValueError: a parameter appears twice, a required hyperparameter is
                missing, or groups mix named and unnamed parameters.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        _refuse_torch_tensor(params, "param_group['params']")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = list(params)
        named = [p for p in params if isinstance(p, tuple)]
        if named:
            if len(named) != len(params) or any(len(p) != 2 or not isinstance(p[0], str)
                                                for p in named):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        for i, p in enumerate(params):
            _refuse_torch_tensor(p, f"param_group['params'][{i}]")
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf and not p.retains_grad:
                raise ValueError("can't optimize a non-leaf Tensor")
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if seen.intersection(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                kind = "with names" if "param_names" in group else "without names"
                raise ValueError(f"all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        self.param_groups.append(group)

    # -- stepping -------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None``, or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = p.grad.detach()
                    with genesis.no_grad():
                        p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()`` if given.

        ``closure`` re-evaluates the model and returns the loss; it runs with
        gradients enabled, before the update.
        """
        loss = None
        if closure is not None:
            with genesis.enable_grad():
                loss = closure()
        with genesis.no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._step_group(group, params)
                    for p in params:  # a graph that saved these weights is now stale
                        genesis.autograd.mark_modified(p)
        return loss

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not implement _step_group")

    # -- state dicts ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout (see the module docstring).

        State tensors are the live ones (not copies), as in PyTorch; save or
        clone them before stepping again if you need a snapshot.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _copy_plain(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = dict(self.state[p])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any], *, dtype_policy: str | DType = "keep",
                        strict: bool = True) -> None:
        """Restore a :meth:`state_dict`, matching parameters by name when both sides have names.

        Args:
            state_dict: what :meth:`state_dict` returned (possibly via
                :func:`genesis.save` / :func:`genesis.load`).
            dtype_policy: dtype of the loaded floating state tensors:
                ``"keep"`` (default) keeps the saved dtype (e.g. float32 moments
                of a bfloat16 model stay float32); ``"param"`` casts them to
                their parameter's dtype, as PyTorch does; a genesis dtype casts
                them to that dtype. Tensors always move to their parameter's device.
            strict: with parameter names, whether names missing from the saved
                state or unknown to the optimizer are an error; when ``False``
                missing parameters start with fresh state and unknown ones are
                ignored.

        Without ``param_names`` on both sides, parameters are matched by
        position: group counts and per-group parameter counts must agree.
        With names, matching is by name across all groups (order does not
        matter); group ``i``'s hyperparameters still come from saved group ``i``.
        Saved state tensors are copied, never shared with ``state_dict``.

        Raises:
            ValueError: different group or parameter counts, missing or
                unexpected names (strict), or a state tensor whose shape
                differs from its parameter's.
        """
        if not (isinstance(dtype_policy, DType) or dtype_policy in _DTYPE_POLICIES):
            raise ValueError(f"load_state_dict: dtype_policy={dtype_policy!r}, expected 'keep', "
                             "'param' or a genesis dtype")
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError("load_state_dict: expected a dict with 'state' and 'param_groups' "
                             f"entries, got {type(state_dict).__name__}"
                             + (f" with keys {sorted(map(str, state_dict))}"
                                if isinstance(state_dict, dict) else ""))
        saved_groups, groups = state_dict["param_groups"], self.param_groups
        if len(saved_groups) != len(groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter group(s), the "
                             f"optimizer has {len(groups)}")
        by_name = all("param_names" in g for g in saved_groups + groups)
        id_map, labels = (self._match_by_name(saved_groups, strict) if by_name
                          else self._match_by_position(saved_groups))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        mismatched = []
        for key, values in state_dict["state"].items():
            param = id_map.get(int(key))
            if param is None:
                if by_name:
                    continue  # an unexpected name, already reported unless strict=False
                raise ValueError(f"loaded state dict has state for parameter index {key}, which "
                                 "no param group lists")
            for name, value in values.items():
                if (isinstance(value, Tensor) and value.ndim and value.shape != param.shape
                        and name not in self._flat_state):
                    mismatched.append(f"{labels[int(key)]}: state[{name!r}] has shape "
                                      f"{tuple(value.shape)}, the parameter has "
                                      f"{tuple(param.shape)}")
            state[param] = {k: _load_value(k, v, param, dtype_policy, self._scalar_state)
                            for k, v in values.items()}
        if mismatched:
            raise ValueError("loaded state dict does not fit the optimizer's parameters: "
                             + "; ".join(mismatched))
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            new = {k: _copy_plain(v) for k, v in saved.items() if k != "params"}
            for name, default in self.defaults.items():
                new.setdefault(name, default)
            new["params"] = group["params"]
            if "param_names" in group and (by_name or "param_names" not in saved):
                new["param_names"] = list(group["param_names"])
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups

    def _match_by_position(self, saved_groups: list[dict]) -> tuple[dict, dict]:
        id_map: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict's param group {i} has "
                                 f"{len(saved['params'])} parameter(s), the optimizer's has "
                                 f"{len(group['params'])}")
            id_map.update(zip((int(k) for k in saved["params"]), group["params"]))
        return id_map, {k: f"parameter {k}" for k in id_map}

    def _match_by_name(self, saved_groups: list[dict], strict: bool) -> tuple[dict, dict]:
        saved = {name: int(k) for g in saved_groups for name, k in zip(g["param_names"],
                                                                        g["params"])}
        own = {name: p for g in self.param_groups for name, p in zip(g["param_names"],
                                                                      g["params"])}
        missing = [n for n in own if n not in saved]
        unexpected = [n for n in saved if n not in own]
        if strict and (missing or unexpected):
            raise ValueError(f"loaded state dict does not match the optimizer's parameter names: "
                             f"missing {missing}, unexpected {unexpected}")
        id_map = {saved[n]: p for n, p in own.items() if n in saved}
        return id_map, {k: repr(n) for n, k in saved.items()}

    def to(self, device: str | genesis.Device) -> Optimizer:
        """Move every state tensor to ``device`` (dtypes unchanged); returns ``self``."""
        for values in self.state.values():
            for k, v in values.items():
                if isinstance(v, Tensor):
                    values[k] = v.to(device)
        return self

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


def _copy_plain(value: Any) -> Any:
    """A copy of a hyperparameter value (lists and dicts are copied, not shared)."""
    if isinstance(value, list):
        return [_copy_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy_plain(v) for k, v in value.items()}
    return value


def _load_value(key: str, value: Any, param: Tensor, dtype_policy: str | DType,
                scalar_keys: tuple[str, ...] = ("step",)) -> Any:
    """One loaded state entry: ``step`` (and other scalar keys) as a float, tensors copied
    onto the param's device."""
    if key in scalar_keys:
        return float(value.item() if isinstance(value, Tensor) else value)
    if isinstance(value, (list, tuple)):  # e.g. LBFGS's history of flat vectors
        return type(value)(_load_value(key, v, param, dtype_policy, scalar_keys) for v in value)
    if not isinstance(value, Tensor):
        return _copy_plain(value)
    dtype = value.dtype
    if value.is_floating_point():
        if dtype_policy == "param" and param.is_floating_point():
            dtype = param.dtype
        elif isinstance(dtype_policy, DType):
            dtype = dtype_policy
    out = value.detach().to(param.device, dtype)
    return out.clone() if out is value or out.storage is value.storage else out


def fused_kernel(params: list[Tensor], name: str, fused: bool | None = None) -> Callable | None:
    """The backend's fused kernel ``name`` if all ``params`` share one device that declares it.

    ``fused=False`` never uses one; ``fused=True`` raises when there is none.
    """
    if fused is False or not params:
        return None
    device = params[0].device
    kernel = device.backend.capabilities.fused.get(name)
    if kernel is not None and all(p.device is device or p.device == device for p in params):
        return kernel
    if fused:
        raise RuntimeError(f"fused=True needs the {name!r} kernel of one backend for "
                           f"all parameters of a group; device {device} "
                           + ("has it but the group spans several devices" if kernel else
                              "does not provide it"))
    return None
