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
    "relu_through_a_view_then_write_part": (
        lambda lib, a: (a.view(3).relu_()[1:].mul_(2), a)[1].sum(), True),
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


# -- in-place writes through views: the base sees them, in value and in gradient ---------

VIEW_PROGRAMS = {
    "method_on_a_column": lambda lib, h, w: (h[:, 0].mul_(3), h)[1],
    "narrow_add_from_input": lambda lib, h, w: (h.narrow(1, 1, 2).add_(w[:, :2] ** 2), h)[1],
    "view_of_a_view": lambda lib, h, w: (h.t()[1:3].mul_(w.t()[1:3]), h)[1],
    "reshape_view_then_relu_": lambda lib, h, w: (h.reshape(-1)[::2].relu_(), h)[1],
    "copy_into_a_column": lambda lib, h, w: (h[:, 2].copy_(w[:, 0] * 5), h)[1],
    "masked_fill_on_a_row": lambda lib, h, w: (h[1].masked_fill_(h[1] > 0, 0.5), h)[1],
    "setitem_on_a_view": lambda lib, h, w: (h[0].__setitem__(slice(1, 3), w[0, :2]), h)[1],
    "view_used_after_the_write": lambda lib, h, w: h[:, 1].mul_(w[:, 1]) * h[:, 1],
    "reshape_of_the_whole": lambda lib, h, w: (h.view(2, 6).mul_(w.reshape(2, 6)), h)[1],
    "whole_view_then_part": lambda lib, h, w: (h.view(12).add_(1)[3:7].mul_(2), h * w)[1],
}


def run_view_program(lib, program):
    x = lib.tensor(np.arange(-6.0, 6.0).reshape(3, 4) / 3, requires_grad=True)
    w = lib.tensor(np.linspace(-1, 2, 12).reshape(3, 4), requires_grad=True)
    out = program(lib, x * 2 + 1, w)
    (out * lib.tensor(np.arange(out.numel(), dtype=np.float64).reshape(out.shape))).sum().backward()
    return out.detach().numpy(), x.grad.numpy(), None if w.grad is None else w.grad.numpy()


@pytest.mark.parametrize("name", sorted(VIEW_PROGRAMS))
def test_inplace_on_a_view_of_a_non_leaf_updates_the_base_like_torch(name):
    got = run_view_program(genesis, VIEW_PROGRAMS[name])
    want = run_view_program(torch, VIEW_PROGRAMS[name])
    for g, t in zip(got, want):
        assert (g is None) == (t is None)
        if g is not None:
            np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-12)


def test_inplace_on_a_view_of_a_leaf_that_requires_grad_is_refused():
    for lib in (torch, genesis):
        x = lib.zeros(3, 4, requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
            x[0].mul_(2)
        with lib.no_grad():
            x[0].add_(1)  # outside autograd it is an ordinary write
        assert x.detach().numpy()[0].tolist() == [1.0] * 4


def test_copy_into_a_view_of_a_plain_buffer_puts_the_buffer_in_the_graph():
    grads = []
    for lib in (torch, genesis):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        buf = lib.zeros(3, 2)
        buf[:, 1].copy_(x * x)
        assert buf.requires_grad and buf.detach().numpy()[:, 1].tolist() == [1.0, 4.0, 9.0]
        (buf * 3).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0])


@pytest.mark.parametrize("op", ["add_", "mul_", "copy_", "addcmul_"])
def test_recorded_inplace_op_may_not_broadcast_the_tensor_bigger(op):
    for lib in (torch, genesis):
        h = lib.ones(3, requires_grad=True) * 2
        big = lib.ones(2, 3)
        args = (big, big) if op == "addcmul_" else (big,)
        with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                                               r"broadcast shape \[2, 3\]"):
            getattr(h, op)(*args)
        assert tuple(h.shape) == (3,)


SIBLING_PROGRAMS = {
    # a view taken before an in-place write to its whole base, then used
    "row_then_base_mul_": lambda lib, h, w: (lambda r: (h.mul_(w), r * 10)[1])(h[0]),
    # a view taken before a write through another, overlapping view
    "columns_then_write_through_a_column": lambda lib, h, w: (
        lambda c: (h[:, 1].mul_(w[:, 1]), c * w[:, :3])[1])(h[:, :3]),
    # the base reshaped, a view of the reshape, then the base written
    "reshape_then_base_add_": lambda lib, h, w: (
        lambda flat: (h.add_(w * w), flat[2:9] * 3)[1])(h.reshape(-1)),
}


@pytest.mark.parametrize("name", sorted(SIBLING_PROGRAMS))
def test_views_taken_before_an_inplace_write_see_it_in_value_and_gradient(name):
    got = run_view_program(genesis, SIBLING_PROGRAMS[name])
    want = run_view_program(torch, SIBLING_PROGRAMS[name])
    for g, t in zip(got, want):
        np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-12)


# -- random programs of views and in-place ops, against PyTorch ----------------------------

RANDOM_VIEWS = [
    lambda t: t[1:], lambda t: t[:, 1:3], lambda t: t.t(), lambda t: t.reshape(-1)[2:10],
    lambda t: t[0], lambda t: t.narrow(1, 0, 2), lambda t: t[:, ::2],
]
RANDOM_WRITES = [
    lambda v, w: v.mul_(2.5), lambda v, w: v.add_(1.0), lambda v, w: v.relu_(),
    lambda v, w: v.clamp_(-1, 1), lambda v, w: v.copy_(v * 0 + 3),
    lambda v, w: v.masked_fill_(v > 0.5, 0.25), lambda v, w: v.sub_(v.detach() * 0.5),
    lambda v, w: v.mul_(w.reshape(-1)[: v.shape[-1]]),
]


def random_program(lib, steps, xs, ws, applied=None):
    """Run ``steps``; with ``applied`` (a list) steps that do not fit the tensor at hand
    (a 2-d view of a 1-d one...) are skipped and the others recorded there."""
    x, w = lib.tensor(xs, requires_grad=True), lib.tensor(ws, requires_grad=True)
    h, views = x * 2 - 1, []
    for step in steps:
        kind, which, pick = step
        target = views[pick % len(views)] if views and pick % 2 else h
        try:
            if kind == "view":
                views.append(RANDOM_VIEWS[which](target))
            else:
                RANDOM_WRITES[which](target, w)
        except (IndexError, ValueError):
            if applied is None:
                raise
            continue
        if applied is not None:
            applied.append(step)
    ((h * w).sum() + sum((v * 0.5).sum() for v in views)).backward()
    return [h.detach().numpy(), x.grad.numpy(), w.grad.numpy()] + [
        v.detach().numpy() for v in views]


def test_random_view_and_inplace_programs_match_torch():
    """Where PyTorch runs a program, Genesis gives the same values and gradients; Genesis
    refuses a program only where PyTorch does (it may run some that PyTorch refuses: it
    keeps a copy where PyTorch would read a value that was written over)."""
    rng = np.random.default_rng(7)
    ran = 0
    for _ in range(120):
        steps = [("view" if rng.random() < 0.5 else "write",
                  int(rng.integers(len(RANDOM_VIEWS) if k % 2 else len(RANDOM_WRITES))),
                  int(rng.integers(10))) for k in range(int(rng.integers(1, 6)))]
        steps = [(kind, which % (len(RANDOM_VIEWS) if kind == "view" else len(RANDOM_WRITES)),
                  pick) for kind, which, pick in steps]
        xs, ws = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
        applied = []
        try:
            want = random_program(torch, steps, xs, ws, applied)
        except RuntimeError as error:
            assert "modified by an inplace operation" in str(error)
            continue
        got = random_program(genesis, applied, xs, ws)
        ran += 1
        assert len(got) == len(want), steps
        for g, t in zip(got, want):
            np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12, err_msg=str(steps))
    assert ran > 80


def test_tensors_with_live_views_copy_and_pickle():
    """The weak registry of views is per object: copies and pickles start without it."""
    import copy
    import pickle

    x = genesis.tensor([1.0, 2.0, 3.0], requires_grad=True)
    view = x[1:]
    for clone in (pickle.loads(pickle.dumps(x)), copy.copy(x), copy.deepcopy(x)):
        assert clone._views is None and clone.requires_grad
        np.testing.assert_array_equal(clone.detach().numpy(), [1.0, 2.0, 3.0])
    back = pickle.loads(pickle.dumps(view))
    np.testing.assert_array_equal(back.detach().numpy(), [2.0, 3.0])
