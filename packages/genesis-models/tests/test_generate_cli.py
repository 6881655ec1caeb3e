"""``python -m genesis.models.generate`` and TextStreamer: the streamed text equals what
transformers generates and decodes from the same directory (a tiny random Llama and a
byte-level BPE tokenizer with a chat template, built at test time)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
import torch
import transformers
from _tiny_text import byte_level_bpe
from genesis.models.generate import main
from genesis.models.streaming import TextStreamer
from genesis.models.tokenizer import Tokenizer

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TEMPLATE = ("{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + "
            "'<|im_end|>\\n' }}{% endfor %}"
            "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
MESSAGES = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Name a fox."}]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A directory as a Hub model has it: config, weights, tokenizer files, generation config."""
    path = tmp_path_factory.mktemp("tiny_chat")
    tok = byte_level_bpe(SPECIALS)
    tok.save(str(path / "tokenizer.json"))
    (path / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>", "chat_template": TEMPLATE}))
    config = transformers.LlamaConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=96,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        bos_token_id=None, eos_token_id=tok.token_to_id("<|im_end|>"),
        pad_token_id=tok.token_to_id("<|endoftext|>"))
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).eval()
    with torch.no_grad():  # std 0.02 gives near-uniform logits; wider weights give a real argmax
        for param in model.parameters():
            if param.ndim > 1:
                param.mul_(8.0)
    model.save_pretrained(path)
    (path / "generation_config.json").write_text(json.dumps({
        "do_sample": True, "temperature": 0.7, "top_k": 20,
        "eos_token_id": [tok.token_to_id("<|im_end|>"), tok.token_to_id("<|endoftext|>")]}))
    return path


def transformers_text(path, prompt_ids: list[int], max_new_tokens: int) -> str:
    hf = transformers.AutoModelForCausalLM.from_pretrained(path).eval()
    tok = transformers.AutoTokenizer.from_pretrained(path)
    with torch.no_grad():
        out = hf.generate(torch.tensor([prompt_ids]), max_new_tokens=max_new_tokens,
                          do_sample=False, eos_token_id=[tok.eos_token_id, tok.pad_token_id],
                          pad_token_id=tok.pad_token_id)
    return tok.decode(out[0, len(prompt_ids):], skip_special_tokens=True)


def test_greedy_chat_streams_what_transformers_generates(model_dir, capsys):
    text = main(["--model", str(model_dir), "--prompt", "Name a fox.", "--system", "Be brief.",
                 "--temperature", "0", "--max-new-tokens", "24"])
    captured = capsys.readouterr()
    hf_tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    ids = hf_tok.apply_chat_template(MESSAGES, add_generation_prompt=True, return_dict=False)
    assert text == transformers_text(model_dir, ids, 24)
    assert captured.out == text + "\n"
    assert f"[{len(ids)} prompt tokens, " in captured.err and "tokens/s]" in captured.err


def test_raw_prompt_skips_the_template(model_dir, capsys):
    text = main(["--model", str(model_dir), "--prompt", "def add(a, b):", "--raw",
                 "--temperature", "0", "--max-new-tokens", "12"])
    ids = Tokenizer.from_pretrained(model_dir).encode("def add(a, b):")
    assert text == transformers_text(model_dir, ids, 12)


def test_sampling_follows_generation_config_and_the_seed(model_dir, capsys):
    common = ["--model", str(model_dir), "--prompt", "Hello", "--max-new-tokens", "16"]
    first, again = main(common + ["--seed", "3"]), main(common + ["--seed", "3"])
    others = {main(common + ["--seed", str(seed)]) for seed in (4, 5, 6)}
    assert first == again and len(others | {first}) > 1


def test_the_module_runs_as_a_program(model_dir):
    args = ["--model", str(model_dir), "--prompt", "Name a fox.", "--system", "Be brief.",
            "--temperature", "0", "--max-new-tokens", "8"]
    run = subprocess.run([sys.executable, "-m", "genesis.models.generate", *args],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout == main(args) + "\n"


def test_streamer_writes_whole_characters_as_they_complete(tmp_path):
    tok = byte_level_bpe(SPECIALS)
    tok.save(str(tmp_path / "tokenizer.json"))
    tokenizer = Tokenizer.from_pretrained(tmp_path)
    text = "Unicode 東京🙂 naïve\nsecond line ✓<|im_end|>"
    ids = tokenizer.encode(text)
    assert any("\ufffd" in tokenizer.decode([i]) for i in ids)  # some ids are half a character
    sink = io.StringIO()
    streamer = TextStreamer(tokenizer, file=sink)
    writes = []
    for i in ids:
        before = sink.getvalue()
        streamer([i])
        writes.append(sink.getvalue()[len(before):])
    streamer.end()
    assert streamer.text == tokenizer.decode(ids, skip_special_tokens=True)
    assert sink.getvalue() == streamer.text + "\n"
    assert not any("\ufffd" in chunk for chunk in writes)
    assert sum(bool(chunk) for chunk in writes) > len(ids) // 2  # streamed, not at the end
    with pytest.raises(ValueError, match="batch size 1"):
        streamer([1, 2])
