"""genesis.distributed finds collective backends through the plugin registry: errors name
what to install, a non-conforming plugin is refused, and the API needs a process group."""

from __future__ import annotations

import types

import genesis
import genesis.distributed as dist
import pytest
from genesis.backends import hookimpl, registry


def test_unknown_backend_names_the_extras_to_install():
    with pytest.raises(RuntimeError) as info:
        dist.init_process_group("gloo")
    text = str(info.value)
    assert "'gloo'" in text and "genesis-backend-cpu[mpi]" in text
    assert "genesis-backend-triton[cuda]" in text
    assert not dist.is_initialized()


def test_api_without_a_process_group_says_to_initialize():
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.all_reduce(genesis.ones(2))


def test_timeout_and_backend_arguments_are_checked():
    with pytest.raises(TypeError, match="timeout='5'"):
        dist.init_process_group("mpi", timeout="5")
    with pytest.raises(TypeError, match="backend=3"):
        dist.init_process_group(3)


def _plugin(backend) -> types.ModuleType:
    mod = types.ModuleType("collective_plugin")

    @hookimpl
    def genesis_register_collectives():
        return [backend]
    mod.genesis_register_collectives = genesis_register_collectives
    return mod


class _Unavailable:
    name = "toy-unavailable"
    devices = ("cpu",)

    def availability(self):
        return False, "the toy library is not installed (pip install toy)"

    def init_world(self):
        raise AssertionError("never called when unavailable")

    def launch_command(self, nprocs, argv, hostfile):
        return ["toyrun", str(nprocs), *argv]


def test_a_third_party_collective_backend_registers_and_reports_why_unavailable():
    registry.register_plugin(_plugin(_Unavailable()), "toy-collectives")
    try:
        assert "toy-unavailable" in registry.collectives
        assert not dist.is_backend_available("toy-unavailable")
        with pytest.raises(RuntimeError, match=r"toy library is not installed \(pip install"):
            dist.init_process_group("toy-unavailable")
    finally:
        registry.manager.unregister(name="toy-collectives")
        del registry.collectives["toy-unavailable"]


def test_a_non_conforming_collective_backend_is_refused_naming_what_it_lacks():
    bad = types.SimpleNamespace(name="bad", devices=["cpu"])
    with pytest.raises(TypeError, match=r"CollectiveBackend protocol: devices=\['cpu'\].*"
                                        r"no method availability\(\)"):
        registry.register_plugin(_plugin(bad), "bad-collectives")
    assert "bad" not in registry.collectives
