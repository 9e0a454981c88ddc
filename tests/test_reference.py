"""The vectorised rules and the per-agent reference loop (sim/reference.py) agree bit for bit.

Both models get the same configuration and seed; after every step, every staff column, every
collectivité column, every recorded metric and every counter must be equal (not merely close),
and the same Mesa agents (unique ids) must be alive. The staff columns are compacted as the
model does (rows of leavers dropped and renumbered), in one case after every turnover.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import selection
from sim.agents import Collectivite, Staff
from sim.model import TransitionModel, process_name
from sim.reference import REFERENCE_PROCESSES, ReferenceModel
from sim.state import StaffTable
from tests.conftest import small_config

CASES = {
    "baseline": {},
    "levers": {
        "training": {"budget_eur_per_staff": 150.0, "targeting": "furthest"},
        "recruitment": {"budget_eur_per_staff": 100.0, "pooled_hiring": True},
        "mediation": {"budget_eur_per_staff": 50.0, "every_agent_mediator": True},
        "referents": {"budget_eur_per_staff": 30.0},
        "sponsorship": {"budget_eur_per_staff": 20.0},
        "drivers": {"cyber_attacks": True, "lockdown": True, "lockdown_year": 2021.5},
    },
    "opsn_most_impacted": {
        "training": {"budget_eur_per_staff": 200.0, "targeting": "most_impacted", "modality": "blended"},
        "mutualisation": {"mode": "opsn", "coverage": 0.5, "subsidy_eur_per_staff": 50.0},
        "referents": {"budget_eur_per_staff": 30.0},
        "behaviour": {"replacement_rate": 0.9},
    },
}


#: Staff compaction (TransitionModel.staff_compaction) per case: rows renumbered after every
#: turnover in one case, at the default threshold in the others.
COMPACTION = {"opsn_most_impacted": 0.0}


def _differences(a: TransitionModel, b: TransitionModel) -> list[str]:
    bad = [f for f in StaffTable.FIELDS if not np.array_equal(a.staff.view(f), b.staff.view(f))]
    for name, value in vars(a.colls).items():
        if isinstance(value, np.ndarray) and not np.array_equal(
            value, getattr(b.colls, name), equal_nan=value.dtype.kind == "f"
        ):
            bad.append("colls." + name)
    if a.records != b.records:
        bad.append("records")
    if dict(a.counters) != dict(b.counters) or a.spend != b.spend or a.carry.keys() != b.carry.keys():
        bad.append("counters/spend")
    for kind in (Staff, Collectivite):
        if [x.unique_id for x in a.agents_by_type[kind]] != [x.unique_id for x in b.agents_by_type[kind]]:
            bad.append(f"agents {kind.__name__}")
    return bad


@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_loop_matches_vectorised_rules_bit_for_bit(case, monkeypatch):
    # Send every selection through the bucket pre-filter, the fast path used at national scale.
    monkeypatch.setattr(selection, "_PREFILTER_MIN", 0)
    cfg = small_config(n_communes=60, years=2, seed=11, **CASES[case])
    vectorised, reference = TransitionModel(cfg), ReferenceModel(cfg)
    for model in (vectorised, reference):
        model.staff_compaction = COMPACTION.get(case, model.staff_compaction)
    assert _differences(vectorised, reference) == []
    for step in range(1, vectorised.n_steps + 1):
        vectorised.step()
        reference.step()
        assert _differences(vectorised, reference) == [], f"step {step}"
    assert vectorised.counters["hires"] > 0 and vectorised.counters["trainings_completed"] > 0
    assert reference.staff.compactions == vectorised.staff.compactions > 0


def test_reference_model_replaces_the_staff_processes_with_agent_loops():
    names = [process_name(p) for p in ReferenceModel.processes]
    assert names == [process_name(p) for p in TransitionModel.processes]
    replaced = [p for p in ReferenceModel.processes if p in REFERENCE_PROCESSES.values()]
    assert {p.name for p in replaced} == {"training", "peer_learning", "turnover", "maturity", "adoption"}


def test_reference_loop_goes_through_mesa_agents():
    """The loop really reads the agents: a change made through one agent is seen by the rules."""
    cfg = small_config(n_communes=20, years=1, seed=2)
    a, b = TransitionModel(cfg), ReferenceModel(cfg)
    for model in (a, b):
        agent = model.agents_by_type[Staff].to_list()[0]
        agent.skill, agent.age = 0.0, 70.0  # retires at the next step
    a.step()
    b.step()
    assert _differences(a, b) == []
    assert a.agents_by_type[Staff].to_list()[0].unique_id != 1 + a.colls.n  # the first staff agent left
