"""Parts of Genesis shipped in other distributions, and how to install them.

The Genesis packages are installed from the Genesis repository, not from the
package index (where an unrelated project uses the name ``genesis-core``), so
every hint names a path in a checkout or a ``git+`` URL, never a bare name.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["OPTIONAL_SUBPACKAGES", "import_optional", "install_hint"]

OPTIONAL_SUBPACKAGES = {"optim": "genesis-optim"}
"""``genesis.<name>`` subpackages that ship in another distribution, by distribution name."""


def install_hint(distribution: str, extra: str = "") -> str:
    """How to install ``distribution`` (a Genesis package) from the Genesis repository.

    >>> install_hint("genesis-backend-cpu")  # doctest: +ELLIPSIS
    'install it from the Genesis repository: `pip install ./packages/genesis-backend-cpu` ...'
    """
    suffix = f"[{extra}]" if extra else ""
    local = f"./packages/{distribution}{suffix}"
    local = f'"{local}"' if extra else local
    return (f"install it from the Genesis repository: `pip install {local}` from a checkout "
            f"(or `pip install '{distribution}{suffix} @ git+<repo-url>"
            f"#subdirectory=packages/{distribution}'`)")


def import_optional(name: str) -> ModuleType:
    """Import ``genesis.<name>`` from its own distribution (the PEP 562 ``genesis.__getattr__``).

    Raises:
        AttributeError: ``name`` is no attribute of genesis, or its distribution
            is not installed (the message says how to install it).
    """
    distribution = OPTIONAL_SUBPACKAGES.get(name)
    if distribution is None:
        raise AttributeError(f"module 'genesis' has no attribute {name!r}")
    try:
        return importlib.import_module(f"genesis.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"genesis.{name}":
            raise  # the package is there but something it imports is missing
        raise AttributeError(f"genesis.{name} ships in the {distribution} distribution, which is "
                             f"not installed; {install_hint(distribution)}") from exc
