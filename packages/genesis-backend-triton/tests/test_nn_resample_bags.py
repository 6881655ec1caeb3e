"""interpolate, grid_sample, affine_grid, embedding_bag and weight/spectral norm run on "cuda"
(the interpreter here) and agree with the CPU backend: values and gradients, tiny shapes."""

import copy

import genesis
import genesis.nn.functional as F
import numpy as np
import pytest


def run(fn, arrays, device):
    leaves = [genesis.tensor(a, device=device, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    weights = np.random.default_rng(9).standard_normal(tuple(out.shape)).astype(np.float32)
    (out * genesis.tensor(weights, device=device)).sum().backward()
    assert out.device.type == device
    return out.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]


def same_on_cuda(fn, arrays):
    out_cpu, grads_cpu = run(fn, arrays, "cpu")
    out_cuda, grads_cuda = run(fn, arrays, "cuda")
    np.testing.assert_allclose(out_cuda, out_cpu, rtol=1e-5, atol=1e-5)
    for a, b in zip(grads_cuda, grads_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode,kw", [("nearest", {"scale_factor": 1.5}),
                                     ("bilinear", {"size": (3, 5), "align_corners": True}),
                                     ("bicubic", {"size": (4, 2)}),
                                     ("area", {"size": (1, 2)})])
def test_interpolate_on_cuda_matches_cpu(mode, kw):
    x = np.random.default_rng(0).standard_normal((1, 2, 2, 3)).astype(np.float32)
    same_on_cuda(lambda t: F.interpolate(t, mode=mode, **kw), [x])


@pytest.mark.parametrize("padding_mode", ["zeros", "reflection"])
def test_affine_grid_and_grid_sample_on_cuda_match_cpu(padding_mode):
    rng = np.random.default_rng(1)
    theta = (rng.standard_normal((1, 2, 3)) * 0.7).astype(np.float32)
    x = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    same_on_cuda(lambda th, t: F.grid_sample(
        t, F.affine_grid(th, (1, 2, 2, 3), align_corners=False), padding_mode=padding_mode,
        align_corners=False), [theta, x])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_on_cuda_matches_cpu(mode):
    weight = np.random.default_rng(2).standard_normal((5, 2)).astype(np.float32)

    def bag(w):
        idx = genesis.tensor([1, 3, 1, 0], device=w.device)
        offsets = genesis.tensor([0, 3, 3], device=w.device)
        return F.embedding_bag(idx, w, offsets, mode=mode, padding_idx=0)

    same_on_cuda(bag, [weight])


@pytest.mark.parametrize("which", ["weight_norm", "spectral_norm"])
def test_parametrized_linear_on_cuda_matches_cpu(which):
    genesis.manual_seed(0)
    layer = getattr(genesis.nn.utils.parametrizations, which)(genesis.nn.Linear(3, 2))
    twin = copy.deepcopy(layer).to("cuda")
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    out = [m(genesis.tensor(x, device=d)) for m, d in ((layer, "cpu"), (twin, "cuda"))]
    for o in out:
        o.sum().backward()
    np.testing.assert_allclose(out[1].detach().numpy(), out[0].detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    for (name, p), q in zip(layer.named_parameters(), twin.parameters()):
        assert q.device.type == "cuda"
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=name)
