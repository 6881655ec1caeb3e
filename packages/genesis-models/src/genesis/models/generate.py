"""``python -m genesis.models.generate``: stream a local model's answer to a prompt.

    python -m genesis.models.generate --model DIR --prompt "Name three prime numbers."
    python -m genesis.models.generate --model DIR --prompt "def fib(n):" --raw --temperature 0

``DIR`` is a Hugging Face model directory (``config.json``, safetensors weights,
``tokenizer.json``, optionally ``tokenizer_config.json`` and ``generation_config.json``).
The prompt goes through the chat template when the tokenizer has one (``--raw``: as
is). Sampling settings default to ``generation_config.json``, as in transformers;
``--temperature 0`` decodes greedily. The text is written as it is generated; a
line with the speed goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import genesis
from genesis.models.auto import AutoModelForCausalLM
from genesis.models.streaming import TextStreamer
from genesis.models.tokenizer import Tokenizer

GENERATION_CONFIG = "generation_config.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m genesis.models.generate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a local model directory")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--system", default=None, help="a system message (chat template only)")
    parser.add_argument("--raw", action="store_true", help="no chat template: the prompt as is")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=None,
                        help="0: greedy; > 0: sample (default: generation_config.json)")
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--min-p", type=float, default=None)
    parser.add_argument("--repetition-penalty", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default="float32")
    parser.add_argument("--device", default="cpu")
    return parser


def sampling_settings(args: argparse.Namespace, defaults: dict) -> dict:
    """``generate`` keyword arguments: the command line over ``generation_config.json``."""
    if args.temperature is not None and args.temperature < 0:
        raise ValueError(f"--temperature {args.temperature}: expected 0 (greedy) or more")
    if args.temperature is None:
        do_sample = bool(defaults.get("do_sample", False))
        temperature = defaults.get("temperature", 1.0)
    else:
        do_sample, temperature = args.temperature > 0, args.temperature or 1.0
    chosen = {"top_k": args.top_k, "top_p": args.top_p, "min_p": args.min_p,
              "repetition_penalty": args.repetition_penalty}
    settings = {key: value if value is not None else defaults.get(key)
                for key, value in chosen.items()}
    return {"do_sample": do_sample, "temperature": temperature,
            **{key: value for key, value in settings.items() if value is not None}}


def stop_ids(model_eos, generation_eos, tokenizer: Tokenizer) -> list[int]:
    """Every id that ends a turn: the model config's, generation_config's, the tokenizer's."""
    ids: set[int] = set()
    for value in (model_eos, generation_eos, tokenizer.eos_token_id):
        if value is not None:
            ids.update([value] if isinstance(value, int) else value)
    return sorted(ids)


def prompt_ids(tokenizer: Tokenizer, prompt: str, system: str | None, raw: bool) -> list[int]:
    """The prompt's ids: through the chat template (with the assistant header) unless ``raw``
    or the tokenizer has none."""
    if raw or tokenizer.chat_template is None:
        return tokenizer.encode(prompt)
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}]
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=False)


def main(argv: list[str] | None = None) -> str:
    """Run the command line; returns the generated text (also written to stdout)."""
    args = _parser().parse_args(argv)
    if args.max_new_tokens < 0:
        raise SystemExit(f"--max-new-tokens {args.max_new_tokens}: expected 0 or more")
    config_file = args.model / GENERATION_CONFIG
    defaults = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
    tokenizer = Tokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=getattr(genesis, args.dtype),
                                                 device=args.device)
    genesis.manual_seed(args.seed)
    ids = prompt_ids(tokenizer, args.prompt, args.system, args.raw)
    streamer = TextStreamer(tokenizer)
    start = time.perf_counter()
    out = model.generate(genesis.tensor([ids], device=args.device),
                         max_new_tokens=args.max_new_tokens,
                         eos_token_id=stop_ids(model.config.eos_token_id,
                                               defaults.get("eos_token_id"), tokenizer),
                         pad_token_id=tokenizer.pad_token_id, streamer=streamer,
                         **sampling_settings(args, defaults))
    streamer.end()
    seconds = time.perf_counter() - start
    new = out.shape[1] - len(ids)
    print(f"[{len(ids)} prompt tokens, {new} new in {seconds:.2f} s: "
          f"{new / seconds:.1f} tokens/s]", file=sys.stderr)
    return streamer.text


if __name__ == "__main__":
    main()
