"""Device registration, availability reasons, genesis.cuda helpers, the interpreter protocol."""

import gc
import os
import subprocess
import sys
import textwrap
import weakref

import genesis
import numpy as np
import pytest
from genesis_backend_triton.backend import TritonBackend
from genesis_backend_triton.memory import HostMemory, kernel_arg


def test_registered_through_the_entry_point_as_cuda():
    assert "cuda" in genesis.backends.list_devices()
    assert isinstance(genesis.device("cuda").backend, TritonBackend)
    assert "genesis_backend_triton.plugin" in genesis.backends.report()


def test_availability_without_gpu_or_interpreter_says_what_to_do(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    backend = TritonBackend()
    monkeypatch.setattr(backend, "_probe", (0, "pycuda is not importable (No module named x)"))
    ok, reason = backend.availability()
    assert not ok
    assert "pycuda is not importable" in reason
    assert "genesis-backend-triton[cuda]" in reason and "TRITON_INTERPRET=1" in reason
    assert '`pip install "./packages/genesis-backend-triton[cuda]"` from a checkout' in reason
    assert backend.device_count() == 0


def test_import_genesis_does_not_import_triton_or_pycuda():
    code = textwrap.dedent("""
        import sys, genesis
        assert "cuda" in genesis.backends.list_devices()
        print(sorted(m for m in ("triton", "pycuda") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unavailable_device_raises_with_the_reason():
    code = textwrap.dedent("""
        import os
        os.environ.pop("TRITON_INTERPRET", None)
        import genesis
        assert not genesis.cuda.is_available() and genesis.cuda.device_count() == 0
        try:
            genesis.zeros(2, device="cuda")
        except RuntimeError as e:
            print(e)
    """)
    # no GPU visible to the driver, also on a GPU host
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=env)
    assert "TRITON_INTERPRET=1" in out.stdout and "genesis-backend-triton[cuda]" in out.stdout


def test_genesis_cuda_helpers():
    assert genesis.cuda.is_available()
    assert genesis.cuda.device_count() == 1 and genesis.cuda.current_device() == 0
    genesis.cuda.synchronize()
    keep = genesis.ones(256, device="cuda")
    assert genesis.cuda.memory_allocated() >= 1024
    stats = genesis.device("cuda").backend.memory_stats()
    assert {"allocated", "max_allocated", "reserved", "cached"} <= set(stats)
    assert keep.sum().item() == 256


def test_interpreter_staging_protocol_is_in_place_and_owns_nothing():
    memory = HostMemory()
    storage = memory.alloc(16)
    memory.upload(storage, 0, np.arange(4, dtype=np.float32))
    arg = kernel_arg(storage, "float32")
    assert str(arg.dtype) == "float32" and arg.data_ptr() == storage.ptr
    staged_storage = arg.untyped_storage().cpu()
    staged = arg.new_empty(0, device="cpu").set_(staged_storage, arg.storage_offset(), arg.size(),
                                                   arg.stride())
    assert staged.data_ptr() == storage.ptr and staged.size() == (16,)
    arg.copy_(staged)  # copying back onto itself: nothing to do
    assert weakref.getweakrefcount(storage) == 0 and sys.getrefcount(storage) == 3  # + arg
    with pytest.raises(RuntimeError, match="in place"):
        arg.copy_(kernel_arg(memory.alloc(16), "float32"))


def test_memory_is_free_as_soon_as_tensors_die_without_waiting_for_the_gc():
    """The interpreter keeps each launch's staged arguments in reference cycles; they
    must not hold the buffers (memory_allocated would lag until a GC pass)."""
    gc.collect()
    base = genesis.cuda.memory_allocated()
    enabled = gc.isenabled()
    gc.disable()
    try:
        a = genesis.ones(1000, device="cuda")
        b = (a * 2 + 1).sum(0)
        assert b.item() == 3000 and genesis.cuda.memory_allocated() > base
        del a, b
        assert genesis.cuda.memory_allocated() == base
    finally:
        if enabled:
            gc.enable()


def test_interpreter_fixes_skip_what_a_triton_does_not_have(monkeypatch):
    import types

    from genesis_backend_triton import _interpreter_compat as compat
    from triton.runtime import interpreter
    assert compat.needs_index_fix("3.6.0") and not compat.needs_index_fix("3.9.1")
    bare = types.ModuleType("triton.runtime.interpreter")  # an interpreter without those
    monkeypatch.setattr(sys.modules["triton.runtime"], "interpreter", bare)
    monkeypatch.setitem(sys.modules, "triton.runtime.interpreter", bare)
    monkeypatch.setattr(compat.triton, "__version__", "3.6.0")
    compat.apply()
    assert bare._genesis_patched and set(vars(bare)) - {"_genesis_patched"} == set(
        vars(types.ModuleType("x")))
    # the real one was patched when the backend started, in interpreter mode only
    interpreting = os.environ.get("TRITON_INTERPRET") == "1"
    assert getattr(interpreter, "_genesis_patched", False) is interpreting
