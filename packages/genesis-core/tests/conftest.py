"""Shared fixtures for the genesis-core tests: every test starts from the same global state."""

from __future__ import annotations

import genesis
import pytest
import torch


@pytest.fixture(autouse=True)
def _fresh_global_state():
    """Seed both libraries and restore grad mode and default dtype after each test."""
    genesis.manual_seed(0)
    torch.manual_seed(0)
    yield
    genesis.set_default_dtype(genesis.float32)
    torch.set_default_dtype(torch.float32)
    genesis.set_grad_enabled(True)
    torch.set_grad_enabled(True)
