"""Agents are real Mesa agents whose attributes are views on the model's columns; the staff's
agents are created on demand, and the staff columns are compacted when leavers accumulate."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents import Collectivite, Staff, StaffGoneError
from sim.model import TransitionModel
from tests.conftest import small_config


def _current(model, name: str) -> np.ndarray:
    st = model.staff
    return getattr(st, name)[st.active_rows()]


def test_agents_by_type_and_agentset_operations():
    model = TransitionModel(small_config())
    staff = model.agents_by_type[Staff]
    colls = model.agents_by_type[Collectivite]
    assert len(staff) == len(model.staff.active_rows()) > 0
    assert len(colls) == model.colls.n
    assert len(model.agents) == len(staff) + len(colls)
    assert model.agent_types == [Collectivite, Staff]
    kinds = {c.kind for c in colls}
    assert kinds == {"commune", "epci", "departement", "region"}
    # AgentSet operations work on the property-backed attributes.
    skills = np.array(staff.get("skill"))
    assert np.array_equal(skills, _current(model, "skill"))  # row order
    assert staff.agg("skill", np.mean) == np.mean(skills)
    cat_a = staff.select(lambda a: a.category == "A")
    assert 0 < len(cat_a) < len(staff)
    assert all(a.category == "A" for a in cat_a)


def test_attribute_writes_go_to_the_columns():
    model = TransitionModel(small_config())
    agent = model.agents_by_type[Staff].to_list()[0]
    agent.skill = 0.42
    assert model.staff.skill[agent.row] == 0.42
    c = agent.employer
    assert isinstance(c, Collectivite) and agent in c.staff
    c.maturity = 0.9
    assert model.colls.maturity[c.row] == 0.9


def test_staff_agents_are_created_on_demand_with_the_ids_they_were_hired_with():
    cfg = small_config(n_communes=80, years=3, seed=5)
    eager, lazy = TransitionModel(cfg), TransitionModel(cfg)
    eager.materialize_staff()  # agents from the start: hires and departures create/remove them
    assert lazy.staff.agents is None  # nothing asked for them yet
    for _ in range(7):
        eager.step()
        lazy.step()
    assert lazy.staff.agents is None and lazy.counters["hires"] > 0
    assert lazy.agent_id_counter == eager.agent_id_counter
    a, b = eager.agents_by_type[Staff].to_list(), lazy.agents_by_type[Staff].to_list()  # creates lazy's
    assert [x.unique_id for x in a] == [x.unique_id for x in b]
    assert [x.row for x in a] == [x.row for x in b] == lazy.staff.active_rows().tolist()
    assert [x.unique_id for x in b] == lazy.staff.uid[lazy.staff.active_rows()].tolist()
    assert [x.unique_id for x in eager.agents] == [x.unique_id for x in lazy.agents]
    # Once created, they follow hires and departures like the eager ones.
    for _ in range(4):
        eager.step()
        lazy.step()
    assert [x.unique_id for x in eager.agents] == [x.unique_id for x in lazy.agents]
    assert eager.records == lazy.records


def test_results_do_not_depend_on_agents_or_compaction():
    cfg = small_config(
        n_communes=80,
        years=3,
        seed=3,
        recruitment={"budget_eur_per_staff": 100.0},
        training={"budget_eur_per_staff": 150.0, "targeting": "furthest"},
    )
    models = {}
    for name, compaction, agents in (
        ("never compacted, no agents", None, False),
        ("default", TransitionModel.staff_compaction, False),
        ("compacted every step, agents", 0.0, True),
    ):
        m = TransitionModel(cfg)
        m.staff_compaction = compaction
        if agents:
            m.materialize_staff()
        m.run()
        models[name] = m
    base = models.pop("never compacted, no agents")
    assert base.staff.compactions == 0 and base.staff.n_inactive > 0
    for name, m in models.items():
        assert m.staff.compactions > 0, name
        assert m.records == base.records, name
        assert dict(m.counters) == dict(base.counters), name
        for field in m.staff.FIELDS:
            assert np.array_equal(_current(m, field), _current(base, field)), (name, field)
        for field, value in vars(base.colls).items():
            if isinstance(value, np.ndarray):
                assert np.array_equal(getattr(m.colls, field), value, equal_nan=value.dtype.kind == "f"), field
    every = models["compacted every step, agents"]
    assert every.staff.size == every.staff.n_active  # no leaver left in the columns
    assert [a.unique_id for a in every.agents_by_type[Staff]] == _current(base, "uid").tolist()


def test_agents_read_and_write_their_own_row_after_compaction():
    model = TransitionModel(small_config(n_communes=60, years=3, seed=1))
    model.staff_compaction = None
    agents = model.agents_by_type[Staff].to_list()
    snapshot = {a.unique_id: (a.skill, a.age, a.category, a.employer.row) for a in agents}
    model.step()
    model.step()
    leavers = [a for a in agents if a not in model.agents]
    stayers = [a for a in agents if a in model.agents]
    assert leavers and model.staff.n_inactive == len(leavers)
    assert leavers[0].skill >= 0.0  # a leaver's state is kept until the next compaction
    old_rows = {a.unique_id: a.row for a in stayers}
    assert model.compact_staff(force=True) and model.staff.n_inactive == 0
    assert any(a.row != old_rows[a.unique_id] for a in stayers)  # rows were renumbered
    st = model.staff
    for a in stayers:
        assert st.uid[a.row] == a.unique_id and st.active[a.row]
        assert a.skill == st.skill[a.row] and a.age == st.age[a.row]
        assert (a.category, a.employer.row) == snapshot[a.unique_id][2:]  # fixed attributes followed
    target = stayers[len(stayers) // 2]
    target.skill = 0.123
    assert st.skill[st.rows_of([target.unique_id])[0]] == 0.123
    assert np.count_nonzero(st.skill[: st.size] == 0.123) == 1
    assert st.agents[target.row] is target
    assert target in target.employer.staff
    with pytest.raises(StaffGoneError):
        _ = leavers[0].skill
    with pytest.raises(StaffGoneError):
        leavers[0].skill = 0.5
    assert all(a.row is None for a in leavers)


def test_rows_of_follows_uids_through_compaction():
    cfg = small_config(n_communes=40, years=2, seed=4)
    compacted, kept = TransitionModel(cfg), TransitionModel(cfg)
    st = compacted.staff
    uids = st.uid[: st.size].copy()
    assert np.array_equal(st.rows_of(uids), np.arange(st.size))
    compacted.staff_compaction, kept.staff_compaction = 0.0, None
    compacted.run()
    kept.run()
    rows, rows_kept = st.rows_of(uids), kept.staff.rows_of(uids)
    assert np.array_equal(rows_kept, np.arange(len(uids)))  # never compacted: rows never move
    gone = rows < 0
    assert gone.any() and not gone.all()
    assert np.array_equal(gone, ~kept.staff.active[: len(uids)])  # dropped rows are the leavers'
    assert np.array_equal(st.uid[rows[~gone]], uids[~gone])
    assert np.array_equal(st.skill[rows[~gone]], kept.staff.skill[: len(uids)][~gone])
    assert st.rows_of([0, -5, st.uid[st.size - 1] + 1]).tolist() == [-1, -1, -1]  # not staff uids


def test_leavers_are_deregistered_from_mesa():
    model = TransitionModel(small_config(years=3))
    before = {a.unique_id for a in model.agents_by_type[Staff]}
    model.run()
    after = {a.unique_id for a in model.agents_by_type[Staff]}
    assert before - after  # some left
    assert after - before  # some were hired
    assert len(after) == len(model.staff.active_rows())
    assert after == set(model.staff.uid[model.staff.active_rows()].tolist())
    registered = set(model.agents)
    agents = model.staff.agents
    assert all(agents[r] in registered for r in model.staff.active_rows())
    assert not any(agents[r] in registered for r in np.flatnonzero(~model.staff.active[: model.staff.size]))


def test_removing_a_staff_agent_makes_it_leave():
    model = TransitionModel(small_config())
    agent = model.agents_by_type[Staff].to_list()[5]
    n = len(model.staff.active_rows())
    agent.remove()
    assert agent not in model.agents and agent not in model.agents_by_type[Staff]
    assert not model.staff.active[agent.row] and len(model.staff.active_rows()) == n - 1
    agent.remove()  # already gone: nothing happens
    assert len(model.staff.active_rows()) == n - 1
    model.step()
    assert agent.unique_id not in set(model.staff.uid[model.staff.active_rows()].tolist())
