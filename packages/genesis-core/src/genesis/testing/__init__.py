"""The backend conformance kit: one suite every device must pass.

A backend's test module runs the whole kit with one line::

    from genesis.testing import conformance_suite
    TestConformance = conformance_suite("cpu")

Every primitive and composite op is checked forward (each dtype the backend
declares, contiguous and strided inputs) and backward (against central
differences of a float64 numpy reference); fused kernels a backend declares
are checked against the composite path. What a backend does not declare
(a dtype, a fused kernel) is reported as skipped with that reason; what it
declares but gets wrong fails.
"""

from __future__ import annotations

from genesis.backends import protocol
from genesis.testing._cases import FLOATS, INTS, Arg, OpCase, build_int_cases, structural_cases
from genesis.testing._fused_steps import STEP_CHECKS, uncovered_fused
from genesis.testing._layer_cases import layer_cases
from genesis.testing._references import primitive_cases, uncovered_ops
from genesis.testing._suite import (
    ConformanceSkip,
    check_backward,
    check_dtype_roundtrip,
    check_forward,
    check_fused,
    check_random,
    check_random_distribution,
    composite_only,
    run_kit,
)

__all__ = [
    "Arg",
    "ConformanceSkip",
    "OpCase",
    "build_cases",
    "build_int_cases",
    "structural_cases",
    "layer_cases",
    "check_backward",
    "check_dtype_roundtrip",
    "check_forward",
    "check_fused",
    "check_random",
    "check_random_distribution",
    "composite_only",
    "conformance_suite",
    "primitive_cases",
    "run_kit",
    "STEP_CHECKS",
    "uncovered_fused",
    "uncovered_ops",
]

ALL_DTYPES = FLOATS + INTS + ("bool",)


def build_cases() -> list:
    """Every float case the kit runs: one per primitive of the protocol (generated from the
    reference table), then broadcasting, views and composites, then the fusable layers."""
    return primitive_cases() + structural_cases() + layer_cases()


def conformance_suite(device: str, *, cases: list | None = None) -> type:
    """A pytest test class running the kit on ``device`` (assign it to a ``Test*`` name)."""
    import pytest

    float_cases = cases if cases is not None else build_cases()
    int_cases = build_int_cases() if cases is None else []

    def run(check, *args):
        try:
            check(device, *args)
        except ConformanceSkip as why:
            pytest.skip(str(why))

    forward_params = [
        pytest.param(c, d, id=f"{c.name}-{d}") for c in float_cases + int_cases for d in c.dtypes
    ]
    by_name = {c.name: c for c in float_cases}

    class ConformanceSuite:
        @pytest.mark.parametrize("case,dtype", forward_params)
        def test_forward(self, case, dtype):
            run(check_forward, case, dtype)

        @pytest.mark.parametrize(
            "name",
            [c.name for c in float_cases if any(a.shape and len(a.shape) >= 2 for a in c.args)],
        )
        def test_forward_strided(self, name):
            run(check_forward, by_name[name], "float32", False)

        @pytest.mark.parametrize("name", [c.name for c in float_cases if c.grad])
        def test_backward(self, name):
            run(check_backward, by_name[name])

        @pytest.mark.parametrize("name", [c.name for c in float_cases if c.fused])
        def test_fused_matches_composite(self, name):
            run(check_fused, by_name[name])

        @pytest.mark.parametrize("kernel", sorted(STEP_CHECKS))
        def test_fused_step_kernel(self, kernel):
            run(STEP_CHECKS[kernel])

        @pytest.mark.parametrize("dtype", ALL_DTYPES)
        def test_dtype_roundtrip(self, dtype):
            run(check_dtype_roundtrip, dtype)

        @pytest.mark.parametrize("distribution", protocol.RANDOM_DISTRIBUTIONS)
        def test_random_distribution(self, distribution):
            run(check_random_distribution, distribution)

        def test_random_streams(self):
            run(check_random)

    ConformanceSuite.__name__ = ConformanceSuite.__qualname__ = f"Conformance[{device}]"
    return ConformanceSuite
