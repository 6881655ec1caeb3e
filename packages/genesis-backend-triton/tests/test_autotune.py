"""Autotuning: the fastest config wins, is written atomically, and a second process
reuses it without timing anything; in-place kernels are tuned on scratch copies."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from genesis_backend_triton.autotune import Autotuner, candidates_digest


class FakeMemory:
    """Times a launch by the number it returns."""

    def time_ms(self, fn):
        return fn()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENESIS_TRITON_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_picks_fastest_and_remembers_it(cache):
    tuner = Autotuner(FakeMemory(), "Fake GPU/1")
    configs = [{"B": 1, "cost": 3.0}, {"B": 2, "cost": 1.0}, {"B": 3, "cost": 2.0}]
    made = []

    def launcher():
        made.append(1)
        return lambda cfg: cfg["cost"]

    assert tuner.pick("k", (64, "float32"), configs, launcher)["B"] == 2
    assert tuner.bench_count == 3 and made == [1]
    assert tuner.pick("k", (64, "float32"), configs, launcher)["B"] == 2
    assert tuner.bench_count == 3 and made == [1]  # remembered: no launcher, no timing
    files = list(cache.rglob("*"))
    assert [f.name for f in files if f.is_file()] == ["k.json"]  # no temp file left behind
    saved = json.loads((cache / tuner.device / "k.json").read_text())
    assert saved == {json.dumps([64, "float32", candidates_digest(configs)]): {"B": 2, "cost": 1.0}}


def test_a_changed_candidate_list_is_tuned_again(cache):
    tuner = Autotuner(FakeMemory(), "gpu")
    old = [{"B": 1, "cost": 3.0}, {"B": 2, "cost": 1.0}]
    assert tuner.pick("k", (8,), old, lambda: lambda c: c["cost"])["B"] == 2
    new = old + [{"B": 3, "cost": 0.5}]  # a later release adds a faster candidate
    again = Autotuner(FakeMemory(), "gpu")
    assert again.pick("k", (8,), new, lambda: lambda c: c["cost"])["B"] == 3
    assert again.bench_count == 3
    assert again.pick("k", (8,), old, lambda: lambda c: c["cost"])["B"] == 2  # still on disk
    assert again.bench_count == 3


def test_failing_configs_are_skipped_and_disabled_tuner_takes_the_first(cache):
    def launch(cfg):
        if cfg["B"] == 1:
            raise RuntimeError("out of shared memory")
        return cfg["B"]

    tuner = Autotuner(FakeMemory(), "gpu")
    assert tuner.pick("k", (1,), [{"B": 1}, {"B": 5}, {"B": 4}], lambda: launch) == {"B": 4}
    off = Autotuner(FakeMemory(), "gpu", enabled=False)
    assert off.pick("k", (2,), [{"B": 1}, {"B": 5}], lambda: launch) == {"B": 1}


def test_processes_merge_their_tables(cache):
    a = Autotuner(FakeMemory(), "gpu")
    b = Autotuner(FakeMemory(), "gpu")
    a.pick("k", (1,), [{"cost": 2}, {"cost": 1}], lambda: lambda c: c["cost"])
    b.pick("k", (2,), [{"cost": 2}, {"cost": 1}], lambda: lambda c: c["cost"])
    table = json.loads((cache / a.device / "k.json").read_text())
    digest = candidates_digest([{"cost": 2}, {"cost": 1}])
    assert set(table) == {json.dumps([1, digest]), json.dumps([2, digest])}


SCRIPT = textwrap.dedent("""
    import json, os, sys
    os.environ["TRITON_INTERPRET"] = "1"
    os.environ["GENESIS_TRITON_AUTOTUNE"] = "1"
    import numpy as np
    import genesis
    a = genesis.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4), device="cuda")
    out = (a @ a.t()).numpy()
    w = genesis.tensor(np.ones(5, np.float32), device="cuda")
    m, v = genesis.zeros(5, device="cuda"), genesis.zeros(5, device="cuda")
    g = genesis.tensor(np.full(5, 0.5, np.float32), device="cuda")
    fused = genesis.device("cuda").backend.capabilities.fused["adamw_step"]
    fused([w], [g], [m], [v], None, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8,
          weight_decay=0.0, steps=[1], amsgrad=False, maximize=False, decoupled=True)
    tuner = genesis.device("cuda").backend.rt.tuner
    print(json.dumps({"bench": tuner.bench_count, "mm": out.tolist(), "w": w.numpy().tolist(),
                      "m": m.numpy().tolist()}))
""")


def run_child(cache_dir):
    env = dict(os.environ, GENESIS_TRITON_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_second_process_reuses_tuned_configs_and_in_place_tuning_uses_scratch(tmp_path):
    first = run_child(tmp_path)
    assert first["bench"] > 0
    second = run_child(tmp_path)
    assert second["bench"] == 0
    a = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(first["mm"], a @ a.T)
    assert first["mm"] == second["mm"]
    # exactly one AdamW step although tuning launched the kernel many times (on copies)
    np.testing.assert_allclose(first["m"], [0.05] * 5, rtol=1e-6)
    np.testing.assert_allclose(first["w"], [0.9] * 5, rtol=1e-5)
    assert first["w"] == second["w"]
    assert sorted(p.name for p in tmp_path.rglob("*.json")) == ["adamw_step.json", "matmul.json"]
