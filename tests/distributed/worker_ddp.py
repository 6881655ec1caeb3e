"""DistributedDataParallel on 2 ranks against one process with the whole batch, computed on
each rank with the same initial weights: ``worker_ddp.py OUT_DIR``."""

from __future__ import annotations

import sys

import genesis
import genesis.distributed as dist
import numpy as np
from genesis import nn
from genesis.nn.parallel import DistributedDataParallel
from mpi_jobs import Checks

BATCH = 16


def make_model(seed: int = 0) -> nn.Module:
    genesis.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 16), nn.ReLU(),
                         nn.Linear(16, 3))


def data(step: int):
    rng = np.random.default_rng(100 + step)
    x = rng.standard_normal((BATCH, 8)).astype("float32")
    y = rng.integers(0, 3, BATCH)
    return genesis.tensor(x), genesis.tensor(y)


def shard(t, rank: int, world: int):
    n = t.shape[0] // world
    return t[rank * n:(rank + 1) * n]


def flat_params(model) -> np.ndarray:
    return np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])


def train(model, opt, rank: int, world: int, steps: int) -> None:
    loss_fn = nn.CrossEntropyLoss()
    for step in range(steps):
        x, y = data(step)
        if world > 1:
            x, y = shard(x, rank, world), shard(y, rank, world)
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()


def assert_same_on_all_ranks(values: np.ndarray) -> None:
    t = genesis.tensor(values)
    parts = [genesis.zeros_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, t)
    for p in parts:
        np.testing.assert_array_equal(p.numpy(), values)


def main(out_dir: str) -> None:
    dist.init_process_group("mpi", timeout=120)
    rank, world = dist.get_rank(), dist.get_world_size()
    check = Checks(out_dir, rank)
    for name, make_opt in (("sgd", lambda ps: genesis.optim.SGD(ps, lr=0.1, momentum=0.9)),
                           ("adam", lambda ps: genesis.optim.Adam(ps, lr=1e-2))):
        for cap, as_view in ((25, False), (0.001, False), (0.001, True)):
            with check(f"ddp-equals-one-process-{name}-cap{cap}-view{as_view}"):
                ref = make_model()
                train(ref, make_opt(ref.parameters()), 0, 1, 20)
                model = make_model(seed=rank)  # different on each rank: DDP broadcasts rank 0's
                ddp = DistributedDataParallel(model, bucket_cap_mb=cap,
                                              gradient_as_bucket_view=as_view)
                if cap < 1:
                    assert len(ddp.reducer.buckets) > 2, len(ddp.reducer.buckets)
                train(ddp, make_opt(ddp.parameters()), rank, world, 20)
                got, want = flat_params(model), flat_params(ref)
                assert np.abs(got - want).max() < 1e-5, np.abs(got - want).max()
                assert_same_on_all_ranks(got)
    with check("buckets-start-during-backward"):
        ddp = DistributedDataParallel(make_model(), bucket_cap_mb=0.001)
        reducer = ddp.reducer
        started_with_ready = []
        launch = reducer._launch

        def record(bucket):
            started_with_ready.append(len(reducer.ready))
            launch(bucket)
        reducer._launch = record
        x, y = data(0)
        nn.CrossEntropyLoss()(ddp(shard(x, rank, world)), shard(y, rank, world)).backward()
        n = len(reducer.params)
        assert len(started_with_ready) == len(reducer.buckets)
        # the first bucket (the last layers' gradients) left while half were still pending,
        # the others one by one as backward went on
        assert started_with_ready[0] <= n / 2, (started_with_ready, n)
        assert all(a < b for a, b in zip(started_with_ready, started_with_ready[1:])), \
            started_with_ready
    with check("no_sync-accumulation-equals-one-large-batch"):
        ref = make_model()
        x, y = data(0)
        nn.CrossEntropyLoss()(ref(x), y).backward()
        ddp = DistributedDataParallel(make_model(), bucket_cap_mb=0.001)
        mine_x, mine_y = shard(x, rank, world), shard(y, rank, world)
        loss_fn = nn.CrossEntropyLoss()
        with ddp.no_sync():
            (loss_fn(ddp(mine_x[:4]), mine_y[:4]) / 2).backward()
        local = [p.grad.numpy().copy() for p in ddp.module.parameters()]
        (loss_fn(ddp(mine_x[4:]), mine_y[4:]) / 2).backward()
        for p, r in zip(ddp.module.parameters(), ref.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), r.grad.numpy(), atol=1e-6)
        # inside no_sync the gradients stayed local (they differ between the ranks)
        first = genesis.tensor(local[0])
        gathered = [genesis.zeros_like(first) for _ in range(world)]
        dist.all_gather(gathered, first)
        assert not np.array_equal(gathered[0].numpy(), gathered[1].numpy())
    with check("unused-parameters"):
        class TwoHeads(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.body, self.used, self.unused = nn.Linear(8, 8), nn.Linear(8, 2), \
                    nn.Linear(8, 2)

            def forward(self, x):
                return self.used(self.body(x))

        x, _ = data(1)
        x = shard(x, rank, world)
        genesis.manual_seed(3)
        found = DistributedDataParallel(TwoHeads(), find_unused_parameters=True)
        found(x).sum().backward()
        assert found.module.used.weight.grad is not None
        assert not found.module.unused.weight.grad.numpy().any()
        genesis.manual_seed(3)
        strict = DistributedDataParallel(TwoHeads())
        strict(x).sum().backward()
        try:
            strict(x)
        except RuntimeError as exc:
            assert "find_unused_parameters=True" in str(exc), str(exc)
        else:
            raise AssertionError("no error for a parameter without gradient")
    with check("distributed_sampler-defaults-to-the-group"):
        from genesis.utils.data import DistributedSampler
        sampler = DistributedSampler(list(range(11)), seed=4)
        assert (sampler.num_replicas, sampler.rank) == (world, rank)
        shares = [None] * world
        dist.all_gather_object(shares, list(sampler))
        assert sorted(shares[0] + shares[1]) == sorted(list(range(11)) + shares[0][:1])
    with check("state_dict-and-buffers"):
        genesis.manual_seed(rank)
        net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
        net[1].running_mean.fill_(float(rank))
        ddp = DistributedDataParallel(net)
        assert list(ddp.state_dict()) == ["module." + k for k in net.state_dict()]
        np.testing.assert_array_equal(net[1].running_mean.numpy(), np.zeros(4, "float32"))
        plain = {k: v.clone() * 0 for k, v in net.state_dict().items()}
        ddp.load_state_dict(plain)
        assert not net[0].weight.detach().numpy().any()
        assert ddp.module is net
    check.save()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
