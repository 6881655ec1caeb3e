"""The backend contract is data in ``genesis.backends.protocol``, and everything reads it."""

from __future__ import annotations

import dataclasses

import genesis
import pytest
from genesis.backends import Capabilities, protocol
from genesis.backends._registry import Registry
from genesis.testing import build_cases, uncovered_ops


def test_every_listed_primitive_has_a_kit_case():
    assert uncovered_ops(build_cases()) == []


def test_uncovered_ops_reports_a_new_op_without_a_reference(monkeypatch):
    monkeypatch.setattr(protocol, "PRIMITIVE_OPS", protocol.PRIMITIVE_OPS + ("frobnicate",))
    assert uncovered_ops(build_cases()) == ["frobnicate"]


def test_required_members_are_read_off_the_protocol_class():
    members = protocol.required_members()
    assert {"name", "capabilities", "unary", "binary", "reduce", "random"} <= set(members)
    assert set(protocol.KERNELS) <= set(members)


class _Plugin:
    def __init__(self, backend):
        self.backend = backend

    @genesis.backends.hookimpl
    def genesis_register_backends(self):
        return [self.backend]


def _fake_backend(**changes):
    cpu = genesis.device("cpu").backend
    fake = type("Fake", (), {m: getattr(cpu, m) for m in protocol.required_members()})()
    fake.name = "fake"
    for key, value in changes.items():
        setattr(fake, key, value)
    return fake


def test_registry_accepts_a_conforming_backend():
    registry = Registry()
    registry.loaded = True
    registry.register_plugin(_Plugin(_fake_backend()), "fake")
    assert "fake" in registry.backends


def test_registry_refuses_a_missing_member():
    fake = _fake_backend()
    del type(fake).gather
    with pytest.raises(TypeError, match="lacks 'gather'"):
        Registry().register_plugin(_Plugin(fake), "fake")


def test_registry_refuses_an_unknown_fused_kernel_name():
    caps = dataclasses.replace(Capabilities(), fused={"sofmax": lambda x, dim: x})
    with pytest.raises(TypeError, match="'sofmax', which is not one of"):
        Registry().register_plugin(_Plugin(_fake_backend(capabilities=caps)), "fake")


def test_registry_refuses_capabilities_of_the_wrong_type():
    with pytest.raises(TypeError, match="capabilities is a dict"):
        Registry().register_plugin(_Plugin(_fake_backend(capabilities={})), "fake")


def test_fused_kernel_door_names_unknown_kernels():
    from genesis._ops.fused import fused_kernel
    x = genesis.ones(2)
    assert fused_kernel("softmax", x) is x._backend.capabilities.fused["softmax"]
    with pytest.raises(KeyError, match="not one of"):
        fused_kernel("sofmax", x)


def test_every_fused_kernel_has_a_kit_check():
    from genesis.testing import uncovered_fused
    assert uncovered_fused(build_cases()) == []
