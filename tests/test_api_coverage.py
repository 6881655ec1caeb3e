"""The API coverage page (docs/api-coverage.md) says what the code does: regenerated from the
running packages, it must equal the committed file (rerun ``python docs/api_coverage.py``)."""

from __future__ import annotations

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("api_coverage", ROOT / "docs" / "api_coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_page_matches_the_code():
    gen = _generator()
    assert gen.PAGE.read_text() == gen.render(), \
        "docs/api-coverage.md is stale: run `python docs/api_coverage.py` and commit it"


def test_every_supported_name_resolves_and_missing_ones_do_not():
    gen = _generator()
    for ns, (present, missing) in gen.coverage().items():
        obj = gen._namespace(ns)
        assert all(hasattr(obj, n) for n in present), ns
        assert obj is None or not any(hasattr(obj, n) for n in missing), ns
