"""The Python snippets of the package README run in order, as written, and say what they
claim (each asserts its own results; this checks they ran to the end)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def test_readme_snippets_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the snippets write model directories
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    out = capsys.readouterr().out
    assert "(1, 5, 300)" in out and "step [" in out
    for directory in ("tiny-llama", "tiny-adapter", "tiny-llama-tuned"):
        assert (tmp_path / directory).is_dir()
    assert (tmp_path / "tiny-llama" / "tokenizer.json").is_file()
