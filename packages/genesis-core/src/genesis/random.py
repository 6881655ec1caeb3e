"""Random streams: counter-based (seed, offset), so any state is two integers.

Every random op of Genesis (``rand``, ``randn``, dropout, ``randperm``,
``nn.init``, DataLoader shuffling) draws from a :class:`Generator`; the
backend kernels are counter-based, so the same (seed, offset) gives the same
numbers and ``get_rng_state``/``set_rng_state`` capture a run completely.
"""

from __future__ import annotations

import time

from genesis import _dtype as dt
from genesis._tensor import from_data

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state"]


class Generator:
    """A random stream: ``manual_seed``, ``get_state``/``set_state`` like ``torch.Generator``."""

    def __init__(self, device=None) -> None:
        self._seed = 67280421310721  # PyTorch's default seed
        self._offset = 0

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"manual_seed: seed={seed!r}, expected an int")
        self._seed = seed & 0xFFFF_FFFF_FFFF_FFFF
        self._offset = 0
        return self

    def seed(self) -> int:
        """Seed from the clock (non-deterministic) and return the seed."""
        self.manual_seed(time.time_ns() & 0xFFFF_FFFF_FFFF)
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The state as an int64 tensor ``[seed, offset]`` (saves in checkpoints)."""
        seed = self._seed - (1 << 64) if self._seed >= (1 << 63) else self._seed
        return from_data([seed, self._offset], dtype=dt.int64)

    def set_state(self, state) -> Generator:
        values = state.tolist() if hasattr(state, "tolist") else list(state)
        if len(values) != 2 or not all(isinstance(v, int) for v in values):
            raise ValueError(f"set_state: state={state!r}, expected the [seed, offset] int64 "
                             "tensor returned by get_state()")
        self._seed = values[0] & 0xFFFF_FFFF_FFFF_FFFF
        self._offset = values[1]
        return self

    def next_offset(self, count: int) -> int:
        """Reserve ``count`` counter values; returns the offset to draw from."""
        off = self._offset
        self._offset += (count + 3) // 4 * 4  # keep draws aligned to whole Philox blocks
        return off


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed every random stream Genesis uses; returns the default generator."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the clock; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state (an int64 tensor); see :func:`set_rng_state`."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore a state from :func:`get_rng_state` (e.g. out of a checkpoint)."""
    default_generator.set_state(new_state)
