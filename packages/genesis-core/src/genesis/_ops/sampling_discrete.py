"""Counts and categories: ``poisson`` and ``multinomial``, exact samplers written with tensor
ops on the generator's uniform stream (see :mod:`genesis._ops.sampling`).

- Poisson: rates below 10 count the arrivals of a unit-rate Poisson process before time
  ``rate`` (Knuth's method, with exponential gaps); rates of 10 and more use Hörmann's
  transformed rejection with squeeze (PTRS), as numpy does. Both loop over the elements still
  running (or rejected), drawing only for them.
- Multinomial: without replacement (or for one sample) the Gumbel-top-k trick, which draws
  exactly PyTorch's sequential distribution (each sample from the categories left, in
  proportion to their weights); with replacement the inverse CDF, a binary search over the
  row's running sum of weights.
"""

from __future__ import annotations

import math

from genesis import _dtype as dt
from genesis._ops.creation import full, tensor, zeros
from genesis._ops.elementwise import abs, div, log, log1p, sqrt, where
from genesis._ops.indexing import gather, index_select, nonzero, scatter
from genesis._ops.reduction import argmax
from genesis._ops.reduction import sum as _sum
from genesis._ops.rounding import floor
from genesis._ops.sampling import holds, sampled, uniform
from genesis._ops.shape import cat, stack, unbind
from genesis._tensor import Tensor
from genesis.random import Generator

__all__ = ["poisson", "multinomial"]

_FLOAT = 2

# -- poisson -------------------------------------------------------------------------------------

#: rates from here on use PTRS (its constants are tuned for them); below, Knuth's method
_PTRS_FROM = 10.0
#: log(k!) for k < 10 by exact sums; Stirling's series beyond
_LOG_FACTORIALS = [math.fsum(math.log(j) for j in range(2, k + 1)) for k in range(10)]
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _log_factorial(k: Tensor) -> Tensor:
    """``log(k!)`` of non-negative integral float64 ``k``: a table below 10, Stirling's series
    with terms up to ``x**-7`` beyond (relative error < 1e-13)."""
    small = k < len(_LOG_FACTORIALS)
    table = tensor(_LOG_FACTORIALS, dtype=dt.float64, device=k.device)
    exact = index_select(table, 0, where(small, k, 0.0).to(dt.int64).reshape(-1)).reshape(k.shape)
    x = where(small, float(len(_LOG_FACTORIALS)), k) + 1.0
    r = 1.0 / (x * x)
    series = (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r / 1680))) / x
    return where(small, exact, (x - 0.5) * log(x) - x + _HALF_LOG_2PI + series)


def _select(index: Tensor, *values: Tensor) -> list:
    return [index_select(v, 0, index) for v in values]


def _poisson_knuth(rate: Tensor, out: Tensor, generator) -> Tensor:
    """Counts for the positive ``rate`` < 10 of a flat float64 vector."""
    where_ = nonzero((rate > 0) & (rate < _PTRS_FROM)).reshape(-1)
    lam = index_select(rate, 0, where_)
    time = zeros(lam.shape, dtype=dt.float64, device=rate.device)
    count = zeros(lam.shape, dtype=dt.float64, device=rate.device)
    while where_.shape[0]:
        time = time - log1p(-uniform(lam.shape, rate.device, generator))
        arrived = time < lam
        done = nonzero(~arrived).reshape(-1)
        out = scatter(out, 0, index_select(where_, 0, done), index_select(count, 0, done))
        going = nonzero(arrived).reshape(-1)
        where_, lam, time, count = _select(going, where_, lam, time, count)
        count = count + 1
    return out


def _poisson_ptrs(rate: Tensor, out: Tensor, generator) -> Tensor:
    """Counts for the finite ``rate`` >= 10 of a flat float64 vector: W. Hörmann, "The
    transformed rejection method for generating Poisson random variables" (1993)."""
    where_ = nonzero((rate >= _PTRS_FROM) & (rate < math.inf)).reshape(-1)
    lam = index_select(rate, 0, where_)
    slam = sqrt(lam)
    b = slam * 2.53 + 0.931
    a = b * 0.02483 - 0.059
    log_alpha = log(1.1328 / (b - 3.4) + 1.1239)
    vr = 0.9277 - 3.6224 / (b - 2)
    log_lam = log(lam)
    while where_.shape[0]:
        u, v = unbind(uniform((2, lam.shape[0]), rate.device, generator))
        u = u - 0.5
        us = 0.5 - abs(u)
        k = floor((a * 2 / us + b) * u + lam + 0.43)
        quick = (us >= 0.07) & (v <= vr)
        hopeless = (k < 0) | ((us < 0.013) & (v > us))
        kk = where(k < 0, 0.0, k)
        bound = log(v) + log_alpha - log(a / (us * us) + b)
        accept = quick | (~hopeless & (bound <= kk * log_lam - lam - _log_factorial(kk)))
        done = nonzero(accept).reshape(-1)
        out = scatter(out, 0, index_select(where_, 0, done), index_select(k, 0, done))
        going = nonzero(~accept).reshape(-1)
        where_, lam, a, b, log_alpha, vr, log_lam = _select(going, where_, lam, a, b, log_alpha,
                                                            vr, log_lam)
    return out


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Samples of the Poisson distribution with the rates in ``input`` (one count per element,
    in ``input``'s floating dtype); rates must be non-negative (an infinite rate gives inf)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): input={input!r}, expected a Tensor of rates")
    if input.dtype.kind != _FLOAT:
        raise NotImplementedError(f"poisson: input has dtype {input.dtype.name}, expected a "
                                  "floating point dtype")
    if not holds(input >= 0):
        raise RuntimeError(f"invalid Poisson rate, expected rate to be non-negative: input "
                           f"(shape {list(input.shape)}) has a negative or NaN element")
    rate = input.detach().to(dt.float64).reshape(-1)
    out = where(rate == math.inf, math.inf, zeros(rate.shape, dtype=dt.float64,
                                                  device=rate.device))
    out = _poisson_knuth(rate, out, generator)
    out = _poisson_ptrs(rate, out, generator)
    return sampled(out.reshape(input.shape).to(input.dtype), input)


# -- multinomial ---------------------------------------------------------------------------------

_MAX_CATEGORIES = 1 << 24


def _running_sum(w: Tensor) -> Tensor:
    """Inclusive prefix sums of the rows of ``(rows, n)`` ``w``, non-decreasing by
    construction (each step one addition of a non-negative weight, so a zero weight repeats
    its predecessor exactly): sums within blocks of ~sqrt(n) columns, then of block totals."""
    rows, n = w.shape
    width = math.isqrt(n - 1) + 1
    blocks = -(-n // width)
    if blocks * width > n:
        w = cat([w, zeros(rows, blocks * width - n, dtype=w.dtype, device=w.device)], 1)
    columns = unbind(w.reshape(rows, blocks, width), 2)
    within = [columns[0]]
    for c in columns[1:]:
        within.append(within[-1] + c)
    offsets = [zeros(rows, dtype=w.dtype, device=w.device)]
    for total in unbind(within[-1], 1)[:-1]:
        offsets.append(offsets[-1] + total)
    sums = stack(offsets, 1).unsqueeze(2) + stack(within, 2)
    return sums.reshape(rows, blocks * width)[:, :n]


def _search(cdf: Tensor, target: Tensor) -> Tensor:
    """Per row, the first column where the non-decreasing ``cdf`` reaches ``target`` (every
    target is at most its row's last value): a binary search by ``gather``."""
    n = cdf.shape[1]
    lo = zeros(target.shape, dtype=dt.int64, device=cdf.device)
    hi = full(target.shape, n - 1, dtype=dt.int64, device=cdf.device)
    for _ in range((n - 1).bit_length()):
        mid = div(lo + hi, 2, rounding_mode="floor")
        below = gather(cdf, 1, mid) < target
        lo, hi = where(below, mid + 1, lo), where(below, hi, mid)
    return lo


def _gumbel_top(w: Tensor, num_samples: int, generator) -> Tensor:
    """``num_samples`` distinct categories per row by the largest ``log w + Gumbel`` keys
    (the exponential race PyTorch runs): each pick is distributed as a draw from the
    categories left in proportion to their weights. Zero weights rank below every positive
    one (in random order, so a row runs out of positive weights without repeating)."""
    gap = -log1p(-uniform(w.shape, w.device, generator))  # Exp(1)
    race = -log(where(gap > 1e-300, gap, 1e-300))  # a Gumbel variate, finite
    keys = where(w > 0, log(where(w > 0, w, 1.0)) + race, race - 1e4)
    picks = []
    for i in range(num_samples):
        pick = argmax(keys, 1, keepdim=True)
        picks.append(pick)
        if i + 1 < num_samples:
            keys = scatter(keys, 1, pick, -math.inf)
    return cat(picks, 1)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """Category indices drawn from the rows of ``input`` (1-D or 2-D non-negative weights,
    need not sum to 1): ``num_samples`` per row, an int64 tensor of shape ``(num_samples,)``
    or ``(rows, num_samples)``.

    Without replacement a row's samples are distinct, drawn one after the other from the
    categories left in proportion to their weights (once a row's positive weights are all
    drawn, its zero-weight categories follow in random order).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): input={input!r}, expected a Tensor of weights")
    if not isinstance(num_samples, int) or isinstance(num_samples, bool):
        raise TypeError(f"multinomial(): num_samples={num_samples!r}, expected an int")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape "
                           f"{list(input.shape)}")
    if input.dtype.kind != _FLOAT:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype.name}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples "
                           f"(num_samples={num_samples})")
    n = input.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement (num_samples={num_samples}, {n} categories)")
    if n > _MAX_CATEGORIES:
        raise RuntimeError(f"multinomial: number of categories cannot exceed 2^24, got {n}")
    w = input.detach().to(dt.float64).reshape(1 if input.ndim == 1 else input.shape[0], n)
    if w.shape[0] == 0:
        return zeros(0, num_samples, dtype=dt.int64, device=input.device)
    if not holds((w >= 0) & (w < math.inf)):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    total = _sum(w, 1, keepdim=True)
    if not holds(total > 0):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    if replacement and num_samples > 1:
        cdf = _running_sum(w)
        reach = 1.0 - uniform((w.shape[0], num_samples), w.device, generator)  # in (0, 1]
        out = _search(cdf, reach * cdf[:, n - 1:])
    else:
        out = _gumbel_top(w, num_samples, generator)
    return out.reshape(num_samples) if input.ndim == 1 else out


TENSOR_METHODS = {"multinomial": multinomial}
