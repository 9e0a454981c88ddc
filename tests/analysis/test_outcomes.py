"""sim.outcomes: the registry matches what a run writes, OUTPUTS.md is generated from it, and
numbers are formatted for people in English and French."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sim import outcomes
from sim.config import LEVERS


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """One small run with every lever on (scenario=combined), written to disk."""
    api = pytest.importorskip("sim.api")
    out = tmp_path_factory.mktemp("outcome_run")
    overrides = ["scenario=combined", "territory=small", "simulation.years=1", "simulation.figures=false"]
    overrides.append("simulation.progress=false")
    api.run(api.compose_config(overrides), out_dir=out, overrides=overrides)
    return out


def test_every_metric_a_run_writes_is_declared_and_every_declared_metric_is_written(real_run):
    ts = pd.read_parquet(real_run / "timeseries.parquet")
    pairs = set(zip(ts["stratum_kind"].astype(str), ts["metric"].astype(str), strict=True))
    written_only, declared_only = outcomes.undeclared(pairs)
    hint = outcomes.pending_hint(written_only)
    assert not written_only, f"metrics written but not declared in sim/outcomes.py: {sorted(written_only)}. {hint}"
    assert not declared_only, f"metrics declared in sim/outcomes.py but not written: {sorted(declared_only)}"


def test_every_output_column_is_documented(real_run):
    coll = pd.read_parquet(real_run / "collectivites.parquet")
    assert list(coll.columns) == list(outcomes.COLLECTIVITE_COLUMNS)
    staff = pd.read_parquet(real_run / "staff_summary.parquet")
    assert list(staff.columns) == list(outcomes.STAFF_SUMMARY_COLUMNS)
    manifest = json.loads((real_run / "manifest.json").read_text())
    assert set(manifest) == set(outcomes.MANIFEST_KEYS)


def test_staff_table_columns_are_documented(tmp_path):
    api = pytest.importorskip("sim.api")
    overrides = ["territory.n_communes=5", "simulation.years=1", "simulation.figures=false"]
    overrides += ["simulation.progress=false", "simulation.staff_table=true"]
    api.run(api.compose_config(overrides), out_dir=tmp_path, overrides=overrides)
    assert list(pd.read_parquet(tmp_path / "staff.parquet").columns) == list(outcomes.STAFF_COLUMNS)


def test_outputs_md_is_generated_from_the_registry(tmp_path):
    assert outcomes.check() == [], "docs/OUTPUTS.md is stale: run python -m sim.outcomes"
    stale = tmp_path / "OUTPUTS.md"
    stale.write_text("old", encoding="utf-8")
    assert outcomes.main(["--check", "--out", str(stale)]) == 1
    assert outcomes.main(["--out", str(stale)]) == 0
    assert outcomes.main(["--check", "--out", str(stale)]) == 0
    text = stale.read_text(encoding="utf-8")
    for o in outcomes.DECLARED:
        assert f"`{o.name}`" in text and o.label_fr in text


def test_one_spending_metric_per_lever_from_the_lever_registry():
    for lever in LEVERS.values():
        o = outcomes.get(f"spend_{lever.spend_key}_eur")
        assert o.declared and o.family == "cost" and o.payer == "state"
        assert lever.title_fr.lower() in o.label_fr


def test_every_declared_metric_is_complete():
    for o in outcomes.DECLARED:
        assert o.label and o.label_fr and o.description and o.unit, o.name
        assert o.label != o.name, f"{o.name}: the label should be plain words"
    for fam in ("adoption", "fracture", "cost"):
        assert outcomes.metrics(fam, headline=True), fam
    assert outcomes.get("gap_size").absolute and outcomes.get("maturity_gini").direction == outcomes.LOWER


def test_cumulative_and_unknown_names():
    cum = outcomes.get("cum_spend_total_eur")
    assert cum.fmt == "eur" and cum.family == "cost" and "over the run" in cum.label
    unknown = outcomes.get("something_new_share")
    assert not unknown.declared and unknown.fmt == "share" and unknown.direction == outcomes.NEUTRAL


@pytest.mark.parametrize(
    ("name", "value", "en", "fr"),
    [
        ("staff_illectronism_share", 0.124, "12.4\u00a0%", "12,4\u00a0%"),
        ("inhabitants_excluded_share", 0.0004, "0.04\u00a0%", "0,04\u00a0%"),
        ("maturity_mean", 0.21449, "0.214", "0,214"),
        ("spend_total_eur", 119.3e6, "119\u00a0M\u00a0EUR", "119\u00a0M€"),
        ("spend_total_eur", 4.74e6, "4.7\u00a0M\u00a0EUR", "4,7\u00a0M€"),
        ("spend_total_eur", 1.23e9, "1.2\u00a0bn\u00a0EUR", "1,2\u00a0Md€"),
        ("spend_total_eur", 950.0, "950\u00a0EUR", "950\u00a0€"),
        ("staff_count", 47312.0, "47,312", "47\u202f312"),
    ],
)
def test_values_are_formatted_for_people(name, value, en, fr):
    assert outcomes.format_value(name, value) == en
    assert outcomes.format_value(name, value, "fr") == fr


def test_differences_are_signed_and_shares_differ_in_points():
    assert outcomes.format_diff("inhabitants_excluded_share", -0.138) == "\u221213.8\u00a0pp"
    assert outcomes.format_diff("inhabitants_excluded_share", 0.012, "fr") == "+1,2\u00a0pt"
    assert outcomes.format_diff("maturity_mean", 0.0312) == "+0.031"
    assert outcomes.format_diff("cum_spend_total_eur", 12e6) == "+12\u00a0M\u00a0EUR"
    assert outcomes.format_diff("maturity_mean", -0.00001) == "0.0000"  # no sign on a difference that rounds to 0
    assert outcomes.format_interval("maturity_mean", -0.01, 0.02, diff=True) == "[\u22120.010, +0.020]"
    assert outcomes.format_interval("maturity_mean", -0.01, 0.02, "fr", diff=True) == "[\u22120,010 ; +0,020]"
    assert outcomes.format_value("maturity_mean", float("nan")) == ""


def test_pending_metrics_are_complete_and_labelled_before_they_are_declared():
    for o in outcomes.PENDING:
        assert o.label and o.label_fr and o.description, o.name
        assert outcomes.get(o.name).label == (outcomes.OUTCOMES.get(o.name) or o).label
    if outcomes.PENDING:
        name = outcomes.PENDING[0].name
        assert "PENDING" in outcomes.pending_hint({("all", name)})
    assert outcomes.pending_hint({("all", "maturity_mean")}) == ""
