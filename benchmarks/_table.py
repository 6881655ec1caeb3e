"""Text of a benchmark row, one way for the console and for the README.

A row is the dict the harness records (see ``_harness.measure``): per-call seconds of each
side as ``{"median", "min", "max"}`` over repetitions, the ratio Genesis / PyTorch likewise,
the PyTorch option that won, a target, a note and, for a row measured elsewhere, an
``extra`` remark shown after the note. Pure Python: the README test imports it
without numpy, torch or Genesis.
"""

from __future__ import annotations

HEADER = ("benchmark", "Genesis", "PyTorch (fastest option)", "ratio", "target", "note")


def between_markers(text: str, start: str, end: str, body: str) -> str:
    """``text`` with what lies between the markers ``start`` and ``end`` replaced by
    ``body`` (a generated README table); each marker must occur exactly once."""
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f"README must hold the markers {start!r} and {end!r} once each")
    head, rest = text.split(start)
    _, tail = rest.split(end)
    return f"{head}{start}\n{body}\n{end}{tail}"


def number_text(x: float) -> str:
    """Three significant digits without exponents: 1491, 19.1, 0.72."""
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def time_unit(seconds: float) -> tuple[float, str]:
    """The unit a time reads best in: s, ms or µs."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms")):
        if seconds >= scale:
            return scale, unit
    return 1e-6, "µs"


def side_text(spread: dict, megabytes: float | None) -> str:
    """Median (min–max) per call, in the median's unit; or as MB/s for a row that moves
    ``megabytes`` per call (the fastest call is the highest throughput)."""
    if megabytes is None:
        scale, unit = time_unit(spread["median"])
        shown = [number_text(spread[k] / scale) for k in ("median", "min", "max")]
        return f"{shown[0]} {unit} ({shown[1]}–{shown[2]})"
    shown = [number_text(megabytes / spread[k]) for k in ("median", "max", "min")]
    return f"{shown[0]} MB/s ({shown[1]}–{shown[2]})"


def ratio_text(spread: dict) -> str:
    return f"{spread['median']:.2f} ({spread['min']:.2f}–{spread['max']:.2f})"


def target_text(target: float | None, ratio: float) -> str:
    if target is None:
        return ""
    return f"≤ {target:g}" + (" (missed)" if ratio > target else "")


def cells(row: dict) -> tuple[str, ...]:
    torch = side_text(row["torch_s"], row["megabytes"])
    if row["torch_option"]:
        torch += f", {row['torch_option']}"
    return (row["name"], side_text(row["genesis_s"], row["megabytes"]), torch,
            ratio_text(row["ratio"]), target_text(row["target"], row["ratio"]["median"]),
            "; ".join(filter(None, (row["note"], row.get("extra", "")))))


def markdown_table(sections: list[dict], rows: list[dict]) -> str:
    """One table, a bold line opening each benchmark module's rows."""
    lines = ["| " + " | ".join(HEADER) + " |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for section in sections:
        lines.append(f"| **{section['title']}** |" + " |" * (len(HEADER) - 1))
        lines += ["| " + " | ".join(cells(row)) + " |"
                  for row in rows if row["module"] == section["module"]]
    return "\n".join(lines)


def console_table(rows: list[dict]) -> str:
    table = [HEADER, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
                     for line in table)
