"""Territorial views: maps of communes and aggregates by département and population band.

Communes are drawn at their coordinates from ``collectivites.parquet`` (``x``, ``y``: longitude and
latitude for ``territory=france``, the unit square for the synthetic territory), sized by population
and coloured by a column (maturity, inhabitants excluded...) or by the difference against the
baseline run **of the same seed** (same seed = same territory: the synthetic territory is redrawn by
each seed, so communes are compared only within a seed; the French territory is the same for all).

Aggregates (:func:`aggregate`): mean maturity of the communes and population-weighted shares
(inhabitants excluded, in illectronism) by population band or by département, per run, then the mean
over the seeds of each group, and the paired difference against the baseline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from analysis.i18n import scenario_title, t
from analysis.plots import SHARE_COLUMNS, band_order, group_labels, label
from sim import outcomes as outcome_registry

#: Collectivité columns the maps and aggregates read.
MAP_COLUMNS = ["code", "kind", "population", "pop_band", "departement", "maturity", "inhabitants_excluded", "x", "y"]
#: Columns that are population-weighted shares of inhabitants (the others are means over communes).
POPULATION_WEIGHTED = {"inhabitants_excluded", "inhabitants_illectronism", "eservice_use"}
#: Direction of each mapped column: +1 higher is better, -1 lower is better.
DIRECTION = {"maturity": 1, "services_online": 1, "eservice_use": 1, "staff_proficient_share": 1,
             "inhabitants_excluded": -1, "inhabitants_illectronism": -1, "staff_illectronism_share": -1}  # fmt: skip


def is_geographic(coll: pd.DataFrame) -> bool:
    """True when x, y are longitude and latitude (the French territory), not the unit square."""
    x, y = coll["x"].astype(float), coll["y"].astype(float)
    return bool(x.notna().any() and (x.min() < -0.01 or x.max() > 1.01 or y.min() < -0.01 or y.max() > 1.01))


def _communes(coll: pd.DataFrame) -> pd.DataFrame:
    c = coll[coll["kind"].astype(str) == "commune"] if "kind" in coll.columns else coll
    return c[c["x"].notna() & c["y"].notna()]


def _setup_axes(ax: Any, communes: pd.DataFrame) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    if is_geographic(communes):
        lat = float(np.nanmean(communes["y"]))
        ax.set_aspect(1.0 / max(math.cos(math.radians(lat)), 0.1))
    else:
        ax.set_aspect("equal")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _sizes(pop: pd.Series, n: int) -> np.ndarray:
    scale = 150.0 if n < 2000 else 40.0 if n < 10000 else 12.0
    return 1.0 + scale * np.sqrt(pop.to_numpy(float) / max(float(pop.max()), 1.0))


def _value_format(column: str, lang: str):
    if column in SHARE_COLUMNS:
        return lambda v, _: outcome_registry.format_value("staff_illectronism_share", v, lang)
    return lambda v, _: outcome_registry.format_number(v, lang, 2)


def draw_communes(
    ax: Any,
    coll_run: pd.DataFrame,
    column: str,
    *,
    values: pd.Series | None = None,
    cmap: str = "viridis",
    norm: Any = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Any:
    """Scatter the communes of one run on ``ax``, coloured by ``values`` (default: ``column``)."""
    c = _communes(coll_run)
    v = (values if values is not None else c[column]).reindex(c.index).astype(float)
    order = np.argsort(-c["population"].to_numpy(float))  # small communes over large ones
    pts = ax.scatter(
        c["x"].to_numpy(float)[order], c["y"].to_numpy(float)[order], s=_sizes(c["population"], len(c))[order],
        c=v.to_numpy()[order], cmap=cmap, norm=norm, vmin=None if norm else vmin, vmax=None if norm else vmax,
        linewidths=0.2, edgecolors="white",
    )  # fmt: skip
    _setup_axes(ax, c)
    return pts


def commune_map_figure(
    coll_run: pd.DataFrame, column: str = "maturity", *, title: str = "", lang: str = "en"
) -> Figure:
    """Map of the communes of one run coloured by ``column``."""
    fig, ax = plt.subplots(figsize=(6.4, 5.6), layout="constrained")
    d = DIRECTION.get(column, 1)
    pts = draw_communes(ax, coll_run, column, cmap="viridis" if d > 0 else "viridis_r")
    cb = fig.colorbar(pts, ax=ax, shrink=0.8, label=label(column, lang))
    cb.ax.yaxis.set_major_formatter(_value_format(column, lang))
    ax.set_title(title or label(column, lang), fontsize=10)
    ax.text(0.0, -0.02, t("size_population", lang), transform=ax.transAxes, fontsize=7, color="0.4", va="top")
    return fig


def paired_difference(coll_run: pd.DataFrame, coll_base: pd.DataFrame, column: str) -> pd.Series:
    """Per commune of ``coll_run``, its ``column`` minus that of the same commune (``code``) in the
    baseline run (both runs must share their seed: same territory)."""
    base = _communes(coll_base).drop_duplicates("code").set_index("code")[column].astype(float)
    run = _communes(coll_run)
    return pd.Series(run[column].astype(float).to_numpy() - base.reindex(run["code"]).to_numpy(), index=run.index)


def difference_maps_figure(
    coll: pd.DataFrame,
    *,
    by: Sequence[str],
    baseline: Any,
    column: str = "maturity",
    seed: Any = None,
    panels: Sequence[str] = (),
    max_maps: int = 12,
    lang: str = "en",
) -> Figure:
    """Small multiples: the baseline's ``column`` for one seed, then every group's difference against
    it, commune by commune (same seed: same territory). Green is better, purple worse, on one scale."""
    base_mask = coll[by[0]].astype(str) == str(baseline)
    seeds = sorted(set(coll.loc[base_mask, "seed"]) & set(coll.loc[~base_mask, "seed"]))
    if not seeds:
        raise ValueError("no seed with both the baseline and another group: cannot pair communes")
    seed = seeds[0] if seed is None else seed
    at = coll[coll["seed"] == seed]
    base = at[at[by[0]].astype(str) == str(baseline)]
    base = base[base["run_id"] == base["run_id"].iloc[0]]
    others = at[at[by[0]].astype(str) != str(baseline)]
    runs = list(dict.fromkeys(others["run_id"]))[: max_maps - 1]
    diffs = {r: paired_difference(others[others["run_id"] == r], base, column) for r in runs}
    span = max((float(np.nanmax(np.abs(d))) for d in diffs.values() if len(d) and np.isfinite(d).any()), default=0.0)
    span = span or 1e-9
    d = DIRECTION.get(column, 1)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span)
    n = 1 + len(runs)
    ncols = min(4, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols + 1.2, 3.3 * nrows + 0.6), layout="constrained",
                             squeeze=False)  # fmt: skip
    flat = list(axes.flat)
    pts = draw_communes(flat[0], base, column, cmap="viridis" if d > 0 else "viridis_r")
    cb = fig.colorbar(pts, ax=flat[0], shrink=0.75)
    cb.ax.yaxis.set_major_formatter(_value_format(column, lang))
    flat[0].set_title(scenario_title(baseline, lang), fontsize=9)
    last = None
    for ax, r in zip(flat[1:], runs, strict=False):
        sub = others[others["run_id"] == r]
        last = draw_communes(ax, sub, column, values=diffs[r] * d, cmap="PiYG", norm=norm)
        name = group_labels(sub.head(1), list(by), lang).iloc[0]
        if panels:
            name += " · " + ", ".join(str(sub[c].iloc[0]) for c in panels)
        ax.set_title(name, fontsize=9)
    for ax in flat[n:]:
        ax.set_visible(False)
    if last is not None:
        cb = fig.colorbar(last, ax=flat[1:n], shrink=0.75)
        cb.set_label(f"{t('better', lang)} ↑ / {t('worse', lang)} ↓")
        fmt = _value_format(column, lang)
        cb.ax.yaxis.set_major_formatter(lambda v, pos: fmt(v * d, pos))
    title = t("map_diff_title", lang, what=label(column, lang), baseline=scenario_title(baseline, lang), seed=seed)
    fig.suptitle(title, fontsize=10)
    return fig


def aggregate(
    coll: pd.DataFrame,
    level: str,
    by: Sequence[str],
    columns: Sequence[str] = ("maturity", "inhabitants_excluded"),
) -> pd.DataFrame:
    """Per run and ``level`` value (``pop_band``, ``departement``): the communes' mean of each column,
    or its population-weighted mean for shares of inhabitants. Columns: run_id, by, seed, level, n, values."""
    c = _communes(coll) if {"x", "y"} <= set(coll.columns) else coll[coll["kind"].astype(str) == "commune"]
    keys = ["run_id", *by, "seed", level]
    rows = []
    for key, g in c.groupby(keys, observed=True, dropna=False, sort=False):
        rec = dict(zip(keys, key, strict=True))
        rec["communes"] = len(g)
        pop = g["population"].astype(float)
        for col in columns:
            v = g[col].astype(float)
            rec[col] = float((v * pop).sum() / pop.sum()) if col in POPULATION_WEIGHTED and pop.sum() > 0 else v.mean()
        rows.append(rec)
    return pd.DataFrame(rows)


def aggregate_summary(
    agg: pd.DataFrame,
    level: str,
    by: Sequence[str],
    baseline: Any = None,
    columns: Sequence[str] = ("maturity", "inhabitants_excluded"),
) -> pd.DataFrame:
    """Mean over seeds of :func:`aggregate` per group and level value, with the mean paired difference
    against the baseline (runs of the same seed) as ``<column>_diff``."""
    cols = [c for c in columns if c in agg.columns]
    mean = agg.groupby([*by, level], dropna=False, observed=True)[cols].mean().reset_index()
    if baseline is None:
        return mean
    base = agg[agg[by[0]].astype(str) == str(baseline)].drop_duplicates(["seed", level])
    merged = agg.merge(base[["seed", level, *cols]], on=["seed", level], suffixes=("", "_base"))
    for c in cols:
        merged[c + "_diff"] = merged[c] - merged[c + "_base"]
    diffs = merged.groupby([*by, level], dropna=False, observed=True)[[c + "_diff" for c in cols]].mean()
    out = mean.merge(diffs.reset_index(), on=[*by, level], how="left")
    if level == "pop_band":
        order = {b: i for i, b in enumerate(band_order(out[level].astype(str).tolist()))}
        out = out.sort_values([*by, level], key=lambda s: s.map(order) if s.name == level else s, kind="stable")
    return out.reset_index(drop=True)


def same_territory(coll: pd.DataFrame) -> bool:
    """True when every seed has the same communes at the same places (the French territory), so that
    départements and communes can be compared across seeds."""
    c = _communes(coll)
    sigs = {
        seed: (tuple(g["code"].astype(str)), tuple(np.round(g["x"].astype(float), 6)))
        for seed, g in c.sort_values("code").groupby("seed")
    }
    return len(set(sigs.values())) <= 1 and len(sigs) >= 1
