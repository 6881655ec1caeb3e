"""genesis.models against transformers on tiny random models: logits, padding, loss, cache,
greedy generation and checkpoints in both directions."""

from __future__ import annotations

import genesis
import genesis.models as gm
import numpy as np
import pytest
import torch
import transformers
from conftest import VARIANTS, to_numpy, token_ids

ATOL = 1e-4


def load(directory):
    return gm.AutoModelForCausalLM.from_pretrained(directory)


def hf_logits(model, ids, **kwargs) -> np.ndarray:
    with torch.no_grad():
        return to_numpy(model(torch.tensor(ids), **kwargs).logits)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_logits_match_transformers(saved, name):
    directory, ref = saved(name)
    model = load(directory)
    assert type(model).__name__ == ref.config.architectures[0]
    ids = token_ids(2, 12)  # longer than the windows (4) and the dynamic rope's 8 positions
    np.testing.assert_allclose(to_numpy(model(genesis.tensor(ids)).logits), hf_logits(ref, ids),
                               atol=ATOL, rtol=0)


@pytest.mark.parametrize("name", ["llama", "qwen2_moe", "mistral_window"])
def test_sharded_checkpoint_loads(saved, name):
    directory, ref = saved(name, shard=True)
    assert (directory / "model.safetensors.index.json").is_file()
    ids = token_ids(1, 9)
    np.testing.assert_allclose(to_numpy(load(directory)(genesis.tensor(ids)).logits),
                               hf_logits(ref, ids), atol=ATOL, rtol=0)


def left_pad(rows: list[np.ndarray], pad: int = 0) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = r
        mask[i, width - len(r):] = 1
    return ids, mask


@pytest.mark.parametrize("name", ["llama", "qwen3", "qwen2_window"])
def test_left_padded_batch_equals_unpadded_rows(saved, name):
    directory, ref = saved(name)
    model = load(directory)
    rows = [token_ids(1, n, seed=n)[0] for n in (9, 5, 7)]
    ids, mask = left_pad(rows)
    padded = to_numpy(model(genesis.tensor(ids), attention_mask=genesis.tensor(mask)).logits)
    for i, row in enumerate(rows):
        alone = to_numpy(model(genesis.tensor(row[None])).logits)[0]
        np.testing.assert_allclose(padded[i, ids.shape[1] - len(row):], alone, atol=ATOL, rtol=0)
        np.testing.assert_allclose(alone, hf_logits(ref, row[None])[0], atol=ATOL, rtol=0)


@pytest.mark.parametrize("name", ["llama", "qwen2_window"])
def test_long_prompt_attends_in_query_blocks(saved, name):
    directory, ref = saved(name)
    model = load(directory)
    rows = [token_ids(1, 150, seed=4)[0], token_ids(1, 131, seed=5)[0]]  # > 2 query blocks
    ids, mask = left_pad(rows)
    ours = to_numpy(model(genesis.tensor(ids), attention_mask=genesis.tensor(mask)).logits)
    for i, row in enumerate(rows):
        np.testing.assert_allclose(ours[i, ids.shape[1] - len(row):],
                                   hf_logits(ref, row[None])[0], atol=ATOL, rtol=0)


@pytest.mark.parametrize("name", ["llama", "mixtral"])
def test_loss_with_labels_matches(saved, name):
    directory, ref = saved(name)
    model = load(directory)
    ids = token_ids(2, 10)
    labels = ids.copy()
    labels[0, :3] = -100
    labels[1, 7] = -100
    loss = model(genesis.tensor(ids), labels=genesis.tensor(labels)).loss
    with torch.no_grad():
        expected = ref(torch.tensor(ids), labels=torch.tensor(labels)).loss.item()
    assert abs(loss.item() - expected) < 1e-5


def test_loss_backward_reaches_every_parameter(saved):
    model = load(saved("qwen2_moe")[0]).train()
    ids = genesis.tensor(token_ids(2, 8))
    model(ids, labels=ids).loss.backward()
    names = [n for n, p in model.named_parameters() if p.grad is None]
    unrouted = [n for n in names if ".experts." in n]  # an expert no token chose
    assert names == unrouted


@pytest.mark.parametrize("name", ["llama", "qwen2", "qwen3", "mixtral", "qwen2_moe",
                                  "qwen2_window"])
def test_kv_cache_logits_equal_full_recompute(saved, name):
    model = load(saved(name)[0])
    ids = genesis.tensor(token_ids(2, 11))
    full = to_numpy(model(ids).logits)
    out = model(ids[:, :6], use_cache=True)
    cache = out.past_key_values
    steps = [to_numpy(out.logits)]
    for t in range(6, 11):
        steps.append(to_numpy(model(ids[:, t:t + 1], past_key_values=cache).logits))
    assert cache.length == 11
    np.testing.assert_allclose(np.concatenate(steps, 1), full, atol=ATOL, rtol=0)


@pytest.mark.parametrize("name", ["llama", "qwen3", "qwen2_moe", "mistral_window"])
def test_greedy_generation_matches_transformers(saved, name):
    directory, ref = saved(name)
    model = load(directory)
    rows = [token_ids(1, 6, seed=1)[0], token_ids(1, 4, seed=2)[0]]
    ids, mask = left_pad(rows)
    kwargs = dict(max_new_tokens=32, do_sample=False, eos_token_id=[], pad_token_id=0)
    ours = model.generate(genesis.tensor(ids), attention_mask=genesis.tensor(mask), **kwargs)
    with torch.no_grad():
        theirs = ref.generate(torch.tensor(ids), attention_mask=torch.tensor(mask),
                              **{**kwargs, "eos_token_id": None})
    np.testing.assert_array_equal(to_numpy(ours), to_numpy(theirs))


def test_generation_stops_each_row_at_eos(saved):
    model = load(saved("llama")[0])
    ids = genesis.tensor(token_ids(2, 5))
    free = to_numpy(model.generate(ids, max_new_tokens=12, eos_token_id=[]))
    eos = int(free[0, 7])  # row 0 produces it at its third new token
    seen = []
    out = to_numpy(model.generate(ids, max_new_tokens=12, eos_token_id=[eos], pad_token_id=1,
                                  streamer=seen.append))
    for row in range(2):
        new = list(free[row, 5:])
        stop = new.index(eos) + 1 if eos in new else len(new)
        expected = new[:stop] + [1] * (out.shape[1] - 5 - stop)
        assert list(out[row, 5:]) == expected
    assert [list(step) for step in zip(*seen)] == [list(r) for r in out[:, 5:]]


def test_sampling_is_reproducible_under_manual_seed(saved):
    model = load(saved("qwen2")[0])
    ids = genesis.tensor(token_ids(2, 4))
    kwargs = dict(max_new_tokens=16, do_sample=True, temperature=1.5, top_k=20, top_p=0.9,
                  min_p=0.01, repetition_penalty=1.2, eos_token_id=[])
    genesis.manual_seed(7)
    first = to_numpy(model.generate(ids, **kwargs))
    genesis.manual_seed(7)
    np.testing.assert_array_equal(to_numpy(model.generate(ids, **kwargs)), first)
    genesis.manual_seed(8)
    assert not np.array_equal(to_numpy(model.generate(ids, **kwargs)), first)


@pytest.mark.parametrize("kind,value", [("top_k", 5), ("top_p", 0.7), ("min_p", 0.1),
                                        ("repetition_penalty", 1.3), ("temperature", 0.6)])
def test_logits_processing_matches_transformers(kind, value):
    from genesis.models import generation

    rng = np.random.RandomState(3)
    logits = (rng.randn(3, 40) * 2).astype(np.float32)
    seen = rng.randint(0, 40, (3, 6))
    processors = {"top_k": transformers.TopKLogitsWarper, "top_p": transformers.TopPLogitsWarper,
                  "min_p": transformers.MinPLogitsWarper,
                  "repetition_penalty": transformers.RepetitionPenaltyLogitsProcessor,
                  "temperature": transformers.TemperatureLogitsWarper}
    expected = to_numpy(processors[kind](value)(torch.tensor(seen), torch.tensor(logits)))
    x = genesis.tensor(logits)
    ours = {"top_k": lambda: generation.top_k_filter(x, value),
            "top_p": lambda: generation.top_p_filter(x, value),
            "min_p": lambda: generation.min_p_filter(x, value),
            "repetition_penalty": lambda: generation.repetition_penalty_(
                x, genesis.tensor(seen), value),
            "temperature": lambda: x / value}[kind]()
    np.testing.assert_allclose(to_numpy(ours), expected, rtol=1e-6)


@pytest.mark.parametrize("name,shard", [("llama_tied_bias", False), ("qwen2_moe", True),
                                        ("qwen3", False)])
def test_save_pretrained_round_trip_loads_in_transformers(saved, tmp_path, name, shard):
    model = load(saved(name)[0])
    with genesis.no_grad():  # make the weights differ from the source checkpoint
        model.model.norm.weight.mul_(1.5)
    model.save_pretrained(tmp_path, max_shard_size="40KB" if shard else "5GB")
    assert (tmp_path / "model.safetensors.index.json").is_file() == shard
    ref = transformers.AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    ids = token_ids(2, 8)
    ours = to_numpy(model(genesis.tensor(ids)).logits)
    np.testing.assert_allclose(hf_logits(ref, ids), ours, atol=ATOL, rtol=0)
    np.testing.assert_allclose(to_numpy(load(tmp_path)(genesis.tensor(ids)).logits), ours,
                               atol=0, rtol=0)
