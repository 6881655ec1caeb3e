"""A nested tree of containers, scalars and tensors <-> JSON skeleton + flat named arrays.

The skeleton is plain JSON where that is unambiguous and a one-key object with
a ``$`` tag where it is not:

* ``None``, ``bool``, ``int``, ``str``, lists and finite floats are themselves
  (JSON keeps ``1`` and ``1.0`` apart and Python writes floats by ``repr``,
  so values come back exactly);
* a dict whose keys are all strings not starting with ``$`` is a JSON object;
  any other dict is ``{"$dict": [[key, value], ...]}`` (keys: str, int, bool);
* a tuple is ``{"$tuple": [...]}``;
* a non-finite float is ``{"$float": "inf" | "-inf" | "nan" | "nan:<64-bit hex>"}``;
* a tensor is ``{"$tensor": {"key": storage key, "extra": {...}}}``.

The storage key of a tensor is its path in the tree, segments joined by ``/``:
ints and sequence indices in decimal, strings with ``~`` as ``~0`` and ``/`` as
``~1`` (as in JSON Pointer), a string that would read as an int (or is
``__metadata__``) behind ``~s``, bools as ``~btrue``/``~bfalse``; a tensor at
the root is ``~root``. Different paths never share a key. A tensor object met
again is stored once and comes back as one object.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable, Mapping

import numpy as np

from ._safetensors import storable

IsTensor = Callable[[object], bool]
ToNumpy = Callable[[object], "tuple[np.ndarray, Mapping[str, object]]"]
FromNumpy = Callable[[np.ndarray, "dict[str, object]"], object]

_INT_LIKE = re.compile(r"-?[0-9]+")
_CANONICAL_NAN = struct.pack("<d", math.nan)


def describe(path: tuple[object, ...]) -> str:
    """The path as Python indexing, e.g. ``obj['state'][0]``."""
    return "obj" + "".join(f"[{key!r}]" for key in path)


def _segment(key: object) -> str:
    if isinstance(key, bool):
        return f"~b{str(key).lower()}"
    if isinstance(key, int):
        return str(key)
    escaped = key.replace("~", "~0").replace("/", "~1")
    if _INT_LIKE.fullmatch(escaped) or escaped == "__metadata__":
        return "~s" + escaped
    return escaped


def storage_key(path: tuple[object, ...]) -> str:
    """The safetensors key of the tensor at ``path``."""
    return "/".join(_segment(key) for key in path) if path else "~root"


def _encode_float(value: float) -> object:
    if math.isfinite(value):
        return value
    if not math.isnan(value):
        return {"$float": "inf" if value > 0 else "-inf"}
    bits = struct.pack("<d", value)
    return {
        "$float": "nan" if bits == _CANONICAL_NAN else f"nan:{struct.unpack('<Q', bits)[0]:016x}"
    }


def _decode_float(text: object) -> float:
    if text in ("inf", "-inf", "nan"):
        return float(text)
    if isinstance(text, str) and re.fullmatch(r"nan:[0-9a-f]{16}", text):
        value = struct.unpack("<d", struct.pack("<Q", int(text[4:], 16)))[0]
        if math.isnan(value):
            return value
    raise ValueError(
        f"$float must be 'inf', '-inf', 'nan' or 'nan:<16 hex digits of a NaN>', got {text!r}"
    )


class Flattener:
    """Encodes one tree; collects its tensors as (storage key, dtype name, array)."""

    def __init__(self, is_tensor: IsTensor, to_numpy: ToNumpy) -> None:
        self._is_tensor = is_tensor
        self._to_numpy = to_numpy
        self.tensors: list[tuple[str, str, np.ndarray]] = []
        self._stored: dict[int, dict[str, object]] = {}
        self._open: set[int] = set()

    def encode(self, obj: object, path: tuple[object, ...] = ()) -> object:
        """The JSON-able skeleton of ``obj``; raises TypeError naming the path of a bad leaf."""
        if self._is_tensor(obj):
            return self._tensor(obj, path)
        if obj is None or isinstance(obj, bool):
            return obj
        if isinstance(obj, str):
            return str(obj)
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return _encode_float(float(obj))
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self._open:
                raise ValueError(
                    f"cannot save {describe(path)}: it contains itself (a reference cycle)"
                )
            self._open.add(id(obj))
            try:
                return self._container(obj, path)
            finally:
                self._open.discard(id(obj))
        raise TypeError(
            f"cannot save {describe(path)}: unsupported type "
            f"{type(obj).__module__}.{type(obj).__qualname__}; "
            "expected a tensor, dict, list, tuple, str, int, float, bool or None"
        )

    def _container(self, obj: dict | list | tuple, path: tuple[object, ...]) -> object:
        if isinstance(obj, dict):
            for key in obj:
                if not isinstance(key, (str, int)):
                    raise TypeError(
                        f"cannot save {describe(path)}: dict key {key!r} has unsupported type "
                        f"{type(key).__qualname__}; expected str or int"
                    )
            if all(isinstance(key, str) and not key.startswith("$") for key in obj):
                return {str(key): self.encode(value, (*path, key)) for key, value in obj.items()}
            return {
                "$dict": [
                    [_plain_key(key), self.encode(value, (*path, key))]
                    for key, value in obj.items()
                ]
            }
        items = [self.encode(value, (*path, index)) for index, value in enumerate(obj)]
        return {"$tuple": items} if isinstance(obj, tuple) else items

    def _tensor(self, obj: object, path: tuple[object, ...]) -> dict[str, object]:
        node = self._stored.get(id(obj))
        if node is not None:
            return node
        where = describe(path)
        result = self._to_numpy(obj)
        if not (
            isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], np.ndarray)
        ):
            raise TypeError(
                f"cannot save {where}: to_numpy must return (numpy.ndarray, dict), "
                f"got {type(result).__qualname__}"
            )
        array, extra = result
        if not isinstance(extra, Mapping) or not all(isinstance(key, str) for key in extra):
            raise TypeError(
                f"cannot save {where}: to_numpy's extra must be a dict with str keys, "
                f"got {extra!r:.200}"
            )
        key = storage_key(path)
        dtype_name, array = storable(array, where)
        encoded_extra = Flattener(_never, self._to_numpy).encode(
            dict(extra), (*path, "<to_numpy extra>")
        )
        node = {"$tensor": {"key": key, "extra": encoded_extra}}
        self.tensors.append((key, dtype_name, array))
        self._stored[id(obj)] = node
        return node


def _never(obj: object) -> bool:
    return False


def _plain_key(key: str | int) -> str | int | bool:
    if isinstance(key, bool):
        return key
    return int(key) if isinstance(key, int) else str(key)


def flatten(
    obj: object, is_tensor: IsTensor, to_numpy: ToNumpy
) -> tuple[str, list[tuple[str, str, np.ndarray]]]:
    """The JSON skeleton text of ``obj`` and its tensors as (storage key, dtype name, array)."""
    flattener = Flattener(is_tensor, to_numpy)
    skeleton = flattener.encode(obj)
    text = json.dumps(skeleton, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text, flattener.tensors


class TreeFormatError(ValueError):
    """The skeleton is not one that :func:`flatten` writes."""


class Unflattener:
    """Decodes one skeleton, building each stored tensor once with ``from_numpy``."""

    def __init__(self, arrays: Mapping[str, np.ndarray], from_numpy: FromNumpy) -> None:
        self._arrays = arrays
        self._from_numpy = from_numpy
        self._built: dict[str, object] = {}

    def decode(self, node: object, path: tuple[object, ...] = ()) -> object:
        """The tree that ``node`` encodes; raises TreeFormatError naming the path."""
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(item, (*path, index)) for index, item in enumerate(node)]
        if not isinstance(node, dict):
            raise TreeFormatError(f"at {describe(path)}: unexpected JSON value {node!r:.100}")
        tags = [key for key in node if key.startswith("$")]
        if not tags:
            return {key: self.decode(value, (*path, key)) for key, value in node.items()}
        if len(node) != 1:
            raise TreeFormatError(
                f"at {describe(path)}: a tagged object must have one key, got {list(node)!r:.200}"
            )
        tag, value = tags[0], node[tags[0]]
        try:
            if tag == "$tuple" and isinstance(value, list):
                return tuple(self.decode(item, (*path, index)) for index, item in enumerate(value))
            if tag == "$dict" and isinstance(value, list):
                return self._dict(value, path)
            if tag == "$float":
                return _decode_float(value)
            if tag == "$tensor" and isinstance(value, dict) and set(value) == {"key", "extra"}:
                return self._tensor(value["key"], value["extra"], path)
        except TreeFormatError:
            raise
        except ValueError as error:
            raise TreeFormatError(f"at {describe(path)}: {error}") from None
        raise TreeFormatError(
            f"at {describe(path)}: unknown or malformed tag {tag!r} with value {value!r:.100}"
        )

    def _dict(self, pairs: list[object], path: tuple[object, ...]) -> dict[object, object]:
        result = {}
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))):
                raise TreeFormatError(
                    f"at {describe(path)}: $dict entries must be [str|int|bool key, value], "
                    f"got {pair!r:.100}"
                )
            result[pair[0]] = self.decode(pair[1], (*path, pair[0]))
        return result

    def _tensor(self, key: object, extra: object, path: tuple[object, ...]) -> object:
        if key in self._built:
            return self._built[key]
        if not isinstance(key, str) or key not in self._arrays:
            raise TreeFormatError(
                f"at {describe(path)}: tensor key {key!r:.100} is not in the file"
            )
        decoded_extra = Unflattener({}, self._from_numpy).decode(extra, (*path, "<extra>"))
        if not isinstance(decoded_extra, dict):
            raise TreeFormatError(
                f"at {describe(path)}: tensor extra must be an object, got {extra!r:.100}"
            )
        built = self._from_numpy(self._arrays[key], decoded_extra)
        self._built[key] = built
        return built


def unflatten(text: str, arrays: Mapping[str, np.ndarray], from_numpy: FromNumpy) -> object:
    """Rebuild the tree from its skeleton text and the arrays by storage key."""
    try:
        skeleton = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise TreeFormatError(f"the skeleton is not valid JSON: {error}") from None
    return Unflattener(arrays, from_numpy).decode(skeleton)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")
