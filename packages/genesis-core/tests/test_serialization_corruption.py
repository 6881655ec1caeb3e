"""Loading refuses anything but an intact checkpoint, with an error naming file and problem."""

from __future__ import annotations

import json
import pickle
import struct

import numpy as np
import pytest
import torch
from genesis.serialization import (
    CheckpointError,
    CheckpointIntegrityError,
    _safetensors,
    load_tree,
    save_tree,
)
from serialization_helpers import build_file, header_of, rechecksum, replace_header


@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "ckpt.gck"
    tree = {
        "model_state_dict": {
            "w": np.arange(12, dtype=np.float32).reshape(3, 4),
            "b": np.ones(3, np.int8),
        },
        "optimizer_state_dict": {
            "state": {0: {"step": 2}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.99)}],
        },
        "epoch": 3,
    }
    save_tree(tree, path)
    return path


def load_both_ways(path):
    """Load with and without mmap; both must raise the same kind of error."""
    errors = []
    for mmap in (False, True):
        with pytest.raises(CheckpointError) as error:
            load_tree(path, mmap=mmap)
        errors.append(error.value)
    assert type(errors[0]) is type(errors[1])
    assert str(path) in str(errors[0])
    return errors[0]


def regions(raw: bytes) -> dict[str, range]:
    length, _ = header_of(raw)
    header = raw[8 : 8 + length]
    metadata_start = 8 + header.index(b'"__metadata__"')
    metadata_end = 8 + header.index(b"}", header.index(b'"genesis.checksum"')) + 1
    field = b'"genesis.checksum":"xxh3:'
    return {
        "length": range(8),
        "checksum_field": range(8 + header.index(field), 8 + header.index(field) + len(field) + 17),
        "header": range(8, 8 + length),
        "metadata": range(metadata_start, metadata_end),
        "padding": range(8 + len(header.rstrip(b" ")), 8 + length),
        "data": range(8 + length, len(raw)),
    }


def test_every_single_byte_change_is_detected(checkpoint):
    """Any change is refused; outside the length field and the checksum entry itself,
    as corruption."""
    raw = checkpoint.read_bytes()
    spans = regions(raw)
    assert all(len(span) for span in spans.values())
    for position in range(len(raw)):
        for flip in (0x01, 0x80, 0xFF):
            corrupted = bytearray(raw)
            corrupted[position] ^= flip
            checkpoint.write_bytes(corrupted)
            error = load_both_ways(checkpoint)
            if position not in spans["length"] and position not in spans["checksum_field"]:
                assert isinstance(error, CheckpointIntegrityError), (position, flip, error)
                assert "corrupted" in str(error)


def test_data_corruption_message_names_file_and_checksum(checkpoint):
    raw = bytearray(checkpoint.read_bytes())
    raw[-1] ^= 0x10
    checkpoint.write_bytes(raw)
    error = load_both_ways(checkpoint)
    assert isinstance(error, CheckpointIntegrityError)
    assert "checksum mismatch" in str(error) and "corrupted" in str(error)


def test_metadata_value_change_is_an_integrity_error(checkpoint):
    raw = checkpoint.read_bytes()
    edited = raw.replace(b'\\"epoch\\":3', b'\\"epoch\\":4')
    assert edited != raw
    checkpoint.write_bytes(edited)
    assert isinstance(load_both_ways(checkpoint), CheckpointIntegrityError)


def test_verify_false_skips_the_checksum(checkpoint):
    raw = bytearray(checkpoint.read_bytes())
    raw[-1] ^= 0x10
    checkpoint.write_bytes(raw)
    for mmap in (False, True):
        assert (
            load_tree(checkpoint, mmap=mmap, verify=False)["model_state_dict"]["b"][-1] == 1 ^ 0x10
        )


def test_truncation_at_any_offset_is_refused(checkpoint):
    raw = checkpoint.read_bytes()
    for size in [*range(64), *range(64, len(raw), 7), len(raw) - 1]:
        checkpoint.write_bytes(raw[:size])
        error = load_both_ways(checkpoint)
        assert "truncated" in str(error) or "not valid JSON" in str(error), (size, error)


def test_trailing_bytes_are_refused(checkpoint):
    checkpoint.write_bytes(checkpoint.read_bytes() + b"\0" * 8)
    assert "unexpected bytes follow the last tensor" in str(load_both_ways(checkpoint))


def test_pickle_is_refused_without_being_run(tmp_path):
    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))

    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        path = tmp_path / f"p{protocol}.pkl"
        path.write_bytes(pickle.dumps({"x": Boom()}, protocol=protocol))
        error = load_both_ways(path)
        assert "not pickle" in str(error) and "refused" in str(error)


def test_torch_save_file_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(3)}, path)
    error = load_both_ways(path)
    assert "torch.save" in str(error) and "not pickle" in str(error) and "refused" in str(error)


def test_old_pickle_protocols_and_random_bytes_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    samples = [pickle.dumps({"a": 1}, protocol=0), pickle.dumps([1, 2], protocol=1), b"", b"\0" * 7]
    samples += [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in (8, 100, 4096)]
    for index, data in enumerate(samples):
        path = tmp_path / f"bad{index}"
        path.write_bytes(data)
        load_both_ways(path)


def test_header_length_larger_than_file(tmp_path):
    path = tmp_path / "ckpt.gck"
    path.write_bytes(struct.pack("<Q", 1000) + b"{}" + b" " * 6)
    assert "header length field says 1000 bytes but only 8 follow" in str(load_both_ways(path))


@pytest.mark.parametrize(
    ("header_text", "message"),
    [
        (b"{not json}", "not valid JSON"),
        (b'{"a": 1,}', "not valid JSON"),
        (b"[1, 2]", "does not start with '{'"),
        (b'{"x": NaN}', "not valid JSON"),
        (
            b'{"a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}, "a": 1}',
            "duplicate key 'a'",
        ),
        (b'{"__metadata__": {"k": 1}}', "must map strings to strings"),
        (b'{"\xff": 1}', "not valid JSON"),
    ],
)
def test_malformed_header_json(tmp_path, header_text, message):
    header_text += b" " * (-(8 + len(header_text)) % 8)
    path = tmp_path / "ckpt.gck"
    path.write_bytes(struct.pack("<Q", len(header_text)) + header_text + b"\0" * 4)
    assert message in str(load_both_ways(path))


F32_SCALAR = {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}


@pytest.mark.parametrize(
    ("entries", "data_length", "message"),
    [
        (
            {"a": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}},
            16,
            "unsupported dtype 'F128'",
        ),
        ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, 4, "needs 8"),
        (
            {"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}},
            4,
            "non-negative integers",
        ),
        (
            {"a": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}},
            4,
            "non-negative integers",
        ),
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, 4, "needs 4"),
        (
            {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}},
            4,
            "two non-negative integers",
        ),
        ({"a": {"dtype": "F32", "shape": [1]}}, 4, "expected an object with keys"),
        ({"a": {**F32_SCALAR, "extra": 1}}, 4, "expected an object with keys"),
        ({"a": F32_SCALAR, "b": F32_SCALAR}, 4, "overlap tensor"),
        (
            {"a": F32_SCALAR, "b": {"dtype": "F32", "shape": [2], "data_offsets": [2, 10]}},
            10,
            "overlap tensor",
        ),
        ({"a": {"dtype": "F32", "shape": [], "data_offsets": [4, 8]}}, 8, "leaving a gap"),
        ({"a": {"dtype": "F32", "shape": [1 << 40], "data_offsets": [0, 1 << 42]}}, 4, "truncated"),
        (
            {"a": {"dtype": "BOOL", "shape": [4], "data_offsets": [0, 4]}},
            4,
            "bytes other than 0 and 1",
        ),
    ],
)
def test_inconsistent_tensor_entries(tmp_path, entries, data_length, message):
    path = tmp_path / "ckpt.gck"
    path.write_bytes(build_file(entries, bytes(range(1, data_length + 1)), checksum=False))
    assert message in str(load_both_ways(path))


def test_missing_or_duplicated_checksum_is_an_integrity_error(checkpoint):
    raw = checkpoint.read_bytes()
    _, header = header_of(raw)
    del header["__metadata__"]["genesis.checksum"]
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    checkpoint.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + header_of(raw)[0] :])
    assert "missing or malformed" in str(load_both_ways(checkpoint))


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"$tensor": {"key": "nope", "extra": {}}}', "'nope' is not in the file"),
        ('{"$tuple": 1}', "malformed tag '$tuple'"),
        ('{"$set": []}', "unknown or malformed tag '$set'"),
        ('{"$tuple": [], "x": 1}', "one key"),
        ('{"$dict": [[1.5, 2]]}', "$dict entries must be"),
        ('{"$float": "1.0"}', "$float must be"),
        ('{"a": [{"$float": "nan:0000000000000001"}]}', "at obj['a'][0]"),
        ("NaN", "not valid JSON"),
    ],
)
def test_malformed_tree_metadata(checkpoint, tree, message):
    raw = checkpoint.read_bytes()
    _, header = header_of(raw)
    header["__metadata__"]["genesis.tree"] = tree
    checkpoint.write_bytes(replace_header(raw, header))
    error = load_both_ways(checkpoint)
    assert not isinstance(error, CheckpointIntegrityError)
    assert "malformed 'genesis.tree'" in str(error) and message in str(error)


def test_unknown_format_version_is_refused(checkpoint):
    raw = checkpoint.read_bytes()
    checkpoint.write_bytes(
        rechecksum(raw.replace(b'"genesis.format":"1"', b'"genesis.format":"9"'))
    )
    assert "format version '9' is not supported" in str(load_both_ways(checkpoint))


def test_checkpoint_error_is_a_value_error():
    assert issubclass(CheckpointError, ValueError)
    assert issubclass(CheckpointIntegrityError, CheckpointError)


@pytest.fixture
def many_chunks(tmp_path, monkeypatch):
    """A checkpoint whose data is read in ~50 chunks (by two threads where os.preadv is)."""
    monkeypatch.setattr(_safetensors, "_READ_BYTES", 64)
    arrays = {"w": np.arange(600, dtype=np.float32), "i": np.arange(150, dtype=np.int64)}
    path = tmp_path / "many.gck"
    save_tree(arrays, path)
    return path, arrays


@pytest.mark.parametrize("parallel", [True, False])
def test_chunked_reads_round_trip_and_catch_a_change_in_any_chunk(many_chunks, monkeypatch,
                                                                  parallel):
    path, arrays = many_chunks
    if not parallel:
        monkeypatch.delattr(_safetensors.os, "preadv", raising=False)
    back = load_tree(path)
    assert all(np.array_equal(back[k], v) for k, v in arrays.items())
    raw = path.read_bytes()
    data_start = 8 + header_of(raw)[0]
    for position in (data_start, data_start + 64 * 17 + 5, len(raw) - 1):
        corrupted = bytearray(raw)
        corrupted[position] ^= 0x04
        path.write_bytes(corrupted)
        with pytest.raises(CheckpointIntegrityError):
            load_tree(path)


def test_a_file_that_shrinks_while_it_is_read_is_refused(many_chunks, monkeypatch):
    """A reader that finds the end early fails the load with the reason; both readers
    stop reading, and the one waiting for its turn to hash is released (no hang)."""
    path, _ = many_chunks
    if not hasattr(_safetensors.os, "preadv"):
        pytest.skip("no os.preadv on this platform: chunks are read sequentially")
    real = _safetensors.os.preadv
    calls = []

    def preadv(fd, buffers, offset):
        calls.append(offset)
        return 0 if len(calls) == 7 else real(fd, buffers, offset)

    monkeypatch.setattr(_safetensors.os, "preadv", preadv)
    with pytest.raises(CheckpointError, match="got shorter while it was being read"):
        load_tree(path)
    chunks = -(-path.stat().st_size // _safetensors._READ_BYTES)
    assert 7 <= len(calls) < chunks - 10
