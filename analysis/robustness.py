"""Comparison of scenarios under parameter uncertainty: which policy is better whatever we do not
know, and how sure are we.

Input: one row per run with ``scenario``, the parameter set it drew (``ensemble.member``, from a
calibrated ensemble: conf/experiment/ensemble_comparison.yaml), ``seed`` and end-of-run outcomes
(:func:`analysis.compare.run_outcomes`). Runs are paired by (parameter set, seed): common random
numbers make the scenario the only difference within a pair.

For each scenario, outcome and reference (the baseline, and every other scenario):

- **probability of beating it**: the share of parameter sets under which the scenario's expected
  outcome (mean over seeds) is better (ties count one half); also per run pair;
- **expected difference** (scenario minus reference, in the outcome's units), with a 95 %
  interval of that mean over the parameter sets, and the decomposition of the differences'
  variance (one-way random effects): **parameter uncertainty** (spread of the per-parameter-set
  means, corrected for seed noise; its 2.5-97.5 % range over parameter sets) against **seed noise**
  (spread between seeds of one parameter set);
- **regret**: under each parameter set, how much worse the scenario is than the best scenario
  for that set (0 when it is the best); mean and largest over parameter sets;
- **ranking**: by expected value, with the probability of being best, the range of ranks over
  parameter sets, whether the rank is robust (the same rank under at least ``robust_share`` of the
  parameter sets), the scenarios it flips with (probability of beating them between
  ``1 - robust_share`` and ``robust_share``) and those it ties with (equal under every set).

Direction (higher is better or worse) comes from the outcome registry ``sim.outcomes`` when it
exists, else from :mod:`analysis.compare` (adoption higher, fracture and cost lower); give it
explicitly with ``directions={"metric": +1 or -1}`` otherwise. Signed gaps (``gap_*``) count by
their absolute value, as in :mod:`analysis.compare`.

:func:`difference_sensitivity` says which uncertain parameters the *difference* between two
scenarios depends on (Sobol indices of a GP emulator of the per-parameter-set mean difference).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

MEMBER = "ensemble.member"


# --------------------------------------------------------------------------------- direction
def direction_of(metric: str, directions: Mapping[str, int | str] | None = None) -> int:
    """+1 when higher is better, -1 when lower is better (raises KeyError when unknown)."""
    if directions and metric in directions:
        return _sign(directions[metric], metric)
    try:  # the outcome registry of issue 14, once it exists
        from sim import outcomes as registry  # type: ignore[attr-defined]

        d = _registry_direction(registry, metric)
        if d is not None:
            return d
    except ImportError:
        pass
    from analysis.compare import ADOPTION_METRICS, FRACTURE_METRICS

    if metric in ADOPTION_METRICS or metric in ("services_online_mean", "staff_use_share", "open_data_share"):
        return 1
    if metric in FRACTURE_METRICS or metric.startswith(("cum_spend", "spend_", "maturity_gini", "maturity_theil")):
        return -1
    raise KeyError(f"no direction known for {metric}: give it as METRIC=higher or METRIC=lower")


def _sign(v: int | str, metric: str) -> int:
    if isinstance(v, str):
        v = {"higher": 1, "lower": -1, "+1": 1, "-1": -1}.get(v.strip().lower(), v)
    if v not in (1, -1):
        raise ValueError(f"direction of {metric} must be higher/lower (or +1/-1), not {v!r}")
    return int(v)


def _registry_direction(registry, metric: str) -> int | None:
    """Read a direction from sim.outcomes, whatever the shape of its entries."""
    for name in ("direction", "direction_of"):
        fn = getattr(registry, name, None)
        if callable(fn):
            try:
                return _sign(fn(metric), metric)
            except (KeyError, ValueError, TypeError):
                return None
    table = getattr(registry, "OUTCOMES", None) or getattr(registry, "METRICS", None)
    if isinstance(table, Mapping) and metric in table:
        entry = table[metric]
        d = entry.get("direction") if isinstance(entry, Mapping) else getattr(entry, "direction", None)
        if d is not None:
            try:
                return _sign(d, metric)
            except ValueError:
                return None
    return None


def parse_directions(items: Sequence[str]) -> dict[str, int]:
    out = {}
    for item in items:
        metric, sep, d = item.partition("=")
        if not sep:
            raise ValueError(f"direction must look like METRIC=higher or METRIC=lower, not {item!r}")
        out[metric.strip()] = _sign(d, metric)
    return out


# --------------------------------------------------------------------------------- statistics
def _t_quantile(level: float, dof: float) -> float:
    from scipy.stats import t

    return float(t.ppf((1 + level) / 2, dof)) if dof >= 1 else float("nan")


def variance_split(values: pd.DataFrame, level: float = 0.95) -> dict:
    """Mean of ``values['value']`` over parameter sets (column ``member``) and seeds, with the
    one-way random-effects split of its variance.

    Each parameter set counts once (its mean over seeds). Returns ``mean``, ``ci_lo``/``ci_hi``
    (t interval of the mean over parameter sets), ``param_lo``/``param_hi`` (2.5-97.5 % of the
    per-set means), ``param_sd`` (sd between parameter sets, corrected for seed noise:
    sqrt(max(var of set means - seed var / n, 0)), n the harmonic mean of seeds per set),
    ``seed_sd`` (pooled sd between seeds of one set), ``share_param`` (parameter variance over
    the total), ``n_members`` and ``n_seeds`` (mean per set).
    """
    g = values.groupby("member")["value"]
    means = g.mean()
    counts = g.count()
    k = len(means)
    mean = float(means.mean()) if k else float("nan")
    var_b = float(means.var(ddof=1)) if k > 1 else float("nan")
    within = g.var(ddof=1)
    dof_w = float((counts - 1).clip(lower=0).sum())
    var_w = float(((counts - 1).clip(lower=0) * within.fillna(0)).sum() / dof_w) if dof_w > 0 else float("nan")
    n_h = float(k / (1.0 / counts).sum()) if k else float("nan")
    if math.isfinite(var_b):
        var_p = max(var_b - (var_w / n_h if math.isfinite(var_w) else 0.0), 0.0)
    else:
        var_p = float("nan")
    h = _t_quantile(level, k - 1) * math.sqrt(var_b / k) if k > 1 else float("nan")
    total = var_p + (var_w if math.isfinite(var_w) else 0.0)
    q = np.quantile(means, [(1 - level) / 2, (1 + level) / 2]) if k else [np.nan, np.nan]
    return {
        "mean": mean,
        "ci_lo": mean - h,
        "ci_hi": mean + h,
        "param_lo": float(q[0]),
        "param_hi": float(q[1]),
        "param_sd": math.sqrt(var_p) if math.isfinite(var_p) else float("nan"),
        "seed_sd": math.sqrt(var_w) if math.isfinite(var_w) else float("nan"),
        "share_param": var_p / total if total > 0 else float("nan"),
        "n_members": k,
        "n_seeds": float(counts.mean()) if k else 0.0,
    }


def _beats(d: np.ndarray) -> float:
    """Share of positive values (ties count one half)."""
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    if len(d) == 0:
        return float("nan")
    return float(np.mean(d > 0) + 0.5 * np.mean(d == 0))


def _value(outcomes: pd.DataFrame, metric: str) -> pd.Series:
    s = outcomes[metric].astype(float)
    return s.abs() if metric.startswith("gap_") else s


def paired_differences(outcomes: pd.DataFrame, metric: str, a: str, b: str, member: str = MEMBER) -> pd.DataFrame:
    """Differences ``a - b`` of one metric, paired by (parameter set, seed): columns member, seed, value."""
    cols = [member, "seed"]
    va = outcomes[outcomes["scenario"] == a].assign(v=_value(outcomes, metric))[[*cols, "v"]]
    vb = outcomes[outcomes["scenario"] == b].assign(v=_value(outcomes, metric))[[*cols, "v"]]
    for name, v in ((a, va), (b, vb)):
        if v.duplicated(cols).any():
            raise ValueError(f"scenario {name} has several runs of the same (parameter set, seed)")
    j = va.merge(vb, on=cols, suffixes=("_a", "_b"))
    return pd.DataFrame(
        {"member": j[member].to_numpy(), "seed": j["seed"].to_numpy(), "value": (j["v_a"] - j["v_b"]).to_numpy()}
    )


# --------------------------------------------------------------------------------- result
@dataclass
class RobustnessResult:
    versus_baseline: pd.DataFrame
    pairwise: pd.DataFrame
    regret: pd.DataFrame
    ranking: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "versus_baseline": self.versus_baseline,
            "pairwise": self.pairwise,
            "regret": self.regret,
            "ranking": self.ranking,
        }


def robustness(
    outcomes: pd.DataFrame,
    *,
    baseline: str | None = None,
    metrics: Sequence[str] | None = None,
    directions: Mapping[str, int | str] | None = None,
    member: str = MEMBER,
    level: float = 0.95,
    robust_share: float = 0.9,
) -> RobustnessResult:
    """Probabilities, expected differences with the parameter/seed split, regret and ranking (see
    the module docstring) for every scenario of ``outcomes`` and every metric of ``metrics``."""
    for col in ("scenario", member, "seed"):
        if col not in outcomes.columns:
            raise KeyError(
                f"the outcomes lack the column {col!r} (runs of an ensemble experiment have scenario, {MEMBER}, seed)"
            )
    scenarios = sorted(map(str, outcomes["scenario"].dropna().unique()))
    outcomes = outcomes.assign(scenario=outcomes["scenario"].astype(str))
    if baseline is not None and baseline not in scenarios:
        raise KeyError(f"baseline {baseline!r} is not among the scenarios: {', '.join(scenarios)}")
    if metrics is None:
        raise ValueError("name the metrics to compare")
    missing = [m for m in metrics if m not in outcomes.columns]
    if missing:
        raise KeyError(f"metrics not in the outcomes: {', '.join(missing)}")
    dirs = {m: direction_of(m, directions) for m in metrics}
    vs_rows, pair_rows, regret_rows, rank_rows = [], [], [], []
    for m in metrics:
        sign = dirs[m]
        # per-parameter-set means of each scenario, over the seeds every scenario shares
        runs = outcomes.assign(v=_value(outcomes, m))
        common = runs.groupby([member, "seed"])["scenario"].nunique()
        common = common[common == len(scenarios)].index
        runs = runs.set_index([member, "seed"]).loc[common].reset_index() if len(common) else runs.iloc[:0]
        table = runs.groupby([member, "scenario"])["v"].mean().unstack("scenario")
        if baseline is not None:
            for s in scenarios:
                if s == baseline:
                    continue
                d = paired_differences(outcomes, m, s, baseline, member)
                split = variance_split(d, level)
                member_means = d.groupby("member")["value"].mean().to_numpy()
                vs_rows.append(
                    {
                        "metric": m,
                        "direction": "higher is better" if sign > 0 else "lower is better",
                        "scenario": s,
                        "baseline": baseline,
                        "p_better": _beats(sign * member_means),
                        "p_better_run": _beats(sign * d["value"].to_numpy()),
                        "p_tie": float(np.mean(member_means == 0)) if len(member_means) else float("nan"),
                        **{("mean_diff" if k == "mean" else k): v for k, v in split.items()},
                    }
                )
        for a in scenarios:
            for b in scenarios:
                if a == b:
                    continue
                pair_rows.append(
                    {
                        "metric": m,
                        "scenario": a,
                        "versus": b,
                        "p_beats": _beats(sign * (table[a] - table[b]).to_numpy()),
                    }
                )
        if table.empty:
            continue
        good = sign * table  # higher is better after the sign
        best = good.max(axis=1)
        reg = best.to_numpy()[:, None] - good.to_numpy()
        is_best = good.to_numpy() == best.to_numpy()[:, None]
        share_best = is_best / is_best.sum(axis=1, keepdims=True)
        ranks = good.rank(axis=1, ascending=False, method="min")
        expected = table.mean(axis=0)
        overall = (sign * expected).rank(ascending=False, method="min")
        for j, s in enumerate(table.columns):
            regret_rows.append(
                {
                    "metric": m,
                    "scenario": s,
                    "expected": float(expected[s]),
                    "p_best": float(share_best[:, j].mean()),
                    "mean_regret": float(reg[:, j].mean()),
                    "max_regret": float(reg[:, j].max()),
                }
            )
            r = ranks[s]
            same = float((r == overall[s]).mean())
            pw = {row["versus"]: row["p_beats"] for row in pair_rows if row["metric"] == m and row["scenario"] == s}
            tied = {o for o in pw if (table[s] == table[o]).all()}
            flips = [o for o, p in pw.items() if 1 - robust_share < p < robust_share and o not in tied]
            rank_rows.append(
                {
                    "metric": m,
                    "scenario": s,
                    "rank": int(overall[s]),
                    "p_best": float(share_best[:, j].mean()),
                    "rank_min": int(r.min()),
                    "rank_max": int(r.max()),
                    "p_same_rank": same,
                    "robust": bool(same >= robust_share),
                    "flips_with": ", ".join(sorted(flips)),
                    "tied_with": ", ".join(sorted(tied)),
                }
            )
    ranking = pd.DataFrame(rank_rows)
    if not ranking.empty:
        ranking = ranking.sort_values(["metric", "rank", "scenario"]).reset_index(drop=True)
    return RobustnessResult(
        pd.DataFrame(vs_rows),
        pd.DataFrame(pair_rows),
        pd.DataFrame(regret_rows),
        ranking,
        {"baseline": baseline, "level": level, "robust_share": robust_share, "directions": dirs},
    )


# --------------------------------------------------------------------------------- sensitivity
def difference_sensitivity(
    params: pd.DataFrame,
    diffs: pd.Series,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    noise_var: pd.Series | None = None,
    n: int = 1024,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Sobol indices (first order S1, total ST) of a policy difference over uncertain parameters.

    ``params``: one row per parameter set (index: member), one column per parameter; ``diffs``:
    the mean difference (scenario minus reference) per parameter set. A GP emulator of the
    difference (:class:`analysis.emulator.GPEmulator`) is fitted to the parameter sets and SALib's
    Saltelli scheme evaluates its mean over ``bounds`` (default: the range of the parameter sets,
    i.e. the calibrated space's bounding box). Returns the indices and the emulator's
    leave-one-out summary (check it before trusting the indices).
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    from analysis.emulator import GPEmulator, loo_summary

    diffs = diffs.dropna()
    x = params.loc[diffs.index]
    names = list(x.columns)
    if len(x) < max(8, len(names) + 3):
        raise ValueError(f"{len(x)} parameter sets are too few to emulate a difference over {len(names)} parameters")
    if bounds is None:
        bounds = {c: (float(x[c].min()), float(x[c].max())) for c in names}
    keep = [c for c in names if bounds[c][1] > bounds[c][0]]
    lo = [bounds[c][0] for c in keep]
    hi = [bounds[c][1] for c in keep]
    nv = None if noise_var is None else noise_var.loc[diffs.index].to_numpy(dtype=float)
    emu = GPEmulator(lo, hi, random_state=seed).fit(x[keep].to_numpy(dtype=float), diffs.to_numpy(dtype=float), nv)
    problem = {"num_vars": len(keep), "names": keep, "bounds": [[a, b] for a, b in zip(lo, hi, strict=True)]}
    sample = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    y, _ = emu.predict(sample)
    if np.std(y) == 0:
        res = {
            "S1": np.zeros(len(keep)),
            "S1_conf": np.zeros(len(keep)),
            "ST": np.zeros(len(keep)),
            "ST_conf": np.zeros(len(keep)),
        }
    else:
        res = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    table = pd.DataFrame(
        {"parameter": keep, "S1": res["S1"], "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]}
    )
    return table, loo_summary(emu.loo())


# --------------------------------------------------------------------------------- loading
def member_parameters(report, columns: Sequence[str] | None = None, member: str = MEMBER) -> pd.DataFrame:
    """Parameter values of each parameter set, read from the runs' manifests (one row per member).

    ``columns`` default to the parameter columns of the ensemble the runs name (``ensemble.path``),
    else to every parameter with a prior (``sim.config.uncertain_params``).
    """
    from analysis.overrides import config_get

    rows = {}
    runs = report.complete
    if not runs:
        return pd.DataFrame()
    if columns is None:
        path = config_get((runs[0].manifest or {}).get("config") or {}, "ensemble.path")
        columns = []
        if path:
            try:
                from sim.ensemble import load_ensemble

                columns = list(load_ensemble(path).params.columns)
            except Exception:  # noqa: BLE001 - fall back to the priors
                columns = []
        if not columns:
            from sim.config import uncertain_params

            columns = [p.path for p in uncertain_params()]
    for r in runs:
        cfg = (r.manifest or {}).get("config") or {}
        m = config_get(cfg, member)
        if m is None or m in rows:
            continue
        rows[m] = {c: config_get(cfg, c) for c in columns}
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


def plot_differences(result: RobustnessResult, outcomes: pd.DataFrame, out, member: str = MEMBER) -> list:
    """Per metric: each scenario's per-parameter-set mean difference against the baseline (dots),
    the mean with its interval (bar) and the parameter range (line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    vs = result.versus_baseline
    paths = []
    if vs.empty:
        return paths
    for m, g in vs.groupby("metric", sort=False):
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(g) + 1.5))
        for i, row in enumerate(g.itertuples()):
            d = paired_differences(outcomes, m, row.scenario, row.baseline, member)
            mm = d.groupby("member")["value"].mean()
            ax.scatter(mm, np.full(len(mm), i) + np.random.default_rng(i).uniform(-0.15, 0.15, len(mm)), s=8, alpha=0.5)
            ax.plot([row.param_lo, row.param_hi], [i, i], color="k", lw=1)
            ax.errorbar(
                row.mean_diff,
                i,
                xerr=[[row.mean_diff - row.ci_lo], [row.ci_hi - row.mean_diff]],
                fmt="D",
                color="k",
                ms=4,
            )
            ax.text(row.param_hi, i + 0.25, f" P(better) {row.p_better:.0%}", fontsize=7)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(range(len(g)), list(g["scenario"]), fontsize=8)
        ax.set_xlabel(f"{m}: scenario minus {g['baseline'].iloc[0]} ({g['direction'].iloc[0]})")
        ax.set_title(
            "Dots: one parameter set (mean over seeds); diamond: mean and interval; line: parameter range", fontsize=8
        )
        fig.tight_layout()
        p = out / f"differences_{m}.png"
        fig.savefig(p, dpi=110)
        plt.close(fig)
        paths.append(p)
    return paths


def plot_sensitivity(table: pd.DataFrame, path) -> None:
    """Heatmap of total Sobol indices: rows scenario x metric, columns parameters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    piv = table.pivot_table(index=["metric", "scenario"], columns="parameter", values="ST")
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * piv.shape[1], 1.0 + 0.35 * piv.shape[0]))
    im = ax.imshow(piv.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(piv.shape[1]), [c.split(".")[-1] for c in piv.columns], rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(piv.shape[0]), [f"{m}: {s}" for m, s in piv.index], fontsize=7)
    fig.colorbar(im, ax=ax, label="total Sobol index of the difference")
    ax.set_title("Which unknowns the policy differences depend on", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = [
    "MEMBER",
    "RobustnessResult",
    "difference_sensitivity",
    "direction_of",
    "member_parameters",
    "paired_differences",
    "parse_directions",
    "robustness",
    "variance_split",
]
