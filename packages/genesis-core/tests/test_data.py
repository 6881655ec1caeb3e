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
        DataLoader(ds, num_workers=2)
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(genesis.zeros(3), genesis.zeros(4))
