"""analysis.compare designs: equal-budget experiments (a shared baseline counted once), parameter
sets, and the multi-criteria ranking with user weights, on sweeps with known values."""

from __future__ import annotations

import fake_runs as fr
import numpy as np
import pytest

from analysis.compare import (
    beat_probabilities,
    compare_design,
    describe_design,
    multi_criteria,
    prepare,
    resolve_weights,
    run_outcomes,
)
from analysis.load import load


@pytest.fixture(scope="module")
def equal_budget(tmp_path_factory):
    root = fr.make_equal_budget_sweep(tmp_path_factory.mktemp("eb"))
    return run_outcomes(load(root)[0])


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    root = fr.make_ensemble_sweep(tmp_path_factory.mktemp("ens"))
    return run_outcomes(load(root)[0])


def test_equal_budget_design_shares_one_baseline(equal_budget):
    d = describe_design(equal_budget)
    assert d.by == ["scenario"] and d.panels == ["equal_budget_eur_per_staff"]
    assert d.baseline == "business_as_usual" and d.shared_baseline and d.kind == "panels"
    prepared = prepare(equal_budget, d)
    assert (prepared["scenario"] == "business_as_usual").sum() == 3  # one copy per seed, not three
    assert len(prepared) == 3 + 3 * 3 * 3


def test_equal_budget_differences_by_level_against_the_shared_baseline(equal_budget):
    d = describe_design(equal_budget)
    diffs = compare_design(equal_budget, d, ["maturity_mean"])
    assert len(diffs) == 3 * 3  # three arms at three levels
    assert (diffs["n_baseline"] == 3).all() and diffs["paired"].all()
    for row in diffs.itertuples():
        expected = fr.EQUAL_BUDGET_ARMS[row.scenario] * row.equal_budget_eur_per_staff / 100
        assert row.diff == pytest.approx(expected)


def test_a_baseline_that_differs_by_level_is_not_shared(equal_budget):
    changed = equal_budget.copy()
    base = changed["scenario"] == "business_as_usual"
    changed.loc[base, "maturity_mean"] += changed.loc[base, "equal_budget_eur_per_staff"] / 1e4
    d = describe_design(changed)
    assert not d.shared_baseline
    diffs = compare_design(changed, d, ["maturity_mean"])
    row = diffs[(diffs["scenario"] == "equal_budget_training") & (diffs["equal_budget_eur_per_staff"] == 200)]
    assert row["diff"].iloc[0] == pytest.approx(0.04 - 0.02)  # against the baseline of its own level


def test_parameter_sets_pair_runs_and_give_probabilities(ensemble):
    d = describe_design(ensemble)
    assert d.param_sets == ["ensemble.member"] and d.by == ["scenario"] and not d.panels
    diffs = compare_design(ensemble, d, ["maturity_mean"])
    row = diffs.iloc[0]
    assert row["paired"] and row["n"] == 4 * 3
    assert row["diff"] == pytest.approx(np.mean([0.02 * (m - 1) for m in range(4)]))
    p = beat_probabilities(ensemble, d, ["maturity_mean"]).iloc[0]
    assert p["basis"] == "parameter sets" and p["n"] == 4
    assert p["prob_better"] == pytest.approx(0.5)  # members 2 and 3 of 0..3 (member 1 ties)


def test_probability_over_seeds_without_parameter_sets(outcomes):
    d = describe_design(outcomes)
    p = beat_probabilities(outcomes, d, ["maturity_mean"]).set_index("scenario")
    # mediation minus baseline by seed: .01 .02 .01 0 .01 -> better in 4 of 5 seeds
    assert p.loc["mediation", "prob_better"] == pytest.approx(0.8)
    assert p.loc["mediation", "basis"] == "seeds"


def test_multi_criteria_ranking_by_hand(outcomes):
    d = describe_design(outcomes)
    ranking, crit = multi_criteria(outcomes, d)
    r = ranking.set_index("scenario")
    # adoption: maturity (tf best, baseline worst), proficient (idem), e-services (mediation best: .51 vs .45 vs .40)
    assert r.loc["training_first", "adoption_score"] == pytest.approx((1 + 1 + 5 / 11) / 3)
    assert r.loc["baseline", "cost_score"] == 1.0 and r.loc["training_first", "cost_score"] == 0.0
    assert list(r["rank"].sort_values().index) == ["training_first", "mediation", "baseline"]
    c = crit.set_index(["scenario", "metric"])
    excl = c.loc[("mediation", "inhabitants_excluded_share")]
    assert excl["improvement"] == pytest.approx(7.0)  # 15 % -> 8 %: 7 points
    assert excl["eur_per_point"] == pytest.approx(4000.0 / 7.0)
    # every fracture dimension gets its own cost per point
    fractures = crit[(crit["family"] == "fracture") & (crit["scenario"] == "training_first")]
    assert len(fractures) == 5 and fractures["eur_per_point"].notna().all()


def test_weights_change_the_ranking(outcomes):
    d = describe_design(outcomes)
    fracture_first = multi_criteria(outcomes, d, weights={"adoption": 0, "cost": 0, "inhabitants_excluded_share": 5})[0]
    assert fracture_first.iloc[0]["scenario"] == "mediation"
    cheap = multi_criteria(outcomes, d, weights={"adoption": 0, "fracture": 0, "cost": 1})[0]
    assert cheap.iloc[0]["scenario"] == "baseline"


def test_weights_are_checked():
    crit = ["maturity_mean", "maturity_gini", "gap_size", "cum_spend_total_eur"]
    w = resolve_weights(crit, {"fracture": 2})
    assert w == {"maturity_mean": 1.0, "maturity_gini": 1.0, "gap_size": 1.0, "cum_spend_total_eur": 1.0}
    assert resolve_weights(crit, {"gap_size": 3}) == {**w, "gap_size": 3.0}
    with pytest.raises(ValueError, match="unknown weight"):
        resolve_weights(crit, {"beauty": 1})
    with pytest.raises(ValueError, match=">= 0"):
        resolve_weights(crit, {"cost": -1})


def test_costs_count_the_policy_period_not_a_history_period():
    import pandas as pd

    rows = []
    for step in range(-3, 5):  # a history period (negative steps) before the policy period
        rows.append(("r0", "a", 0, step, 2021 + step / 4, "all", "all", "spend_total_eur", 999.0 if step < 0 else 10.0))
        rows.append(("r0", "a", 0, step, 2021 + step / 4, "all", "all", "maturity_mean", 0.1 * step))
    df = pd.DataFrame(
        rows, columns=["run_id", "scenario", "seed", "step", "year", "stratum_kind", "stratum", "metric", "value"]
    )
    df.attrs["param_columns"] = ["scenario"]
    out = run_outcomes(df)
    assert out["cum_spend_total_eur"].iloc[0] == pytest.approx(50.0)  # steps 0..4, not the history's 999s
    assert out["maturity_mean"].iloc[0] == pytest.approx(0.4)
