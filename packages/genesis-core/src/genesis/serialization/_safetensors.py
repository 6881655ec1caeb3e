"""The safetensors file format, with an XXH3-64 content checksum in its metadata.

Layout: an 8-byte little-endian header length N, N bytes of JSON header padded
with spaces to a multiple of 8 (counting the 8 length bytes), then the raw
little-endian tensor data, packed without gaps in ``data_offsets`` order.
Tensors are ordered by decreasing item size, so every tensor starts at a
multiple of its item size (8-byte items at multiples of 8), which is what the
``safetensors`` library does and what lets the data be memory-mapped.

The checksum, ``"genesis.checksum": "xxh3:<16 hex digits>"`` in ``__metadata__``,
is the 64-bit XXH3 hash of the whole file with its own 16 digits read as zeros;
so a changed byte anywhere (length, header, metadata, padding, data) is caught.
XXH3 hashes at memory speed (~27 GB/s here, CRC-32: ~7 GB/s), so verifying
costs a fraction of reading the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import struct
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, NoReturn, Self

import ml_dtypes
import numpy as np
import xxhash

from ._errors import CheckpointError, CheckpointIntegrityError

CHECKSUM_KEY = "genesis.checksum"
ALGORITHM = "xxh3"
_DIGITS = 16
_CHECKSUM_FIELD = f'"{CHECKSUM_KEY}":"{ALGORITHM}:'.encode("ascii")
_CHECKSUM_PLACEHOLDER = b"0" * _DIGITS
_CHECKSUM_DIGITS = re.compile(rb"[0-9a-f]{%d}\"" % _DIGITS)
_CHUNK_BYTES = 1 << 20
_WRITEBACK_BYTES = 8 << 20  # start flushing to disk after this much more is written
_READ_BYTES = 2 << 20  # per read: large enough for full copy speed, small enough to hash in cache

DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype(ml_dtypes.bfloat16),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype(np.bool_),
}
_NAMES: dict[np.dtype, str] = {dtype: name for name, dtype in DTYPES.items()}


def storable(array: np.ndarray, where: str) -> tuple[str, np.ndarray]:
    """The safetensors dtype name of ``array`` and a C-contiguous little-endian copy or view.

    Raises TypeError naming ``where`` if the dtype cannot be stored.
    """
    dtype = array.dtype
    if dtype.byteorder == ">":
        dtype = dtype.newbyteorder("<")
    name = _NAMES.get(dtype)
    if name is None:
        supported = ", ".join(str(d) for d in DTYPES.values())
        raise TypeError(
            f"cannot save {where}: array dtype {array.dtype} is not supported; "
            f"expected one of {supported}"
        )
    return name, np.asarray(array, dtype=dtype, order="C")


def write(
    fd: int, tensors: Iterable[tuple[str, str, np.ndarray]], metadata: Mapping[str, str]
) -> None:
    """Write a checksummed safetensors file to the open descriptor ``fd``.

    ``tensors`` holds (key, safetensors dtype name, C-contiguous array) triples as
    made by :func:`storable`; ``metadata`` maps str to str and must not contain
    the checksum key.
    """
    ordered = sorted(tensors, key=lambda item: -item[2].dtype.itemsize)
    entries: dict[str, object] = {
        "__metadata__": {**metadata, CHECKSUM_KEY: f"{ALGORITHM}:" + _CHECKSUM_PLACEHOLDER.decode()}
    }
    offset = 0
    for key, dtype_name, array in ordered:
        entries[key] = {
            "dtype": dtype_name,
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(entries, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode(
        "ascii"
    )
    header = text + b" " * (-(8 + len(text)) % 8)
    head = struct.pack("<Q", len(header)) + header
    with _RunningHash() as digest, _EarlyWriteback(fd) as writeback:
        _write_all(fd, memoryview(head), digest, writeback)
        for _, _, array in ordered:
            _write_all(fd, memoryview(array.reshape(-1).view(np.uint8)), digest, writeback)
    os.pwrite(
        fd,
        digest.hexdigest().encode("ascii"),
        8 + header.index(_CHECKSUM_FIELD) + len(_CHECKSUM_FIELD),
    )


def _write_all(fd: int, data: memoryview, digest: _RunningHash,
               writeback: _EarlyWriteback) -> None:
    for start in range(0, len(data), _CHUNK_BYTES):
        chunk = data[start : start + _CHUNK_BYTES]
        digest.update(chunk)
        while chunk:
            chunk = chunk[os.write(fd, chunk) :]
        writeback.wrote(min(_CHUNK_BYTES, len(data) - start))


class _EarlyWriteback:
    """Flushes what has been written so far to disk (``fdatasync`` on a helper thread)
    every ``_WRITEBACK_BYTES`` while the rest is still being written: the disk works
    while the data is copied, and the final fsync of the atomic save finds little left.
    A failed early flush is ignored here: the final fsync reports the same error."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.unflushed = 0
        self.flush = getattr(os, "fdatasync", None)  # not on macOS: no early writeback
        self.flushing: threading.Thread | None = None

    def wrote(self, count: int) -> None:
        self.unflushed += count
        busy = self.flushing is not None and self.flushing.is_alive()
        if self.flush is not None and self.unflushed >= _WRITEBACK_BYTES and not busy:
            self.unflushed = 0
            self.flushing = threading.Thread(target=self._flush, name="genesis-writeback")
            self.flushing.start()

    def _flush(self) -> None:
        with contextlib.suppress(OSError):
            self.flush(self.fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.flushing is not None:
            self.flushing.join()


def _new_hash(*parts: bytes):
    digest = xxhash.xxh3_64()
    for part in parts:
        digest.update(part)
    return digest


class _RunningHash:
    """The file hash fed chunk by chunk, computed in order on a helper thread, so hashing
    one chunk overlaps reading or writing the next. ``hexdigest()`` after the block."""

    def __init__(self, digest=None) -> None:
        self.digest = digest if digest is not None else _new_hash()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="genesis-hash")

    def update(self, chunk: memoryview | bytes) -> None:
        """Queue ``chunk``; it must not change until the ``with`` block exits."""
        self._worker.submit(self.digest.update, chunk)

    def hexdigest(self) -> str:
        return self.digest.hexdigest()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._worker.shutdown(wait=True)


class _Entry:
    __slots__ = ("begin", "dtype", "end", "key", "shape")

    def __init__(
        self, key: str, dtype: np.dtype, shape: tuple[int, ...], begin: int, end: int
    ) -> None:
        self.key, self.dtype, self.shape, self.begin, self.end = key, dtype, shape, begin, end


def read(path: str, *, mmap: bool, verify: bool) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file: its arrays by key in header order, and its metadata.

    With ``mmap`` the arrays are copy-on-write views of a memory map of the file
    (writable; writes never reach the file). With ``verify`` and a
    ``genesis.checksum`` in the metadata, the whole file is checked against it.
    Raises CheckpointError for anything that is not a well-formed file and
    CheckpointIntegrityError for a checksum mismatch.
    """
    with open(path, "rb", buffering=0) as file:
        size = os.fstat(file.fileno()).st_size
        head = _read_exactly(file, min(size, 8))
        if size < 8:
            _refuse(
                path,
                head,
                f"the file is {size} bytes long, shorter than the 8-byte safetensors header length",
            )
        (header_length,) = struct.unpack("<Q", head)
        if header_length > size - 8:
            _refuse(
                path,
                head,
                f"its header length field says {header_length} bytes but only {size - 8} follow",
            )
        header = _read_exactly(file, header_length)
        try:
            metadata, entries = _parse_header(path, head, header)
            _check_layout(path, entries, size - 8 - header_length)
        except CheckpointError as error:
            if verify:
                _raise_if_corrupted(path, file, head, header, error)
            raise
        check = verify and any(key.startswith("genesis.") for key in metadata)
        digest = _header_hash(path, head, header, metadata) if check else None
        if mmap:
            arrays = _map(path, 8 + header_length, entries, digest)
        else:
            arrays = _load(path, file, entries, digest)
    if check and f"{ALGORITHM}:{digest.hexdigest()}" != metadata[CHECKSUM_KEY]:
        raise CheckpointIntegrityError(
            f"{path}: content checksum mismatch (stored {metadata[CHECKSUM_KEY]}, "
            f"computed {ALGORITHM}:{digest.hexdigest()}); the file is corrupted"
        )
    for entry in entries:
        if entry.dtype == np.bool_ and arrays[entry.key].view(np.uint8).max(initial=0) > 1:
            raise CheckpointError(
                f"{path}: bool tensor {entry.key!r} holds bytes other than 0 and 1"
            )
    return {entry.key: arrays[entry.key] for entry in entries}, metadata


def _read_exactly(file: BinaryIO, count: int) -> bytes:
    data = file.read(count)
    while len(data) < count:
        more = file.read(count - len(data))
        if not more:
            break
        data += more
    return data


def _refuse(path: str, head: bytes, problem: str) -> NoReturn:
    if head[:1] == b"\x80" and head[1:2] in (b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"):
        raise CheckpointError(
            f"{path}: this is a pickle file, not a Genesis checkpoint. "
            "Genesis checkpoints are not pickle and loading pickles is refused, "
            "because unpickling can run arbitrary code"
        )
    if head[:4] == b"PK\x03\x04":
        raise CheckpointError(
            f"{path}: this is a zip archive (as written by torch.save, which holds a pickle), "
            "not a Genesis checkpoint. Genesis checkpoints are not pickle and loading pickles "
            "is refused, because unpickling can run arbitrary code"
        )
    raise CheckpointError(
        f"{path}: not a Genesis checkpoint (safetensors file) or truncated: {problem}"
    )


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"duplicate key {duplicate!r}")
    return result


def _parse_header(path: str, head: bytes, header: bytes) -> tuple[dict[str, str], list[_Entry]]:
    if not header.startswith(b"{"):
        _refuse(path, head, "its JSON header does not start with '{'")
    try:
        parsed = json.loads(
            header.decode("utf-8"), object_pairs_hook=_unique_pairs, parse_constant=_reject_constant
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CheckpointError(
            f"{path}: the safetensors header is not valid JSON: {error}"
        ) from None
    if not isinstance(parsed, dict):
        raise CheckpointError(
            f"{path}: the safetensors header is JSON {type(parsed).__name__}, expected an object"
        )
    metadata = parsed.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(value, str) for value in metadata.values()
    ):
        raise CheckpointError(
            f"{path}: '__metadata__' must map strings to strings, got {metadata!r:.200}"
        )
    entries = [_parse_entry(path, key, info) for key, info in parsed.items()]
    return metadata, entries


def _parse_entry(path: str, key: str, info: object) -> _Entry:
    def bad(problem: str) -> CheckpointError:
        return CheckpointError(f"{path}: tensor {key!r} in the header: {problem}")

    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise bad(f"expected an object with keys dtype, shape, data_offsets, got {info!r:.200}")
    dtype = DTYPES.get(info["dtype"]) if isinstance(info["dtype"], str) else None
    if dtype is None:
        raise bad(f"unsupported dtype {info['dtype']!r}; expected one of {', '.join(DTYPES)}")
    shape, offsets = info["shape"], info["data_offsets"]
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise bad(f"shape must be a list of non-negative integers, got {shape!r:.200}")
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(type(n) is int and n >= 0 for n in offsets)
    ):
        raise bad(f"data_offsets must be two non-negative integers, got {offsets!r:.200}")
    begin, end = offsets
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if end < begin or end - begin != nbytes:
        raise bad(
            f"data_offsets {offsets} span {end - begin} bytes but dtype {info['dtype']} "
            f"shape {shape} needs {nbytes}"
        )
    return _Entry(key, dtype, tuple(shape), begin, end)


def _check_layout(path: str, entries: list[_Entry], data_length: int) -> None:
    """The tensors must tile the data section exactly: no overlap, no gap, nothing past its end."""
    position, previous = 0, None
    for entry in sorted(entries, key=lambda e: (e.begin, e.end)):
        if entry.begin < position:
            raise CheckpointError(
                f"{path}: tensor {entry.key!r} data_offsets [{entry.begin}, {entry.end}] "
                f"overlap tensor {previous.key!r} [{previous.begin}, {previous.end}]"
            )
        if entry.begin > position:
            raise CheckpointError(
                f"{path}: tensor {entry.key!r} starts at data offset {entry.begin}, "
                f"leaving a gap after offset {position}"
            )
        position, previous = entry.end, entry
    if position > data_length:
        raise CheckpointError(
            f"{path}: the file is truncated: its tensors need {position} data bytes "
            f"but only {data_length} are present"
        )
    if position < data_length:
        raise CheckpointError(
            f"{path}: {data_length - position} unexpected bytes follow the last tensor"
        )


def _checksum_position(header: bytes) -> int | None:
    """Where the checksum digits are in the raw header, if they are there exactly once."""
    if header.count(_CHECKSUM_FIELD) != 1:
        return None
    at = header.index(_CHECKSUM_FIELD) + len(_CHECKSUM_FIELD)
    if not _CHECKSUM_DIGITS.fullmatch(header[at : at + _DIGITS + 1]):
        return None
    return at


def _hash_with_placeholder(head: bytes, header: bytes, at: int):
    return _new_hash(head, header[:at], _CHECKSUM_PLACEHOLDER, header[at + _DIGITS :])


def _header_hash(path: str, head: bytes, header: bytes, metadata: dict[str, str]):
    """The hash state after the length field and the header (checksum digits as zeros)."""
    stored = metadata.get(CHECKSUM_KEY)
    at = _checksum_position(header)
    digits = header[at : at + _DIGITS].decode("ascii") if at is not None else None
    if stored is None or at is None or stored != f"{ALGORITHM}:{digits}":
        raise CheckpointIntegrityError(
            f"{path}: the {CHECKSUM_KEY!r} metadata entry is missing or malformed "
            f"(got {stored!r}, expected '{ALGORITHM}:' and {_DIGITS} hex digits); "
            "the file is corrupted or was modified by another tool"
        )
    return _hash_with_placeholder(head, header, at)


def _raise_if_corrupted(
    path: str, file: BinaryIO, head: bytes, header: bytes, problem: CheckpointError
) -> None:
    """Report a malformed file that carries a checksum its bytes do not match as corrupted."""
    at = _checksum_position(header)
    if at is None:
        return
    digest = _hash_with_placeholder(head, header, at)
    while chunk := file.read(_CHUNK_BYTES):
        digest.update(chunk)
    stored = header[at : at + _DIGITS].decode("ascii")
    if digest.hexdigest() != stored:
        raise CheckpointIntegrityError(
            f"{path}: content checksum mismatch (stored {ALGORITHM}:{stored}, computed "
            f"{ALGORITHM}:{digest.hexdigest()}); the file is corrupted ({problem})"
        ) from None


def _load(path: str, file: BinaryIO, entries: list[_Entry], digest) -> dict[str, np.ndarray]:
    """Read the whole data section into one buffer; the arrays are views of it.

    Two threads read alternate chunks at their offsets (one core's copy out of the
    page cache is slower than memory), and each chunk is hashed right after it is
    read, in file order, while it is still in cache: verifying costs little more than
    reading. Without ``os.preadv`` (Windows) the chunks are read one after another.
    """
    total = max((e.end for e in entries), default=0)
    buffer = np.empty(total, np.uint8)
    view = memoryview(buffer)
    starts = range(0, total, _READ_BYTES)
    if len(starts) > 1 and hasattr(os, "preadv"):
        _read_in_parallel(path, file.fileno(), file.tell(), view, starts, digest)
    else:
        for start in starts:
            chunk = view[start : start + _READ_BYTES]
            _fill(path, chunk, file.readinto)
            if digest is not None:
                digest.update(chunk)
    return {
        entry.key: buffer[entry.begin : entry.end].view(entry.dtype).reshape(entry.shape)
        for entry in entries
    }


def _read_in_parallel(path: str, fd: int, offset: int, view: memoryview, starts: range,
                      digest) -> None:
    """``view[start:start + _READ_BYTES]`` from ``fd`` at ``offset + start`` for every start:
    even chunks by this thread, odd ones by a helper. Chunk ``k`` is hashed once chunk
    ``k - 1`` has been (``turns[k]`` is set then); a failed read still passes the turns
    on, so neither thread waits forever, and its error is raised here."""
    turns = [threading.Event() for _ in range(len(starts) + 1)]
    turns[0].set()
    errors: list[BaseException] = []

    def read_every_other(first: int) -> None:
        for k in range(first, len(starts), 2):
            chunk = view[starts[k] : starts[k] + _READ_BYTES]
            at = offset + starts[k] + len(chunk)
            if not errors:
                try:
                    _fill(path, chunk, lambda rest, at=at: os.preadv(fd, [rest], at - len(rest)))
                except BaseException as error:  # noqa: BLE001 (re-raised by the caller)
                    errors.append(error)
            turns[k].wait()
            if digest is not None and not errors:
                digest.update(chunk)
            turns[k + 1].set()

    helper = threading.Thread(target=read_every_other, args=(1,), name="genesis-load")
    helper.start()
    try:
        read_every_other(0)
    finally:
        helper.join()
    if errors:
        raise errors[0]


def _fill(path: str, chunk: memoryview, read_into) -> None:
    """Fill ``chunk`` by calls of ``read_into(rest)`` (short reads continue)."""
    filled = 0
    while filled < len(chunk):
        count = read_into(chunk[filled:])
        if not count:
            raise CheckpointError(f"{path}: the file got shorter while it was being read")
        filled += count


def _map(path: str, data_start: int, entries: list[_Entry], digest) -> dict[str, np.ndarray]:
    mapped = np.memmap(path, dtype=np.uint8, mode="c")
    if digest is not None:
        digest.update(memoryview(mapped[data_start:]))
    arrays = {
        entry.key: np.asarray(mapped[data_start + entry.begin : data_start + entry.end])
        .view(entry.dtype)
        .reshape(entry.shape)
        for entry in entries
    }
    return arrays
