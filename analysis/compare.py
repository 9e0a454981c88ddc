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

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.load import TIMESERIES_COLUMNS, param_columns
from sim import outcomes as outcome_registry


def _t() -> Any:
    """scipy's Student t distribution (scipy.stats is imported on first use: it is slow to import)."""
    from scipy.stats import t

    return t


#: Headline metrics of each family, from the outcome registry (sim/outcomes.py).
ADOPTION_METRICS: tuple[str, ...] = tuple(outcome_registry.metrics("adoption", headline=True))
FRACTURE_METRICS: tuple[str, ...] = tuple(outcome_registry.metrics("fracture", headline=True))
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
    steps of the policy period (step 0 and after; negative steps, a history period before the
    policies, are not counted): ``cum_spend_total_eur`` is the run's cost. A warning is issued
    when some steps were not loaded, since the sum then misses them.
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
    # Costs are the policy period's (steps 0 and after); a history period before it (negative steps,
    # the model's spin-up without levers) is not counted.
    spend = sub[sub["metric"].str.startswith("spend_") & (sub["step"] >= 0)]
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
    """The value that measures fracture (lower is better): |gap| for signed gaps (registry's ``absolute``)."""
    s = outcomes[metric].astype(float)
    return s.abs() if outcome_registry.get(metric).absolute or metric.startswith("gap_") else s


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


# --------------------------------------------------------------------------- designs

#: Group names taken as the baseline when none is given, in this order.
BASELINE_NAMES = ("business_as_usual", "baseline")
#: Swept columns that name a parameter set (an ensemble member, issue 13) rather than a policy.
PARAM_SET_PATTERN = re.compile(r"(^|\.)(member|param_set|parameter_set|ensemble|ensemble_member|draw)$")


@dataclass
class Design:
    """How the runs of a sweep are organised, for comparisons.

    ``by``: the columns whose values are the options compared (usually ``scenario``);
    ``panels``: other swept columns, compared level by level (e.g. ``equal_budget_eur_per_staff``);
    ``param_sets``: columns naming parameter sets (runs are paired on seed and parameter set);
    ``baseline``: the option the others are compared with; ``shared_baseline``: the baseline's runs
    do not depend on the panel columns (identical copies at every level, counted once).
    ``kind``: ``scenarios``, ``panels`` (scenarios within levels, e.g. equal budget), ``grid`` (a sweep
    over two or more numeric parameters), ``groups`` (anything else) or ``single`` (one group).
    """

    by: list[str]
    panels: list[str] = field(default_factory=list)
    param_sets: list[str] = field(default_factory=list)
    baseline: Any = None
    shared_baseline: bool = False
    kind: str = "groups"
    n_seeds: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def pair_on(self) -> list[str]:
        return ["seed", *self.param_sets]

    @property
    def keys(self) -> list[str]:
        """Panel columns then group columns: one comparison per value of these."""
        return [*self.panels, *self.by]


def _uncertain_paths() -> set[str]:
    try:
        from sim.config import uncertain_params

        return {p.path for p in uncertain_params()}
    except Exception:  # noqa: BLE001 - analysis works without the simulator's config
        return set()


def _typed(value: Any, column: pd.Series) -> Any:
    """``value`` (possibly text from the command line) typed like the values of ``column``."""
    if value is None:
        return None
    for v in column.dropna().unique():
        if v == value or str(v) == str(value):
            return v
    from analysis.load import parse_value

    return parse_value(str(value)) if isinstance(value, str) else value


def describe_design(
    outcomes: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    baseline: Any = None,
    panels: Sequence[str] | None = None,
    param_sets: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> Design:
    """Work out the design of a sweep (see :class:`Design`); every argument overrides a guess.

    Parameter sets: swept columns named like an ensemble member (``member``, ``param_set``,
    ``ensemble``...) or that are uncertain parameters of the model (``sim.config.uncertain_params``).
    Groups: ``scenario`` when it varies, else every other varying column. The baseline, when not
    given: a group named business_as_usual or baseline. The baseline is *shared* across panel levels
    when its runs hold the same outcomes at every level for each seed (the equal-budget experiment
    runs business as usual once per budget level: identical copies).
    """
    design_cols = design_columns(outcomes)
    varying = [c for c in design_cols if outcomes[c].nunique(dropna=False) > 1]
    if param_sets is None:
        uncertain = _uncertain_paths()
        param_sets = [c for c in varying if PARAM_SET_PATTERN.search(c) or c in uncertain]
    param_sets = list(param_sets)
    rest = [c for c in varying if c not in param_sets]
    if by is None:
        by_cols = ["scenario"] if "scenario" in rest else rest or (["scenario"] if "scenario" in outcomes else [])
    else:
        by_cols = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by_cols, *(panels or []), *param_sets] if c not in outcomes.columns]
    if missing:
        raise KeyError(f"columns not in the runs: {missing}; design columns: {design_cols}")
    panel_cols = list(panels) if panels is not None else [c for c in rest if c not in by_cols]
    if baseline is None and len(by_cols) == 1:
        names = set(outcomes[by_cols[0]].astype(str))
        baseline = next((n for n in BASELINE_NAMES if n in names), None)
    elif baseline is not None and len(by_cols) == 1:
        baseline = _typed(baseline, outcomes[by_cols[0]])
    n_groups = outcomes[by_cols].drop_duplicates().shape[0] if by_cols else 1
    if n_groups <= 1:
        kind = "single"
    elif len(by_cols) >= 2 and all(pd.api.types.is_numeric_dtype(outcomes[c]) for c in by_cols):
        kind = "grid"
    elif panel_cols:
        kind = "panels"
    elif by_cols == ["scenario"]:
        kind = "scenarios"
    else:
        kind = "groups"
    d = Design(by_cols, panel_cols, param_sets, baseline, kind=kind, n_seeds=int(outcomes["seed"].nunique()))
    if baseline is not None and panel_cols and len(by_cols) == 1:
        d.shared_baseline = _baseline_is_shared(outcomes, d, metrics)
        if d.shared_baseline:
            d.notes.append(
                f"The baseline {baseline} does not depend on {', '.join(panel_cols)}: its runs are counted once "
                "and shared by every level."
            )
    return d


def _is_baseline(outcomes: pd.DataFrame, design: Design) -> pd.Series:
    if design.baseline is None or len(design.by) != 1:
        return pd.Series(False, index=outcomes.index)
    return outcomes[design.by[0]].astype(str) == str(design.baseline)


def _baseline_is_shared(outcomes: pd.DataFrame, design: Design, metrics: Sequence[str] | None) -> bool:
    base = outcomes[_is_baseline(outcomes, design)]
    if base.empty:
        return False
    levels = base[design.panels].drop_duplicates()
    if len(levels) <= 1:
        return True
    mets = [m for m in (metrics or metric_columns(outcomes)) if m in base.columns]
    if not mets:
        return False
    values = base[[*design.pair_on, *mets]].round(12)
    per_key = values.groupby(design.pair_on, dropna=False)[mets].nunique(dropna=False)
    return bool((per_key <= 1).all().all())


def absolute_gaps(outcomes: pd.DataFrame) -> pd.DataFrame:
    """A copy with every signed gap (registry ``absolute``) replaced by its absolute value: the size
    of the fracture whichever way it goes."""
    out = outcomes.copy()
    for c in out.columns:
        if outcome_registry.get(str(c)).absolute:
            out[c] = out[c].astype(float).abs()
    out.attrs = dict(outcomes.attrs)
    return out


def prepare(outcomes: pd.DataFrame, design: Design) -> pd.DataFrame:
    """The outcomes with a shared baseline counted once: one copy per seed (and parameter set), its
    panel columns left empty."""
    if not design.shared_baseline:
        return outcomes
    base = _is_baseline(outcomes, design)
    keep = outcomes[base].drop_duplicates(design.pair_on)
    out = pd.concat([outcomes[~base], keep]).copy()
    for c in design.panels:
        out[c] = out[c].astype(object)
        out.loc[_is_baseline(out, design), c] = None
    out.attrs = dict(outcomes.attrs)
    return out.reset_index(drop=True)


def _levels(outcomes: pd.DataFrame, design: Design) -> list[tuple[Any, ...]]:
    if not design.panels:
        return [()]
    rows = outcomes[~_is_baseline(outcomes, design)][design.panels].drop_duplicates()
    return sorted((tuple(r) for r in rows.itertuples(index=False)), key=lambda t: tuple(map(_sort_key, t)))


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else (1, str(v))


def _at(outcomes: pd.DataFrame, cols: Sequence[str], level: tuple[Any, ...]) -> pd.Series:
    mask = pd.Series(True, index=outcomes.index)
    for c, v in zip(cols, level, strict=True):
        mask &= outcomes[c].astype(object) == v
    return mask


def _panel_frames(outcomes: pd.DataFrame, design: Design):
    """(level, frame of the level's groups plus the baseline) for each panel level."""
    base = _is_baseline(outcomes, design)
    for level in _levels(outcomes, design):
        at = _at(outcomes, design.panels, level) if design.panels else pd.Series(True, index=outcomes.index)
        if design.shared_baseline:
            frame = pd.concat([outcomes[at & ~base], outcomes[base]])
        else:
            frame = outcomes[at]
        frame = frame.copy()
        frame.attrs = dict(outcomes.attrs)
        yield level, frame


def compare_design(
    outcomes: pd.DataFrame,
    design: Design,
    metrics: Sequence[str] | None = None,
    *,
    level: float = 0.95,
    method: str = "t",
) -> pd.DataFrame:
    """:func:`compare_to_baseline` level by level of the panel columns (against the shared baseline,
    counted once, or the level's own), paired on seed and parameter set. Columns: panels, then those
    of :func:`compare_to_baseline`."""
    if design.baseline is None:
        raise KeyError("no baseline: pass one (e.g. --baseline business_as_usual)")
    out = prepare(outcomes, design)
    frames = []
    for lv, frame in _panel_frames(out, design):
        groups = frame[~_is_baseline(frame, design)]
        if groups.empty or not _is_baseline(frame, design).any():
            continue
        d = compare_to_baseline(
            frame, design.baseline, design.by, metrics, level=level, method=method, pair_on=design.pair_on
        )
        for c, v in zip(design.panels, lv, strict=True):
            d.insert(0, c, v)
        frames.append(d)
    if not frames:
        raise KeyError(f"baseline {design.baseline!r} not found at any level of {design.panels or design.by}")
    return pd.concat(frames, ignore_index=True)


def summarize_design(
    outcomes: pd.DataFrame, design: Design, metrics: Sequence[str] | None = None, *, level: float = 0.95
) -> pd.DataFrame:
    """:func:`summarize` by panel and group columns, the shared baseline counted once."""
    out = prepare(outcomes, design)
    keys = design.keys
    s = summarize(out, keys, metrics, level=level) if keys else summarize(out, [], metrics, level=level)
    return s


# --------------------------------------------------------------------------- probabilities


def beat_probabilities(
    outcomes: pd.DataFrame, design: Design, metrics: Sequence[str], *, diffs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """How sure: for each panel level, group and metric, the probability that the group beats the
    baseline.

    Uses ``analysis.robustness.beat_probabilities(outcomes, design=..., metrics=...)`` when that module
    exists (comparison under parameter uncertainty, issue 13) and returns a table with the same
    columns. Otherwise, from the paired runs: with parameter sets, the share of parameter sets whose
    mean difference over seeds is better (``basis`` = ``parameter sets``: a probability over the
    ensemble); without, the share of seeds (territories) where the group does better (``basis`` =
    ``seeds``). Columns: panels, by, ``metric``, ``prob_better``, ``n``, ``basis``.
    """
    try:
        from analysis import robustness  # written by the calibration work (issue 13)
    except ImportError:
        robustness = None
    provider = getattr(robustness, "beat_probabilities", None)
    if provider is not None:
        return provider(outcomes, design=design, metrics=list(metrics))
    out = prepare(outcomes, design)
    rows = []
    for lv, frame in _panel_frames(out, design):
        base = frame[_is_baseline(frame, design)]
        if base.empty:
            continue
        bidx = base.set_index(design.pair_on)
        for key, grp in _groups(frame[~_is_baseline(frame, design)], design.by):
            key = _key_tuple(key, design.by)
            gidx = grp.set_index(design.pair_on)
            for m in metrics:
                if m not in frame.columns:
                    continue
                o = outcome_registry.get(m)
                j = gidx[[m]].join(bidx[[m]].rename(columns={m: m + "_b"}), how="inner").dropna()
                if j.empty or o.direction == outcome_registry.NEUTRAL:
                    continue
                a, b = j[m].astype(float), j[m + "_b"].astype(float)
                if o.absolute:
                    a, b = a.abs(), b.abs()
                gain = (a - b) * o.direction
                if design.param_sets:
                    per_set = gain.groupby(level=list(range(1, len(design.pair_on)))).mean()
                    prob, n, basis = float((per_set > 0).mean()), len(per_set), "parameter sets"
                else:
                    prob, n, basis = float((gain > 0).mean()), len(gain), "seeds"
                rows.append((*lv, *key, m, prob, n, basis))
    return pd.DataFrame(rows, columns=[*design.panels, *design.by, "metric", "prob_better", "n", "basis"])


# --------------------------------------------------------------------------- multi-criteria ranking


def resolve_weights(criteria: Sequence[str], weights: dict[str, float] | None = None) -> dict[str, float]:
    """Weight of each criterion. ``weights`` maps a metric or a family (adoption, fracture, cost) to a
    weight; a family's weight (default 1) is shared equally by its metrics without a weight of
    their own. Unknown names are an error."""
    weights = dict(weights or {})
    fams = {m: outcome_registry.get(m).family for m in criteria}
    unknown = set(weights) - set(criteria) - set(fams.values()) - set(outcome_registry.FAMILIES)
    if unknown:
        raise ValueError(f"unknown weight names {sorted(unknown)}; criteria: {list(criteria)}, families: adoption, "
                         "fracture, cost")  # fmt: skip
    for name, w in weights.items():
        if not (isinstance(w, (int, float)) and math.isfinite(w) and w >= 0):
            raise ValueError(f"weight of {name} must be a number >= 0, not {w!r}")
    out = {}
    for m in criteria:
        if m in weights:
            out[m] = float(weights[m])
            continue
        fam = fams[m]
        free = [c for c in criteria if fams[c] == fam and c not in weights]
        out[m] = float(weights.get(fam, 1.0)) / len(free)
    if sum(out.values()) <= 0:
        raise ValueError("all weights are zero")
    return out


def multi_criteria(
    outcomes: pd.DataFrame,
    design: Design,
    criteria: Sequence[str] | None = None,
    *,
    weights: dict[str, float] | None = None,
    cost: str = COST_METRIC,
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank the groups on every criterion at once (within each panel level).

    Criteria: the headline adoption and fracture metrics of the registry present in the data, and
    ``cost``. For each group and criterion against the baseline: the difference with its interval
    (paired on seed and parameter set), the improvement in points (percentage points for a share,
    hundredths for a 0-1 index; positive = better, signed gaps by absolute value), the extra cost per
    point of improvement (``eur_per_point``, blank without an improvement) and the probability of
    doing better (:func:`beat_probabilities`). Each criterion's group means are scaled from 0 (worst
    group) to 1 (best group, the baseline included); the score is their weighted mean
    (:func:`resolve_weights`), and ``rank`` 1 is the best score.

    Returns ``(ranking, criteria_table)``: one row per group (panels, by, ``score``, ``rank``,
    ``<family>_score``, ``extra_cost``, ``n_runs``) and one row per group and criterion.
    """
    out = prepare(outcomes, design)
    if criteria is None:
        criteria = [m for m in (*ADOPTION_METRICS, *FRACTURE_METRICS) if m in out.columns]
        if cost in out.columns:
            criteria.append(cost)
    criteria = [m for m in criteria if m in out.columns]
    if not criteria:
        raise KeyError("none of the criteria is in the data")
    w = resolve_weights(criteria, weights)
    bad = absolute_gaps(out)
    keys = design.keys
    means = bad.groupby(keys, dropna=False, sort=False)[criteria].mean() if keys else bad[criteria].mean().to_frame().T
    n_runs = bad.groupby(keys, dropna=False, sort=False).size() if keys else pd.Series([len(bad)])
    diffs = probs = None
    if design.baseline is not None:
        diffs = compare_design(bad, design, criteria, level=level).set_index([*keys, "metric"])
        probs = beat_probabilities(bad, design, criteria).set_index([*keys, "metric"])
    rows, rank_rows = [], []
    base_mask = means.index.get_level_values(design.by[0]).astype(str) == str(design.baseline) if design.by else None
    for lv in _levels(out, design):
        in_level = np.ones(len(means), dtype=bool)
        for i, c in enumerate(design.panels):
            in_level &= np.array([_eq(v, lv[i]) for v in means.index.get_level_values(c)])
        sel = in_level | (base_mask if base_mask is not None and design.shared_baseline else False)
        m_lv = means[sel]
        n_lv = n_runs[sel] if keys else n_runs
        scores = {}
        for m in criteria:
            o = outcome_registry.get(m)
            oriented = m_lv[m] * (1 if o.direction == outcome_registry.HIGHER else -1)
            span = oriented.max() - oriented.min()
            scores[m] = (oriented - oriented.min()) / span if span > 0 else pd.Series(0.5, index=m_lv.index)
        for pos, idx in enumerate(m_lv.index):
            key = idx if isinstance(idx, tuple) else (idx,)
            group_key = key[len(design.panels) :]
            total = sum(w[m] * scores[m].iloc[pos] for m in criteria) / sum(w.values())
            fam_scores = {}
            for fam in ("adoption", "fracture", "cost"):
                ms = [m for m in criteria if outcome_registry.get(m).family == fam]
                if ms:
                    fam_scores[f"{fam}_score"] = float(np.mean([scores[m].iloc[pos] for m in ms]))
            diff_key = (*lv, *group_key)
            extra = np.nan
            if diffs is not None and cost in criteria and (*diff_key, cost) in diffs.index:
                extra = float(diffs.loc[(*diff_key, cost), "diff"])
            is_base = design.baseline is not None and str(group_key[0]) == str(design.baseline)
            rank_rows.append(
                {**dict(zip(design.panels, lv, strict=True)), **dict(zip(design.by, group_key, strict=True)),
                 "score": float(total), **fam_scores, "extra_cost": 0.0 if is_base else extra,
                 "n_runs": int(n_lv.iloc[pos]), "is_baseline": is_base}
            )  # fmt: skip
            for m in criteria:
                o = outcome_registry.get(m)
                row = {
                    **dict(zip(design.panels, lv, strict=True)),
                    **dict(zip(design.by, group_key, strict=True)),
                    "metric": m,
                    "family": o.family,
                    "weight": w[m],
                    "mean": float(m_lv[m].iloc[pos]),
                    "normalised": float(scores[m].iloc[pos]),
                }
                if diffs is not None and (*diff_key, m) in diffs.index:
                    r = diffs.loc[(*diff_key, m)]
                    sign = 1 if o.direction == outcome_registry.HIGHER else -1
                    pts = o.points_per_unit if m != cost else 1.0
                    imp = sign * r["diff"] * pts
                    lo, hi = sorted((sign * r["ci_low"] * pts, sign * r["ci_high"] * pts))
                    row.update(
                        diff=r["diff"], ci_low=r["ci_low"], ci_high=r["ci_high"], paired=bool(r["paired"]),
                        n_pairs=int(r["n"]), improvement=imp, improvement_low=lo, improvement_high=hi,
                        eur_per_point=(extra / imp) if (m != cost and imp > 0 and np.isfinite(extra)) else np.nan,
                    )  # fmt: skip
                    if probs is not None and (*diff_key, m) in probs.index:
                        p = probs.loc[(*diff_key, m)]
                        row.update(prob_better=float(p["prob_better"]), prob_basis=p["basis"], prob_n=int(p["n"]))
                rows.append(row)
    ranking = pd.DataFrame(rank_rows)
    if not ranking.empty:
        group_cols = design.panels
        if group_cols:
            # the shared baseline appears at every level: rank within each level
            ranking["_lv"] = list(zip(*[ranking[c] for c in group_cols], strict=True))
        ranking["rank"] = (
            ranking.groupby("_lv")["score"].rank(ascending=False, method="min").astype(int)
            if group_cols
            else ranking["score"].rank(ascending=False, method="min").astype(int)
        )
        ranking = ranking.drop(columns=["_lv"], errors="ignore")
        ranking = ranking.sort_values([*design.panels, "rank"], key=_sort_series, kind="stable").reset_index(drop=True)
    return ranking, pd.DataFrame(rows)


def _eq(a: Any, b: Any) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == b or str(a) == str(b)


def _sort_series(s: pd.Series) -> pd.Series:
    if s.name == "rank":
        return s
    return s.map(lambda v: _sort_key(v)[1] if _sort_key(v)[0] == 0 else float("inf"))


def end_step_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of the tidy table at each run's last step (any stratum)."""
    last = df.groupby("run_id", observed=True)["step"].transform("max")
    return df[df["step"] == last]


__all__ = [
    "ADOPTION_METRICS",
    "BASELINE_NAMES",
    "COST_METRIC",
    "FRACTURE_METRICS",
    "TIMESERIES_COLUMNS",
    "Design",
    "absolute_gaps",
    "beat_probabilities",
    "compare_design",
    "compare_to_baseline",
    "cost_effectiveness",
    "default_by",
    "describe_design",
    "end_step_frame",
    "mean_interval",
    "metric_columns",
    "multi_criteria",
    "prepare",
    "rank_scenarios",
    "resolve_weights",
    "run_outcomes",
    "summarize",
    "summarize_design",
    "summarize_timeseries",
]
