"""In-place writes and autograd, compared with PyTorch: gradients flow to the value a node
saw, and a saved tensor written in place afterwards raises PyTorch's error."""

import genesis
import numpy as np
import pytest
import torch

SCENARIOS = {
    # name: (program, PyTorch's outcome is an error)
    "exp_then_write_input": (lambda lib, a: (a.exp(), a.add_(1))[0].sum(), False),
    "mul_then_write_input": (lambda lib, a: (a * a, a.add_(1))[0].sum(), True),
    "sigmoid_then_write_output": (lambda lib, a: _write(a.sigmoid()).sum(), True),
    "setitem_from_itself": (lambda lib, a: _setitem_from_itself(a), False),
    "write_through_detached_alias": (lambda lib, a: (a * a, a.detach().add_(1))[0].sum(), True),
    "write_unsaved_input": (lambda lib, a: (a + 1, a.mul_(3))[0].sum() * 1, False),
    "inplace_then_use": (lambda lib, a: (a.mul_(3) * a).sum(), False),
    "relu_inplace_chain": (lambda lib, a: (a.relu_() * 2).sum(), False),
}


def _write(t):
    t.mul_(2)
    return t


def _setitem_from_itself(a):
    a[1:] = a[:2] * 1
    return (a * a).sum()


def run(lib, program):
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    out = program(lib, x * 2)
    out.backward()
    return x.grad.numpy()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_inplace_autograd_matches_torch(name):
    program, torch_raises = SCENARIOS[name]
    if torch_raises:
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            run(torch, program)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            run(genesis, program)
    else:
        np.testing.assert_allclose(run(genesis, program), run(torch, program), rtol=1e-6)
