"""Example 3 (examples/train_llm.py) in its --smoke size: it trains, resumes exactly, saves a
directory transformers loads with equal logits, and the model it trained takes a LoRA
fine-tune with genesis.optim."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import genesis
import genesis.optim as optim
import numpy as np
import pytest
import torch
import transformers
from genesis.models import AutoModelForCausalLM
from genesis.models.generate import main as generate_main
from genesis.models.lora import LoraConfig, apply_lora, merge_lora
from genesis.models.tokenizer import Tokenizer

EXAMPLES = Path(__file__).parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(history, run directory) of one --smoke run."""
    run = tmp_path_factory.mktemp("llm")
    history = load("train_llm").main(["--smoke", "--no-progress", "--run-dir", str(run)])
    return history, run


def test_smoke_run_trains_plots_and_samples(trained):
    history, run = trained
    assert len(history["loss"]) == 2 and len(history["lr"]) == 8
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert history["loss"][0] < np.log(320) + 0.5  # the N(0, 0.02) init starts near uniform
    assert max(history["lr"]) == pytest.approx(3e-3) and history["lr"][0] == 0.0
    assert history["sample"].startswith("def ")
    assert (run / "curves.png").stat().st_size > 10_000


def test_resume_continues_exactly(trained, tmp_path):
    full, _ = trained
    train_llm = load("train_llm")
    common = ["--smoke", "--no-progress", "--run-dir", str(tmp_path)]
    train_llm.main(common + ["--stop-after", "4"])
    resumed = train_llm.main(common + ["--resume", str(tmp_path / "last.safetensors")])
    assert resumed["lr"] == full["lr"]
    assert resumed["loss"] == full["loss"] and resumed["val_loss"] == full["val_loss"]
    assert resumed["sample"] == full["sample"]


def test_saved_directory_loads_in_transformers_and_the_cli(trained, capsys):
    _, run = trained
    model_dir = run / "model"
    ours = AutoModelForCausalLM.from_pretrained(model_dir)
    theirs = transformers.AutoModelForCausalLM.from_pretrained(model_dir).eval()
    tok, hf_tok = Tokenizer.from_pretrained(model_dir), transformers.AutoTokenizer.from_pretrained(
        model_dir)
    text = "import os\n\ndef main(argv=None):\n    return 0\n"
    ids = tok.encode(text)
    assert ids == hf_tok.encode(text)
    with torch.no_grad():
        want = theirs(torch.tensor([ids])).logits.numpy()
    got = ours(genesis.tensor([ids])).logits.detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    out = generate_main(["--model", str(model_dir), "--prompt", "class ", "--raw",
                         "--max-new-tokens", "6"])
    assert capsys.readouterr().out == out + "\n"


def test_lora_fine_tune_of_the_trained_model(trained):
    """Adapters on q, v and the output layer learn one snippet; the base stays fixed; the
    merged model computes what the adapted one did."""
    _, run = trained
    model = AutoModelForCausalLM.from_pretrained(run / "model")
    base = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    apply_lora(model, LoraConfig(target_modules=["q_proj", "v_proj", "lm_head"], r=4,
                                 lora_alpha=8))
    model.train()
    tok = Tokenizer.from_pretrained(run / "model")
    x = genesis.tensor([tok.encode("print('hello from genesis')\n" * 3)])
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = optim.AdamW(params, lr=1e-2, weight_decay=0.0)
    losses = []
    for _ in range(15):
        loss = model(x, labels=x).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses
    model.eval()
    prompt = x[:, :5]
    with genesis.no_grad():
        adapted = model(x).logits.numpy()
        adapted_tokens = model.generate(prompt, max_new_tokens=12).tolist()
        merge_lora(model)
        merged = model(x).logits.numpy()
    np.testing.assert_allclose(merged, adapted, rtol=1e-4, atol=1e-4)
    assert model.generate(prompt, max_new_tokens=12).tolist() == adapted_tokens
    changed = {k for k, v in model.state_dict().items()
               if not np.array_equal(v.detach().numpy(), base[k])}
    assert changed == {k for k in base if k.endswith(("q_proj.weight", "v_proj.weight"))
                       or k == "lm_head.weight"}
