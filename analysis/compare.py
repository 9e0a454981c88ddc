"""Summaries over seeds, differences against a baseline, rankings and cost-effectiveness.

Everything here works on an *outcomes* table: one row per run, the run's design
columns (``run_id``, swept parameters, ``scenario``, ``seed``) and one column per
metric holding its end-of-run value (see :func:`run_outcomes`).  Functions also accept
the tidy table of :func:`analysis.load.load` and convert it.

Conventions
-----------
* Intervals are two-sided at ``level`` (0.95): Student t over seeds by default
  (``method="t"``), or percentile bootstrap of the mean (``method="bootstrap"``).
* Differences are ``scenario - baseline``.  They are paired by seed (paired t) when
  both groups hold exactly the same seeds (and the same values of any other varying
  parameter), each once; otherwise Welch's unequal-variance t is used.
* Fracture metrics are "lower is better".  The signed gaps (``gap_*``) count by their
  absolute value: a gap either way is a fracture.
* Cost is ``cum_spend_total_eur``: the sum over all steps of ``spend_total_eur``.
* Cost per point: extra cost over the baseline divided by the fracture reduction in
  points (metric x 100, i.e. percentage points for a 0-1 share or index); undefined
  (NaN) when the scenario does not reduce the fracture.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.load import TIMESERIES_COLUMNS, param_columns


def _t() -> Any:
    """scipy's Student t distribution (scipy.stats is imported on first use: it is slow to import)."""
    from scipy.stats import t

    return t


ADOPTION_METRICS: tuple[str, ...] = ("maturity_mean", "staff_proficient_share", "eservice_use_share")
FRACTURE_METRICS: tuple[str, ...] = (
    "maturity_gini",
    "gap_size",
    "gap_rural_urban",
    "staff_illectronism_share",
    "inhabitants_excluded_share",
)
COST_METRIC = "cum_spend_total_eur"
HEADLINE_FRACTURE = "maturity_gini"
#: Points per unit of a fracture metric (percentage points for 0-1 metrics).
POINTS_PER_UNIT = 100.0
CUMULATIVE_PREFIX = "cum_"

METHODS = ("t", "bootstrap")


# --------------------------------------------------------------------------- intervals


def t_half_width(sd: np.ndarray | float, n: np.ndarray | float, level: float = 0.95) -> np.ndarray:
    """Half-width of the Student t interval of a mean (NaN when n < 2)."""
    sd = np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = _t().ppf((1 + level) / 2, np.where(n >= 2, n - 1, np.nan))
        return q * sd / np.sqrt(n)


def mean_interval(
    x: Sequence[float] | np.ndarray,
    level: float = 0.95,
    method: str = "t",
    n_boot: int = 2000,
    rng: np.random.Generator | int | None = 0,
) -> tuple[float, float, float]:
    """(mean, low, high) of the mean of ``x`` (NaNs dropped)."""
    a = np.asarray(x, dtype=float)
    a = a[~np.isnan(a)]
    n = len(a)
    if n == 0:
        return (np.nan, np.nan, np.nan)
    m = float(a.mean())
    if n < 2:
        return (m, np.nan, np.nan)
    if method == "t":
        h = float(t_half_width(a.std(ddof=1), n, level))
        return (m, m - h, m + h)
    if method == "bootstrap":
        gen = np.random.default_rng(rng)
        means = a[gen.integers(0, n, size=(n_boot, n))].mean(axis=1)
        lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
        return (m, float(lo), float(hi))
    raise ValueError(f"method must be one of {METHODS}, not {method!r}")


def _negligible(spread: float, values: np.ndarray) -> bool:
    """True when ``spread`` is zero up to floating-point rounding of ``values``."""
    scale = float(np.max(np.abs(values))) if len(values) else 0.0
    return bool(spread <= 1e-12 * scale) or spread == 0


def _welch(xs: np.ndarray, xb: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """(diff, low, high, p) of mean(xs) - mean(xb) by Welch's t."""
    ns, nb = len(xs), len(xb)
    diff = float(xs.mean() - xb.mean())
    if ns < 2 or nb < 2:
        return (diff, np.nan, np.nan, np.nan)
    vs, vb = xs.var(ddof=1) / ns, xb.var(ddof=1) / nb
    se = np.sqrt(vs + vb)
    if _negligible(se, np.concatenate([xs, xb])):
        return (diff, diff, diff, np.nan)
    dof = (vs + vb) ** 2 / (vs**2 / (ns - 1) + vb**2 / (nb - 1))
    h = float(_t().ppf((1 + level) / 2, dof) * se)
    p = float(2 * _t().sf(abs(diff) / se, dof))
    return (diff, diff - h, diff + h, p)


def _paired(d: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """(mean, low, high, p) of paired differences ``d`` by the paired t-test."""
    n = len(d)
    m = float(d.mean())
    if n < 2:
        return (m, np.nan, np.nan, np.nan)
    sd = d.std(ddof=1)
    if _negligible(sd, d):
        return (m, m, m, np.nan)
    h = float(t_half_width(sd, n, level))
    p = float(2 * _t().sf(abs(m) / (sd / np.sqrt(n)), n - 1))
    return (m, m - h, m + h, p)


def _boot_diff(
    xs: np.ndarray, xb: np.ndarray, paired: bool, level: float, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    if paired:
        d = xs - xb
        means = d[rng.integers(0, len(d), size=(n_boot, len(d)))].mean(axis=1)
    else:
        ms = xs[rng.integers(0, len(xs), size=(n_boot, len(xs)))].mean(axis=1)
        mb = xb[rng.integers(0, len(xb), size=(n_boot, len(xb)))].mean(axis=1)
        means = ms - mb
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


# --------------------------------------------------------------------------- outcomes


def is_tidy(df: pd.DataFrame) -> bool:
    return {"metric", "value", "step"}.issubset(df.columns)


def design_columns(df: pd.DataFrame) -> list[str]:
    """Swept parameters and scenario (as loaded), without run_id and seed."""
    return param_columns(df)


def run_outcomes(
    df: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    stratum_kind: str = "all",
    stratum: str = "all",
) -> pd.DataFrame:
    """One row per run: design columns, then each metric's value at the run's last step.

    For every ``spend_*`` metric a ``cum_spend_*`` column holds its sum over the loaded
    steps (``cum_spend_total_eur`` is the run's cost); a warning is issued when some
    steps were not loaded, since the sum then misses them.
    """
    if not is_tidy(df):
        raise ValueError("run_outcomes needs the tidy table of analysis.load.load")
    design = design_columns(df)
    sub = df[(df["stratum_kind"] == stratum_kind) & (df["stratum"] == stratum)]
    if metrics is not None:
        wanted = set(metrics) | {m[len(CUMULATIVE_PREFIX) :] for m in metrics if m.startswith(CUMULATIVE_PREFIX)}
        sub = sub[sub["metric"].isin(list(wanted))]
    sub = sub[["run_id", "step", "metric", "value"]].copy()
    for col in ("run_id", "metric"):
        sub[col] = sub[col].astype(str)
    sub = sub.sort_values(["run_id", "metric", "step"], kind="stable")
    end = sub.groupby(["run_id", "metric"], sort=False).tail(1)
    wide = end.pivot(index="run_id", columns="metric", values="value")
    spend = sub[sub["metric"].str.startswith("spend_")]
    if len(spend):
        steps = spend.groupby(["run_id", "metric"])["step"].agg(["nunique", "max"])
        if (steps["nunique"] != steps["max"] + 1).any():
            warnings.warn(
                "cumulative spend computed over the loaded steps only: some runs lack steps "
                "(load without last_step_only/steps to get full costs)",
                stacklevel=2,
            )
        cum = spend.pivot_table(index="run_id", columns="metric", values="value", aggfunc="sum")
        cum.columns = [CUMULATIVE_PREFIX + str(c) for c in cum.columns]
        wide = wide.join(cum)
    if metrics is not None:
        wide = wide[[m for m in metrics if m in wide.columns]]
    wide.columns.name = None
    runs = df[["run_id", *design, "seed"]].drop_duplicates("run_id").copy()
    for col in runs.columns:
        if isinstance(runs[col].dtype, pd.CategoricalDtype):
            runs[col] = runs[col].astype(object)
    out = runs.merge(wide, left_on="run_id", right_index=True, how="inner").reset_index(drop=True)
    out.attrs["param_columns"] = design
    return out


def as_outcomes(data: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """``data`` if it already is an outcomes table, else :func:`run_outcomes` of it."""
    return run_outcomes(data, metrics) if is_tidy(data) else data


def metric_columns(outcomes: pd.DataFrame) -> list[str]:
    design = set(design_columns(outcomes)) | {"run_id", "seed"}
    return [c for c in outcomes.columns if c not in design and pd.api.types.is_numeric_dtype(outcomes[c])]


def default_by(outcomes: pd.DataFrame) -> list[str]:
    """Group by the design columns that vary; ``scenario`` alone if nothing varies."""
    design = design_columns(outcomes)
    varying = [c for c in design if outcomes[c].nunique(dropna=False) > 1]
    if varying:
        return varying
    return ["scenario"] if "scenario" in outcomes.columns else []


def _as_list(by: str | Sequence[str] | None, outcomes: pd.DataFrame) -> list[str]:
    if by is None:
        return default_by(outcomes)
    return [by] if isinstance(by, str) else list(by)


def _groups(outcomes: pd.DataFrame, by: list[str]) -> Any:
    if not by:
        return [((), outcomes)]
    return outcomes.groupby(by, dropna=False, sort=True)


def _key_tuple(key: Any, by: list[str]) -> tuple[Any, ...]:
    return key if isinstance(key, tuple) else (key,) if by else ()


# --------------------------------------------------------------------------- summaries


def summarize(
    data: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    *,
    level: float = 0.95,
    method: str = "t",
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean and ``level`` interval over runs (seeds) of each metric, per group.

    Returns columns ``*by, metric, n, mean, sd, ci_low, ci_high``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    out = as_outcomes(data, metrics)
    by_cols = _as_list(by, out)
    mets = [m for m in (metrics or metric_columns(out)) if m in out.columns]
    rng = np.random.default_rng(seed)
    rows = []
    for key, grp in _groups(out, by_cols):
        for m in mets:
            x = grp[m].to_numpy(dtype=float)
            x = x[~np.isnan(x)]
            mean, lo, hi = mean_interval(x, level, method, n_boot, rng)
            sd = float(x.std(ddof=1)) if len(x) > 1 else np.nan
            rows.append((*_key_tuple(key, by_cols), m, len(x), mean, sd, lo, hi))
    return pd.DataFrame(rows, columns=[*by_cols, "metric", "n", "mean", "sd", "ci_low", "ci_high"])


def summarize_timeseries(
    df: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    by: str | Sequence[str] | None = None,
    *,
    stratum_kind: str = "all",
    stratum: str | None = "all",
    level: float = 0.95,
) -> pd.DataFrame:
    """Per group, metric, stratum and step: mean over runs with a t interval.

    Returns ``*by, metric, stratum, step, year, n, mean, sd, ci_low, ci_high``
    (``stratum=None`` keeps every stratum of ``stratum_kind``).
    """
    sub = df[df["stratum_kind"] == stratum_kind]
    if stratum is not None:
        sub = sub[sub["stratum"] == stratum]
    if metrics is not None:
        sub = sub[sub["metric"].isin(list(metrics))]
    runs = df[["run_id", *design_columns(df)]].drop_duplicates("run_id")
    by_cols = _as_list(by, runs.assign(seed=0))
    keys = [*by_cols, "metric", "stratum", "step"]
    g = sub.groupby(keys, observed=True, dropna=False, sort=True)
    agg = g.agg(year=("year", "mean"), n=("value", "count"), mean=("value", "mean"), sd=("value", "std"))
    agg = agg.reset_index()
    h = t_half_width(agg["sd"].to_numpy(), agg["n"].to_numpy(), level)
    agg["ci_low"] = agg["mean"] - h
    agg["ci_high"] = agg["mean"] + h
    for col in ("metric", "stratum", *by_cols):
        if isinstance(agg[col].dtype, pd.CategoricalDtype):
            agg[col] = agg[col].astype(object)
    return agg


# --------------------------------------------------------------------------- comparisons


def _badness(outcomes: pd.DataFrame, metric: str) -> pd.Series:
    """The value that measures fracture (lower is better): |gap| for signed gaps."""
    s = outcomes[metric].astype(float)
    return s.abs() if metric.startswith("gap_") else s


def _baseline_key(baseline: Any, by: list[str]) -> tuple[Any, ...]:
    return tuple(baseline) if isinstance(baseline, (tuple, list)) else (baseline,)


def compare_to_baseline(
    data: pd.DataFrame,
    baseline: Any,
    by: str | Sequence[str] = "scenario",
    metrics: Sequence[str] | None = None,
    *,
    level: float = 0.95,
    method: str = "t",
    pair_on: Sequence[str] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Difference ``group - baseline`` of each metric's mean, with a ``level`` interval.

    Pairs runs on ``pair_on`` (default: ``seed`` plus every other varying design column)
    when both groups hold the same keys, each once: paired t (or paired bootstrap);
    otherwise Welch's t (or independent bootstrap).  ``p_value`` is the t-test's.
    Returns ``*by, metric, baseline, n, n_baseline, paired, test, mean_baseline, mean,
    diff, ci_low, ci_high, p_value``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    out = as_outcomes(data, metrics)
    by_cols = _as_list(by, out)
    base_key = _baseline_key(baseline, by_cols)
    mets = [m for m in (metrics or metric_columns(out)) if m in out.columns]
    if pair_on is None:
        others = [c for c in design_columns(out) if c not in by_cols and out[c].nunique(dropna=False) > 1]
        pair_on = ["seed", *others]
    pair_cols = [c for c in pair_on if c in out.columns]
    groups = {_key_tuple(k, by_cols): g for k, g in _groups(out, by_cols)}
    if base_key not in groups:
        raise KeyError(f"baseline {baseline!r} not found in {by_cols}: {sorted(groups, key=str)}")
    base = groups[base_key]
    rng = np.random.default_rng(seed)
    rows = []
    for key, grp in groups.items():
        if key == base_key:
            continue
        paired = _can_pair(grp, base, pair_cols)
        for m in mets:
            if paired:
                joined = grp.set_index(pair_cols)[m].to_frame("s").join(base.set_index(pair_cols)[m].rename("b"))
                joined = joined.dropna()
                xs, xb = joined["s"].to_numpy(float), joined["b"].to_numpy(float)
                diff, lo, hi, p = _paired(xs - xb, level)
                test = "paired t" if method == "t" else "paired bootstrap"
            else:
                xs = grp[m].dropna().to_numpy(float)
                xb = base[m].dropna().to_numpy(float)
                if len(xs) == 0 or len(xb) == 0:
                    rows.append((*key, m, _fmt_key(base_key), len(xs), len(xb), False, "none", *(np.nan,) * 6))
                    continue
                diff, lo, hi, p = _welch(xs, xb, level)
                test = "Welch t" if method == "t" else "bootstrap"
            if method == "bootstrap" and len(xs) > 1 and len(xb) > 1:
                lo, hi = _boot_diff(xs, xb, paired, level, n_boot, rng)
            rows.append(
                (
                    *key,
                    m,
                    _fmt_key(base_key),
                    len(xs),
                    len(xb),
                    paired,
                    test,
                    float(np.mean(xb)),
                    float(np.mean(xs)),
                    diff,
                    lo,
                    hi,
                    p,
                )
            )
    cols = [
        *by_cols,
        "metric",
        "baseline",
        "n",
        "n_baseline",
        "paired",
        "test",
        "mean_baseline",
        "mean",
        "diff",
        "ci_low",
        "ci_high",
        "p_value",
    ]
    return pd.DataFrame(rows, columns=cols)


def _fmt_key(key: tuple[Any, ...]) -> Any:
    return key[0] if len(key) == 1 else key


def _can_pair(a: pd.DataFrame, b: pd.DataFrame, cols: list[str]) -> bool:
    if not cols or len(a) < 2:
        return False
    ka = [tuple(r) for r in a[cols].itertuples(index=False)]
    kb = [tuple(r) for r in b[cols].itertuples(index=False)]
    return len(set(ka)) == len(ka) and len(set(kb)) == len(kb) and set(ka) == set(kb)


# --------------------------------------------------------------------------- rankings


def rank_scenarios(
    data: pd.DataFrame,
    by: str | Sequence[str] = "scenario",
    *,
    adoption: Sequence[str] = ADOPTION_METRICS,
    fracture: Sequence[str] = FRACTURE_METRICS,
    cost: str = COST_METRIC,
    baseline: Any = None,
    headline_fracture: str = HEADLINE_FRACTURE,
    points_per_unit: float = POINTS_PER_UNIT,
) -> pd.DataFrame:
    """Rank groups on adoption (higher is better), fracture (lower) and cost (lower).

    Each metric's group means are ranked (1 = best, ties share the best rank); a family's
    score is the mean of its metrics' ranks, and ``adoption_rank`` / ``fracture_rank``
    rank those scores.  With a ``baseline``: ``fracture_reduction_pp`` of the headline
    fracture metric (baseline minus group, in points), ``extra_cost_eur`` and
    ``eur_per_pp`` (extra cost per point of fracture reduced; NaN without a reduction).
    Metrics missing from the data are left out.  Rows are sorted by adoption then
    fracture rank.
    """
    out = as_outcomes(data)
    by_cols = _as_list(by, out)
    adopt = [m for m in adoption if m in out.columns]
    frac = [m for m in fracture if m in out.columns]
    table = out[by_cols].copy()
    for m in adopt:
        table[m] = out[m].astype(float)
    for m in frac:
        table[m] = _badness(out, m)
    if cost in out.columns:
        table[cost] = out[cost].astype(float)
    grouped = table.groupby(by_cols, dropna=False, sort=True)
    res = grouped.mean()
    res.insert(0, "n_runs", grouped.size())
    for fam, mets, ascending in (("adoption", adopt, False), ("fracture", frac, True)):
        if not mets:
            continue
        ranks = pd.DataFrame({m: res[m].rank(ascending=ascending, method="min") for m in mets})
        res[f"{fam}_score"] = ranks.mean(axis=1)
        res[f"{fam}_rank"] = res[f"{fam}_score"].rank(method="min").astype(int)
    if cost in res.columns:
        res["cost_rank"] = res[cost].rank(method="min").astype(int)
    if baseline is not None and headline_fracture in res.columns:
        key = _baseline_key(baseline, by_cols)
        base = res.loc[key[0] if len(key) == 1 else key]
        red = (base[headline_fracture] - res[headline_fracture]) * points_per_unit
        res["fracture_reduction_pp"] = red
        if cost in res.columns:
            extra = res[cost] - base[cost]
            res["extra_cost_eur"] = extra
            res["eur_per_pp"] = (extra / red).where(red > 0)
    sort = [c for c in ("adoption_rank", "fracture_rank") if c in res.columns]
    res = res.reset_index()
    return res.sort_values(sort, kind="stable").reset_index(drop=True) if sort else res


def cost_effectiveness(
    data: pd.DataFrame,
    baseline: Any,
    by: str | Sequence[str] = "scenario",
    *,
    fracture: Sequence[str] = FRACTURE_METRICS,
    cost: str = COST_METRIC,
    level: float = 0.95,
    points_per_unit: float = POINTS_PER_UNIT,
) -> pd.DataFrame:
    """Fracture reduction versus ``baseline`` per fracture metric, and euros per point reduced.

    Returns ``*by, metric, mean_baseline, mean, reduction_pp, reduction_ci_low,
    reduction_ci_high, extra_cost_eur, eur_per_pp``; reductions are in points
    (metric x ``points_per_unit``), positive when the group has less fracture, with the
    interval of :func:`compare_to_baseline` (paired by seed when possible).
    """
    out = as_outcomes(data)
    by_cols = _as_list(by, out)
    frac = [m for m in fracture if m in out.columns]
    if cost not in out.columns:
        raise KeyError(f"{cost} not in the outcomes: load all steps of spend_total_eur")
    bad = out.copy()
    for m in frac:
        bad[m] = _badness(out, m)
    diffs = compare_to_baseline(bad, baseline, by_cols, [*frac, cost], level=level)
    d = diffs.set_index([*by_cols, "metric"])
    rows = []
    for key in dict.fromkeys(tuple(r) for r in diffs[by_cols].itertuples(index=False)):
        extra = d.loc[(*key, cost), "diff"]
        for m in frac:
            r = d.loc[(*key, m)]
            red = 0.0 - r["diff"] * points_per_unit + 0.0
            rows.append(
                (
                    *key,
                    m,
                    r["mean_baseline"],
                    r["mean"],
                    red,
                    0.0 - r["ci_high"] * points_per_unit,
                    0.0 - r["ci_low"] * points_per_unit,
                    extra,
                    extra / red if red > 0 else np.nan,
                )
            )
    cols = [
        *by_cols,
        "metric",
        "mean_baseline",
        "mean",
        "reduction_pp",
        "reduction_ci_low",
        "reduction_ci_high",
        "extra_cost_eur",
        "eur_per_pp",
    ]
    return pd.DataFrame(rows, columns=cols)


def end_step_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of the tidy table at each run's last step (any stratum)."""
    last = df.groupby("run_id", observed=True)["step"].transform("max")
    return df[df["step"] == last]


__all__ = [
    "ADOPTION_METRICS",
    "COST_METRIC",
    "FRACTURE_METRICS",
    "TIMESERIES_COLUMNS",
    "compare_to_baseline",
    "cost_effectiveness",
    "default_by",
    "end_step_frame",
    "mean_interval",
    "metric_columns",
    "rank_scenarios",
    "run_outcomes",
    "summarize",
    "summarize_timeseries",
]
