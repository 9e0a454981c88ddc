"""The comparison under parameter uncertainty in the report and in the multi-criteria ranking, on a
constructed ensemble comparison (fake_runs.make_robust_sweep: 3 scenarios x 4 parameter sets of a
calibrated ensemble x 2 seeds, with known differences), and what a report of seeds only says instead."""

from __future__ import annotations

import base64
import html
import re

import fake_runs as fr
import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student

from analysis.compare import beat_probabilities, describe_design, multi_criteria, run_outcomes
from analysis.load import load
from analysis.report import build_report, collect, render
from sim.outcomes import format_diff

NB = "\u00a0"
TRAINING, MEDIATION, BAU = "massive_targeted_training", "mediation", "business_as_usual"
EFFECT = np.array(fr.ROBUST_TRAINING_EFFECT)
K = len(EFFECT)


def text_of(page: str) -> str:
    """The page's text, a space for every tag (table cells stay apart)."""
    return re.sub(r"[ \n\t]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def pct(p: float) -> str:
    return f"{round(p * 100)}{NB}%"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return fr.make_robust_sweep(tmp_path_factory.mktemp("robust"))


@pytest.fixture(scope="module")
def outcomes(root):
    return run_outcomes(load(root)[0])


@pytest.fixture(scope="module")
def report_en(root, tmp_path_factory):
    out = build_report(root, tmp_path_factory.mktemp("r") / "report.html", figures=False, maps=False)
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report_fr(root, tmp_path_factory):
    out = build_report(root, tmp_path_factory.mktemp("r") / "rapport.html", figures=False, maps=False, lang="fr")
    return out.read_text(encoding="utf-8")


def _training_split() -> dict[str, float]:
    """The variance split of training's maturity gain, by the one-way random-effects formulas: each set's
    two seeds are effect + noise and effect - noise."""
    seed_var = 2 * fr.ROBUST_SEED_NOISE**2  # sd (ddof 1) of {e + n, e - n} is n * sqrt(2)
    param_var = EFFECT.var(ddof=1) - seed_var / 2  # 2 seeds per set
    return {"param_sd": np.sqrt(param_var), "seed_sd": np.sqrt(seed_var), "share": param_var / (param_var + seed_var)}


def test_the_design_sees_the_ensemble_members(outcomes):
    d = describe_design(outcomes)
    assert d.param_sets == ["ensemble.member"] and d.by == ["scenario"] and d.baseline == BAU


def test_probability_of_beating_the_baseline_is_the_share_of_parameter_sets(outcomes):
    d = describe_design(outcomes)
    p = beat_probabilities(outcomes, d, ["maturity_mean", "inhabitants_excluded_share"])
    p = p.set_index(["scenario", "metric"])
    assert (p["basis"] == "parameter sets").all() and (p["n"] == K).all()
    training = p.loc[(TRAINING, "maturity_mean")]
    assert (training["n_better"], training["n_worse"]) == (int((EFFECT > 0).sum()), int((EFFECT < 0).sum())) == (3, 1)
    assert training["prob_better"] == pytest.approx(0.75)
    assert p.loc[(MEDIATION, "inhabitants_excluded_share"), "prob_better"] == 1.0
    # training leaves exclusion as it is: equal under every set, which counts one half
    same = p.loc[(TRAINING, "inhabitants_excluded_share")]
    assert (same["n_tie"], same["prob_better"]) == (K, 0.5)


def test_differences_have_intervals_over_parameter_sets_and_the_spread_split(outcomes):
    d = describe_design(outcomes)
    _, crit = multi_criteria(outcomes, d)
    r = crit.set_index(["scenario", "metric"]).loc[(TRAINING, "maturity_mean")]
    half = student.ppf(0.975, K - 1) * EFFECT.std(ddof=1) / np.sqrt(K)  # t over the 4 parameter sets
    assert r["diff"] == pytest.approx(EFFECT.mean())
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((EFFECT.mean() - half, EFFECT.mean() + half))
    assert (r["param_lo"], r["param_hi"]) == pytest.approx(tuple(np.quantile(EFFECT, [0.025, 0.975])))
    split = _training_split()
    assert r["param_sd"] == pytest.approx(split["param_sd"]) and r["seed_sd"] == pytest.approx(split["seed_sd"])
    assert r["share_param"] == pytest.approx(split["share"])
    assert (r["prob_better"], r["prob_basis"], r["prob_n_better"]) == (0.75, "parameter sets", 3)
    # in points (hundredths of the index): where the gain lies under 95 % of the parameter sets
    assert r["improvement_param_low"] == pytest.approx(100 * r["param_lo"])


def test_multi_criteria_ranking_is_redone_under_each_parameter_set(outcomes):
    d = describe_design(outcomes)
    # maturity only: training is best under the sets where its gain beats mediation's 0.005 (3 of 4)
    ranking = multi_criteria(outcomes, d, weights={"fracture": 0, "cost": 0})[0].set_index("scenario")
    tr = ranking.loc[TRAINING]
    assert tr["p_first"] == pytest.approx(np.mean(EFFECT > fr.ROBUST_MEDIATION_GAIN)) == pytest.approx(0.75)
    assert (tr["rank"], tr["rank_best"], tr["rank_worst"], bool(tr["robust"])) == (1, 1, 3, False)
    assert tr["flips_with"] == f"{BAU}, {MEDIATION}" and tr["flips_p"] == "0.75, 0.75"
    assert ranking.loc[MEDIATION, "p_first"] == pytest.approx(0.25)
    # every criterion with equal family weights: a set's score is the mean of its scaled criteria (the
    # scaling of the expected values), so against business as usual, per parameter set:
    span_m = EFFECT.mean()  # maturity: business as usual lowest, training highest
    span_x = np.mean(fr.ROBUST_MEDIATION_CUT)  # exclusion: mediation lowest
    cost = {s: fr.N_STEPS * v for s, v in fr.ROBUST_SPEND.items()}
    span_c = cost[TRAINING] - cost[BAU]
    score_t = (EFFECT / span_m - (cost[TRAINING] - cost[BAU]) / span_c) / 3
    score_m = (fr.ROBUST_MEDIATION_GAIN / span_m + np.array(fr.ROBUST_MEDIATION_CUT) / span_x
               - (cost[MEDIATION] - cost[BAU]) / span_c) / 3  # fmt: skip
    ranking = multi_criteria(outcomes, d)[0].set_index("scenario")
    best_m = np.mean((score_m > score_t) & (score_m > 0))
    assert ranking.loc[MEDIATION, "p_first"] == pytest.approx(best_m) == pytest.approx(0.75)
    assert ranking.loc[MEDIATION, "flips_p"] == f"{np.mean(score_m > score_t):.4g}"


def test_report_shows_the_comparison_under_parameter_uncertainty(report_en):
    ids = [report_en.index(f'id="{k}"') for k in ("summary", "caveats", "figures", "robustness", "tables")]
    assert ids == sorted(ids)
    section = text_of(report_en.split('id="robustness"')[1].split('id="tables"')[0])
    maturity = section.split("Mean digital maturity")[1].split("Inhabitants excluded")[0]
    row = maturity.split("Massive targeted training")[1].split("Digital mediation")[0]
    assert f"{pct(0.75)} better under 3 of 4 parameter sets" in row
    assert "ranks 1 to 3" in row and "robust" not in row
    assert f"flips with Business as usual (beats it under {pct(0.75)})" in maturity
    # regret: zero where training is best, 0.005 + 0.01 under the last set
    regret = (fr.ROBUST_MEDIATION_GAIN - EFFECT[-1]) / K
    assert f"{regret:.3f} worst {fr.ROBUST_MEDIATION_GAIN - EFFECT[-1]:.3f}" in row
    share = round(_training_split()["share"] * 100)
    assert (
        f"Of the spread of the differences against Business as usual, {share}{NB}% comes from what we do not know about "
        f"the parameters and {100 - share}{NB}% from chance." in maturity
    )
    exclusion = section.split("Inhabitants excluded from e-services")[1]
    assert f"Digital mediation {pct(1.0)} better under 4 of 4 parameter sets" in exclusion
    assert "1 of 3, robust" in exclusion and "equal to Massive targeted training under every set" in exclusion
    # training does not touch exclusion: the same result under every set, not a 50 % coin toss
    assert "Massive targeted training equal the same under every parameter set" in exclusion
    links = dict(re.findall(r'download="([^"]+)" href="data:text/csv;base64,([^"]+)"', report_en))
    vs = pd.read_csv(pd.io.common.StringIO(base64.b64decode(links["robustness_versus_baseline.csv"]).decode()))
    assert vs.set_index(["scenario", "metric"]).loc[(TRAINING, "maturity_mean"), "p_better"] == 0.75


def test_pairwise_probabilities_and_ranking_under_uncertainty_in_the_tables(report_en):
    tables = text_of(report_en.split('id="tables"')[1])
    pairwise = tables.split("Probability of beating each other scenario")[1].split("Mean digital maturity")[1]
    # row training: beats business as usual and mediation under 3 of 4 sets each
    assert f"Massive targeted training — {pct(0.75)} {pct(0.75)}" in pairwise
    ranking = tables.split("Multi-criteria ranking")[1].split("Cost per point")[0]
    assert "Under parameter uncertainty" in ranking and f"best under {pct(0.75)}" in ranking


def test_summary_says_how_sure_and_that_intervals_include_parameter_uncertainty(report_en):
    summary = text_of(report_en.split('id="caveats"')[0])
    assert "Parameter uncertainty is part of every answer" in summary
    assert "interval of its mean over the parameter sets" in summary
    # beside the interval of the mean, where the difference lies under 95 % of the parameter sets
    links = dict(re.findall(r'download="([^"]+)" href="data:text/csv;base64,([^"]+)"', report_en))
    vs = pd.read_csv(pd.io.common.StringIO(base64.b64decode(links["robustness_versus_baseline.csv"]).decode()))
    r = vs.set_index(["scenario", "metric"]).loc[(MEDIATION, "inhabitants_excluded_share")]
    lo, hi = (format_diff("inhabitants_excluded_share", v) for v in (r["param_lo"], r["param_hi"]))
    assert r["param_lo"] < r["param_hi"] and f"{lo} to {hi} depending on the parameter set" in summary
    assert "under 4 parameter sets of the calibrated ensemble calibration/test/ensemble.parquet" in summary
    assert f"better under 3 of 4 parameter sets, probability {pct(0.75)}" in summary
    assert f"Digital mediation −5.0{NB}pp" in summary and f"4 of 4 parameter sets, probability {pct(1.0)}" in summary
    assert "comes from what we do not know about the parameters" in summary
    assert (
        f"the best score goes to Digital mediation under {pct(0.75)}, Massive targeted training under {pct(0.25)} "
        "of the 4 parameter sets" in summary
    )
    caveats = text_of(report_en.split('id="caveats"')[1].split('id="figures"')[0])
    assert "seed noise and parameter uncertainty" in caveats and "seed noise only" not in caveats
    assert "the calibration on observed data left plausible" in caveats


def test_french_report_under_parameter_uncertainty(report_fr):
    text = text_of(report_fr)
    assert "Quelle certitude : sous incertitude des paramètres" in text
    assert "L'incertitude sur les paramètres fait partie de chaque réponse" in text
    assert "selon le jeu de paramètres" in text
    assert f"mieux pour 3 jeux de paramètres sur 4, probabilité {pct(0.75)}" in text
    assert f"s'inverse avec Fil de l'eau (le bat pour {pct(0.75)})" in text
    assert "1 sur 3, robuste" in text and "égal à Formation massive ciblée pour chaque jeu" in text
    share = round(_training_split()["share"] * 100)
    assert f"{share}{NB}% vient de ce que nous ignorons des paramètres et {100 - share}{NB}% du hasard" in text
    assert "l'aléa des graines et l'incertitude sur les paramètres" in text


def test_a_report_of_seeds_only_says_so_and_how_to_include_parameter_uncertainty(sweep_root):
    page = render(collect(sweep_root, figures=False, maps=False))
    caveats = text_of(page.split('id="caveats"')[1].split('id="figures"')[0])
    assert "seed noise only" in caveats
    assert "python -m sim -m experiment=ensemble_comparison ensemble.path=" in caveats
    assert "docs/CALIBRATION.md" in caveats
    assert 'id="robustness"' not in page
    fr_page = text_of(render(collect(sweep_root, figures=False, maps=False, lang="fr")))
    assert "l'aléa des graines seulement" in fr_page and "experiment=ensemble_comparison" in fr_page


def test_parameter_sets_within_panel_levels_share_the_baseline():
    """Scenario a at two budget levels x 4 parameter sets x 2 seeds; business as usual, the same at both
    levels, is counted once: a beats it under the sets where level x effect > 0."""
    effect = np.array([0.02, -0.01, 0.03, 0.005])
    rows = []
    for level in (1, 2):
        for member, e in enumerate(effect):
            for seed in (0, 1):
                base = 0.3 + 0.1 * member + 0.01 * seed
                rows.append(("business_as_usual", level, member, seed, base))
                rows.append(("a", level, member, seed, base + level * e - (0.02 if level == 2 else 0.0)))
    out = pd.DataFrame(rows, columns=["scenario", "budget", "ensemble.member", "seed", "maturity_mean"])
    out.insert(0, "run_id", [f"r{i}" for i in range(len(out))])
    out.attrs["param_columns"] = ["budget", "ensemble.member", "scenario"]
    d = describe_design(out)
    assert d.panels == ["budget"] and d.param_sets == ["ensemble.member"] and d.shared_baseline
    p = beat_probabilities(out, d, ["maturity_mean"]).set_index("budget")["prob_better"]
    assert p[1] == pytest.approx(np.mean(effect > 0)) and p[2] == pytest.approx(np.mean(2 * effect - 0.02 > 0))
