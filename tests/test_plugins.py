"""Backend discovery through entry points, as a user installing plugins sees it.

Each scenario runs in a fresh interpreter, because plugins load at ``import genesis``.
The out-of-tree package ``tests/plugins/genesis-test-plugins`` provides a working
device ``toy``, an unavailable device ``ghost`` and a plugin that fails to import.
"""

import json
import os
import subprocess
import sys

import pytest


def run(code: str, backends: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("GENESIS_BACKENDS", None)
    if backends is not None:
        env["GENESIS_BACKENDS"] = backends
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)


def test_broken_plugin_warns_and_is_skipped_with_traceback_in_report():
    r = run("import genesis, json; "
            "print(json.dumps([genesis.backends.list_devices(), genesis.backends.report()]))")
    assert r.returncode == 0, r.stderr
    devices, report = json.loads(r.stdout)
    assert {"cpu", "toy", "ghost"} <= set(devices) and "broken" not in devices
    assert "plugin 'broken'" in r.stderr and "failed to load" in r.stderr
    assert "broken = genesis_test_plugins.broken" in report and "failed" in report
    assert "Traceback (most recent call last)" in report
    assert "_load_native_library" in report  # the real cause, not just the exception type
    assert "OSError: libbroken.so" in report


def test_third_party_device_computes():
    r = run("import genesis; x = genesis.ones(2, 3, device='toy', requires_grad=True); "
            "(x * 3).sum().backward(); print(x.device.type, x.grad.sum().item())")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["toy", "18.0"]


def test_unavailable_backend_builds_its_device_and_raises_its_reason_on_allocation():
    r = run("import genesis\nd = genesis.device('ghost')\nprint(repr(d))\ntry:\n"
            "    genesis.zeros(2, device=d)\nexcept RuntimeError as e:\n    print(e)")
    assert r.returncode == 0, r.stderr
    built, error = r.stdout.splitlines()
    assert built == "device(type='ghost', index=0)"  # like torch.device('cuda') without a GPU
    assert "device 'ghost' is registered by a backend but unavailable" in error
    assert "no ghost driver found" in error and "unknown device" not in error


def test_environment_variable_restricts_plugins():
    r = run("import genesis; print(genesis.backends.list_devices()); "
            "print(genesis.backends.report())", backends="cpu")
    assert r.returncode == 0 and "failed to load" not in r.stderr
    assert r.stdout.splitlines()[0] == "['cpu']"
    assert "toy = genesis_test_plugins.toy" in r.stdout and "disabled" in r.stdout


def test_unknown_device_lists_registered_ones():
    r = run("import genesis\ntry:\n    genesis.zeros(2, device='tpu')\nexcept RuntimeError as e:"
            "\n    print(e)", backends="cpu,toy")
    assert "unknown device type 'tpu'" in r.stdout and "['cpu', 'toy']" in r.stdout


NO_ENTRY_POINTS = ("import importlib.metadata as m\n_all = m.entry_points\n"
                   "m.entry_points = lambda **kw: [] if kw.get('group') == 'genesis.backends' "
                   "else _all(**kw)\n")


@pytest.mark.parametrize("op", ["genesis.zeros(3)", "genesis.tensor([1.0])"])
def test_no_backend_installed_says_how_to_install_one_from_the_repository(op):
    r = run(NO_ENTRY_POINTS + f"import genesis\ntry:\n    {op}\nexcept RuntimeError as e:\n"
            "    print(e)\nprint(genesis.backends.report())")
    assert r.returncode == 0, r.stderr
    assert "no genesis backend is installed, so device 'cpu' is unavailable" in r.stdout
    assert "`pip install ./packages/genesis-backend-cpu` from a checkout" in r.stdout
    assert "git+<repo-url>#subdirectory=packages/genesis-backend-cpu" in r.stdout
    assert "(none discovered)" in r.stdout and "pip install genesis-backend" not in r.stdout


def test_backends_variable_enabling_no_installed_plugin_says_so():
    r = run("import genesis\ntry:\n    genesis.zeros(3)\nexcept RuntimeError as e:\n"
            "    print(e)", backends="")
    assert r.returncode == 0, r.stderr
    assert ("GENESIS_BACKENDS='' enables none of the installed genesis backend plugins, so "
            "device 'cpu' is unavailable") in r.stdout
    assert "['broken', 'cpu', 'ghost', 'toy']" in r.stdout
    assert "no genesis backend is installed" not in r.stdout


def test_unknown_name_in_backends_variable_is_reported_at_load_on_error_and_in_report():
    r = run("import genesis\ntry:\n    genesis.zeros(3, device='cuda')\n"
            "except RuntimeError as e:\n    print(e)\nprint(genesis.backends.report())",
            backends="cpuu,toy")
    assert r.returncode == 0, r.stderr
    sentence = "GENESIS_BACKENDS='cpuu,toy' names ['cpuu'], which no installed backend plugin"
    assert "RuntimeWarning: genesis: " + sentence in r.stderr
    error, report = r.stdout.split("\n", 1)
    assert "no genesis backend serves device type 'cuda'; registered device types: ['toy']" \
        in error
    assert sentence in error and "installed plugins: ['broken', 'cpu', 'ghost', 'toy']" in error
    assert "`pip install ./packages/genesis-backend-triton` from a checkout" in error
    assert sentence in report and "toy = genesis_test_plugins.toy" in report


def test_backends_variable_naming_only_unknown_plugins_says_both():
    r = run("import genesis\ntry:\n    genesis.ones(1)\nexcept RuntimeError as e:\n"
            "    print(e)", backends="numpy")
    assert "GENESIS_BACKENDS='numpy' enables none of the installed" in r.stdout
    assert "names ['numpy'], which no installed backend plugin provides" in r.stdout


def test_cuda_is_unavailable_without_its_backend():
    r = run("import genesis; print(genesis.cuda.is_available(), genesis.cuda.device_count())",
            backends="cpu")
    assert r.stdout.split() == ["False", "0"]


def test_several_plugins_register_at_once_in_process():
    import genesis
    from genesis.backends import hookimpl
    from genesis_backend_cpu.backend import CPUBackend

    class A(CPUBackend):
        name = "alpha"

    class B(CPUBackend):
        name = "beta"

    class Plugin:
        @hookimpl
        def genesis_register_backends(self):
            return [A(), B()]

    genesis.backends.register_plugin(Plugin(), "alpha-beta")
    assert {"alpha", "beta"} <= set(genesis.backends.list_devices())
    a = genesis.arange(4.0, device="alpha")
    assert (a.to("beta") * 2).tolist() == [0.0, 2.0, 4.0, 6.0]
    assert (a.to("beta") * 2).device.type == "beta"


def test_hookspec_names_are_checked():
    import genesis
    import pluggy

    class Misspelled:
        @genesis.backends.hookimpl
        def genesis_register_backend(self):  # missing the trailing 's'
            return []

    with pytest.raises(pluggy.PluginValidationError):
        genesis.backends.register_plugin(Misspelled(), "misspelled")


def test_incomplete_backend_is_refused_naming_what_it_lacks():
    import genesis
    from genesis.backends import hookimpl

    class Half:
        name = "half-done"

        def availability(self):
            return True, ""

    class Plugin:
        @hookimpl
        def genesis_register_backends(self):
            return [Half()]

    with pytest.raises(TypeError, match="lacks .*'matmul'"):
        genesis.backends.register_plugin(Plugin(), "half-done")
    assert "half-done" not in genesis.backends.list_devices()
