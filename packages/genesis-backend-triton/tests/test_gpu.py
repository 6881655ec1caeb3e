"""GPU-only checks (``GENESIS_TRITON_GPU=1`` on a host with pycuda and a CUDA GPU).

* parity: the same kernels on the same inputs, once on the GPU and once in the
  Triton interpreter (a subprocess with ``TRITON_INTERPRET=1``), agree;
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
import pytest

pytestmark = pytest.mark.gpu

PARITY = textwrap.dedent("""
    import sys
    import numpy as np
    import genesis
    import genesis.nn.functional as F

    def outputs():
        rng = np.random.default_rng(0)
        x = rng.standard_normal((33, 130)).astype(np.float32)
        w = rng.standard_normal((130, 70)).astype(np.float32)
        t = genesis.tensor(x, device="cuda")
        tw = genesis.tensor(w, device="cuda")
        target = genesis.tensor(rng.integers(0, 130, 33), device="cuda")
        genesis.manual_seed(11)
        out = {
            "add_strided": (t.t()[::2] + 1.5).numpy(),
            "exp_bf16": t.to(genesis.bfloat16).exp().to(genesis.float32).numpy(),
            "tanh_f64": t.to(genesis.float64).tanh().numpy(),
            "pow": (t.abs() ** 1.7).numpy(),
            "sum_rows": t.sum(1).numpy(),
            "amax_cols": t.amax(0).numpy(),
            "argmax": t.argmax(1).numpy(),
            "matmul_f32": (t @ tw).numpy(),
            "matmul_f16": (t.half() @ tw.half()).float().numpy(),
            "matmul_bf16": (t.to(genesis.bfloat16) @ tw.to(genesis.bfloat16)).float().numpy(),
            "softmax": F.softmax(t, -1).numpy(),
            "log_softmax_dim0": F.log_softmax(t, 0).numpy(),
            "layer_norm": F.layer_norm(t, (130,)).numpy(),
            "cross_entropy": F.cross_entropy(t, target).numpy(),
            "gather": genesis.gather(t, 1, target[:, None]).numpy(),
            "rand": genesis.rand(1000, device="cuda").numpy(),
            "randn": genesis.randn(1000, device="cuda").numpy(),
        }
        return out

    if __name__ == "__main__":
        np.savez(sys.argv[1], **outputs())
""")
TOL = {"matmul_f16": 2e-2, "matmul_bf16": 1e-1, "exp_bf16": 1e-2, "matmul_f32": 1e-4}


def test_gpu_matches_interpreter(tmp_path):
    script = tmp_path / "parity.py"
    script.write_text(PARITY)
    env = dict(os.environ, TRITON_INTERPRET="1")
    env.pop("GENESIS_TRITON_GPU", None)
    subprocess.run([sys.executable, str(script), str(tmp_path / "ref.npz")], env=env, check=True)
    ref = np.load(tmp_path / "ref.npz")
    namespace = {"__name__": "parity"}
    exec(compile(PARITY, str(script), "exec"), namespace)
    got = namespace["outputs"]()
    for name, value in got.items():
        tol = TOL.get(name, 1e-5)
        if name in ("rand", "argmax", "gather", "add_strided"):
            tol = 0  # counters, indices and exact arithmetic: bit-identical
        np.testing.assert_allclose(value, ref[name], rtol=tol, atol=tol, err_msg=name)


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
