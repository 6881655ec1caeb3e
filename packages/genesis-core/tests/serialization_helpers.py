"""Test helpers for checkpoint files, written independently of genesis.serialization."""

from __future__ import annotations

import json
import re
import struct

import ml_dtypes
import numpy as np
import xxhash

DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype(ml_dtypes.bfloat16),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype(bool),
}


def parse_safetensors(raw: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """A minimal safetensors reader following the published format description."""
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    metadata = header.pop("__metadata__", {})
    data = raw[8 + length :]
    arrays = {}
    for key, info in header.items():
        begin, end = info["data_offsets"]
        arrays[key] = np.frombuffer(data[begin:end], DTYPES[info["dtype"]]).reshape(info["shape"])
    return arrays, metadata


def header_of(raw: bytes) -> tuple[int, dict]:
    """The header length and the parsed header of a file's bytes."""
    (length,) = struct.unpack("<Q", raw[:8])
    return length, json.loads(raw[8 : 8 + length])


def build_file(header: dict, data: bytes, *, checksum: bool = True) -> bytes:
    """A safetensors file from a header dict and data, checksummed the Genesis way if asked.

    The checksum is the XXH3-64 of the whole file with its 16 hex digits set to '0'.
    """
    header = dict(header)
    if checksum:
        header["__metadata__"] = {
            **header.get("__metadata__", {}),
            "genesis.checksum": "xxh3:" + "0" * 16,
        }
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    raw = bytearray(struct.pack("<Q", len(text)) + text + data)
    if checksum:
        match = re.search(rb'"genesis\.checksum":"xxh3:(0{16})"', raw)
        raw[match.start(1) : match.end(1)] = xxhash.xxh3_64_hexdigest(bytes(raw)).encode()
    return bytes(raw)


def rechecksum(raw: bytes) -> bytes:
    """The file with its checksum recomputed after an edit."""
    raw = bytearray(raw)
    match = re.search(rb'"genesis\.checksum":"xxh3:([0-9a-f]{16})"', raw)
    raw[match.start(1) : match.end(1)] = b"0" * 16
    raw[match.start(1) : match.end(1)] = xxhash.xxh3_64_hexdigest(bytes(raw)).encode()
    return bytes(raw)


def replace_header(raw: bytes, header: dict) -> bytes:
    """The file with a new header (data kept), checksum recomputed."""
    length, _ = header_of(raw)
    metadata = dict(header.get("__metadata__", {}))
    metadata.pop("genesis.checksum", None)
    return build_file({**header, "__metadata__": metadata}, raw[8 + length :])
