"""Fused CPU kernels for hot composites, registered in the backend's capabilities."""

from __future__ import annotations

KERNELS: dict = {}
