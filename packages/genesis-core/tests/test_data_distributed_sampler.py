"""``DistributedSampler`` gives each rank the same indices, epoch by epoch, as PyTorch's."""

from __future__ import annotations

import genesis
import pytest
import torch
from genesis.utils.data import DataLoader, DistributedSampler, TensorDataset
from genesis.utils.data.distributed import torch_randperm


@pytest.mark.parametrize("n", [0, 1, 2, 7, 10, 101, 1000, 60000])
@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 + 7, -3])
def test_permutation_is_torch_randperm(n, seed):
    g = torch.Generator()
    g.manual_seed(seed)
    assert torch_randperm(n, seed) == torch.randperm(n, generator=g).tolist()


@pytest.mark.parametrize("n", [1, 10, 11, 13, 100])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("shuffle,drop_last", [(True, False), (True, True), (False, False),
                                               (False, True)])
def test_indices_per_rank_and_epoch_match_torch(n, replicas, shuffle, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=shuffle, seed=5,
                                  drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(data, replicas, rank, shuffle=shuffle,
                                                     seed=5, drop_last=drop_last)
        for epoch in (0, 1, 7):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)
            assert len(ours) == len(theirs)


def test_padding_when_the_dataset_is_smaller_than_the_ranks():
    ours = DistributedSampler(list(range(2)), 5, 4, shuffle=False)
    theirs = torch.utils.data.DistributedSampler(list(range(2)), 5, 4, shuffle=False)
    assert list(ours) == list(theirs)


def test_feeds_a_dataloader():
    ds = TensorDataset(genesis.arange(10))
    loader = DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 2, 1, seed=3))
    got = [int(v) for (batch,) in loader for v in batch.tolist()]
    want = list(torch.utils.data.DistributedSampler(list(range(10)), 2, 1, seed=3))
    assert got == want


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler([1, 2], 2, 2)
    with pytest.raises(ValueError, match="num_replicas=0"):
        DistributedSampler([1, 2], 0, 0)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler([1, 2])
