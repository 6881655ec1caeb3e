"""Convolution and fold layers on "cuda" (the interpreter here, a GPU where present) agree
with the CPU backend: outputs, input and parameter gradients, tiny shapes."""

import copy

import genesis
import numpy as np
import pytest
from genesis import nn

CASES = [
    (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 4, 3)),
    (lambda: nn.Conv1d(4, 4, 2, groups=4, stride=2, padding="valid"), (1, 4, 5)),
    (lambda: nn.ConvTranspose2d(2, 2, (2, 3), stride=2, output_padding=1), (1, 2, 2, 3)),
    (lambda: nn.Unfold((2, 2), padding=1, stride=(1, 2)), (1, 2, 3, 3)),
    (lambda: nn.Fold((3, 3), 2), (1, 8, 4)),
]


@pytest.mark.parametrize("build,shape", CASES)
def test_layer_on_cuda_matches_cpu(build, shape):
    genesis.manual_seed(0)
    cpu = build()
    dev = copy.deepcopy(cpu).to("cuda")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    proj = None
    results = []
    for model, device in ((cpu, "cpu"), (dev, "cuda")):
        xi = genesis.tensor(x, device=device, requires_grad=True)
        y = model(xi)
        assert y.device.type == device
        if proj is None:
            proj = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        (y * genesis.tensor(proj, device=device)).sum().backward()
        results.append([y.detach().numpy(), xi.grad.numpy()] + [p.grad.numpy()
                                                       for p in model.parameters()])
    assert len(results[0]) == len(results[1]) >= 2
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
