"""DataLoader worker processes over tensors on the Triton device ("cuda"): the batches come
back as tensors on that device, equal to loading in the main process."""

import genesis
import numpy as np
from genesis.utils.data import DataLoader, TensorDataset


def test_worker_batches_are_rebuilt_on_the_tensors_device():
    x = genesis.tensor(np.arange(14, dtype=np.float32).reshape(7, 2), device="cuda")
    y = genesis.tensor(np.arange(7), device="cuda")
    ds = TensorDataset(x, y)
    runs = []
    for num_workers in (0, 2):
        gen = genesis.Generator().manual_seed(4)
        runs.append(list(DataLoader(ds, batch_size=3, shuffle=True, generator=gen,
                                    num_workers=num_workers)))
    assert len(runs[1]) == 3
    for (gx, gy), (wx, wy) in zip(runs[1], runs[0]):
        assert gx.device.type == gy.device.type == "cuda"
        assert gx.dtype is genesis.float32 and gy.dtype is genesis.int64
        np.testing.assert_array_equal(gx.cpu().numpy(), wx.cpu().numpy())
        np.testing.assert_array_equal(gy.cpu().numpy(), wy.cpu().numpy())
