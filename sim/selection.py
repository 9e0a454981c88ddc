"""Vectorised per-group selection helpers shared by the processes."""

from __future__ import annotations

import math

import numpy as np

#: Below this many candidates, sort them all; above, pre-filter by key buckets first.
_PREFILTER_MIN = 10_000
_BUCKETS = 32


def _merged_group_key_order(groups: np.ndarray, keys: np.ndarray) -> np.ndarray | None:
    """``np.lexsort((keys, groups))`` by one stable sort of ``group + key`` (keys mapped onto
    [0, 1]), or None when that cannot be told apart from it (two equal sums).

    Why it is exact when the sums differ: ``(key - min) / (max - min)`` is at most 1 and rounding
    never inverts an order, so a pair ordered by (group, key) has sums in the same order or
    equal; when no two sums are equal, the order of the sums is the lexicographic order. Equal
    sums (equal keys in a group, or keys closer than the float spacing at the group's value,
    about 1e-11 of the keys' range) leave it to the caller's exact sort. Why it is faster: the
    candidates come mostly in employer order (the staff rows), in a few sorted runs, and numpy's
    stable sort of floats (timsort) merges such runs in about half the time of sorting the keys.
    """
    kmin, kmax = keys.min(), keys.max()
    # NaN or infinite keys, or a range beyond floats (Python floats: no overflow warning).
    if not math.isfinite(float(kmax) - float(kmin)) or kmax <= kmin:
        return None
    combined = keys - kmin
    combined /= kmax - kmin
    combined += groups
    order = np.argsort(combined, kind="stable")
    combined = combined[order]
    if (combined[1:] == combined[:-1]).any():
        return None
    return order


def _group_key_order(groups: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``np.lexsort((keys, groups))``: order by group, then key, then position."""
    if len(groups) == 0 or groups.max() >= 1 << 16 or groups.min() < 0:
        return np.lexsort((keys, groups))
    if len(groups) >= _PREFILTER_MIN and keys.dtype == np.float64:
        order = _merged_group_key_order(groups, keys)
        if order is not None:
            return order
    # Same order, faster: sort the keys, then the groups with a stable radix sort (16-bit
    # integers). The fast unstable key sort is used only when no two keys tie (then it equals
    # the stable one, which keeps ties in position order); NaN keys take the stable sort too.
    order = np.argsort(keys)
    k = keys[order]
    if np.isnan(k[-1]) or (k[1:] == k[:-1]).any():
        order = np.argsort(keys, kind="stable")
    return order[np.argsort(groups[order].astype(np.uint16), kind="stable")]


def _first_k_sorted(groups: np.ndarray, keys: np.ndarray, quota: np.ndarray) -> np.ndarray:
    order = _group_key_order(groups, keys)
    g_sorted = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
    counts = np.diff(np.r_[starts, len(g_sorted)])
    rank = np.arange(len(g_sorted)) - np.repeat(starts, counts)
    return order[rank < quota[g_sorted]]


def first_k_per_group(groups: np.ndarray, keys: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """Positions of the ``quota[g]`` items with the smallest keys in each group g.

    ``groups`` and ``keys`` describe the candidates; ``quota`` is indexed by group. Ties in
    keys are broken by position (stable sort), so the result is deterministic. The positions
    come ordered by group, then key, then position.

    For many candidates the sort is restricted to an exact pre-selection: keys are cut into
    equal-width buckets (a monotone map), and in each group only the buckets up to the one
    where the running count reaches the quota are kept; the quota smallest keys of a group
    (and any ties with them) are all in those buckets, so the result is the same as sorting
    everything, at a fraction of the cost when quotas are small.
    """
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n < _PREFILTER_MIN:
        return _first_k_sorted(groups, keys, quota)
    kmin, kmax = keys.min(), keys.max()
    # NaN or infinite keys, or a range beyond floats (Python floats: no overflow warning).
    if not math.isfinite(float(kmax) - float(kmin)) or kmax <= kmin:
        return _first_k_sorted(groups, keys, quota)
    size = len(quota)
    # Buckets as bytes (the passes over all candidates are memory-bound); the cells in numpy's
    # index type, which np.bincount would convert them to.
    scaled = keys - kmin
    scaled *= _BUCKETS / (kmax - kmin)
    bucket = scaled.astype(np.int8)  # 0.._BUCKETS (the largest key; _BUCKETS < 128), then capped
    np.minimum(bucket, _BUCKETS - 1, out=bucket)
    cell = np.multiply(groups, _BUCKETS, dtype=np.intp)
    cell += bucket
    hist = np.bincount(cell, minlength=size * _BUCKETS).reshape(size, _BUCKETS)
    cum = np.cumsum(hist, axis=1)
    need = np.minimum(quota, cum[:, -1])
    # Last bucket kept per group: the first whose running count reaches the quota (-1: none).
    last = np.where(need > 0, (cum < need[:, None]).sum(axis=1), -1).astype(np.int8)
    candidates = np.flatnonzero(bucket <= last.take(groups))
    return candidates[_first_k_sorted(groups[candidates], keys[candidates], quota)]


def group_mean(groups: np.ndarray, values: np.ndarray, size: int, weights: np.ndarray | None = None):
    """Mean of values by group (NaN for empty groups) and the group counts (or weight sums)."""
    if weights is None:
        total = np.bincount(groups, weights=values, minlength=size)
        count = np.bincount(groups, minlength=size).astype(np.float64)
    else:
        total = np.bincount(groups, weights=values * weights, minlength=size)
        count = np.bincount(groups, weights=weights, minlength=size)
    return ratio(total, count), count


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with NaN where ``den`` is 0, without a warning (and without np.errstate,
    whose context manager costs more than the division on small arrays)."""
    return np.divide(num, den, out=np.full(np.shape(num), np.nan), where=den != 0)


def weighted_order(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices in a random order where heavier items tend to come first: weighted sampling
    without replacement (Efraimidis and Spirakis 2006); zero weights come last."""
    u = rng.random(len(weights))
    with np.errstate(divide="ignore"):
        keys = np.where(weights > 0, np.log(u) / np.where(weights > 0, weights, 1.0), -np.inf)
    return np.argsort(-keys, kind="stable")
