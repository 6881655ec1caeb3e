"""Shared fixtures for genesis.models tests: tiny random transformers models on disk."""
