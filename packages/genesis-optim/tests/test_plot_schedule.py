"""plot_schedule (PNG via matplotlib) and format_schedule (ASCII)."""

from __future__ import annotations

import builtins
import io

import genesis.optim as optim  # noqa: PLR0402
import pytest
from _torch_compare import make_optimizer
from genesis.optim.schedule_plot import (
    format_schedule,
    plot_schedule,
    plot_schedule_text,
)


def test_plot_schedule_writes_png(tmp_path):
    s = optim.get_cosine_schedule_with_warmup(make_optimizer(), 5, 50)
    path = tmp_path / "lr.png"
    fig = plot_schedule(s, 50, str(path), log_scale=False)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes[0].lines) == 3 and s.last_epoch == 0


def test_plot_schedule_without_matplotlib(monkeypatch):
    real_import = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"`pip install matplotlib` .*"
                                          r"`pip install \"./packages/genesis-optim\[plot\]\"` "
                                          r"from a checkout"):
        plot_schedule(optim.StepLR(make_optimizer(), 3), 10)


def test_format_schedule_ascii():
    s = optim.OneCycleLR(make_optimizer(), 1.0, total_steps=40)
    text = format_schedule(s, 40, width=40, height=8)
    lines = text.splitlines()
    assert lines[0].startswith("OneCycleLR, group 0, steps 0..39")
    assert len(lines) == 1 + 8 + 2 and lines[1].lstrip().startswith("1.000e+00 |")
    assert all(line.count("*") <= 40 for line in lines[1:9])
    assert sum(line.count("*") for line in lines) == 40
    buf = io.StringIO()
    plot_schedule_text(s, 40, file=buf, width=40, height=8)
    assert buf.getvalue().rstrip("\n") == text
    with pytest.raises(ValueError, match=r"group must be in \[0, 2\], got 5"):
        format_schedule(s, 40, group=5)


def test_format_schedule_plateau_with_metrics():
    s = optim.ReduceLROnPlateau(make_optimizer(), patience=0)
    text = format_schedule(s, 6, metrics=[3, 3, 3, 3, 3], width=6, height=3)
    assert "1.000e-01" in text and "1.000e-05" in text
