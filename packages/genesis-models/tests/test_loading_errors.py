"""from_pretrained's errors name the files and tensors that are wrong."""

from __future__ import annotations

import json
import shutil

import genesis
import genesis.models as gm
import pytest
from conftest import token_ids
from genesis.serialization import save_tree


def copy_with(saved, tmp_path, edit):
    """The llama checkpoint with its tensors changed by ``edit(dict of numpy arrays)``."""
    directory, _ = saved("llama")
    shutil.copy(directory / "config.json", tmp_path / "config.json")
    tensors = {k: v.numpy() for k, v in genesis.load(directory / "model.safetensors").items()}
    edit(tensors)
    save_tree(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})
    return tmp_path


def test_missing_directory_says_where_files_go(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json.*does not download"):
        gm.AutoModelForCausalLM.from_pretrained(tmp_path / "absent")


def test_missing_weights_file(saved, tmp_path):
    shutil.copy(saved("llama")[0] / "config.json", tmp_path / "config.json")
    with pytest.raises(FileNotFoundError, match="neither model.safetensors nor"):
        gm.AutoModelForCausalLM.from_pretrained(tmp_path)


def test_missing_unexpected_and_mismatched_tensors_are_named(saved, tmp_path):
    def edit(tensors):
        del tensors["model.layers.1.mlp.up_proj.weight"]
        tensors["model.layers.0.extra.weight"] = tensors["model.norm.weight"]
        tensors["model.layers.0.self_attn.k_proj.weight"] = (
            tensors["model.layers.0.self_attn.k_proj.weight"][:8])

    with pytest.raises(ValueError) as error:
        gm.AutoModelForCausalLM.from_pretrained(copy_with(saved, tmp_path, edit))
    message = str(error.value)
    assert "missing tensors: model.layers.1.mlp.up_proj.weight" in message
    assert "unexpected tensors: model.layers.0.extra.weight" in message
    assert "model.layers.0.self_attn.k_proj.weight (file (8, 64), model (32, 64))" in message


def test_unsupported_model_type(saved, tmp_path):
    config = json.loads((saved("llama")[0] / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "model_type": "gpt2"}))
    with pytest.raises(ValueError, match="model_type='gpt2' is not supported"):
        gm.AutoModelForCausalLM.from_pretrained(tmp_path)


def test_dtype_argument_casts_parameters(saved):
    model = gm.AutoModelForCausalLM.from_pretrained(saved("qwen2")[0], dtype="float64")
    assert {p.dtype for p in model.parameters()} == {genesis.float64}
    logits = model(genesis.tensor(token_ids(1, 4))).logits
    assert logits.dtype == genesis.float64


def test_bad_generate_arguments_are_named(saved):
    model = gm.AutoModelForCausalLM.from_pretrained(saved("llama")[0])
    ids = genesis.tensor(token_ids(1, 4))
    with pytest.raises(ValueError, match="top_p=1.5"):
        model.generate(ids, top_p=1.5)
    with pytest.raises(ValueError, match="max_new_tokens=-1"):
        model.generate(ids, max_new_tokens=-1)

