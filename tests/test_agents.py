"""Agents are real Mesa agents whose attributes are views on the model's columns."""

from __future__ import annotations

import numpy as np

from sim.agents import Collectivite, Staff
from sim.model import TransitionModel
from tests.conftest import small_config


def test_agents_by_type_and_agentset_operations():
    model = TransitionModel(small_config())
    staff = model.agents_by_type[Staff]
    colls = model.agents_by_type[Collectivite]
    assert len(staff) == len(model.staff.active_rows()) > 0
    assert len(colls) == model.colls.n
    kinds = {c.kind for c in colls}
    assert kinds == {"commune", "epci", "departement", "region"}
    # AgentSet operations work on the property-backed attributes.
    skills = np.array(staff.get("skill"))
    assert np.allclose(np.sort(skills), np.sort(model.staff.skill[model.staff.active_rows()]))
    assert staff.agg("skill", np.mean) == np.mean(skills)
    cat_a = staff.select(lambda a: a.category == "A")
    assert 0 < len(cat_a) < len(staff)


def test_attribute_writes_go_to_the_columns():
    model = TransitionModel(small_config())
    agent = model.agents_by_type[Staff].to_list()[0]
    agent.skill = 0.42
    assert model.staff.skill[agent.row] == 0.42
    c = agent.employer
    assert isinstance(c, Collectivite) and agent in c.staff
    c.maturity = 0.9
    assert model.colls.maturity[c.row] == 0.9


def test_leavers_are_deregistered_from_mesa():
    model = TransitionModel(small_config(years=3))
    before = {a.unique_id for a in model.agents_by_type[Staff]}
    model.run()
    after = {a.unique_id for a in model.agents_by_type[Staff]}
    assert before - after  # some left
    assert after - before  # some were hired
    assert len(after) == len(model.staff.active_rows())
    assert all(model.staff.agents[r] is None for r in np.flatnonzero(~model.staff.active[: model.staff.size]))
