"""Issue 10's normalisation and channel layers on "cuda" (the interpreter here, a GPU where
present) agree with the CPU backend: BatchNorm2d/3d (with running statistics), GroupNorm,
InstanceNorm2d, LocalResponseNorm, pixel/channel shuffles and 4-D/5-D F.pad, forward and
gradients; channel and alpha dropout keep their structure (the devices draw different
random streams, so their masks are not compared)."""

import copy

import genesis
import genesis.nn.functional as F
import numpy as np
import pytest
from genesis import nn

LAYERS = {
    "batch_norm_2d": (lambda: nn.BatchNorm2d(3), (2, 3, 2, 3)),
    "batch_norm_3d": (lambda: nn.BatchNorm3d(2, momentum=None), (2, 2, 1, 2, 3)),
    "group_norm": (lambda: nn.GroupNorm(2, 4), (2, 4, 3)),
    "instance_norm_2d": (lambda: nn.InstanceNorm2d(2, affine=True, track_running_stats=True),
                         (2, 2, 2, 3)),
    "local_response_norm": (lambda: nn.LocalResponseNorm(3, alpha=0.5), (2, 4, 3)),
    "pixel_shuffle": (lambda: nn.PixelShuffle(2), (1, 8, 2, 3)),
    "pixel_unshuffle": (lambda: nn.PixelUnshuffle(2), (1, 2, 4, 2)),
    "channel_shuffle": (lambda: nn.ChannelShuffle(2), (2, 4, 3)),
    "pad_reflect_4d": (lambda: _Fn(lambda x: F.pad(x, (1, 2, 1, 0), mode="reflect")),
                       (1, 2, 3, 4)),
    "pad_circular_5d": (lambda: _Fn(lambda x: F.pad(x, (1, 0, 0, 1, 1, 1), mode="circular")),
                        (1, 1, 2, 2, 3)),
}


class _Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _run(model, x, w):
    x = x.detach().requires_grad_(True)
    y = model(x)
    (y * w).sum().backward()
    return (y.detach().numpy(), x.grad.numpy(),
            [p.grad.numpy() for p in model.parameters()], [b.numpy() for b in model.buffers()])


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_on_cuda_matches_cpu(name):
    make, shape = LAYERS[name]
    genesis.manual_seed(0)
    cpu = make()
    for p in cpu.parameters():  # non-trivial affine parameters
        p.data.copy_(genesis.rand(*p.shape) + 0.5)
    cuda = copy.deepcopy(cpu).to("cuda")
    rng = np.random.default_rng(0)
    x = genesis.tensor(rng.normal(0.5, 2.0, shape).astype(np.float32))
    out_shape = tuple(copy.deepcopy(cpu)(x).shape)  # a copy: the buffers stay untouched
    for step in range(2):  # the second step (eval) uses the running statistics of the first
        probe = genesis.tensor(rng.standard_normal(out_shape).astype(np.float32))
        got = _run(cuda, x.to("cuda"), probe.to("cuda"))
        want = _run(cpu, x, probe)
        for a, b in zip([got[0], got[1]] + got[2] + got[3], [want[0], want[1]] + want[2] +
                        want[3]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=f"step {step}")
        for m in (cpu, cuda):
            m.zero_grad()
            if step == 0:
                m.eval()


def test_channel_dropout_on_cuda_zeroes_whole_channels_with_exact_scaling():
    genesis.manual_seed(1)
    x = genesis.ones(8, 16, 2, 3, device="cuda")
    y = F.dropout2d(x, 0.25).numpy().reshape(8 * 16, -1)
    dropped = (y == 0).all(axis=1)
    assert ((y == 0) == dropped[:, None]).all()
    np.testing.assert_array_equal(y[~dropped], np.float32(1 / 0.75))
    assert 0 < dropped.sum() < len(dropped)


def test_alpha_dropout_on_cuda_has_the_exact_affine_form():
    genesis.manual_seed(2)
    p, alpha = 0.3, 1.7580993408473766
    a = (1.0 / ((alpha * alpha * p + 1.0) * (1.0 - p))) ** 0.5
    x = genesis.randn(20, 30, dtype=genesis.float64).to("cuda")
    y = F.alpha_dropout(x, p, training=True).numpy()
    dropped = np.isclose(y, -alpha * a + alpha * a * p, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y[~dropped], a * x.numpy()[~dropped] + alpha * a * p,
                               rtol=1e-12, atol=1e-12)
    assert 0 < dropped.sum() < dropped.size
