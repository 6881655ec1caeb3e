"""``Tokenizer``: a Hugging Face ``tokenizer.json`` with its special tokens and chat template.

The text-to-ids work is done by the ``tokenizers`` library (the same Rust code
transformers' fast tokenizers run); this module adds what a model directory's
``tokenizer_config.json`` says around it: the bos/eos/pad/unk tokens, the padding
side, and the Jinja chat template, rendered the way transformers renders it
(sandboxed, ``trim_blocks`` and ``lstrip_blocks``, loop controls, ``raise_exception``,
``strftime_now`` and a ``tojson`` that does not escape HTML).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_FILE = "special_tokens_map.json"
CHAT_TEMPLATE_FILE = "chat_template.jinja"
SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "pad_token")

Conversation = Sequence[dict[str, Any]]


def _token_content(value) -> str | None:
    """A special token as written in tokenizer_config.json: a string or an AddedToken dict."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    raise ValueError(f"special token {value!r}: expected a string or a dict with 'content'")


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _default_template(template: str | list | None) -> str | None:
    """A config's ``chat_template``: a string, or a list of named templates of which
    ``default`` is the one used."""
    if isinstance(template, list):
        return {entry["name"]: entry["template"] for entry in template}.get("default")
    return template


def _chat_template_from(config: dict, directory: Path) -> str | None:
    """The template from ``chat_template.jinja`` when present, else the config's."""
    if (directory / CHAT_TEMPLATE_FILE).is_file():
        return (directory / CHAT_TEMPLATE_FILE).read_text(encoding="utf-8")
    return _default_template(config.get("chat_template"))


@functools.lru_cache(maxsize=16)
def _compile_chat_template(source: str):
    import jinja2
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False) -> str:
        # Jinja's own tojson escapes <, >, & and ' for HTML; chat templates want plain JSON
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(source)


class Tokenizer:
    """A ``tokenizers.Tokenizer`` plus the special tokens and chat template of a model.

    Build it with :meth:`from_pretrained` from a Hugging Face model directory (or its
    ``tokenizer.json``), or directly from a ``tokenizers.Tokenizer`` and a config dict
    shaped like ``tokenizer_config.json``.

    >>> tok = Tokenizer.from_pretrained("path/to/Qwen2.5-0.5B-Instruct")  # doctest: +SKIP
    >>> chat = [{"role": "user", "content": "Hi"}]
    >>> ids = tok.apply_chat_template(chat, add_generation_prompt=True,
    ...                               return_dict=False)  # doctest: +SKIP
    >>> tok.decode(ids)  # doctest: +SKIP
    '<|im_start|>system\\nYou are Qwen...<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'
    """

    def __init__(self, tokenizer, config: dict | None = None) -> None:
        config = dict(config or {})
        self.backend = tokenizer
        self.config = config
        self.chat_template: str | None = _default_template(config.get("chat_template"))
        self.padding_side = self._side(config.get("padding_side", "right"), "padding_side")
        self.truncation_side = self._side(config.get("truncation_side", "right"),
                                          "truncation_side")
        self.model_max_length = config.get("model_max_length")
        self._special = {name: _token_content(config.get(name)) for name in SPECIAL_TOKEN_NAMES}

    @classmethod
    def from_pretrained(cls, path: str | Path) -> Tokenizer:
        """Load ``tokenizer.json`` from the directory ``path`` (or ``path`` itself when it is that
        file), with ``tokenizer_config.json``, ``special_tokens_map.json`` and
        ``chat_template.jinja`` from the same directory when they exist."""
        from tokenizers import Tokenizer as RustTokenizer

        path = Path(path)
        file = path if path.is_file() else path / TOKENIZER_FILE
        if not file.is_file():
            raise FileNotFoundError(
                f"Tokenizer.from_pretrained: path={str(path)!r} has no {TOKENIZER_FILE}; expected "
                f"a Hugging Face model directory holding {TOKENIZER_FILE} (and optionally "
                f"{CONFIG_FILE}) or the path of a {TOKENIZER_FILE} file")
        directory = file.parent
        config = {**_read_json(directory / SPECIAL_TOKENS_FILE),
                  **_read_json(directory / CONFIG_FILE)}
        config["chat_template"] = _chat_template_from(config, directory)
        return cls(RustTokenizer.from_file(str(file)), config)

    def save_pretrained(self, directory: str | Path) -> None:
        """Write ``tokenizer.json`` and ``tokenizer_config.json`` (special tokens, padding side,
        chat template) into ``directory``, which transformers' ``AutoTokenizer`` loads."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.backend.save(str(directory / TOKENIZER_FILE))
        config = {k: v for k, v in self.config.items() if k not in SPECIAL_TOKEN_NAMES}
        config.update({name: token for name, token in self._special.items() if token is not None})
        config.update(padding_side=self.padding_side, truncation_side=self.truncation_side,
                      chat_template=self.chat_template)
        config.setdefault("tokenizer_class", "PreTrainedTokenizerFast")
        if config["chat_template"] is None:
            del config["chat_template"]
        text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
        (directory / CONFIG_FILE).write_text(text, encoding="utf-8")

    @staticmethod
    def _side(value, name: str) -> str:
        if value not in ("left", "right"):
            raise ValueError(f"Tokenizer: {name}={value!r}, expected 'left' or 'right'")
        return value

    # ---- vocabulary and special tokens -------------------------------------------------------

    def __len__(self) -> int:
        """The full vocabulary, added tokens included."""
        return self.backend.get_vocab_size(with_added_tokens=True)

    @property
    def vocab_size(self) -> int:
        """The base vocabulary, without added tokens (as transformers counts it)."""
        return self.backend.get_vocab_size(with_added_tokens=False)

    def get_vocab(self) -> dict[str, int]:
        return self.backend.get_vocab(with_added_tokens=True)

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | None | list[int | None]:
        if isinstance(tokens, str):
            return self.backend.token_to_id(tokens)
        return [self.backend.token_to_id(token) for token in tokens]

    def convert_ids_to_tokens(self, ids: int | Sequence[int]) -> str | None | list[str | None]:
        if isinstance(ids, (int, np.integer)):
            return self.backend.id_to_token(int(ids))
        return [self.backend.id_to_token(int(i)) for i in ids]

    @property
    def special_tokens_map(self) -> dict[str, str]:
        """The special tokens that are set, by name (``bos_token`` ...); chat templates see them."""
        return {name: token for name, token in self._special.items() if token is not None}

    bos_token = property(lambda self: self._special["bos_token"])
    eos_token = property(lambda self: self._special["eos_token"])
    unk_token = property(lambda self: self._special["unk_token"])
    pad_token = property(lambda self: self._special["pad_token"])
    bos_token_id = property(lambda self: self._special_id("bos_token"))
    eos_token_id = property(lambda self: self._special_id("eos_token"))
    unk_token_id = property(lambda self: self._special_id("unk_token"))
    pad_token_id = property(lambda self: self._special_id("pad_token"))

    def _special_id(self, name: str) -> int | None:
        token = self._special[name]
        return None if token is None else self.backend.token_to_id(token)

    @property
    def all_special_ids(self) -> list[int]:
        """Ids of every special added token (those ``skip_special_tokens`` drops)."""
        added = self.backend.get_added_tokens_decoder()
        return sorted(i for i, token in added.items() if token.special)

    # ---- encoding and decoding ---------------------------------------------------------------

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """The ids of ``text``, with the post-processor's special tokens (e.g. BOS) when
        ``add_special_tokens``."""
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer.encode: text={text!r}, expected a str")
        return self.backend.encode(text, add_special_tokens=add_special_tokens).ids

    def decode(self, token_ids, skip_special_tokens: bool = False) -> str:
        """The text of ``token_ids`` (a list of ints, a 1-D numpy array or a 1-D tensor).

        Special tokens are kept unless ``skip_special_tokens``, as in transformers (the
        ``tokenizers`` library itself skips them by default)."""
        return self.backend.decode(_id_list(token_ids, "token_ids"),
                                   skip_special_tokens=skip_special_tokens)

    def batch_decode(self, sequences, skip_special_tokens: bool = False) -> list[str]:
        """:meth:`decode` of each row of ``sequences`` (a list of lists, a 2-D array or tensor)."""
        rows = sequences.tolist() if hasattr(sequences, "tolist") else sequences
        return [self.decode(row, skip_special_tokens=skip_special_tokens) for row in rows]

    def __call__(self, text: str | Sequence[str], add_special_tokens: bool = True,
                 padding: bool | str = False, truncation: bool = False,
                 max_length: int | None = None, padding_side: str | None = None,
                 return_tensors: str | None = None,
                 return_attention_mask: bool = True) -> dict[str, Any]:
        """Encode one text or a batch, as transformers' tokenizers do.

        Args:
            padding: ``False`` (none), ``True``/``"longest"`` (to the longest row) or
                ``"max_length"`` (to ``max_length``), with the pad token on ``padding_side``
                (default: the tokenizer's) and 0 in ``attention_mask`` there.
            truncation: cut rows longer than ``max_length`` on the ``truncation_side``.
            return_tensors: ``None`` (lists), ``"np"`` (int64 arrays) or ``"genesis"``/``"pt"``
                (int64 Genesis tensors); a single text then becomes a batch of one.

        Returns:
            a dict with ``input_ids`` and (unless ``return_attention_mask=False``)
            ``attention_mask``.
        """
        batched = not isinstance(text, str)
        texts = list(text) if batched else [text]
        if not all(isinstance(t, str) for t in texts):
            raise TypeError(f"Tokenizer: text={text!r}, expected a str or a list of str")
        encodings = self.backend.encode_batch(texts, add_special_tokens=add_special_tokens)
        rows = [encoding.ids for encoding in encodings]
        if truncation:
            rows = [self._truncate(row, max_length) for row in rows]
        masks = [[1] * len(row) for row in rows]
        if padding:
            rows, masks = self._pad(rows, masks, padding, max_length, padding_side)
        out = {"input_ids": rows, "attention_mask": masks}
        if not return_attention_mask:
            del out["attention_mask"]
        if return_tensors is not None:
            return {key: _as_tensor(value, return_tensors) for key, value in out.items()}
        return out if batched else {key: value[0] for key, value in out.items()}

    def _truncate(self, row: list[int], max_length: int | None) -> list[int]:
        if max_length is None:
            raise ValueError("Tokenizer: truncation=True needs max_length, got None")
        if len(row) <= max_length:
            return row
        return row[:max_length] if self.truncation_side == "right" else row[len(row) - max_length:]

    def _pad(self, rows, masks, padding, max_length, padding_side):
        if padding not in (True, "longest", "max_length"):
            raise ValueError(f"Tokenizer: padding={padding!r}, expected False, True, 'longest' "
                             "or 'max_length'")
        if self.pad_token_id is None:
            raise ValueError("Tokenizer: padding needs a pad token, and this tokenizer has none "
                             "(set pad_token in tokenizer_config.json)")
        side = self._side(padding_side or self.padding_side, "padding_side")
        if padding == "max_length":
            if max_length is None:
                raise ValueError("Tokenizer: padding='max_length' needs max_length, got None")
            width = max_length
        else:
            width = max(len(row) for row in rows)
        padded_rows, padded_masks = [], []
        for row, mask in zip(rows, masks):
            n = max(width - len(row), 0)
            if side == "left":
                padded_rows.append([self.pad_token_id] * n + row)
                padded_masks.append([0] * n + mask)
            else:
                padded_rows.append(row + [self.pad_token_id] * n)
                padded_masks.append(mask + [0] * n)
        return padded_rows, padded_masks

    # ---- chat ---------------------------------------------------------------------------------

    def apply_chat_template(self, conversation: Conversation | Sequence[Conversation],
                            tools: list[dict] | None = None, documents: list[dict] | None = None,
                            chat_template: str | None = None, add_generation_prompt: bool = False,
                            continue_final_message: bool = False, tokenize: bool = True,
                            padding: bool | str = False, truncation: bool = False,
                            max_length: int | None = None, return_tensors: str | None = None,
                            return_dict: bool = True,
                            **kwargs) -> str | list[str] | list[int] | dict[str, Any]:
        """Render ``conversation`` (a list of ``{"role", "content"}`` messages, or a list of such
        lists) with the chat template, as transformers' ``apply_chat_template`` does.

        The template sees ``messages``, ``tools``, ``documents``, ``add_generation_prompt``,
        the special tokens by name (``bos_token`` ...) and every extra keyword argument
        (e.g. ``enable_thinking=False``). With ``continue_final_message`` the text ends where
        the last message's content does (no end-of-turn tokens), so the model continues it.

        Returns:
            the text (``tokenize=False``); else the encoding without added special tokens, as
            the dict of :meth:`__call__` (``return_dict=True``, transformers' default) or just
            its ``input_ids``.
        """
        source = chat_template if chat_template is not None else self.chat_template
        if source is None:
            raise ValueError(
                "Tokenizer.apply_chat_template: this tokenizer has no chat_template (none in "
                f"{CONFIG_FILE} or {CHAT_TEMPLATE_FILE}); pass chat_template=")
        if continue_final_message and add_generation_prompt:
            raise ValueError("Tokenizer.apply_chat_template: continue_final_message=True and "
                             "add_generation_prompt=True contradict each other; pass one")
        template = _compile_chat_template(source)
        batched = (isinstance(conversation, (list, tuple)) and len(conversation) > 0
                   and isinstance(conversation[0], (list, tuple)))
        conversations = conversation if batched else [conversation]
        for chat in conversations:
            for message in chat:
                if not isinstance(message, dict):
                    raise TypeError(f"Tokenizer.apply_chat_template: message {message!r}, expected "
                                    "a dict with 'role' and 'content'")
        context = {**self.special_tokens_map, **kwargs, "tools": tools, "documents": documents,
                   "add_generation_prompt": add_generation_prompt}
        texts = [_render(template, chat, continue_final_message, context)
                 for chat in conversations]
        if not tokenize:
            return texts if batched else texts[0]
        out = self(texts if batched else texts[0], add_special_tokens=False, padding=padding,
                   truncation=truncation, max_length=max_length, return_tensors=return_tensors)
        return out if return_dict else out["input_ids"]


_CONTINUE_MARK = "GENESIS_CONTINUE_FINAL_MESSAGE "


def _render(template, chat: Conversation, continue_final_message: bool, context: dict) -> str:
    """One conversation through the template. To continue the final message, a mark goes
    after its content and the text is cut there; a template that trims the content trims
    the mark's trailing space too, and then the content's own trailing space is dropped, as
    transformers does."""
    messages = [{k: v for k, v in m.items() if v is not None} for m in chat]
    if not continue_final_message:
        return template.render(messages=messages, **context)
    if not messages or not isinstance(messages[-1].get("content"), str):
        raise ValueError("Tokenizer.apply_chat_template: continue_final_message=True needs a "
                         "final message with string content")
    messages[-1]["content"] += _CONTINUE_MARK
    text = template.render(messages=messages, **context)
    mark = _CONTINUE_MARK.strip()
    if mark not in text:
        raise ValueError("Tokenizer.apply_chat_template: the chat template does not render the "
                         "final message's content, so continue_final_message cannot continue it")
    at = text.rindex(mark)
    if text.startswith(_CONTINUE_MARK, at):
        return text[:at]
    return text[:at].rstrip()


def _id_list(token_ids, name: str) -> list[int]:
    if isinstance(token_ids, (int, np.integer)):
        return [int(token_ids)]
    values = token_ids.tolist() if hasattr(token_ids, "tolist") else list(token_ids)
    if any(isinstance(v, list) for v in values):
        raise ValueError(f"{name}: expected one sequence of ids, got nested lists {values!r}; "
                         "use batch_decode for a batch")
    return [int(v) for v in values]


def _as_tensor(rows: list[list[int]], kind: str):
    if len({len(row) for row in rows}) > 1:
        raise ValueError(f"Tokenizer: return_tensors={kind!r} needs rows of one length, got "
                         f"lengths {[len(row) for row in rows]}; pass padding=True")
    array = np.asarray(rows, dtype=np.int64)
    if kind == "np":
        return array
    if kind in ("genesis", "pt"):
        import genesis

        return genesis.tensor(array)
    raise ValueError(f"Tokenizer: return_tensors={kind!r}, expected None, 'np', 'genesis' or 'pt'")
