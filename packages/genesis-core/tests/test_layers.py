"""Imports follow the layer order documented in ``genesis/__init__.py``.

The docstring lists the layers bottom up; a module may import only from its own layer or the
ones listed before it. Every import counts, also inside functions (a function-level import
only hides an upward dependency); imports under ``if TYPE_CHECKING:`` are type hints only.
"""

from __future__ import annotations

import ast
import pathlib

import genesis
import pytest

SRC = pathlib.Path(genesis.__file__).parent
ROOT = SRC.parent


def documented_layers() -> list:
    """The dotted names listed in the package docstring, bottom layer first."""
    doc = ast.get_docstring(ast.parse((SRC / "__init__.py").read_text()))
    return [line.split()[0] for line in doc.splitlines()
            if line.startswith("    genesis")]


LAYERS = documented_layers()


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    rel = pathlib.Path(*dotted.split("."))
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


def layer_of(dotted: str) -> int | None:
    """Index of the longest listed prefix of ``dotted`` (None if no line covers it); a package
    whose modules are listed one by one (``genesis._ops``) sits with the lowest of them; the
    package root (``import genesis``: all of it) counts as the top layer."""
    if dotted == "genesis":
        return len(LAYERS) - 1
    children = [i for i, name in enumerate(LAYERS) if name.startswith(dotted + ".")]
    if children:
        return min(children)
    best = None
    for i, name in enumerate(LAYERS):
        if (dotted == name or dotted.startswith(name + ".")) and \
                (best is None or len(name) > len(LAYERS[best])):
            best = i
    return best


def _type_checking_blocks(tree: ast.AST) -> set:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def imported_modules(path: pathlib.Path) -> list:
    """The genesis modules a file imports (``from genesis import _dtype`` is genesis._dtype)."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_blocks(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "genesis"]
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split(".")[0] == "genesis" and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.append(sub if is_module(sub) else node.module)
    return found


SOURCES = sorted(p for p in SRC.rglob("*.py") if p != SRC / "__init__.py")


def test_the_docstring_lists_layers():
    assert len(LAYERS) > 10 and LAYERS[0] == "genesis._dtype"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_imports_follow_the_documented_layers(path):
    name = module_name(path)
    own = layer_of(name)
    assert own is not None, f"{name} is not covered by a line of the layer list in " \
                            "genesis/__init__.py: add it where it belongs"
    upward = []
    for target in imported_modules(path):
        level = layer_of(target)
        if level is None or level > own:
            upward.append(f"{target} (layer {LAYERS[level] if level is not None else '?'})")
    assert not upward, f"{name} (layer {LAYERS[own]}) imports upward: {upward}"


def test_the_check_sees_function_level_imports(tmp_path):
    src = tmp_path / "genesis" / "_ops"
    src.mkdir(parents=True)
    (src / "x.py").write_text("def f():\n    from genesis._ops.tensor_methods import bind\n")
    assert imported_modules(src / "x.py") == ["genesis._ops.tensor_methods"]
