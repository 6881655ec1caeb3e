"""Hugging Face model directories: reading safetensors weights onto a model, writing them back.

Reading goes through :func:`genesis.load` with ``mmap=True``: the parameters become views
of the mapped files (copy-on-write) unless a dtype or device change needs a copy.
Writing produces what transformers writes: ``config.json`` and ``model.safetensors`` or
``model-0000i-of-0000n.safetensors`` shards with ``model.safetensors.index.json``.
"""

from __future__ import annotations

import json
import os
import re

import genesis
import numpy as np
from genesis import Tensor, nn
from genesis.serialization import save_tree

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
#: keys some older checkpoints carry that are recomputed, never loaded
_IGNORED_KEY = re.compile(r".*\.rotary_emb\.inv_freq$")
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20,
          "GIB": 2**30}
_LISTED = 10  # names shown per kind of problem in an error


def weight_files(path: str | os.PathLike) -> list[str]:
    """The safetensors files of the model directory ``path``, from the index when sharded."""
    root = os.fspath(path)
    index = os.path.join(root, INDEX_FILE)
    if os.path.isfile(index):
        with open(index, encoding="utf-8") as f:
            weight_map = json.load(f).get("weight_map")
        if not isinstance(weight_map, dict):
            raise ValueError(f"{index}: expected a 'weight_map' object of tensor name -> file")
        files = [os.path.join(root, name) for name in sorted(set(weight_map.values()))]
        absent = [f for f in files if not os.path.isfile(f)]
        if absent:
            raise FileNotFoundError(f"{index} lists shards that are not in {root!r}: "
                                    f"{', '.join(os.path.basename(f) for f in absent)}")
        return files
    single = os.path.join(root, SINGLE_FILE)
    if os.path.isfile(single):
        return [single]
    raise FileNotFoundError(
        f"from_pretrained: {root!r} holds neither {SINGLE_FILE} nor {INDEX_FILE} (with its "
        "shards); put the model's safetensors weights there (Genesis does not download and "
        "does not read pickled .bin checkpoints)")


def read_tensors(path: str | os.PathLike) -> dict[str, Tensor]:
    """Every tensor of the model directory ``path`` by name, memory-mapped."""
    tensors: dict[str, Tensor] = {}
    for file in weight_files(path):
        for name, tensor in genesis.load(file, mmap=True).items():
            if name in tensors:
                raise ValueError(f"tensor {name!r} appears in more than one shard "
                                 f"(again in {os.path.basename(file)})")
            tensors[name] = tensor
    return tensors


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def load_weights(model: nn.Module, path: str | os.PathLike, dtype: genesis.DType | str | None,
                 device: genesis.Device | str | None) -> None:
    """Replace the parameters of ``model`` by the tensors stored under the same names.

    With tied embeddings the file need not hold ``lm_head.weight`` (transformers omits it).
    Raises ValueError listing missing, unexpected and mis-shaped tensors.
    """
    tensors = {k: v for k, v in read_tensors(path).items() if not _IGNORED_KEY.match(k)}
    own = model.state_dict()
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    if tied:
        own.pop("lm_head.weight", None)
        tensors.pop("lm_head.weight", None)
    missing = [k for k in own if k not in tensors]
    unexpected = [k for k in tensors if k not in own]
    mismatched = [f"{k} (file {tuple(tensors[k].shape)}, model {tuple(own[k].shape)})"
                  for k in own if k in tensors and tuple(tensors[k].shape) != tuple(own[k].shape)]
    problems = [f"{what}: {_names(names)}" for what, names in
                (("missing tensors", missing), ("unexpected tensors", unexpected),
                 ("shape mismatches", mismatched)) if names]
    if problems:
        raise ValueError(f"from_pretrained: the weights in {os.fspath(path)!r} do not fit "
                         f"{type(model).__name__}; " + "; ".join(problems))
    if isinstance(dtype, str):
        dtype = getattr(genesis, dtype)
    state = {}
    for name in own:
        tensor = tensors[name]
        if dtype is not None and tensor.dtype != dtype:
            tensor = tensor.to(dtype)
        if device is not None:
            tensor = tensor.to(device)
        state[name] = tensor
    if tied:
        state["lm_head.weight"] = state["model.embed_tokens.weight"]
    model.load_state_dict(state, assign=True)


def parse_size(size: int | str) -> int:
    """Bytes in ``size``: an int, or a string such as ``"5GB"``, ``"200KB"``, ``"1MiB"``."""
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        return size
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMG]I?B|B)\s*", str(size).upper())
    if not match:
        raise ValueError(f"max_shard_size={size!r}: expected a positive int of bytes or a "
                         "string such as '5GB', '200KB' or '1MiB'")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def _shards(arrays: dict[str, np.ndarray], limit: int) -> list[dict[str, np.ndarray]]:
    """Consecutive groups of tensors of at most ``limit`` bytes (a larger tensor alone)."""
    shards: list[dict[str, np.ndarray]] = [{}]
    size = 0
    for name, array in arrays.items():
        if shards[-1] and size + array.nbytes > limit:
            shards.append({})
            size = 0
        shards[-1][name] = array
        size += array.nbytes
    return shards


def save_directory(model: nn.Module, directory: str | os.PathLike,
                   max_shard_size: int | str) -> None:
    """Write ``config.json`` and the safetensors weights of ``model`` into ``directory``."""
    limit = parse_size(max_shard_size)
    root = os.fspath(directory)
    os.makedirs(root, exist_ok=True)
    config = model.config.to_dict()
    config["dtype"] = model.dtype.name
    with open(os.path.join(root, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    state = model.state_dict()
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)  # transformers re-ties it from the embeddings
    arrays = {name: t.to("cpu").numpy() for name, t in state.items()}
    shards = _shards(arrays, limit)
    index_path, single_path = os.path.join(root, INDEX_FILE), os.path.join(root, SINGLE_FILE)
    for stale in (index_path, single_path):  # a previous save's other layout would win
        if os.path.exists(stale):
            os.remove(stale)
    if len(shards) == 1:
        save_tree(shards[0], single_path, metadata={"format": "pt"})
        return
    weight_map = {}
    for i, shard in enumerate(shards, 1):
        name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_tree(shard, os.path.join(root, name), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(shard, name))
    index = {"metadata": {"total_size": sum(a.nbytes for a in arrays.values())},
             "weight_map": weight_map}
    with open(index_path, "w", encoding="utf-8") as f:
        json.dump(index, f, indent=2, sort_keys=True)
