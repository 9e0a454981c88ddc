"""analysis.compare: the numbers (means, intervals, paired/Welch differences, ranks, cost per point)."""

from __future__ import annotations

import warnings

import fake_runs as fr
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.compare import (
    compare_to_baseline,
    cost_effectiveness,
    default_by,
    mean_interval,
    rank_scenarios,
    run_outcomes,
    summarize,
    summarize_timeseries,
)
from analysis.load import load

T4 = stats.t.ppf(0.975, 4)  # 2.776445...


def end(scenario: str, metric: str) -> np.ndarray:
    return np.array(fr.END[scenario][metric])


def test_outcomes_hold_end_values_and_total_costs(outcomes):
    assert len(outcomes) == 15
    for scenario in fr.END:
        sub = outcomes[outcomes["scenario"] == scenario].sort_values("seed")
        for metric in fr.END[scenario]:
            np.testing.assert_allclose(sub[metric], end(scenario, metric))
        np.testing.assert_allclose(sub["cum_spend_total_eur"], fr.N_STEPS * np.array(fr.SPEND[scenario]))
        np.testing.assert_allclose(sub["cum_spend_training_eur"], fr.N_STEPS * np.array(fr.SPEND[scenario]) / 2)
        np.testing.assert_allclose(sub["spend_total_eur"], fr.SPEND[scenario])  # last step's spending


def test_t_interval_by_hand(outcomes):
    s = summarize(outcomes, "scenario", ["maturity_mean"]).set_index("scenario")
    # baseline 0.30 0.32 0.29 0.33 0.31: mean 0.31, sd sqrt(0.001/4), half = t(0.975, 4) sd / sqrt(5)
    assert s.loc["baseline", "mean"] == pytest.approx(0.31)
    assert s.loc["baseline", "sd"] == pytest.approx(np.sqrt(0.001 / 4))
    assert s.loc["baseline", "ci_low"] == pytest.approx(0.2903676, abs=1e-7)
    assert s.loc["baseline", "ci_high"] == pytest.approx(0.3296324, abs=1e-7)
    for scenario in fr.END:
        x = end(scenario, "maturity_mean")
        half = T4 * x.std(ddof=1) / np.sqrt(5)
        assert s.loc[scenario, "n"] == 5
        assert s.loc[scenario, "ci_low"] == pytest.approx(x.mean() - half)
        assert s.loc[scenario, "ci_high"] == pytest.approx(x.mean() + half)


def test_summary_of_tidy_table_equals_summary_of_outcomes(loaded, outcomes):
    a = summarize(loaded[0], metrics=["maturity_gini", "cum_spend_total_eur"])
    b = summarize(outcomes, metrics=["maturity_gini", "cum_spend_total_eur"])
    pd.testing.assert_frame_equal(a, b)
    cost = b[(b["scenario"] == "training_first") & (b["metric"] == "cum_spend_total_eur")].iloc[0]
    assert cost["mean"] == pytest.approx(4 * 3000.0)


def test_bootstrap_interval_is_reproducible_and_inside_the_data():
    x = end("training_first", "maturity_mean")
    m, lo, hi = mean_interval(x, method="bootstrap", rng=1)
    assert (m, lo, hi) == mean_interval(x, method="bootstrap", rng=1)
    assert x.min() <= lo < m < hi <= x.max()
    _, tlo, thi = mean_interval(x)
    assert (hi - lo) < (thi - tlo)  # percentile bootstrap is narrower than t at n = 5
    assert mean_interval([1.0]) == (1.0, pytest.approx(np.nan, nan_ok=True), pytest.approx(np.nan, nan_ok=True))
    assert np.isnan(mean_interval([])[0])
    with pytest.raises(ValueError):
        mean_interval(x, method="jackknife")


def test_paired_difference_against_scipy(outcomes):
    d = compare_to_baseline(outcomes, "baseline", "scenario", ["maturity_mean", "maturity_gini"])
    row = d[(d["scenario"] == "training_first") & (d["metric"] == "maturity_mean")].iloc[0]
    assert bool(row["paired"]) and row["test"] == "paired t"
    # differences by seed: .06 .05 .06 .07 .06
    assert row["diff"] == pytest.approx(0.06)
    assert row["ci_low"] == pytest.approx(0.0512201, abs=1e-7)
    assert row["ci_high"] == pytest.approx(0.0687799, abs=1e-7)
    ref = stats.ttest_rel(end("training_first", "maturity_mean"), end("baseline", "maturity_mean"))
    assert row["p_value"] == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert set(d["scenario"]) == {"training_first", "mediation"}
    assert (d["baseline"] == "baseline").all()


def test_welch_when_seeds_do_not_match(outcomes):
    fewer = outcomes[~((outcomes["scenario"] == "mediation") & (outcomes["seed"] == 4))]
    d = compare_to_baseline(fewer, "baseline", "scenario", ["maturity_gini"])
    row = d[d["scenario"] == "mediation"].iloc[0]
    assert not row["paired"] and row["test"] == "Welch t"
    assert (row["n"], row["n_baseline"]) == (4, 5)
    xs, xb = end("mediation", "maturity_gini")[:4], end("baseline", "maturity_gini")
    ref = stats.ttest_ind(xs, xb, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert row["diff"] == pytest.approx(xs.mean() - xb.mean())
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert row["p_value"] == pytest.approx(ref.pvalue)
    # training_first still holds the baseline's seeds: still paired
    assert bool(d[d["scenario"] == "training_first"].iloc[0]["paired"])


def test_other_seeds_are_not_paired(outcomes):
    shifted = outcomes.copy()
    shifted.loc[shifted["scenario"] == "mediation", "seed"] += 100
    d = compare_to_baseline(shifted, "baseline", "scenario", ["maturity_mean"])
    assert not d[d["scenario"] == "mediation"].iloc[0]["paired"]


def test_bootstrap_differences(outcomes):
    d = compare_to_baseline(outcomes, "baseline", "scenario", ["maturity_mean"], method="bootstrap", seed=3)
    row = d[d["scenario"] == "training_first"].iloc[0]
    assert row["test"] == "paired bootstrap"
    diffs = end("training_first", "maturity_mean") - end("baseline", "maturity_mean")
    assert diffs.min() - 1e-12 <= row["ci_low"] <= row["diff"] <= row["ci_high"] <= diffs.max() + 1e-12


def test_unknown_baseline_is_an_error(outcomes):
    with pytest.raises(KeyError, match="nope"):
        compare_to_baseline(outcomes, "nope")


def test_ranking_by_hand(outcomes):
    r = rank_scenarios(outcomes, baseline="baseline").set_index("scenario")
    assert list(r.index) == ["training_first", "mediation", "baseline"]
    # adoption ranks (maturity, proficient, e-services): tf 1,1,2; mediation 2,2,1; baseline 3,3,3
    assert r.loc["training_first", "adoption_score"] == pytest.approx(4 / 3)
    assert r.loc["mediation", "adoption_score"] == pytest.approx(5 / 3)
    assert list(r["adoption_rank"]) == [1, 2, 3]
    # fracture ranks (gini, gap, rural gap, staff illectronism, excluded): tf 1,1,1,1,2; mediation 2,2,2,2,1
    assert r.loc["training_first", "fracture_score"] == pytest.approx(1.2)
    assert r.loc["mediation", "fracture_score"] == pytest.approx(1.8)
    assert list(r["fracture_rank"]) == [1, 2, 3]
    assert r["cost_rank"].to_dict() == {"training_first": 3, "mediation": 2, "baseline": 1}
    assert r["cum_spend_total_eur"].to_dict() == pytest.approx(
        {"training_first": 12000.0, "mediation": 8000.0, "baseline": 4000.0}
    )
    # headline fracture: Gini 0.41 -> 0.35 = 6 points for 8000 euros more
    assert r.loc["training_first", "fracture_reduction_pp"] == pytest.approx(6.0)
    assert r.loc["training_first", "extra_cost_eur"] == pytest.approx(8000.0)
    assert r.loc["training_first", "eur_per_pp"] == pytest.approx(8000.0 / 6.0)
    assert r.loc["mediation", "eur_per_pp"] == pytest.approx(4000.0 / 2.0)
    assert np.isnan(r.loc["baseline", "eur_per_pp"])
    assert (r["n_runs"] == 5).all()


def _toy(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    df = pd.DataFrame({"run_id": [f"r{i}" for i in range(n)], **columns})
    df.attrs["param_columns"] = ["scenario"]
    return df


def test_signed_gaps_count_by_absolute_value():
    df = _toy(scenario=["a", "a", "b", "b"], seed=[0, 1, 0, 1], gap_rural_urban=[-0.3, -0.3, 0.1, 0.1])
    r = rank_scenarios(df).set_index("scenario")
    assert r.loc["b", "fracture_rank"] == 1 and r.loc["a", "fracture_rank"] == 2
    assert r.loc["a", "gap_rural_urban"] == pytest.approx(0.3)


def test_cost_per_point_and_no_reduction():
    df = _toy(
        scenario=["base"] * 3 + ["better"] * 3 + ["worse"] * 3,
        seed=[0, 1, 2] * 3,
        maturity_gini=[0.40, 0.42, 0.38, 0.30, 0.33, 0.27, 0.45, 0.46, 0.44],
        cum_spend_total_eur=[1000, 1000, 1000, 6000, 6000, 6000, 500, 500, 500],
    )
    c = cost_effectiveness(df, "base", fracture=["maturity_gini"]).set_index("scenario")
    # better: reduction 10 points (paired diffs -.10 -.09 -.11), 5000 euros more -> 500 euros per point
    assert c.loc["better", "reduction_pp"] == pytest.approx(10.0)
    assert c.loc["better", "eur_per_pp"] == pytest.approx(500.0)
    ref = stats.ttest_rel([0.30, 0.33, 0.27], [0.40, 0.42, 0.38]).confidence_interval(0.95)
    assert c.loc["better", "reduction_ci_low"] == pytest.approx(-100 * ref.high)
    assert c.loc["better", "reduction_ci_high"] == pytest.approx(-100 * ref.low)
    assert c.loc["worse", "reduction_pp"] == pytest.approx(-5.0)
    assert np.isnan(c.loc["worse", "eur_per_pp"])
    assert c.loc["worse", "extra_cost_eur"] == pytest.approx(-500.0)


def test_cost_effectiveness_of_the_sweep(outcomes):
    c = cost_effectiveness(outcomes, "baseline").set_index(["scenario", "metric"])
    row = c.loc[("mediation", "inhabitants_excluded_share")]
    assert row["reduction_pp"] == pytest.approx(7.0)  # 0.15 -> 0.08
    assert row["eur_per_pp"] == pytest.approx(4000.0 / 7.0)
    assert len(c) == 2 * 5


def test_cost_needs_all_steps(sweep_root):
    df, _ = load(sweep_root, last_step_only=True)
    with pytest.warns(UserWarning, match="loaded steps only"):
        out = run_outcomes(df)
    # one step loaded: the "total" is just the last step's spending
    assert out.set_index("seed").query("scenario == 'baseline'")["cum_spend_total_eur"].iloc[0] == 1000.0
    full, _ = load(sweep_root, metrics=["spend_total_eur"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_outcomes(full)


def test_timeseries_summary(loaded):
    ts = summarize_timeseries(loaded[0], ["maturity_mean"])
    assert len(ts) == 3 * (fr.N_STEPS + 1)
    row = ts[(ts["scenario"] == "mediation") & (ts["step"] == 2)].iloc[0]
    x = end("mediation", "maturity_mean") * 0.75
    assert row["mean"] == pytest.approx(x.mean())
    assert row["ci_high"] - row["mean"] == pytest.approx(T4 * x.std(ddof=1) / np.sqrt(5))
    assert row["year"] == pytest.approx(2021.5)
    bands = summarize_timeseries(loaded[0], ["maturity_mean"], stratum_kind="pop_band", stratum=None)
    assert set(bands["stratum"]) == set(fr.POP_BANDS)
    low = bands[(bands["scenario"] == "baseline") & (bands["stratum"] == "<500") & (bands["step"] == fr.N_STEPS)]
    assert low["mean"].iloc[0] == pytest.approx(0.31 - 0.10)


def test_default_grouping(outcomes, grid_root):
    assert default_by(outcomes) == ["scenario"]
    grid = run_outcomes(load(grid_root, metrics=["maturity_mean"])[0])
    assert default_by(grid) == ["training.budget_eur_per_agent", "mediation.coverage"]
    s = summarize(grid, metrics=["maturity_mean"])
    assert len(s) == 6
    one = s[(s["training.budget_eur_per_agent"] == 200) & (s["mediation.coverage"] == 0.1)].iloc[0]
    assert one["mean"] == pytest.approx(np.mean([fr.grid_value(200, 0.1, k) for k in (0, 1)]))
    d = compare_to_baseline(grid, 0, "training.budget_eur_per_agent", ["maturity_mean"])
    # paired on seed and mediation.coverage: every pair differs by exactly 0.001 x budget
    assert d["paired"].all()
    assert d.set_index("training.budget_eur_per_agent")["diff"].to_dict() == pytest.approx({100: 0.1, 200: 0.2})
    assert d["ci_low"].to_list() == pytest.approx(d["diff"].to_list())  # zero spread up to rounding
