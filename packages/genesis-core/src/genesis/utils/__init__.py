"""Utilities: ``genesis.utils.data`` (datasets and loaders)."""

from genesis.utils import data
