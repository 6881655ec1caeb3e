"""LoRA: low-rank adapters on chosen ``Linear`` layers (Hu et al., 2021), as peft does them.

A wrapped layer computes ``base(x) + scaling * lora_B(lora_A(dropout(x)))`` with
``lora_A: in -> r`` (Kaiming-uniform, like a fresh ``Linear``), ``lora_B: r -> out``
(zeros, so a fresh adapter changes nothing) and ``scaling = lora_alpha / r``
(``lora_alpha / sqrt(r)`` with ``use_rslora``). Only the adapters train; the base
model is frozen. :func:`merge_lora` folds ``scaling * B @ A`` into the base weights
and gives back plain ``Linear`` layers.

Adapters are saved as peft saves them: ``adapter_model.safetensors`` (keys
``base_model.model.<layer>.lora_A.weight``) beside ``adapter_config.json``, so
either library loads the other's adapters.

>>> config = LoraConfig(target_modules=["q_proj", "v_proj"], r=8, lora_alpha=16)
>>> model = apply_lora(model, config)                        # doctest: +SKIP
>>> optimizer = AdamW([p for p in model.parameters() if p.requires_grad])  # doctest: +SKIP
>>> save_lora(model, "adapters/")                            # doctest: +SKIP
>>> model = merge_lora(model)                                # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import genesis
from genesis import nn
from genesis.nn import init

__all__ = ["LoraConfig", "LoraLinear", "apply_lora", "merge_lora", "lora_state_dict",
           "save_lora", "load_lora"]

ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
PEFT_PREFIX = "base_model.model."  # peft's prefix before a layer's path in saved adapters


@dataclass(frozen=True)
class LoraConfig:
    """Which layers get adapters and how big they are; peft's ``LoraConfig`` names.

    Args:
        target_modules: layer names: a list matches a layer whose full name equals an
            entry or ends with ``"." + entry`` (``"q_proj"`` matches
            ``model.layers.0.self_attn.q_proj``); a string is a regular expression the
            full name must match entirely.
        r: the adapters' rank.
        lora_alpha: the scale numerator: ``scaling = lora_alpha / r``.
        lora_dropout: dropout on the adapters' input while training.
        use_rslora: rank-stabilised scaling ``lora_alpha / sqrt(r)``.
        task_type: recorded for peft (``"CAUSAL_LM"`` makes peft load the adapters into a
            ``PeftModelForCausalLM``); it changes nothing here.
    """

    target_modules: Sequence[str] | str
    r: int = 8
    lora_alpha: float = 8
    lora_dropout: float = 0.0
    use_rslora: bool = False
    task_type: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.target_modules, str):
            re.compile(self.target_modules)
        else:
            names = tuple(self.target_modules)
            if not names or not all(isinstance(n, str) and n for n in names):
                raise ValueError(f"LoraConfig: target_modules={self.target_modules!r}, "
                                 "expected a regular expression or a non-empty list of names")
            object.__setattr__(self, "target_modules", names)
        if not isinstance(self.r, int) or isinstance(self.r, bool) or self.r < 1:
            raise ValueError(f"LoraConfig: r={self.r!r}, expected a positive int")
        if not isinstance(self.lora_alpha, (int, float)) or self.lora_alpha <= 0:
            raise ValueError(f"LoraConfig: lora_alpha={self.lora_alpha!r}, expected a "
                             "positive number")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise ValueError(f"LoraConfig: lora_dropout={self.lora_dropout!r}, expected a "
                             "probability in [0, 1)")

    @property
    def scaling(self) -> float:
        return self.lora_alpha / (math.sqrt(self.r) if self.use_rslora else self.r)

    def matches(self, name: str) -> bool:
        """Whether the layer called ``name`` (its full dotted path) gets an adapter."""
        if isinstance(self.target_modules, str):
            return re.fullmatch(self.target_modules, name) is not None
        return any(name == t or name.endswith("." + t) for t in self.target_modules)

    def to_peft_dict(self) -> dict:
        """The ``adapter_config.json`` peft writes for this configuration."""
        fields = asdict(self)
        if not isinstance(self.target_modules, str):
            fields["target_modules"] = list(self.target_modules)
        return {"peft_type": "LORA", "bias": "none",
                "fan_in_fan_out": False, "init_lora_weights": True, **fields}

    @classmethod
    def from_peft_dict(cls, config: dict) -> LoraConfig:
        """The configuration of an ``adapter_config.json`` (peft's or :func:`save_lora`'s)."""
        if config.get("peft_type", "LORA") != "LORA":
            raise ValueError(f"LoraConfig: peft_type={config['peft_type']!r}, expected 'LORA'")
        if config.get("bias", "none") != "none" or config.get("fan_in_fan_out", False):
            raise ValueError("LoraConfig: only bias='none' and fan_in_fan_out=False adapters "
                             f"are supported, got bias={config.get('bias')!r}, "
                             f"fan_in_fan_out={config.get('fan_in_fan_out')!r}")
        return cls(target_modules=config["target_modules"], r=config["r"],
                   lora_alpha=config["lora_alpha"], lora_dropout=config.get("lora_dropout", 0.0),
                   use_rslora=config.get("use_rslora", False),
                   task_type=config.get("task_type"))


class LoraLinear(nn.Module):
    """A frozen ``Linear`` plus a trainable low-rank update (see the module docstring)."""

    def __init__(self, base_layer: nn.Linear, config: LoraConfig) -> None:
        super().__init__()
        if not isinstance(base_layer, nn.Linear):
            raise TypeError(f"LoraLinear: base_layer={base_layer!r}, expected an nn.Linear")
        weight = base_layer.weight
        self.config = config
        self.scaling = config.scaling
        self.base_layer = base_layer
        self.lora_dropout = (nn.Dropout(config.lora_dropout) if config.lora_dropout > 0
                             else nn.Identity())
        self.lora_A = nn.Linear(base_layer.in_features, config.r, bias=False,
                                device=weight.device, dtype=weight.dtype)
        self.lora_B = nn.Linear(config.r, base_layer.out_features, bias=False,
                                device=weight.device, dtype=weight.dtype)
        init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        init.zeros_(self.lora_B.weight)

    # the base layer's weight, bias and sizes, for code that reads them off a Linear (as peft's
    # layers expose them too)
    weight = property(lambda self: self.base_layer.weight)
    bias = property(lambda self: self.base_layer.bias)
    in_features = property(lambda self: self.base_layer.in_features)
    out_features = property(lambda self: self.base_layer.out_features)

    def forward(self, x: genesis.Tensor) -> genesis.Tensor:
        update = self.lora_B(self.lora_A(self.lora_dropout(x)))
        return self.base_layer(x) + update * self.scaling

    def merged_weight(self) -> genesis.Tensor:
        """``W + scaling * B @ A``: the one weight that computes what this layer does."""
        with genesis.no_grad():
            delta = self.lora_B.weight @ self.lora_A.weight
            return self.base_layer.weight + delta * self.scaling

    def extra_repr(self) -> str:
        return f"r={self.config.r}, scaling={self.scaling:g}"


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, module)


def apply_lora(model: nn.Module, config: LoraConfig) -> nn.Module:
    """Wrap every ``Linear`` of ``model`` that ``config.target_modules`` names in a
    :class:`LoraLinear`, in place, and freeze everything but the adapters.

    Returns ``model``. Raises ``ValueError`` when no layer matches and ``TypeError``
    when a matching layer is not an ``nn.Linear`` (or already has adapters).
    """
    if not isinstance(config, LoraConfig):
        raise TypeError(f"apply_lora: config={config!r}, expected a LoraConfig")
    targets = [(name, module) for name, module in model.named_modules()
               if name and config.matches(name)]
    if not targets:
        linears = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
        raise ValueError(f"apply_lora: target_modules={config.target_modules!r} matches no "
                         f"layer; the model's Linear layers are {linears[:8]}"
                         + (" ..." if len(linears) > 8 else ""))
    for name, module in targets:
        if not isinstance(module, nn.Linear):
            raise TypeError(f"apply_lora: layer {name!r} matches target_modules="
                            f"{config.target_modules!r} but is a {type(module).__name__}, "
                            "expected an nn.Linear")
    _refuse_tied_weights(model, targets)
    model.requires_grad_(False)
    for name, module in targets:
        _set_submodule(model, name, LoraLinear(module, config))
    return model


def _refuse_tied_weights(model: nn.Module, targets: list[tuple[str, nn.Module]]) -> None:
    """A weight used twice (an lm_head tied to the embeddings) cannot take a merged update
    without changing its other use too."""
    owners: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        owners.setdefault(id(param), []).append(name)
    for name, module in targets:
        others = [n for n in owners[id(module.weight)] if n != f"{name}.weight"]
        if others:
            raise ValueError(f"apply_lora: layer {name!r} shares its weight with {others}; an "
                             "adapter merged into it would change that use too: leave the layer "
                             "out of target_modules or untie the weights first")


def _lora_layers(model: nn.Module) -> list[tuple[str, LoraLinear]]:
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, LoraLinear)]
    if not layers:
        raise ValueError("the model has no LoRA adapters; call apply_lora first")
    return layers


def merge_lora(model: nn.Module) -> nn.Module:
    """Replace each :class:`LoraLinear` of ``model`` by its base ``Linear`` holding
    ``W + scaling * B @ A``, in place: the model computes the same function (dropout aside)
    with no adapters, and loads the base architecture's state dict keys. Returns ``model``.
    The merged weights keep ``requires_grad=False``, as the frozen base had."""
    for name, layer in _lora_layers(model):
        base = layer.base_layer
        with genesis.no_grad():
            base.weight.copy_(layer.merged_weight())
        _set_submodule(model, name, base)
    return model


def _adapter_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    params = {}
    for name, layer in _lora_layers(model):
        params[f"{name}.lora_A.weight"] = layer.lora_A.weight
        params[f"{name}.lora_B.weight"] = layer.lora_B.weight
    return params


def lora_state_dict(model: nn.Module) -> dict[str, genesis.Tensor]:
    """The adapter weights only, by their path in ``model``
    (``<layer>.lora_A.weight``, ``<layer>.lora_B.weight``)."""
    return {key: param.detach() for key, param in _adapter_parameters(model).items()}


def save_lora(model: nn.Module, directory: str | Path) -> None:
    """Write the adapters of ``model`` into ``directory`` as peft does:
    ``adapter_model.safetensors`` and ``adapter_config.json``."""
    layers = _lora_layers(model)
    configs = {layer.config for _, layer in layers}
    if len(configs) > 1:
        raise ValueError(f"save_lora: the adapters were made with {len(configs)} different "
                         "LoraConfigs; one file describes one")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    genesis.save({PEFT_PREFIX + key: value for key, value in lora_state_dict(model).items()},
                 directory / ADAPTER_WEIGHTS)
    text = json.dumps(configs.pop().to_peft_dict(), indent=2) + "\n"
    (directory / ADAPTER_CONFIG).write_text(text, encoding="utf-8")


def load_lora(model: nn.Module, directory: str | Path) -> nn.Module:
    """Load adapters saved by :func:`save_lora` or peft into ``model``: the base model they
    were trained on, without adapters (they are added as the saved config says) or with
    adapters of the same shapes. Every adapter weight must be in the file and every weight in
    the file must have a place. Returns ``model``."""
    directory = Path(directory)
    for file in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
        if not (directory / file).is_file():
            raise FileNotFoundError(f"load_lora: directory={str(directory)!r} has no {file}")
    config = LoraConfig.from_peft_dict(
        json.loads((directory / ADAPTER_CONFIG).read_text(encoding="utf-8")))
    if not any(isinstance(m, LoraLinear) for m in model.modules()):
        apply_lora(model, config)
    saved = {_strip_peft_names(key): value
             for key, value in genesis.load(directory / ADAPTER_WEIGHTS).items()}
    expected = _adapter_parameters(model)
    missing = sorted(expected.keys() - saved.keys())
    unexpected = sorted(saved.keys() - expected.keys())
    if missing or unexpected:
        raise ValueError(f"load_lora: {directory / ADAPTER_WEIGHTS} does not fit the model: "
                         f"missing {missing[:4]}, unexpected {unexpected[:4]}")
    for key, value in saved.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            raise ValueError(f"load_lora: {key} has shape {tuple(value.shape)} in the file, "
                             f"the model's is {tuple(expected[key].shape)}")
    with genesis.no_grad():
        for key, value in saved.items():
            expected[key].copy_(value.to(dtype=expected[key].dtype))
    return model


def _strip_peft_names(key: str) -> str:
    """``base_model.model.x.lora_A[.default].weight`` -> ``x.lora_A.weight``."""
    key = key.removeprefix(PEFT_PREFIX)
    return re.sub(r"\.(lora_[AB])\.[^.]+\.weight$", r".\1.weight", key)
