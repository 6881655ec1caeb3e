"""Device registration, availability reasons, genesis.cuda helpers, the interpreter protocol."""

import subprocess
import sys
import textwrap

import genesis
import numpy as np
from genesis_backend_triton.backend import TritonBackend
from genesis_backend_triton.memory import HostMemory, kernel_arg


def test_registered_through_the_entry_point_as_cuda():
    assert "cuda" in genesis.backends.list_devices()
    assert isinstance(genesis.device("cuda").backend, TritonBackend)
    assert "genesis_backend_triton.plugin" in genesis.backends.report()


def test_availability_without_gpu_or_interpreter_says_what_to_do(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET")
    backend = TritonBackend()
    monkeypatch.setattr(backend, "_probe", (0, "pycuda is not importable (No module named x)"))
    ok, reason = backend.availability()
    assert not ok
    assert "pycuda is not importable" in reason
    assert "genesis-backend-triton[cuda]" in reason and "TRITON_INTERPRET=1" in reason
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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
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


def test_interpreter_staging_protocol_is_in_place():
    memory = HostMemory()
    storage = memory.alloc(16)
    memory.upload(storage, 0, np.arange(4, dtype=np.float32))
    arg = kernel_arg(storage, "float32")
    assert str(arg.dtype) == "float32" and arg.data_ptr() == storage.ptr
    assert arg.untyped_storage() is storage and storage.cpu() is storage
    staged = arg.new_empty(0, device="cpu").set_(storage.cpu(), arg.storage_offset(), arg.size(),
                                                   arg.stride())
    assert staged.data_ptr() == storage.ptr
    other = memory.alloc(16)
    other.copy_(storage)
    out = np.empty(4, np.float32)
    memory.download(other, 0, out)
    assert out.tolist() == [0, 1, 2, 3]
