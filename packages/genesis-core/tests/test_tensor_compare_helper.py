"""The compare() helper itself fails on every kind of mismatch (so its passes mean something)."""

from __future__ import annotations

import pytest
import torch
from torch_compare import compare


@pytest.mark.parametrize("bad", [
    lambda m, x: x * (2 if m is torch else 2.001),         # values
    lambda m, x: x.double() if m is torch else x,          # dtype
    lambda m, x: x.reshape(-1) if m is torch else x,       # shape
    lambda m, x: x * x if m is torch else x * x.detach(),  # gradient only
    lambda m, x: (x, x) if m is torch else (x,),           # number of outputs
])
def test_compare_detects_mismatches(bad):
    with pytest.raises(AssertionError):
        compare(bad, [(2, 3)])

