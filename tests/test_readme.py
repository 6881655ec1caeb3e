"""The README's Python examples run as written (the plugin-authoring sketches excepted:
they name a backend class the reader writes; the data-parallel one runs on 2 MPI ranks in
tests/distributed/test_distributed_readme.py)."""

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    return [b for b in blocks if "MyDeviceBackend" not in b and '"mydevice"' not in b
            and "init_process_group" not in b]


def test_readme_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the tour writes ckpt.safetensors
    blocks = python_blocks()
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    out = capsys.readouterr().out
    assert "step 9" in out and "lr " in out
    assert (tmp_path / "ckpt.safetensors").exists()
