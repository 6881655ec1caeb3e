"""Errors raised when a checkpoint file cannot be loaded."""

from __future__ import annotations


class CheckpointError(ValueError):
    """The file is not a loadable checkpoint: wrong format, malformed or truncated."""


class CheckpointIntegrityError(CheckpointError):
    """The file is well formed but its content checksum does not match: it is corrupted."""
