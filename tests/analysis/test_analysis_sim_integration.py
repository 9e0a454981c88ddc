"""A tiny real sweep through sim.api, loaded and compared by analysis (skipped without sim.api)."""

from __future__ import annotations

import json

import pytest

api = pytest.importorskip("sim.api")

from analysis.compare import compare_to_baseline, run_outcomes
from analysis.load import load, load_collectivites
from analysis.sensitivity import SimModel

FIXED = ["territory.n_communes=40", "simulation.years=2", "simulation.figures=false", "simulation.progress=false"]


@pytest.fixture(scope="module")
def real_sweep(tmp_path_factory):
    """training=none,tutoring x seed=0,1, laid out like a Hydra multirun."""
    root = tmp_path_factory.mktemp("real") / "multirun" / "2026-11-23_17-45-00"
    job = 0
    for training in ("none", "tutoring"):
        for seed in (0, 1):
            overrides = [f"training={training}", f"seed={seed}", *FIXED]
            cfg = api.compose_config(overrides=overrides)
            api.run(cfg, out_dir=root / str(job), overrides=overrides)
            job += 1
    return root


def test_real_runs_load_with_their_parameters(real_sweep):
    df, rep = load(real_sweep)
    assert len(rep.complete) == 4 and not rep.skipped
    assert {"training", "territory.n_communes", "simulation.years", "scenario", "seed"} <= set(df.columns)
    runs = df.drop_duplicates("run_id")
    assert sorted(zip(runs["training"].astype(str), runs["seed"], strict=True)) == [
        ("none", 0),
        ("none", 1),
        ("tutoring", 0),
        ("tutoring", 1),
    ]
    assert (runs["territory.n_communes"] == 40).all()
    assert set(runs["scenario"].astype(str)) == {"business_as_usual"}  # from config scenario_name
    assert {"maturity_mean", "maturity_gini", "spend_total_eur"} <= set(df["metric"].astype(str))
    n_steps = json.loads((real_sweep / "0" / "manifest.json").read_text())["n_steps"]
    assert df["step"].max() == n_steps
    coll, _ = load_collectivites(real_sweep, report=rep)
    assert coll["run_id"].nunique() == 4 and coll["maturity"].notna().all()


def test_real_runs_compare_paired_by_seed(real_sweep):
    df, _ = load(real_sweep)
    out = run_outcomes(df)
    assert (out["cum_spend_total_eur"] >= 0).all()
    d = compare_to_baseline(out, "none", "training", ["maturity_mean", "cum_spend_total_eur"])
    assert d["paired"].all() and set(d["training"]) == {"tutoring"}
    mean_none = out[out["training"] == "none"]["maturity_mean"].mean()
    assert d.set_index("metric").loc["maturity_mean", "mean_baseline"] == pytest.approx(mean_none)


def test_sim_model_returns_end_of_run_outcomes():
    result = SimModel(["maturity_mean", "cum_spend_total_eur"])(["seed=0", *FIXED])
    assert set(result) == {"maturity_mean", "cum_spend_total_eur"}
    assert 0.0 <= result["maturity_mean"] <= 1.0 and result["cum_spend_total_eur"] >= 0
