"""Every differentiable op passes a float64 finite-difference gradcheck (small shapes)."""

from __future__ import annotations

import genesis
import numpy as np
import pytest
from genesis.autograd import gradcheck

IDX = [[0, 2], [1, 1]]

# name -> (fn, input shapes, (low, high)); inputs are float64 and require grad
OPS = {
    "add": (lambda x, y: x + y, [(2, 3), (3,)], (-1, 1)),
    "sub": (lambda x, y: x - 2 * y, [(2, 3), (2, 1)], (-1, 1)),
    "mul": (lambda x, y: x * y, [(2, 3), (2, 3)], (-1, 1)),
    "div": (lambda x, y: x / y, [(2, 3), (3,)], (0.5, 2)),
    "pow": (lambda x, y: x ** y, [(2, 3), (2, 3)], (0.5, 2)),
    "pow_scalar": (lambda x: x ** 2.5, [(2, 3)], (0.5, 2)),
    "rpow": (lambda x: 1.7 ** x, [(2, 3)], (-1, 1)),
    "neg": (lambda x: -x, [(3,)], (-1, 1)),
    "abs": (lambda x: x.abs(), [(2, 3)], (0.2, 1)),
    "exp": (lambda x: x.exp(), [(2, 3)], (-1, 1)),
    "log": (lambda x: x.log(), [(2, 3)], (0.5, 2)),
    "sqrt": (lambda x: x.sqrt(), [(2, 3)], (0.5, 2)),
    "rsqrt": (lambda x: x.rsqrt(), [(2, 3)], (0.5, 2)),
    "sin": (lambda x: x.sin(), [(2, 3)], (-2, 2)),
    "cos": (lambda x: x.cos(), [(2, 3)], (-2, 2)),
    "tanh": (lambda x: x.tanh(), [(2, 3)], (-2, 2)),
    "sigmoid": (lambda x: x.sigmoid(), [(2, 3)], (-2, 2)),
    "relu": (lambda x: x.relu(), [(2, 3)], (0.1, 1)),
    "erf": (lambda x: x.erf(), [(2, 3)], (-1, 1)),
    "square": (lambda x: x.square(), [(2, 3)], (-1, 1)),
    "maximum": (lambda x, y: genesis.maximum(x, y), [(2, 3), (2, 3)], (-1, 1)),
    "minimum": (lambda x, y: genesis.minimum(x, y), [(2, 3), (3,)], (-1, 1)),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), [(3, 3)], (-1, 1)),
    "clamp_tensor": (lambda x, lo: x.clamp(min=lo), [(2, 3), (3,)], (-1, 1)),
    "where": (lambda x, y: genesis.where(x > 0, x, y), [(2, 3), (2, 3)], (-1, 1)),
    "sum": (lambda x: x.sum(1), [(2, 3)], (-1, 1)),
    "sum_all": (lambda x: x.sum(), [(2, 3)], (-1, 1)),
    "mean": (lambda x: x.mean((0, 2), keepdim=True), [(2, 3, 2)], (-1, 1)),
    "prod": (lambda x: x.prod(1), [(2, 3)], (0.5, 2)),
    "amax": (lambda x: x.amax(0), [(3, 2)], (-1, 1)),
    "amin": (lambda x: x.amin(-1), [(3, 2)], (-1, 1)),
    "max_dim": (lambda x: x.max(1).values, [(3, 4)], (-1, 1)),
    "min_all": (lambda x: x.min(), [(3, 4)], (-1, 1)),
    "var": (lambda x: x.var(1), [(2, 4)], (-1, 1)),
    "std": (lambda x: x.std(0, correction=0), [(3, 2)], (-1, 1)),
    "logsumexp": (lambda x: x.logsumexp(1), [(2, 3)], (-1, 1)),
    "matmul": (lambda a, b: a @ b, [(2, 3), (3, 2)], (-1, 1)),
    "matmul_batched": (lambda a, b: a @ b, [(2, 2, 3), (3,)], (-1, 1)),
    "bmm": (lambda a, b: genesis.bmm(a, b), [(2, 2, 3), (2, 3, 2)], (-1, 1)),
    "reshape": (lambda x: x.reshape(3, 2) * genesis.arange(6.0).reshape(3, 2), [(2, 3)],
                (-1, 1)),
    "transpose": (lambda x: x.transpose(0, 1).exp(), [(2, 3)], (-1, 1)),
    "permute": (lambda x: x.permute(2, 0, 1).sin(), [(2, 3, 2)], (-1, 1)),
    "expand": (lambda x: x.expand(3, 2, 3), [(2, 1)], (-1, 1)),
    "squeeze_unsqueeze": (lambda x: x.unsqueeze(0).squeeze(2), [(2, 1)], (-1, 1)),
    "flatten": (lambda x: x.flatten().exp(), [(2, 2)], (-1, 1)),
    "narrow": (lambda x: x.narrow(1, 1, 2), [(2, 4)], (-1, 1)),
    "getitem_basic": (lambda x: x[1:, ::2], [(3, 4)], (-1, 1)),
    "getitem_advanced": (lambda x: x[genesis.tensor([0, 2, 0])], [(3, 2)], (-1, 1)),
    "getitem_mask": (lambda x: x[x > 0], [(3, 3)], (-1, 1)),
    "cat": (lambda x, y: genesis.cat([x, y], 1), [(2, 2), (2, 3)], (-1, 1)),
    "stack": (lambda x, y: genesis.stack([x, y]), [(2, 2), (2, 2)], (-1, 1)),
    "split": (lambda x: x.split(1)[1] * x.split(1)[0], [(2, 3)], (-1, 1)),
    "chunk_unbind": (lambda x: x.chunk(2, 1)[0] + x.unbind(1)[2].unsqueeze(1), [(2, 4)],
                     (-1, 1)),
    "gather": (lambda x: x.gather(1, genesis.tensor(IDX)), [(2, 3)], (-1, 1)),
    "scatter": (lambda x, s: x.scatter(1, genesis.tensor([[0, 2], [1, 0]]), s),
                [(2, 3), (2, 2)], (-1, 1)),
    "scatter_add": (lambda x, s: x.scatter_add(1, genesis.tensor(IDX), s), [(2, 3), (2, 2)],
                    (-1, 1)),
    "index_select": (lambda x: x.index_select(0, genesis.tensor([2, 0, 2])), [(3, 2)], (-1, 1)),
    "masked_fill": (lambda x: x.masked_fill(x > 0, 0.5), [(2, 3)], (-1, 1)),
    "clone_contiguous": (lambda x: x.T.contiguous().clone(), [(2, 3)], (-1, 1)),
    "setitem": (lambda x, v: _setitem(x, v), [(3, 3), (3,)], (-1, 1)),
    "inplace_chain": (lambda x: (x * 1).mul_(x).add_(x).clamp_(-0.5, 0.8), [(2, 3)], (-1, 1)),
    "addcmul_lerp": (lambda x, y: (x * 1).addcmul_(x, y, value=0.5).lerp_(y, 0.25),
                     [(2, 3), (2, 3)], (-1, 1)),
}


def _setitem(x, v):
    y = x * 1
    y[1] = v * 2
    y[:, 0] = v.sin()
    return y


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck(name):
    fn, shapes, (low, high) = OPS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    inputs = [genesis.tensor(rng.uniform(low, high, s), dtype=genesis.float64,
                             requires_grad=True) for s in shapes]
    assert gradcheck(fn, inputs)


def test_gradcheck_detects_a_wrong_derivative():
    class BadSquare(genesis.autograd.Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return g * self.x * 3  # should be 2

    x = genesis.tensor([0.5, -1.0], dtype=genesis.float64, requires_grad=True)
    assert not gradcheck(lambda x: BadSquare.apply(x), [x], raise_exception=False)
    with pytest.raises(AssertionError, match="gradcheck"):
        gradcheck(lambda x: BadSquare.apply(x), [x])


def test_gradcheck_requires_float64():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda x: x * 2, [genesis.ones(2, requires_grad=True)])
