"""Robustness probabilities, the parameter/seed variance split, regret and flips on constructed data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.robustness import difference_sensitivity, direction_of, robustness, variance_split


def _outcomes(effects: dict[str, np.ndarray], seeds: int, noise: np.ndarray | None = None) -> pd.DataFrame:
    """Runs of scenarios x members x seeds; outcome y = base(member) + effect[scenario][member] + noise."""
    k = len(next(iter(effects.values())))
    base = np.linspace(0.0, 1.0, k)
    rows = []
    for s, eff in effects.items():
        for m in range(k):
            for j in range(seeds):
                e = 0.0 if noise is None else noise[m, j]
                rows.append({"scenario": s, "ensemble.member": m, "seed": j, "y": base[m] + eff[m] + e})
    return pd.DataFrame(rows)


def test_probability_of_beating_the_baseline_is_the_share_of_parameter_sets():
    eff_a = np.array([1.0] * 7 + [-1.0] * 3)  # better under 7 of 10 parameter sets
    eff_b = np.array([2.0] * 10)
    data = _outcomes({"base": np.zeros(10), "a": eff_a, "b": eff_b}, seeds=3)
    res = robustness(data, baseline="base", metrics=["y"], directions={"y": "higher"})
    vs = res.versus_baseline.set_index("scenario")
    assert vs.loc["a", "p_better"] == pytest.approx(0.7)
    assert vs.loc["b", "p_better"] == pytest.approx(1.0)
    assert vs.loc["a", "mean_diff"] == pytest.approx(0.4)
    # lower is better flips the probabilities
    low = robustness(data, baseline="base", metrics=["y"], directions={"y": "lower"}).versus_baseline.set_index(
        "scenario"
    )
    assert low.loc["a", "p_better"] == pytest.approx(0.3)
    pw = res.pairwise.set_index(["scenario", "versus"])["p_beats"]
    assert pw[("b", "a")] == pytest.approx(1.0) and pw[("a", "b")] == pytest.approx(0.0)
    assert pw[("a", "base")] == pytest.approx(0.7)


def test_variance_split_separates_parameter_sets_from_seeds():
    rng = np.random.default_rng(0)
    k, n = 400, 6
    a = rng.normal(0, 2.0, k)  # parameter effect sd 2
    e = rng.normal(0, 0.5, (k, n))  # seed noise sd 0.5
    values = pd.DataFrame(
        {
            "member": np.repeat(np.arange(k), n),
            "seed": np.tile(np.arange(n), k),
            "value": (1.0 + a[:, None] + e).ravel(),
        }
    )
    s = variance_split(values)
    assert s["seed_sd"] == pytest.approx(0.5, rel=0.05)
    assert s["param_sd"] == pytest.approx(2.0, rel=0.1)
    assert s["share_param"] == pytest.approx(4.0 / 4.25, abs=0.03)
    assert s["ci_lo"] < 1.0 < s["ci_hi"]
    assert s["param_lo"] < -2.0 and s["param_hi"] > 4.0  # 95 % of the parameter sets' means


def test_variance_split_matches_the_one_way_anova_formulas():
    values = pd.DataFrame({"member": [0, 0, 1, 1, 2, 2], "seed": [0, 1] * 3, "value": [1.0, 3.0, 4.0, 6.0, 7.0, 7.0]})
    s = variance_split(values)
    means = np.array([2.0, 5.0, 7.0])
    var_w = (2.0 + 2.0 + 0.0) / 3  # pooled within-set variance
    var_b = means.var(ddof=1)
    assert s["mean"] == pytest.approx(means.mean())
    assert s["seed_sd"] == pytest.approx(np.sqrt(var_w))
    assert s["param_sd"] == pytest.approx(np.sqrt(var_b - var_w / 2))
    from scipy.stats import t

    h = t.ppf(0.975, 2) * np.sqrt(var_b / 3)
    assert (s["ci_lo"], s["ci_hi"]) == pytest.approx((means.mean() - h, means.mean() + h))


def test_regret_ranking_flips_and_ties():
    # a is best under sets 0-5, b under sets 6-9; c equals base everywhere
    eff_a = np.array([2.0] * 6 + [0.5] * 4)
    eff_b = np.array([1.0] * 6 + [1.5] * 4)
    data = _outcomes({"base": np.zeros(10), "a": eff_a, "b": eff_b, "c": np.zeros(10)}, seeds=2)
    res = robustness(data, baseline="base", metrics=["y"], directions={"y": 1}, robust_share=0.9)
    reg = res.regret.set_index("scenario")
    assert reg.loc["a", "p_best"] == pytest.approx(0.6)
    assert reg.loc["a", "mean_regret"] == pytest.approx(0.4 * 1.0)
    assert reg.loc["a", "max_regret"] == pytest.approx(1.0)
    assert reg.loc["b", "mean_regret"] == pytest.approx(0.6 * 1.0)
    assert reg.loc["base", "max_regret"] == pytest.approx(2.0)
    rank = res.ranking.set_index("scenario")
    assert rank.loc["a", "rank"] == 1 and not rank.loc["a", "robust"]
    assert rank.loc["a", "flips_with"] == "b"
    assert rank.loc["c", "tied_with"] == "base" and rank.loc["c", "flips_with"] == ""
    assert rank.loc["a", "rank_min"] == 1 and rank.loc["a", "rank_max"] == 2


def test_direction_comes_from_known_lists_or_must_be_given():
    assert direction_of("maturity_mean") == 1
    assert direction_of("inhabitants_excluded_share") == -1
    assert direction_of("cum_spend_total_eur") == -1
    assert direction_of("y", {"y": "lower"}) == -1
    with pytest.raises(KeyError, match="no direction"):
        direction_of("y")


def test_sensitivity_of_a_difference_finds_the_parameter_it_depends_on():
    rng = np.random.default_rng(1)
    k = 40
    params = pd.DataFrame({"p.a": rng.uniform(0, 1, k), "p.b": rng.uniform(0, 1, k), "p.c": rng.uniform(0, 1, k)})
    diffs = pd.Series(3.0 * params["p.b"] + 0.3 * params["p.a"], index=params.index)
    table, loo = difference_sensitivity(params, diffs, n=256)
    st = table.set_index("parameter")["ST"]
    assert st["p.b"] > 0.8 and st["p.c"] < 0.05 and st["p.a"] < 0.1
    assert loo["r2"] > 0.95
