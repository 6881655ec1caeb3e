"""``SparseAdam``: present under PyTorch's name, refused (Genesis has no sparse tensors)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["SparseAdam"]

REFUSAL = ("genesis.optim.SparseAdam is not supported: it updates from sparse gradients "
           "(e.g. nn.Embedding(sparse=True)) and Genesis has no sparse tensors. Use "
           "genesis.optim.Adam or AdamW with dense gradients instead; note that those decay "
           "the moments of every row at each step, where SparseAdam leaves rows without a "
           "gradient untouched")


class SparseAdam:
    """PyTorch's ``torch.optim.SparseAdam`` signature; constructing one raises.

    SparseAdam exists for sparse gradients, which Genesis does not have (every
    gradient is dense), so there is nothing it could do that :class:`Adam`
    does not; porting code gets a clear error rather than an ``AttributeError``.

    Raises:
        NotImplementedError: always, saying what to use instead.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        raise NotImplementedError(REFUSAL)
