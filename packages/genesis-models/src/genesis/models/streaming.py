"""``TextStreamer``: turns the token ids ``generate`` produces into text as they arrive.

Decoding token by token goes wrong twice: a byte-level BPE token can hold half of a
UTF-8 character (it decodes to U+FFFD until the rest arrives), and decoders that
join tokens with context (spaces, merges) give different text for a token alone
than in its sequence. So the streamer decodes the ids since the last line break
as one sequence, writes what is new, and holds back a trailing incomplete character.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from genesis.models.tokenizer import Tokenizer

_INCOMPLETE = "\ufffd"  # what a decoder gives for bytes that do not yet form a character


class TextStreamer:
    """A ``streamer`` for ``model.generate``: writes the decoded text of one row to ``file``.

    ``generate`` calls it with the list of new ids (one per row; batch size 1 here);
    :meth:`end` writes what is still held back and a final newline.

    >>> streamer = TextStreamer(tokenizer)                            # doctest: +SKIP
    >>> model.generate(ids, max_new_tokens=64, streamer=streamer)     # doctest: +SKIP
    >>> streamer.end()                                                # doctest: +SKIP
    """

    def __init__(self, tokenizer: Tokenizer, skip_special_tokens: bool = True,
                 file: TextIO | None = None) -> None:
        self.tokenizer = tokenizer
        self.skip_special_tokens = skip_special_tokens
        self.file = file if file is not None else sys.stdout
        self.text = ""  # everything written so far
        self._pending: list[int] = []  # ids since the last line break
        self._written = 0  # characters of the pending ids' text already written

    def __call__(self, new_ids: Sequence[int]) -> None:
        if len(new_ids) != 1:
            raise ValueError(f"TextStreamer: got {len(new_ids)} ids at once ({list(new_ids)}); "
                             "it streams one row: generate with batch size 1")
        self._pending.append(int(new_ids[0]))
        text = self.tokenizer.decode(self._pending, skip_special_tokens=self.skip_special_tokens)
        if text.endswith(_INCOMPLETE):
            return
        self._write(text[self._written:])
        if text.endswith("\n"):
            self._pending, self._written = [], 0
        else:
            self._written = len(text)

    def end(self) -> None:
        """Write the rest (an incomplete character as U+FFFD) and a newline (not part of
        :attr:`text`)."""
        text = self.tokenizer.decode(self._pending, skip_special_tokens=self.skip_special_tokens)
        self._write(text[self._written:])
        self._pending, self._written = [], 0
        self.file.write("\n")
        self.file.flush()

    def _write(self, chunk: str) -> None:
        if chunk:
            self.text += chunk
            self.file.write(chunk)
            self.file.flush()
