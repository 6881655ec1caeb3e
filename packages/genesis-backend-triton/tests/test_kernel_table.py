"""The Triton kernels dispatch exactly the primitive ops the protocol lists.

Each jitted dispatcher names every op it handles as a literal (``OP == "neg"``, the last one
in a ``tl.static_assert``); this reads them off the kernel source, so the check follows the
code that runs, not a list kept beside it.
"""

from __future__ import annotations

import ast
import inspect

from genesis.backends import protocol
from genesis_backend_triton.kernels import opmath, random, reduction, scan

#: ops the dispatchers also serve for the fused kernels (not part of the primitive contract)
FUSED_UNARY = {"copy", "gelu", "gelu_tanh", "silu"}
FUSED_BINARY = {"gelu_backward", "gelu_tanh_backward", "silu_backward"}


def dispatched(module, function: str, param: str) -> set:
    """The string literals compared with ``param`` in ``function`` of ``module``."""
    tree = ast.parse(inspect.getsource(module))
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    return {node.comparators[0].value for node in ast.walk(fn)
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name)
            and node.left.id == param and isinstance(node.comparators[0], ast.Constant)}


def test_unary_dispatch_is_the_protocol():
    assert dispatched(opmath, "unary_op", "OP") - FUSED_UNARY == set(protocol.UNARY_OPS)


def test_binary_dispatch_is_the_protocol():
    assert dispatched(opmath, "binary_op", "OP") - FUSED_BINARY == set(protocol.BINARY_OPS)


def test_reduce_dispatch_is_the_protocol():
    assert dispatched(reduction, "_combine", "OP") == set(protocol.REDUCE_OPS)
    assert dispatched(reduction, "arg_reduce_kernel", "OP") == set(protocol.ARG_REDUCE_OPS)


def test_scan_dispatch_is_the_protocol():
    assert dispatched(scan, "scan_kernel", "OP") == set(protocol.SCAN_OPS)


def test_random_dispatch_is_the_protocol():
    assert dispatched(random, "random_kernel", "DIST") == set(protocol.RANDOM_DISTRIBUTIONS)


def test_backend_has_every_kernel():
    import genesis
    backend = genesis.device("cuda").backend
    assert all(callable(getattr(backend, name)) for name in protocol.KERNELS)
