"""DataLoader worker processes over tensors on the Triton device ("cuda"): the batches come
back as tensors on that device, equal to loading in the main process. Workers are spawned:
a forked child cannot use CUDA (torch says so too), which the GPU test checks."""

import genesis
import numpy as np
import pytest
from genesis.utils.data import DataLoader, TensorDataset


def dataset() -> TensorDataset:
    x = genesis.tensor(np.arange(14, dtype=np.float32).reshape(7, 2), device="cuda")
    y = genesis.tensor(np.arange(7), device="cuda")
    return TensorDataset(x, y)


def test_worker_batches_are_rebuilt_on_the_tensors_device():
    ds = dataset()
    runs = []
    for num_workers in (0, 2):
        gen = genesis.Generator().manual_seed(4)
        spawn = {"multiprocessing_context": "spawn"} if num_workers else {}
        runs.append(list(DataLoader(ds, batch_size=3, shuffle=True, generator=gen,
                                    num_workers=num_workers, **spawn)))
    assert len(runs[1]) == 3
    for (gx, gy), (wx, wy) in zip(runs[1], runs[0]):
        assert gx.device.type == gy.device.type == "cuda"
        assert gx.dtype is genesis.float32 and gy.dtype is genesis.int64
        np.testing.assert_array_equal(gx.cpu().numpy(), wx.cpu().numpy())
        np.testing.assert_array_equal(gy.cpu().numpy(), wy.cpu().numpy())


@pytest.mark.gpu
def test_forked_workers_refuse_cuda_with_torchs_message():
    loader = DataLoader(dataset(), batch_size=3, num_workers=1, multiprocessing_context="fork")
    with pytest.raises(RuntimeError, match="Cannot re-initialize CUDA in forked subprocess"):
        list(loader)
