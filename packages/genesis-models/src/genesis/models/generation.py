"""``generate``: greedy and sampled decoding with a preallocated KV cache.

The logits are processed in transformers' order: repetition penalty, then temperature,
top-k, top-p and min-p; sampling draws with :func:`genesis.multinomial`, so a run is
reproducible under :func:`genesis.manual_seed`. Rows stop independently at an EOS token
and are filled with ``pad_token_id`` until every row has stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import genesis
import genesis.nn.functional as F
from genesis import Tensor

_NEG_INF = float("-inf")


def _check(name: str, value: object, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"generate: {name}={value!r}, expected {expected}")


def repetition_penalty_(logits: Tensor, seen: Tensor, penalty: float) -> Tensor:
    """Divide positive (multiply negative) logits of tokens in ``seen`` by ``penalty``."""
    scores = logits.gather(1, seen)
    scores = genesis.where(scores < 0, scores * penalty, scores / penalty)
    return logits.scatter(1, seen, scores)


def top_k_filter(logits: Tensor, k: int) -> Tensor:
    """Keep the ``k`` largest logits per row (ties with the k-th kept), the rest -inf."""
    k = min(k, logits.shape[-1])
    kth = logits.topk(k, -1).values[:, -1:]
    return logits.masked_fill(logits < kth, _NEG_INF)


def top_p_filter(logits: Tensor, p: float) -> Tensor:
    """Keep the smallest set of most likely tokens whose probability reaches ``p``."""
    ordered, order = logits.sort(-1)
    cumulative = F.softmax(ordered, -1).cumsum(-1)
    drop = cumulative <= 1 - p
    drop[:, -1] = False  # always keep the most likely token
    return logits.masked_fill(drop.scatter(1, order, drop), _NEG_INF)


def min_p_filter(logits: Tensor, min_p: float) -> Tensor:
    """Drop tokens less likely than ``min_p`` times the most likely one."""
    probs = F.softmax(logits, -1)
    threshold = probs.amax(-1, keepdim=True) * min_p
    return logits.masked_fill(probs < threshold, _NEG_INF)


class GenerationMixin:
    """``generate`` for a causal LM with ``forward(..., past_key_values, logits_to_keep)``."""

    def generate(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                 max_new_tokens: int = 20, do_sample: bool = False, temperature: float = 1.0,
                 top_k: int | None = 50, top_p: float = 1.0, min_p: float | None = None,
                 repetition_penalty: float = 1.0,
                 eos_token_id: int | Sequence[int] | None = None,
                 pad_token_id: int | None = None,
                 streamer: Callable[[list[int]], object] | None = None) -> Tensor:
        """Continue ``input_ids`` ``(B, P)``; returns ``(B, P + generated)`` token ids.

        Args:
            attention_mask: ``(B, P)``, 0 on left padding; None means no padding.
            max_new_tokens: tokens to add at most.
            do_sample: draw from the processed distribution instead of taking the argmax.
            temperature, top_k, top_p, min_p: sampling filters (transformers' meaning;
                ``top_k=None``/0, ``top_p=1``, ``min_p=None`` turn them off).
            repetition_penalty: > 1 discourages tokens already in the sequence.
            eos_token_id: one id or several; default the config's. A row stops after it.
            pad_token_id: fills stopped rows; default the config's, else the first EOS, else 0.
            streamer: called after every step with the list of new ids, one per row.
        """
        _check("input_ids", tuple(input_ids.shape), input_ids.ndim == 2 and
               input_ids.shape[1] > 0, "a (batch, prompt_len) tensor with prompt_len >= 1")
        _check("max_new_tokens", max_new_tokens,
               isinstance(max_new_tokens, int) and max_new_tokens >= 0, "an int >= 0")
        _check("temperature", temperature, temperature > 0, "a float > 0")
        _check("top_p", top_p, 0 < top_p <= 1, "a float in (0, 1]")
        _check("min_p", min_p, min_p is None or 0 <= min_p <= 1, "None or a float in [0, 1]")
        _check("repetition_penalty", repetition_penalty, repetition_penalty > 0, "a float > 0")
        _check("top_k", top_k, top_k is None or (isinstance(top_k, int) and top_k >= 0),
               "None or an int >= 0")
        config = self.config
        if eos_token_id is None:
            eos_token_id = config.eos_token_id
        eos_ids = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id or [])
        eos = set(eos_ids)
        if pad_token_id is None:
            pad_token_id = config.pad_token_id if config.pad_token_id is not None else (
                eos_ids[0] if eos_ids else 0)
        batch, prompt = input_ids.shape
        total = prompt + max_new_tokens
        sequence = genesis.full((batch, total), pad_token_id, dtype=genesis.int64,
                                device=input_ids.device)
        sequence[:, :prompt] = input_ids
        padded = attention_mask is not None and not bool(attention_mask.all().item())
        mask = None
        if padded:
            mask = genesis.ones((batch, total), dtype=genesis.int64, device=input_ids.device)
            mask[:, :prompt] = attention_mask
        cache = self.new_cache(batch, total)
        finished = [False] * batch
        step_input, length = input_ids, prompt
        with genesis.no_grad():
            for _ in range(max_new_tokens):
                logits = self(step_input, attention_mask=None if mask is None else
                              mask.narrow(1, 0, length), past_key_values=cache,
                              logits_to_keep=1).logits.reshape(batch, -1)
                if logits.dtype != genesis.float32:
                    logits = logits.to(genesis.float32)
                if repetition_penalty != 1.0:
                    logits = repetition_penalty_(logits, sequence.narrow(1, 0, length),
                                                 repetition_penalty)
                if do_sample:
                    chosen = self._sample(logits, temperature, top_k, top_p, min_p)
                else:
                    chosen = logits.argmax(-1)
                new = chosen.tolist()
                if any(finished):
                    new = [pad_token_id if done else token for done, token in zip(finished, new)]
                    chosen = genesis.tensor(new, dtype=genesis.int64, device=input_ids.device)
                finished = [done or token in eos for done, token in zip(finished, new)]
                sequence.narrow(1, length, 1).copy_(chosen.view(batch, 1))
                length += 1
                if streamer is not None:
                    streamer(new)
                if all(finished):
                    break
                step_input = sequence.narrow(1, length - 1, 1)
        return sequence.narrow(1, 0, length)

    @staticmethod
    def _sample(logits: Tensor, temperature: float, top_k: int | None, top_p: float,
                min_p: float | None) -> Tensor:
        if temperature != 1.0:
            logits = logits / temperature
        if top_k:
            logits = top_k_filter(logits, top_k)
        if top_p < 1.0:
            logits = top_p_filter(logits, top_p)
        if min_p:
            logits = min_p_filter(logits, min_p)
        return genesis.multinomial(F.softmax(logits, -1), 1).reshape(-1)
