"""genesis.utils.data against torch.utils.data."""

import genesis
import numpy as np
import pytest
import torch
import torch.utils.data as tud
from genesis.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def test_batches_cover_dataset_in_order_with_drop_last():
    x = genesis.arange(10.0).reshape(10, 1)
    y = genesis.arange(10)
    for drop_last in (False, True):
        loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=drop_last)
        tloader = tud.DataLoader(
            tud.TensorDataset(torch.arange(10.0).reshape(10, 1), torch.arange(10)),
            batch_size=4,
            drop_last=drop_last,
        )
        assert len(loader) == len(tloader)
        got = [(bx.numpy(), by.numpy()) for bx, by in loader]
        want = [(bx.numpy(), by.numpy()) for bx, by in tloader]
        assert len(got) == len(want)
        for (gx, gy), (wx, wy) in zip(got, want):
            np.testing.assert_array_equal(gx, wx)
            np.testing.assert_array_equal(gy, wy)


def test_shuffle_is_a_permutation_reproducible_under_manual_seed():
    ds = TensorDataset(genesis.arange(50))
    genesis.manual_seed(3)
    first = [b[0].tolist() for b in DataLoader(ds, batch_size=8, shuffle=True)]
    second_epoch = [b[0].tolist() for b in DataLoader(ds, batch_size=8, shuffle=True)]
    genesis.manual_seed(3)
    again = [b[0].tolist() for b in DataLoader(ds, batch_size=8, shuffle=True)]
    assert first == again and first != second_epoch
    assert sorted(sum(first, [])) == list(range(50))
    gen = genesis.Generator().manual_seed(7)
    a = [b[0].tolist() for b in DataLoader(ds, batch_size=50, shuffle=True, generator=gen)]
    gen.manual_seed(7)
    assert a == [b[0].tolist() for b in DataLoader(ds, batch_size=50, shuffle=True, generator=gen)]


def test_rng_state_restores_the_shuffle_order():
    ds = TensorDataset(genesis.arange(20))
    genesis.manual_seed(0)
    state = genesis.get_rng_state()
    order = [b[0].tolist() for b in DataLoader(ds, batch_size=20, shuffle=True)]
    genesis.set_rng_state(state)
    assert order == [b[0].tolist() for b in DataLoader(ds, batch_size=20, shuffle=True)]


class Pairs(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {
            "x": np.full(3, i, np.float32),
            "n": i,
            "f": i / 2,
            "name": f"s{i}",
            "pair": (i, float(i)),
        }


def test_default_collate_matches_torch():
    samples = [Pairs()[i] for i in range(4)]
    g = default_collate(samples)
    t = tud.default_collate(samples)
    np.testing.assert_array_equal(g["x"].numpy(), t["x"].numpy())
    assert g["x"].dtype is genesis.float32
    assert g["n"].dtype is genesis.int64 and g["n"].tolist() == t["n"].tolist()
    assert g["f"].dtype is genesis.float64 and g["f"].tolist() == t["f"].tolist()
    assert g["name"] == t["name"]
    assert isinstance(g["pair"], list) and [p.tolist() for p in g["pair"]] == [
        p.tolist() for p in t["pair"]
    ]
    batches = list(DataLoader(Pairs(), batch_size=2))
    assert len(batches) == 3 and batches[-1]["x"].shape == (1, 3)


def test_unbatched_and_custom_collate():
    ds = TensorDataset(genesis.arange(3))
    assert [s[0].item() for s in DataLoader(ds, batch_size=None)] == [0, 1, 2]
    lens = [len(b) for b in DataLoader(ds, batch_size=2, collate_fn=lambda b: b)]
    assert lens == [2, 1]


def test_random_split_lengths_and_fractions():
    ds = TensorDataset(genesis.arange(10))
    a, b = random_split(ds, [7, 3], generator=genesis.Generator().manual_seed(1))
    assert isinstance(a, Subset) and len(a) == 7 and len(b) == 3
    assert sorted(a.indices + b.indices) == list(range(10))
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [len(p) for p in tud.random_split(range(10), [0.5, 0.3, 0.2])]
    with pytest.raises(ValueError, match="lengths"):
        random_split(ds, [4, 4])


def test_bad_arguments_name_themselves():
    ds = TensorDataset(genesis.arange(3))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(genesis.zeros(3), genesis.zeros(4))


def test_subset_random_sampler_is_a_seeded_permutation_of_its_indices():
    from genesis.utils.data import SubsetRandomSampler

    indices = [9, 4, 7, 1, 3]
    gen = genesis.Generator().manual_seed(2)
    sampler = SubsetRandomSampler(indices, generator=gen)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(indices) and len(sampler) == 5 and first != second
    gen.manual_seed(2)
    assert list(sampler) == first


def test_weighted_random_sampler_draws_by_weight():
    from genesis.utils.data import WeightedRandomSampler

    gen = genesis.Generator().manual_seed(0)
    draws = list(WeightedRandomSampler([0.0, 1.0, 3.0, 0.0], 4000, generator=gen))
    counts = np.bincount(draws, minlength=4)
    assert counts[0] == counts[3] == 0 and 2.5 < counts[2] / counts[1] < 3.5
    distinct = list(WeightedRandomSampler(genesis.tensor([1.0, 2.0, 3.0, 4.0]), 4,
                                          replacement=False))
    assert sorted(distinct) == [0, 1, 2, 3]
    assert len(WeightedRandomSampler([1.0, 2.0], 7)) == 7
    gen.manual_seed(5)
    again = list(WeightedRandomSampler([1.0, 2.0, 3.0], 9, generator=gen))
    gen.manual_seed(5)
    assert again == list(WeightedRandomSampler([1.0, 2.0, 3.0], 9, generator=gen))
    for kwargs, match in (({"num_samples": 0}, "num_samples"),
                          ({"num_samples": 2, "replacement": 1}, "replacement"),
                          ({"num_samples": 2, "weights": [[1.0, 2.0]]}, "1d")):
        weights = kwargs.pop("weights", [1.0, 2.0])
        with pytest.raises(ValueError, match=match):
            tud.WeightedRandomSampler(weights, **kwargs)
        with pytest.raises(ValueError, match=match):
            genesis.utils.data.WeightedRandomSampler(weights, **kwargs)


class Stream(genesis.utils.data.IterableDataset):
    def __init__(self, values):
        self.values = values

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)


def test_chain_dataset_and_iterable_batches():
    from genesis.utils.data import ChainDataset

    chained = Stream([1, 2]) + Stream([3, 4, 5])
    assert isinstance(chained, ChainDataset) and list(chained) == [1, 2, 3, 4, 5]
    assert len(chained) == 5
    batches = [b.tolist() for b in DataLoader(chained, batch_size=2)]
    assert batches == [[1, 2], [3, 4], [5]] and len(DataLoader(chained, batch_size=2)) == 3
    assert [b.tolist() for b in DataLoader(chained, batch_size=2, drop_last=True)] == [
        [1, 2], [3, 4]]
    assert list(DataLoader(chained, batch_size=None)) == [1, 2, 3, 4, 5]
    with pytest.raises(AssertionError, match="IterableDataset"):
        list(ChainDataset([Stream([1]), [2, 3]]))
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(chained, shuffle=True)


def test_stack_dataset_matches_torch():
    from genesis.utils.data import StackDataset

    a, b = np.arange(4.0, dtype=np.float32), [10, 11, 12, 13]
    g = StackDataset(TensorDataset(genesis.tensor(a)), b)
    t = tud.StackDataset(tud.TensorDataset(torch.tensor(a)), b)
    assert len(g) == len(t) == 4
    for gb, tb in zip(DataLoader(g, batch_size=3), tud.DataLoader(t, batch_size=3)):
        np.testing.assert_array_equal(gb[0][0].numpy(), tb[0][0].numpy())
        assert gb[1].tolist() == tb[1].tolist()
    named = StackDataset(x=b, y=b)
    assert named[1] == {"x": 11, "y": 11}
    assert named.__getitems__([0, 2]) == [{"x": 10, "y": 10}, {"x": 12, "y": 12}]
    picked = Subset(named, [3, 1, 2])
    assert picked.__getitems__([0, 1]) == tud.Subset(named, [3, 1, 2]).__getitems__([0, 1])
    assert [b["x"].tolist() for b in DataLoader(picked, batch_size=2)] == [[13, 11], [12]]
    for args, kwargs, match in (((b, [1]), {}, "Size mismatch"), ((b,), {"y": b}, "both"),
                                ((), {}, "At least one")):
        with pytest.raises(ValueError, match=match):
            tud.StackDataset(*args, **kwargs)
        with pytest.raises(ValueError, match=match):
            StackDataset(*args, **kwargs)


def test_unbatched_samples_are_converted_as_torch_default_convert():
    from genesis.utils.data import default_convert

    sample = (1, np.arange(3, dtype=np.int16), "s", {"v": np.float64(2.5)})
    g, t = default_convert(sample), tud.default_convert(sample)
    assert type(g) is type(t) is list and g[0] == t[0] == 1 and g[2] == "s"
    assert g[1].dtype is genesis.int16 and g[1].tolist() == t[1].tolist()
    assert g[3]["v"].dtype is genesis.float64 and g[3]["v"].item() == t[3]["v"].item()
