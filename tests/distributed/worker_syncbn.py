"""SyncBatchNorm on 2 ranks, each with half the batch, against torch's BatchNorm on the whole
batch (float64): outputs, input and parameter gradients, running statistics.
``worker_syncbn.py OUT_DIR``."""

from __future__ import annotations

import sys

import genesis
import genesis.distributed as dist
import numpy as np
import torch
from genesis import nn
from mpi_jobs import Checks


def main(out_dir: str) -> None:
    dist.init_process_group("mpi", timeout=120)
    rank = dist.get_rank()
    assert dist.get_world_size() == 2
    check = Checks(out_dir, rank)
    for shape, n_local in (((10, 3), (4, 6)), ((6, 3, 4, 5), (3, 3))):
        name = f"syncbn-{len(shape)}d"
        with check(name):
            rng = np.random.default_rng(len(shape))
            x = rng.standard_normal(shape) * 3 + 1
            r = rng.standard_normal(shape)
            w, b = rng.standard_normal(3), rng.standard_normal(3)
            ref = torch.nn.BatchNorm2d(3).double() if len(shape) == 4 else \
                torch.nn.BatchNorm1d(3).double()
            with torch.no_grad():
                ref.weight.copy_(torch.tensor(w))
                ref.bias.copy_(torch.tensor(b))
            tx = torch.tensor(x, requires_grad=True)
            (ref(tx) * torch.tensor(r)).sum().backward()
            lo = sum(n_local[:rank])
            hi = lo + n_local[rank]  # uneven shares: the counts are reduced too
            bn = nn.SyncBatchNorm(3, dtype=genesis.float64)
            with genesis.no_grad():
                bn.weight.copy_(genesis.tensor(w))
                bn.bias.copy_(genesis.tensor(b))
            gx = genesis.tensor(x[lo:hi], requires_grad=True)
            y = bn(gx)
            (y * genesis.tensor(r[lo:hi])).sum().backward()
            ref_out = torch.nn.functional.batch_norm(
                torch.tensor(x), None, None, torch.tensor(w), torch.tensor(b), True, 0.1, 1e-5)
            np.testing.assert_allclose(y.detach().numpy(), ref_out.numpy()[lo:hi], atol=1e-10)
            np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy()[lo:hi], atol=1e-10)
            for mine, theirs in ((bn.weight, ref.weight), (bn.bias, ref.bias)):
                total = mine.grad.clone()
                dist.all_reduce(total)
                np.testing.assert_allclose(total.numpy(), theirs.grad.numpy(), atol=1e-10)
            np.testing.assert_allclose(bn.running_mean.numpy(), ref.running_mean.numpy(),
                                       atol=1e-12)
            np.testing.assert_allclose(bn.running_var.numpy(), ref.running_var.numpy(),
                                       atol=1e-12)
            bn.eval()
            ref.eval()
            np.testing.assert_allclose(bn(genesis.tensor(x)).detach().numpy(),
                                       ref(torch.tensor(x)).detach().numpy(), atol=1e-10)
    with check("convert_sync_batchnorm"):
        genesis.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Sequential(
            nn.BatchNorm2d(3)))
        net[1].running_mean.fill_(0.5)
        weight = net[1].weight
        converted = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        assert isinstance(converted[1], nn.SyncBatchNorm)
        assert isinstance(converted[2][0], nn.SyncBatchNorm)
        assert converted[1].weight is weight
        np.testing.assert_array_equal(converted[1].running_mean.numpy(), np.full(3, 0.5))
    check.save()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
