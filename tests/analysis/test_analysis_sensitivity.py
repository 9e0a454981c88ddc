"""analysis.sensitivity with cheap analytic models (the simulator is not needed)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.sensitivity import (
    Ishigami,
    Linear,
    ModelError,
    Parameter,
    Problem,
    make_problem,
    morris,
    outcomes_of_timeseries,
    parse_param,
    parse_seeds,
    resolve_model,
    sobol,
)

PI = math.pi


class Recorder:
    """A linear model that remembers every override list it was called with."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.model = Linear({"a": 5.0, "b": 1.0}, noise=0.5)

    def __call__(self, overrides: list[str]) -> dict[str, float]:
        self.calls.append(list(overrides))
        return self.model(overrides)


def linear_problem(seeds: int | list[int] = 3) -> Problem:
    return make_problem(["a=0:1", "b=0:1", "dummy=0:1"], seeds=seeds, metrics=["y"])


def test_morris_ranks_the_influential_parameter_first():
    res = morris(linear_problem(), model=Linear({"a": 5.0, "b": 1.0}, noise=0.5), trajectories=10)
    mu_star = res.indices.set_index("parameter")["mu_star"]
    # the same seeds at every point: the noise cancels in elementary effects
    assert mu_star["a"] == pytest.approx(5.0)
    assert mu_star["b"] == pytest.approx(1.0)
    assert mu_star["dummy"] == pytest.approx(0.0, abs=1e-9)
    assert mu_star["a"] > mu_star["b"] > mu_star["dummy"]
    assert list(res.indices.columns) == ["metric", "parameter", "mu", "mu_star", "sigma", "mu_star_conf"]


def test_every_point_is_run_for_every_seed_and_averaged():
    rec = Recorder()
    res = morris(linear_problem([4, 9]), model=rec, trajectories=3)
    n_points = 3 * (3 + 1)
    assert res.settings["n_points"] == n_points and len(rec.calls) == 2 * n_points
    assert all(c[-1] in ("seed=4", "seed=9") for c in rec.calls)
    assert [c[-1] for c in rec.calls[:4]] == ["seed=4", "seed=9", "seed=4", "seed=9"]
    raw = res.raw
    assert list(raw.columns) == ["point", "a", "b", "dummy", "seed", "y"]
    noise = {s: Linear(noise=0.5)(["a=0", f"seed={s}"])["y"] for s in (4, 9)}
    first = raw[raw["point"] == 0].set_index("seed")
    for s in (4, 9):
        assert first.loc[s, "y"] == pytest.approx(5 * first.loc[s, "a"] + first.loc[s, "b"] + noise[s])


def test_sobol_on_ishigami():
    problem = make_problem([f"x{i}={-PI}:{PI}" for i in (1, 2, 3)], seeds=1, metrics=["y"])
    res = sobol(problem, model=Ishigami(), n=1024)
    s = res.indices.set_index("parameter")
    # analytic: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    assert s.loc["x1", "S1"] == pytest.approx(0.314, abs=0.08)
    assert s.loc["x2", "S1"] == pytest.approx(0.442, abs=0.08)
    assert s.loc["x3", "S1"] == pytest.approx(0.0, abs=0.08)
    assert s.loc["x3", "ST"] == pytest.approx(0.244, abs=0.08)
    assert 0.6 < s["S1"].sum() <= 1.05
    assert (s["ST"] >= s["S1"] - s["S1_conf"] - s["ST_conf"]).all()
    assert res.settings["n_points"] == 1024 * (3 + 2)


def test_sobol_second_order_and_sample_size():
    problem = make_problem(["a=0:1", "b=0:1"], seeds=1, metrics=["y"])
    res = sobol(problem, model=Linear({"a": 2.0, "b": 1.0}), n=256, second_order=True)
    s = res.indices.set_index("parameter")
    # linear, independent uniform inputs: S1 = c^2 / sum c^2 = 0.8 and 0.2, no interaction
    assert s.loc["a", "S1"] == pytest.approx(0.8, abs=0.05)
    assert s.loc["b", "S1"] == pytest.approx(0.2, abs=0.05)
    assert list(res.second_order.columns) == ["metric", "parameter_1", "parameter_2", "S2", "S2_conf"]
    assert res.second_order["S2"].iloc[0] == pytest.approx(0.0, abs=0.1)
    with pytest.raises(ValueError, match="power of 2"):
        sobol(problem, model=Linear(), n=100)


def test_constant_output_gives_undefined_sobol_indices():
    problem = make_problem(["a=0:1", "b=0:1"], seeds=1, metrics=["y"])
    with pytest.warns(UserWarning, match="does not vary"):
        res = sobol(problem, model=_Const(), n=8)
    assert res.indices["S1"].isna().all()


class _Const:
    def __call__(self, overrides):
        return {"y": 1.0}


def test_parallel_runs_give_the_same_results():
    problem = linear_problem(2)
    model = Linear({"a": 5.0, "b": 1.0}, noise=0.5)
    seq = morris(problem, model=model, trajectories=4)
    par = morris(problem, model=model, trajectories=4, jobs=2)
    pd.testing.assert_frame_equal(seq.raw, par.raw)
    pd.testing.assert_frame_equal(seq.indices, par.indices)


def test_results_are_saved_with_a_figure(tmp_path):
    res = morris(linear_problem(1), model=Linear({"a": 5.0, "b": 1.0}), trajectories=4)
    paths = {p.name for p in res.save(tmp_path)}
    assert paths == {
        "morris_indices.csv",
        "morris_indices.parquet",
        "morris_evaluations.parquet",
        "morris_problem.yaml",
        "morris_indices.png",
        "morris_indices.svg",
    }
    back = pd.read_csv(tmp_path / "morris_indices.csv")
    pd.testing.assert_frame_equal(back, res.indices, check_dtype=False)
    saved = yaml.safe_load((tmp_path / "morris_problem.yaml").read_text())
    assert saved["parameters"]["a"] == {"low": 0.0, "high": 1.0, "type": "float"}
    assert saved["trajectories"] == 4 and saved["seeds"] == [0]
    svg = (tmp_path / "morris_indices.svg").read_text()
    assert "mu* (mean absolute effect)" in svg and "dummy" in svg


def test_problem_from_yaml_and_command_line(tmp_path):
    f = tmp_path / "sa.yaml"
    f.write_text(
        yaml.safe_dump(
            {
                "parameters": {
                    "training.budget_eur_per_staff": [0, 500],
                    "territory.n_communes": {"low": 40, "high": 120, "type": "int"},
                },
                "seeds": 2,
                "overrides": ["simulation.years=2"],
                "metrics": ["maturity_mean"],
            },
            sort_keys=False,
        )
    )
    p = make_problem(
        ["training.budget_eur_per_staff=0:1000", "mediation.exit_rate=0:1"], f, overrides=["territory.kind=synthetic"]
    )
    assert p.names == ["training.budget_eur_per_staff", "territory.n_communes", "mediation.exit_rate"]
    assert p.parameters[0].high == 1000  # the command line wins
    assert p.parameters[1].kind == "int"
    assert p.seeds == [0, 1] and p.metrics == ["maturity_mean"]
    assert p.overrides == ["simulation.years=2", "territory.kind=synthetic"]
    ov = p.overrides_for([250.0, 77.6, 0.5], seed=1)
    assert ov == [
        "simulation.years=2",
        "territory.kind=synthetic",
        "training.budget_eur_per_staff=250.0",
        "territory.n_communes=78",
        "mediation.exit_rate=0.5",
        "seed=1",
    ]
    assert p.salib() == {"num_vars": 3, "names": p.names, "bounds": [[0.0, 1000.0], [40.0, 120.0], [0.0, 1.0]]}


@pytest.mark.parametrize(
    ("spec", "error"),
    [("a=1:0", "below"), ("a=0", "name=low:high"), ("a=x:1", "numbers"), ("a=0:1:bool", "type")],
)
def test_bad_parameter_specs(spec, error):
    with pytest.raises(ValueError, match=error):
        parse_param(spec)


def test_problem_validation():
    with pytest.raises(ValueError, match="no parameter"):
        Problem([])
    with pytest.raises(ValueError, match="twice"):
        Problem([Parameter("a", 0, 1), Parameter("a", 0, 2)])
    with pytest.raises(ValueError, match="fixed overrides"):
        Problem([Parameter("a", 0, 1)], overrides=["seed=3"])
    assert parse_seeds(3) == [0, 1, 2] and parse_seeds("4,9") == [4, 9] and parse_seeds("2") == [0, 1]
    with pytest.raises(ValueError):
        parse_seeds(0)


def test_model_failures_name_the_overrides():
    problem = make_problem(["a=0:1"], seeds=1, metrics=["z"])
    with pytest.raises(ModelError, match="lacks \\['z'\\]"):
        morris(problem, model=Linear(), trajectories=2)
    with pytest.raises(ModelError, match="needs the override b="):
        morris(make_problem(["a=0:1"], seeds=1, metrics=["y"]), model=Linear({"b": 1.0}), trajectories=2)


def test_model_resolution():
    assert isinstance(resolve_model("analysis.sensitivity:Ishigami"), Ishigami)
    fn = resolve_model("math:fsum")
    assert fn is math.fsum
    assert type(resolve_model(None, ["maturity_mean"])).__name__ == "SimModel"
    with pytest.raises(ValueError):
        resolve_model("no_colon")


def test_outcomes_of_a_single_run_timeseries():
    ts = pd.DataFrame(
        {
            "step": np.array([0, 0, 1, 1, 2, 2], dtype="int32"),
            "year": [2021.0, 2021.0, 2021.25, 2021.25, 2021.5, 2021.5],
            "stratum_kind": ["all"] * 6,
            "stratum": ["all"] * 6,
            "metric": ["maturity_mean", "spend_total_eur"] * 3,
            "value": [0.1, 0.0, 0.2, 100.0, 0.3, 150.0],
        }
    )
    out = outcomes_of_timeseries(ts)
    assert out["maturity_mean"] == pytest.approx(0.3)
    assert out["cum_spend_total_eur"] == pytest.approx(250.0)
    assert outcomes_of_timeseries(ts, ["cum_spend_total_eur"]) == {"cum_spend_total_eur": 250.0}
