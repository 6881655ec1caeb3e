"""The examples run as documented, and a resumed digits run continues exactly."""

import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spiral_mlp_learns():
    accuracy = load("train_mlp").main(["--epochs", "15"])
    assert accuracy > 0.9


def test_digits_resume_continues_exactly_and_skips_a_corrupt_checkpoint(tmp_path, capsys):
    digits = load("train_digits")
    common = ["--epochs", "5", "--no-progress", "--batch-size", "64"]
    full = digits.main(common + ["--run-dir", str(tmp_path / "full")])
    assert full["train_loss"][-1] < full["train_loss"][0]
    assert (tmp_path / "full" / "curves.png").stat().st_size > 10_000

    run = tmp_path / "resumed"
    digits.main(common + ["--run-dir", str(run), "--stop-after", "3"])
    newest = run / "epoch_003.safetensors"
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a corrupt newest checkpoint must be skipped, not trusted
    newest.write_bytes(bytes(data))
    (run / "epoch_004.safetensors").write_bytes(data[:100])  # and a partial one
    resumed = digits.main(common + ["--run-dir", str(run), "--resume", str(run)])
    err = capsys.readouterr().err
    assert "skipping epoch_004.safetensors" in err and "skipping epoch_003.safetensors" in err
    assert resumed["lr"] == full["lr"]  # bit-identical learning rates, per batch
    assert resumed["train_loss"] == full["train_loss"]
    assert resumed["test_accuracy"] == full["test_accuracy"]


def test_digits_reaches_95_percent(tmp_path):
    history = load("train_digits").main(["--no-progress", "--run-dir", str(tmp_path)])
    assert history["test_accuracy"][-1] >= 0.95


def test_digits_cnn_reaches_95_percent():
    assert load("train_digits_cnn").main(["--epochs", "6"]) >= 0.95


def test_charlm_trains_samples_and_resumes_exactly(tmp_path):
    charlm = load("train_charlm")
    common = ["--steps", "8", "--interval", "4", "--batch-size", "4", "--block", "16",
              "--d-model", "32", "--heads", "2", "--warmup", "4", "--max-chars", "20000",
              "--sample-chars", "20", "--no-progress"]
    full = charlm.main(common + ["--run-dir", str(tmp_path / "full")])
    assert len(full["loss"]) == 2 and full["loss"][-1] < full["loss"][0] + 1.0
    assert full["sample"].startswith("def ") and len(full["sample"]) == 24

    part = tmp_path / "part"
    charlm.main(common[:1] + ["4"] + common[2:] + ["--run-dir", str(part)])
    resumed = charlm.main(common + ["--run-dir", str(part), "--resume",
                                    str(part / "last.safetensors")])
    assert resumed["lr"] == full["lr"]
    assert resumed["loss"] == full["loss"] and resumed["val_loss"] == full["val_loss"]
    assert resumed["sample"] == full["sample"]


def test_digits_and_charlm_train_with_amp_like_float32(tmp_path):
    """``--amp`` (bfloat16 autocast + GradScaler) trains to the float32 run's loss within
    noise, and checkpoints the scaler's state."""
    digits = load("train_digits")
    common = ["--epochs", "1", "--no-progress", "--batch-size", "64"]
    fp32 = digits.main(common + ["--run-dir", str(tmp_path / "fp32")])
    amp = digits.main(common + ["--run-dir", str(tmp_path / "amp"), "--amp"])
    assert amp["train_loss"] != fp32["train_loss"]  # bfloat16 really ran
    for a, f in zip(amp["train_loss"], fp32["train_loss"]):
        assert abs(a - f) < 0.05 * f
    assert abs(amp["test_accuracy"][-1] - fp32["test_accuracy"][-1]) < 0.03
    import genesis
    state = genesis.load_checkpoint(tmp_path / "amp" / "epoch_001.safetensors")
    assert state["scaler_state_dict"]["scale"] == 2.0**16

    charlm = load("train_charlm")
    common = ["--steps", "10", "--interval", "5", "--batch-size", "8", "--block", "16",
              "--d-model", "32", "--heads", "2", "--warmup", "10", "--max-chars", "20000",
              "--sample-chars", "4", "--no-progress"]
    fp32 = charlm.main(common + ["--run-dir", str(tmp_path / "lm32")])
    amp = charlm.main(common + ["--run-dir", str(tmp_path / "lmamp"), "--amp"])
    assert amp["loss"] != fp32["loss"]
    for a, f in zip(amp["loss"] + amp["val_loss"], fp32["loss"] + fp32["val_loss"]):
        assert abs(a - f) < 0.1
