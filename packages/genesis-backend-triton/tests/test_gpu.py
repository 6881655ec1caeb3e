"""GPU-only checks (``GENESIS_TRITON_GPU=1`` on a host with pycuda and a CUDA GPU).

* parity: the same kernels on the same inputs (``parity_script.py``), on the GPU
  and in the Triton interpreter, agree;
* device memory: copies both ways and device to device, allocator statistics,
  and pointers shared with PyTorch through the primary context;
* autotuning on the device is cached on disk and reused by a second process.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import parity_script as parity
import pytest

pytestmark = pytest.mark.gpu


def test_gpu_matches_interpreter(tmp_path):
    interpreted = parity.interpreter_outputs(tmp_path / "interpreter.npz")
    gpu = parity.outputs()
    assert set(gpu) == set(interpreted)
    report = parity.report(gpu, interpreted)
    assert not report, "\n".join(report)


def test_device_memory_copies_and_statistics():
    import genesis
    backend = genesis.device("cuda").backend
    assert backend.rt.memory.on_host is False
    a = np.arange(3 * 1024 * 1024, dtype=np.float32).reshape(3, -1)
    t = genesis.tensor(a, device="cuda")
    np.testing.assert_array_equal(t.numpy(), a)
    c = t.clone()  # device-to-device copy
    np.testing.assert_array_equal(c.numpy(), a)
    np.testing.assert_array_equal(t[1:].numpy(), a[1:])
    before = backend.memory_stats()
    del c
    assert backend.memory_stats()["allocated"] == before["allocated"] - a.nbytes
    reserved = backend.memory_stats()["reserved"]
    genesis.cuda.empty_cache()
    assert backend.memory_stats()["reserved"] < reserved
    again = genesis.empty(3, 1024 * 1024, device="cuda")
    assert again.shape == (3, 1024 * 1024)


def test_pointers_are_shared_with_torch_through_the_primary_context():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    import genesis
    import pycuda.driver as cuda
    t = genesis.zeros(1000, device="cuda")
    src = torch.arange(1000, dtype=torch.float32, device="cuda")
    cuda.memcpy_dtod(t.storage.ptr, src.data_ptr(), 4000)
    torch.cuda.synchronize()
    assert t.sum().item() == sum(range(1000))


AUTOTUNE = textwrap.dedent("""
    import json
    import numpy as np
    import genesis
    a = genesis.tensor(np.ones((256, 256), np.float16), device="cuda")
    out = (a @ a).float().numpy()
    tuner = genesis.device("cuda").backend.rt.tuner
    print(json.dumps({"bench": tuner.bench_count, "ok": bool((out == 256).all())}))
""")


def test_tuned_matmul_config_is_reused_by_a_second_process(tmp_path):
    env = dict(os.environ, GENESIS_TRITON_CACHE_DIR=str(tmp_path))
    runs = [json.loads(subprocess.run([sys.executable, "-c", AUTOTUNE], env=env, check=True,
                                      capture_output=True, text=True).stdout.splitlines()[-1])
            for _ in range(2)]
    assert runs[0]["ok"] and runs[1]["ok"]
    assert runs[0]["bench"] > 0 and runs[1]["bench"] == 0
