"""The multi-threaded CRC-32 equals zlib's on any split."""

import os
import zlib

import pytest
from genesis.serialization import _crc


@pytest.mark.parametrize("n1,n2", [(0, 5), (1, 0), (7, 999), (1000, 1), (123457, 65536)])
def test_crc32_combine_matches_crc_of_concatenation(n1, n2):
    a, b = os.urandom(n1), os.urandom(n2)
    assert _crc.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_parallel_crc_equals_zlib(monkeypatch):
    monkeypatch.setattr(_crc, "PARALLEL_MIN", 1024)
    monkeypatch.setattr(_crc, "_THREADS", 3)
    data = os.urandom(1 << 20)
    assert _crc.crc32(memoryview(data), 12345) == zlib.crc32(data, 12345)
