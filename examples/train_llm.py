"""Example 3: a small Llama trained from scratch on the Python standard library's source.

    python examples/train_llm.py                        # ~3-5 minutes on 2 CPU cores
    python examples/train_llm.py --resume runs/llm/last.safetensors
    python -m genesis.models.generate --model runs/llm/model --prompt "def " --raw

A byte-level BPE tokenizer is trained with ``tokenizers`` on the standard library
every Python installation has (nothing is downloaded); a Llama-config
``genesis.models.LlamaForCausalLM`` (grouped-query attention, rotary positions,
RMSNorm, SwiGLU) learns to continue that code with AdamW, a
cosine schedule with warmup, gradient clipping, a checkpoint at every interval
(``--resume`` continues exactly) and ``curves.png`` with the loss and LR. At the
end the model and tokenizer are saved as a Hugging Face directory (transformers
loads it; so does ``python -m genesis.models.generate``) and a sample is streamed.
``--smoke`` shrinks everything to a few seconds' run.
"""

from __future__ import annotations

import argparse
import json
import sys
import sysconfig
from pathlib import Path

import genesis
import genesis.nn as nn
import genesis.optim as optim
import numpy as np
from genesis.models import LlamaForCausalLM, ModelConfig
from genesis.models.streaming import TextStreamer
from genesis.models.tokenizer import Tokenizer

EOS = "<|endoftext|>"  # separates files; ends a sample
SMOKE = dict(steps=8, interval=4, batch_size=4, block=32, hidden=32, layers=2, heads=2,
             kv_heads=1, vocab_size=320, warmup=2, max_chars=60_000, sample_tokens=16)


def stdlib_sources(max_chars: int) -> list[str]:
    """The top-level ``*.py`` files of the standard library, in name order, up to
    ``max_chars`` characters in all."""
    root = Path(sysconfig.get_paths()["stdlib"])
    texts, total = [], 0
    for path in sorted(root.glob("*.py")):
        if total >= max_chars:
            break
        text = path.read_text(encoding="utf-8", errors="replace")[: max_chars - total]
        texts.append(text)
        total += len(text)
    return texts


def train_tokenizer(texts: list[str], vocab_size: int) -> Tokenizer:
    """A byte-level BPE (GPT-2's scheme: any text encodes, no unknown token) with ``EOS``."""
    from tokenizers import Tokenizer as BPETokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers

    bpe = BPETokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    bpe.train_from_iterator(texts, trainer)
    return Tokenizer(bpe, {"eos_token": EOS, "pad_token": EOS, "model_max_length": 1 << 20})


def encode_corpus(tokenizer: Tokenizer, texts: list[str]) -> np.ndarray:
    """All files as one stream of ids, each followed by ``EOS``."""
    rows = tokenizer(texts)["input_ids"]
    return np.concatenate([np.array(row + [tokenizer.eos_token_id]) for row in rows])


def build_model(args: argparse.Namespace, vocab_size: int, eos_id: int) -> LlamaForCausalLM:
    config = ModelConfig.from_dict({
        "model_type": "llama", "vocab_size": vocab_size, "hidden_size": args.hidden,
        "intermediate_size": 8 * args.hidden // 3 // 32 * 32 or 32,
        "num_hidden_layers": args.layers, "num_attention_heads": args.heads,
        "num_key_value_heads": args.kv_heads, "max_position_embeddings": args.block,
        "tie_word_embeddings": False, "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
        "initializer_range": 0.02,  # N(0, 0.02) weights, as transformers starts a Llama
        # no pad id: nothing is padded in training, and an Embedding's padding row never learns
        "bos_token_id": None, "eos_token_id": eos_id, "pad_token_id": None,
    })
    return LlamaForCausalLM(config)


def random_batch(data: np.ndarray, block: int, size: int) -> genesis.Tensor:
    """``size`` windows of ``block`` tokens at positions drawn from Genesis's generator (so
    its state in the checkpoint is all a resumed run needs)."""
    starts = genesis.randint(0, len(data) - block, (size,)).tolist()
    return genesis.tensor(np.stack([data[s : s + block] for s in starts]))


def validation_loss(model: LlamaForCausalLM, data: np.ndarray, block: int, size: int) -> float:
    """Mean loss over ``size`` windows spread evenly over the held-out tokens."""
    starts = np.linspace(0, len(data) - block, size).astype(int)
    x = genesis.tensor(np.stack([data[s : s + block] for s in starts]))
    model.eval()
    with genesis.no_grad():
        return model(x, labels=x).loss.item()


def plot(history: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_lr, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.6))
    ax_lr.plot(history["lr"])
    ax_lr.set(title="learning rate", xlabel="step")
    ax_loss.plot(history["eval_step"], history["loss"], marker="o", label="train (running mean)")
    ax_loss.plot(history["eval_step"], history["val_loss"], marker="o", label="validation")
    ax_loss.set(title="loss", xlabel="step", yscale="log")
    ax_loss.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_model_directory(model: LlamaForCausalLM, tokenizer: Tokenizer, path: Path) -> None:
    """A Hugging Face directory: weights, config, tokenizer and sampling defaults."""
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    settings = {"do_sample": True, "temperature": 0.8, "top_k": 50,
                "eos_token_id": tokenizer.eos_token_id}
    (path / "generation_config.json").write_text(json.dumps(settings, indent=2) + "\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--block", type=int, default=128, help="tokens per training window")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=2)
    parser.add_argument("--vocab-size", type=int, default=2048)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--interval", type=int, default=50)
    parser.add_argument("--max-chars", type=int, default=2_000_000)
    parser.add_argument("--sample-tokens", type=int, default=120)
    parser.add_argument("--prompt", default="def ")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", type=Path, default=Path("runs/llm"))
    parser.add_argument("--resume", type=Path, default=None)
    parser.add_argument("--stop-after", type=int, default=None,
                        help="stop after this many steps of this invocation (to test resume)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny model, corpus and step count (seconds); other flags override")
    smoke, _ = parser.parse_known_args(argv)
    if smoke.smoke:
        parser.set_defaults(**SMOKE)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    genesis.manual_seed(args.seed)
    texts = stdlib_sources(args.max_chars)
    state = genesis.load_checkpoint(args.resume) if args.resume is not None else None
    if state is None:
        tokenizer = train_tokenizer(texts, args.vocab_size)
    else:  # the very tokenizer the checkpoint was trained with
        from tokenizers import Tokenizer as BPETokenizer

        tokenizer = Tokenizer(BPETokenizer.from_str(state["tokenizer"]),
                              json.loads(state["tokenizer_config"]))
    data = encode_corpus(tokenizer, texts)
    split = int(0.95 * len(data))
    train, val = data[:split], data[split:]
    model = build_model(args, len(tokenizer), tokenizer.eos_token_id)
    optimizer = optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    scheduler = optim.get_cosine_schedule_with_warmup(
        optimizer, num_warmup_steps=args.warmup, num_training_steps=args.steps)
    history = {"eval_step": [], "loss": [], "val_loss": [], "lr": []}
    step, running = 0, None
    if state is not None:
        model.load_state_dict(state["model_state_dict"])
        optimizer.load_state_dict(state["optimizer_state_dict"])
        scheduler.load_state_dict(state["scheduler_state_dict"])
        genesis.set_rng_state(state["rng_state"])
        history, step, running = state["history"], state["step"], state["running_loss"]
        print(f"resumed from {args.resume} at step {step}")

    n_params = sum(p.numel() for p in model.parameters())
    print(f"{sum(map(len, texts)):,} characters of stdlib source in {len(texts)} files -> "
          f"{len(data):,} tokens (vocabulary {len(tokenizer)}); model {n_params:,} parameters; "
          f"{args.steps} steps of {args.batch_size} x {args.block} tokens")
    args.run_dir.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    bar = tqdm(total=args.steps, initial=step, disable=args.no_progress, file=sys.stdout,
               desc="training")
    last = args.steps if args.stop_after is None else min(args.steps, step + args.stop_after)
    while step < last:
        model.train()
        x = random_batch(train, args.block, args.batch_size)
        loss = model(x, labels=x).loss
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        history["lr"].append(scheduler.get_last_lr()[0])
        scheduler.step()
        step += 1
        running = loss.item() if running is None else 0.9 * running + 0.1 * loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{running:.3f}", lr=f"{scheduler.get_last_lr():.2e}")
        if step % args.interval == 0 or step == args.steps:
            vloss = validation_loss(model, val, args.block, args.batch_size)
            history["eval_step"].append(step)
            history["loss"].append(running)
            history["val_loss"].append(vloss)
            bar.write(f"step {step:5d}  train loss {running:.4f}  val loss {vloss:.4f}  "
                      f"lr {scheduler.get_last_lr():.2e}")
            genesis.save_checkpoint({
                "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "scheduler_state_dict": scheduler.state_dict(),
                "rng_state": genesis.get_rng_state(),
                "step": step,
                "running_loss": running,
                "history": history,
                "tokenizer": tokenizer.backend.to_str(),
                "tokenizer_config": json.dumps(tokenizer.config),
            }, args.run_dir / "last.safetensors")
    bar.close()
    plot(history, args.run_dir / "curves.png")
    save_model_directory(model, tokenizer, args.run_dir / "model")

    print(f"---- sample (temperature 0.8, top-k 50) ----\n{args.prompt}", end="")
    genesis.manual_seed(args.seed)
    streamer = TextStreamer(tokenizer)
    model.eval()
    model.generate(genesis.tensor([tokenizer.encode(args.prompt)]), do_sample=True,
                   temperature=0.8, top_k=50, max_new_tokens=args.sample_tokens,
                   eos_token_id=tokenizer.eos_token_id, streamer=streamer)
    streamer.end()
    print(f"--------------------------------------------\nmodel, tokenizer and curves.png in "
          f"{args.run_dir}")
    history["sample"] = args.prompt + streamer.text
    return history


if __name__ == "__main__":
    main()
