"""Vectorised per-group selection helpers shared by the processes."""

from __future__ import annotations

import numpy as np


def first_k_per_group(groups: np.ndarray, keys: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """Positions of the ``quota[g]`` items with the smallest keys in each group g.

    ``groups`` and ``keys`` describe the candidates; ``quota`` is indexed by group. Ties in
    keys are broken by position (stable sort), so the result is deterministic.
    """
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((keys, groups))
    g_sorted = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
    counts = np.diff(np.r_[starts, len(g_sorted)])
    rank = np.arange(len(g_sorted)) - np.repeat(starts, counts)
    return order[rank < quota[g_sorted]]


def group_mean(groups: np.ndarray, values: np.ndarray, size: int, weights: np.ndarray | None = None):
    """Mean of values by group (NaN for empty groups) and the group counts (or weight sums)."""
    w = np.ones(len(values)) if weights is None else weights
    total = np.bincount(groups, weights=values * w, minlength=size)
    count = np.bincount(groups, weights=w, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count, count
