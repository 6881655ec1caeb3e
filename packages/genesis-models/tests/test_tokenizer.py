"""genesis.models.Tokenizer against the ``tokenizers`` library it wraps and transformers'
AutoTokenizer on the same files: tokenizers built and trained at test time, no downloads."""

from __future__ import annotations

import json

import genesis
import numpy as np
import pytest
from _tiny_text import byte_level_bpe
from genesis.models.tokenizer import Tokenizer
from tokenizers import Tokenizer as RustTokenizer
from tokenizers import processors
from transformers import AutoTokenizer

TEXTS = [
    "Hello world",
    "  leading spaces and\ttabs\nnew lines",
    "Unicode: ünïcödé 日本語 🙂🚀",
    "special inside <|im_end|> the text",
    "",
]

QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
LLAMA_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                  "<|end_header_id|>", "<|eot_id|>"]

# In the style of Qwen2.5/Qwen3: default system prompt, tools as JSON lines, a kwarg the
# caller passes (enable_thinking), loop controls and a namespace.
QWEN_TEMPLATE = """
{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(turns=0) %}
{%- for message in messages %}
    {%- if message.role == 'system' and loop.first %}
        {%- continue %}
    {%- endif %}
    {%- set ns.turns = ns.turns + 1 %}
    {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}
"""

# In the style of Llama 3.x: bos_token from the config, a system header with a date, trimmed
# contents, <|eot_id|> after each turn; the first <|eot_id|> needs trim_blocks and lstrip_blocks.
LLAMA_TEMPLATE = """
{{- bos_token }}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] | trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = strftime_now("%Y") %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{{- "Year: " + date_string + "\\n\\n" }}
{{- system_message }}
{%- if true %}
    {% if true %}
{{ "<|eot_id|>" -}}
    {% endif %}
{%- endif %}
{%- for message in messages %}
    {%- if message['role'] not in ['user', 'assistant'] %}
        {{- raise_exception('Only user and assistant roles are supported after the system') }}
    {%- endif %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'
        + message['content'] | trim + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

CHAT = [
    {"role": "system", "content": "  You answer briefly. "},
    {"role": "user", "content": "What is 2 + 2?"},
    {"role": "assistant", "content": "4 <b>&</b>"},
    {"role": "user", "content": "And 3 + 3? 🙂"},
]
TOOLS = [{"type": "function", "function": {"name": "add", "description": "a + b <sum>",
                                           "parameters": {"a": "int", "b": "int"}}}]


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory):
    """A Qwen-style directory: no BOS, <|im_end|> ends a turn, <|endoftext|> pads."""
    path = tmp_path_factory.mktemp("qwen")
    tok = byte_level_bpe(QWEN_SPECIALS)
    tok.save(str(path / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": None,
              "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
              "padding_side": "right", "chat_template": QWEN_TEMPLATE}
    (path / "tokenizer_config.json").write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    """A Llama-3-style directory: a post-processor adds <|begin_of_text|>; the config's tokens
    are AddedToken dicts; the chat template lives in chat_template.jinja."""
    path = tmp_path_factory.mktemp("llama")
    tok = byte_level_bpe(LLAMA_SPECIALS)
    bos = "<|begin_of_text|>"
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.token_to_id(bos))])
    tok.save(str(path / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast",
              "bos_token": {"content": bos, "special": True, "__type": "AddedToken"},
              "eos_token": {"content": "<|eot_id|>", "special": True, "__type": "AddedToken"},
              "pad_token": "<|end_of_text|>", "padding_side": "left"}
    (path / "tokenizer_config.json").write_text(json.dumps(config))
    (path / "chat_template.jinja").write_text(LLAMA_TEMPLATE)
    return path


@pytest.mark.parametrize("style", ["qwen", "llama"])
@pytest.mark.parametrize("add_special_tokens", [True, False])
def test_encode_and_decode_equal_tokenizers(style, add_special_tokens, request):
    path = request.getfixturevalue(f"{style}_dir")
    ours = Tokenizer.from_pretrained(path)
    theirs = RustTokenizer.from_file(str(path / "tokenizer.json"))
    for text in TEXTS:
        ids = ours.encode(text, add_special_tokens=add_special_tokens)
        assert ids == theirs.encode(text, add_special_tokens=add_special_tokens).ids
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == theirs.decode(
                ids, skip_special_tokens=skip)
        assert ours.decode(np.array(ids, dtype=np.int64)) == theirs.decode(
            ids, skip_special_tokens=False)
    batch = [ours.encode(text) for text in TEXTS]
    assert ours.batch_decode(batch, skip_special_tokens=True) == theirs.decode_batch(
        batch, skip_special_tokens=True)


def test_tokenizer_file_path_loads_the_same_as_its_directory(qwen_dir):
    by_dir = Tokenizer.from_pretrained(qwen_dir)
    by_file = Tokenizer.from_pretrained(qwen_dir / "tokenizer.json")
    assert by_file.encode(TEXTS[2]) == by_dir.encode(TEXTS[2])
    assert by_file.chat_template == QWEN_TEMPLATE and by_file.eos_token == "<|im_end|>"


@pytest.mark.parametrize("style", ["qwen", "llama"])
def test_special_tokens_and_sizes_equal_transformers(style, request):
    path = request.getfixturevalue(f"{style}_dir")
    ours, hf = Tokenizer.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    for name in ("bos_token", "eos_token", "pad_token", "unk_token"):
        assert getattr(ours, name) == getattr(hf, name), name
        assert getattr(ours, name + "_id") == getattr(hf, name + "_id"), name
    assert len(ours) == len(hf) and ours.vocab_size == hf.vocab_size
    assert ours.all_special_ids == sorted(ours.convert_tokens_to_ids(
        QWEN_SPECIALS if style == "qwen" else LLAMA_SPECIALS))
    assert ours.padding_side == hf.padding_side
    tokens = ours.convert_ids_to_tokens(ours.encode(TEXTS[2]))
    assert tokens == hf.convert_ids_to_tokens(hf.encode(TEXTS[2]))
    assert ours.convert_tokens_to_ids(tokens) == hf.convert_tokens_to_ids(tokens)


@pytest.mark.parametrize("style", ["qwen", "llama"])
@pytest.mark.parametrize("padding_side", [None, "left", "right"])
def test_batch_padding_equals_transformers(style, padding_side, request):
    path = request.getfixturevalue(f"{style}_dir")
    ours, hf = Tokenizer.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    kwargs = {} if padding_side is None else {"padding_side": padding_side}
    got = ours(TEXTS, padding=True, **kwargs)
    want = hf(TEXTS, padding=True, **kwargs)
    assert got["input_ids"] == want["input_ids"]
    assert got["attention_mask"] == want["attention_mask"]
    got = ours(TEXTS, padding="max_length", truncation=True, max_length=6, return_tensors="np",
               **kwargs)
    want = hf(TEXTS, padding="max_length", truncation=True, max_length=6, return_tensors="np",
              **kwargs)
    np.testing.assert_array_equal(got["input_ids"], want["input_ids"])
    np.testing.assert_array_equal(got["attention_mask"], want["attention_mask"])
    assert got["input_ids"].dtype == np.int64
    single = ours(TEXTS[0])
    assert single == {k: v for k, v in hf(TEXTS[0]).items()}


def test_genesis_tensors_are_returned_on_request(qwen_dir):
    ours = Tokenizer.from_pretrained(qwen_dir)
    out = ours(TEXTS[:3], padding=True, return_tensors="genesis")
    want = ours(TEXTS[:3], padding=True, return_tensors="np")
    np.testing.assert_array_equal(out["input_ids"].numpy(), want["input_ids"])
    assert out["input_ids"].dtype == genesis.int64
    assert ours.decode(out["input_ids"][0]) == ours.decode(want["input_ids"][0])


@pytest.mark.parametrize("add_generation_prompt", [True, False])
@pytest.mark.parametrize("extra", [{}, {"tools": TOOLS}, {"enable_thinking": False}])
def test_qwen_chat_template_equals_transformers(qwen_dir, add_generation_prompt, extra):
    ours, hf = Tokenizer.from_pretrained(qwen_dir), AutoTokenizer.from_pretrained(qwen_dir)
    for chat in (CHAT, CHAT[1:2]):
        text = ours.apply_chat_template(chat, tokenize=False,
                                        add_generation_prompt=add_generation_prompt, **extra)
        assert text == hf.apply_chat_template(chat, tokenize=False,
                                              add_generation_prompt=add_generation_prompt, **extra)
        ids = ours.apply_chat_template(chat, add_generation_prompt=add_generation_prompt,
                                       return_dict=False, **extra)
        assert ids == hf.apply_chat_template(chat, add_generation_prompt=add_generation_prompt,
                                             return_dict=False, **extra)
        assert ours.decode(ids) == text
    if "tools" in extra:
        assert '"description": "a + b <sum>"' in text  # JSON, not HTML-escaped


@pytest.mark.parametrize("add_generation_prompt", [True, False])
def test_llama_chat_template_equals_transformers(llama_dir, add_generation_prompt):
    ours, hf = Tokenizer.from_pretrained(llama_dir), AutoTokenizer.from_pretrained(llama_dir)
    for kwargs in ({}, {"date_string": "26 Jul 2024"}):
        text = ours.apply_chat_template(CHAT, tokenize=False,
                                        add_generation_prompt=add_generation_prompt, **kwargs)
        assert text == hf.apply_chat_template(CHAT, tokenize=False,
                                              add_generation_prompt=add_generation_prompt, **kwargs)
        assert text.startswith("<|begin_of_text|>") and text.count("<|begin_of_text|>") == 1
    got = ours.apply_chat_template([CHAT, CHAT[:2]], add_generation_prompt=add_generation_prompt,
                                   padding=True, return_tensors="np")
    want = hf.apply_chat_template([CHAT, CHAT[:2]], add_generation_prompt=add_generation_prompt,
                                  padding=True, return_tensors="np")
    np.testing.assert_array_equal(got["input_ids"], want["input_ids"])
    np.testing.assert_array_equal(got["attention_mask"], want["attention_mask"])
    assert got["attention_mask"][1, 0] == 0  # left padding, as the config says


@pytest.mark.parametrize("style", ["qwen", "llama"])
@pytest.mark.parametrize("prefill", ["The answer is", "The answer is ", "  "])
def test_continue_final_message_equals_transformers(style, prefill, request):
    path = request.getfixturevalue(f"{style}_dir")
    ours, hf = Tokenizer.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    chat = CHAT[:2] + [{"role": "assistant", "content": prefill}]
    text = ours.apply_chat_template(chat, tokenize=False, continue_final_message=True)
    assert text == hf.apply_chat_template(chat, tokenize=False, continue_final_message=True)
    assert not text.endswith(("<|im_end|>\n", "<|eot_id|>"))
    with pytest.raises(ValueError, match="contradict"):
        ours.apply_chat_template(chat, continue_final_message=True, add_generation_prompt=True)


def test_template_errors_surface(llama_dir, qwen_dir):
    import jinja2

    ours = Tokenizer.from_pretrained(llama_dir)
    with pytest.raises(jinja2.exceptions.TemplateError, match="Only user and assistant"):
        ours.apply_chat_template(CHAT + [{"role": "tool", "content": "5"}], tokenize=False)
    plain = Tokenizer.from_pretrained(qwen_dir)
    plain.chat_template = None
    with pytest.raises(ValueError, match="no chat_template"):
        plain.apply_chat_template(CHAT)
    assert plain.apply_chat_template(CHAT, chat_template="{{ messages | length }}",
                                     tokenize=False) == "4"


def test_bad_input_names_the_argument(tmp_path, qwen_dir):
    with pytest.raises(FileNotFoundError, match="has no tokenizer.json"):
        Tokenizer.from_pretrained(tmp_path)
    ours = Tokenizer.from_pretrained(qwen_dir)
    with pytest.raises(ValueError, match="padding='sideways'"):
        ours(TEXTS, padding="sideways")
    with pytest.raises(ValueError, match="padding_side='up'"):
        ours(TEXTS, padding=True, padding_side="up")
    with pytest.raises(ValueError, match="pass padding=True"):
        ours(TEXTS, return_tensors="np")
    with pytest.raises(ValueError, match="return_tensors='tf'"):
        ours(TEXTS, padding=True, return_tensors="tf")
    with pytest.raises(TypeError, match="text=3"):
        ours.encode(3)
    ours._special["pad_token"] = None
    with pytest.raises(ValueError, match="needs a pad token"):
        ours(TEXTS, padding=True)


def test_save_pretrained_round_trips_through_transformers(tmp_path, llama_dir):
    ours = Tokenizer.from_pretrained(llama_dir)
    ours.save_pretrained(tmp_path)
    again, hf = Tokenizer.from_pretrained(tmp_path), AutoTokenizer.from_pretrained(tmp_path)
    assert again.chat_template == ours.chat_template
    assert (again.bos_token_id, again.eos_token_id, again.pad_token_id) == (
        ours.bos_token_id, ours.eos_token_id, ours.pad_token_id)
    text = again.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    assert text == hf.apply_chat_template(CHAT, tokenize=False, add_generation_prompt=True)
    assert again(TEXTS, padding=True) == {k: v for k, v in hf(TEXTS, padding=True).items()}
