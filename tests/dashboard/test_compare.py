"""The dashboard's comparison: a scenario against business as usual on the same territories."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

solara = pytest.importorskip("solara", reason="the dashboard extra (solara) is not installed")

import ipyvue

from sim.dashboard import compare as C
from sim.dashboard.model import InputError, default_inputs, scenario_values
from sim.dashboard.panels import ComparisonPanel, changed_fields

SMALL = {"n_communes": 60, "years": 2}


@pytest.fixture(scope="module")
def mediation():
    inputs = {**default_inputs(), **SMALL, "scenario_name": "mediation", **scenario_values("mediation")}
    seen = []
    cmp = C.run_comparison(inputs, 2, progress=lambda i, n, text: seen.append((i, n)))
    cmp.progress_seen = seen
    return cmp


def test_both_scenarios_run_on_the_same_territories(mediation):
    ts = mediation.timeseries
    assert set(ts["role"]) == {"scenario", "baseline"} and mediation.seeds == [0, 1]
    assert set(ts.loc[ts["role"] == "baseline", "scenario"]) == {"business_as_usual"}
    coll = mediation.collectivites
    for seed in (0, 1):  # same seed: the same communes, at the same places
        a = coll[(coll["seed"] == seed) & (coll["role"] == "scenario")].set_index("code")
        b = coll[(coll["seed"] == seed) & (coll["role"] == "baseline")].set_index("code")
        assert a.index.equals(b.index) and np.allclose(a["x"], b["x"]) and np.allclose(a["population"], b["population"])
    assert "mediation" not in " ".join(mediation.overrides["baseline"])
    assert mediation.progress_seen[-1] == (4, 4)


def test_paired_difference_and_end_table(mediation):
    s = mediation.series("inhabitants_excluded_share")
    last = s["year"].max()
    end = s[s["year"] == last].pivot_table(index="seed", columns="role", values="value")
    d = mediation.paired("inhabitants_excluded_share")
    np.testing.assert_allclose(d[d["year"] == last].set_index("seed")["diff"], end["scenario"] - end["baseline"])
    row = mediation.end_table().set_index("metric").loc["inhabitants_excluded_share"]
    assert row["diff"] == pytest.approx((end["scenario"] - end["baseline"]).mean())
    assert row["diff"] < 0 and row["better_in"] == 2 and row["seeds"] == 2  # mediation lowers exclusion


def test_exports(mediation):
    table = pd.read_parquet(io.BytesIO(C.export_bytes(mediation, "parquet")))
    assert {"role", "scenario", "seed", "metric", "value"} <= set(table.columns) and len(table) == len(
        mediation.timeseries
    )
    assert pd.read_csv(io.BytesIO(C.export_bytes(mediation, "csv"))).shape == table.shape
    coll = pd.read_csv(io.BytesIO(C.export_bytes(mediation, "collectivites.csv")))
    assert {"x", "y", "maturity", "role", "seed"} <= set(coll.columns)
    names = zipfile.ZipFile(io.BytesIO(C.export_bytes(mediation, "figures.zip"))).namelist()
    assert "inhabitants_excluded_share_difference.png" in names and "map_maturity_difference.png" in names
    with pytest.raises(ValueError, match="unknown export"):
        C.export_bytes(mediation, "xlsx")


def test_bad_input_runs_nothing():
    with pytest.raises(InputError, match="not a number"):
        C.run_comparison({**default_inputs(), **SMALL, "training_budget": "lots"}, 2)
    with pytest.raises(InputError, match="between 1 and 10"):
        C.run_comparison({**default_inputs(), **SMALL}, 0)


def test_the_panel_shows_the_table_figures_and_downloads(mediation):
    _box, rc = solara.render(ComparisonPanel(mediation), handle_error=False)
    title = rc.find(ipyvue.Html, class_="dash-compare-title").widget.children[0]
    assert title.startswith("Digital mediation against Business as usual · 60 communes")
    diff = rc.find(ipyvue.Html, class_="dash-cmp-diff-inhabitants_excluded_share").widget.children[0]
    assert diff.startswith("\u2212") and "pp" in diff
    assert (
        rc.find(ipyvue.Html, class_="dash-cmp-better-inhabitants_excluded_share").widget.children[0] == "2 of 2 seeds"
    )
    rc.close()


def test_changed_fields_compare_numbers_as_numbers():
    applied = {**default_inputs(), "training_budget": "300"}
    assert changed_fields({**applied, "training_budget": "300.0"}, applied) == {}
    assert changed_fields({**applied, "training_budget": "250"}, applied) == {"training_budget": ("300", "250")}
    # the départements do not matter on the synthetic territory
    assert changed_fields({**applied, "departements": "56"}, applied) == {}
    # a new scenario brings its levers: only the scenario is flagged
    new = {**applied, "training_budget": "0", "scenario_name": "mediation", **scenario_values("mediation")}
    assert set(changed_fields(new, {**applied, "training_budget": "0"})) == {"scenario_name"}


def test_aggregates_by_population_band(mediation):
    table = C.territorial_table(mediation, "pop_band")
    assert table["pop_band"].iloc[0] == "<500"
    c = mediation.collectivites
    com = c[c["kind"] == "commune"]
    # population-weighted exclusion of the smallest band, scenario minus baseline, mean over the seeds
    diffs = []
    for seed in mediation.seeds:
        vals = {}
        for role in ("scenario", "baseline"):
            g = com[(com["seed"] == seed) & (com["role"] == role) & (com["pop_band"] == "<500")]
            vals[role] = (g["inhabitants_excluded"] * g["population"]).sum() / g["population"].sum()
        diffs.append(vals["scenario"] - vals["baseline"])
    assert table.loc[0, "inhabitants_excluded_diff"] == pytest.approx(np.mean(diffs))
    assert (table["inhabitants_excluded_diff"] < 0).all()
