"""The vectorised rules and the per-agent reference loop (sim/reference.py) agree bit for bit.

Both models get the same configuration and seed; from the initial state and after every step,
the history period included, every staff column, every collectivité column, every recorded
metric, every counter, the spending, the carried money, the levers' envelopes, the training
supply and the conseillers' pipeline must be equal (not merely close), and the same Mesa agents
(unique ids) must be alive.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import selection
from sim.agents import Collectivite, Staff
from sim.model import TransitionModel
from sim.reference import REFERENCE_PROCESSES, ReferenceModel
from sim.state import StaffTable
from tests.conftest import small_config

CASES = {
    "baseline": {},
    # Every lever, with the need/rural/bands allocations, a training supply that binds (tutoring),
    # pooled hiring, agent mediators, the stress tests, gains usable at once, over-replacement.
    "levers": {
        "training": {
            "budget_eur_per_staff": 150.0,
            "targeting": "furthest",
            "modality": "tutoring",
            "allocation": "need",
        },
        "recruitment": {"budget_eur_per_staff": 100.0, "pooled_hiring": True, "allocation": "rural"},
        "mediation": {"budget_eur_per_staff": 50.0, "every_agent_mediator": True, "allocation": "bands"},
        "referents": {"budget_eur_per_staff": 30.0, "allocation": "need"},
        "sponsorship": {"budget_eur_per_staff": 20.0, "allocation": "need"},
        "mutualisation": {"budget_eur_per_staff": 20.0, "coverage": 0.6},
        "drivers": {
            "cyber_attacks": True,
            "lockdown": True,
            "lockdown_year": 2021.5,
            "budget_cut": True,
            "budget_cut_year": 2022.0,
        },
        "staff": {"replacement_rate": 1.2, "competence_delay_steps": 0},
    },
    # EPCI services communs with the mutualisation lever, staff not all replaced.
    "epci_pools": {
        "training": {"budget_eur_per_staff": 200.0, "targeting": "most_impacted", "modality": "blended"},
        "mutualisation": {"structure": "epci", "coverage": 0.5, "budget_eur_per_staff": 50.0},
        "referents": {"budget_eur_per_staff": 30.0},
        "mediation": {"budget_eur_per_staff": 20.0},
        "staff": {"replacement_rate": 0.9},
    },
}


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return type(a) is type(b) and a == b


def _differences(a: TransitionModel, b: TransitionModel) -> list[str]:
    bad = [f"staff.{f}" for f in StaffTable.FIELDS if not np.array_equal(a.staff.view(f), b.staff.view(f))]
    for name, value in vars(a.colls).items():
        if isinstance(value, np.ndarray) and not _same(value, getattr(b.colls, name)):
            bad.append("colls." + name)
    if a.records != b.records:
        bad.append("records")
    if dict(a.counters) != dict(b.counters):
        bad.append("counters")
    if a.spend != b.spend:
        bad.append("spend")
    if a.carry.keys() != b.carry.keys() or not all(_same(a.carry[k], b.carry[k]) for k in a.carry):
        bad.append("carry")
    if a.envelope != b.envelope:
        bad.append("envelope")
    if a.training_supply != b.training_supply or len(a.conseiller_pipeline) != len(b.conseiller_pipeline):
        bad.append("lever state")
    elif not all(_same(x, y) for x, y in zip(a.conseiller_pipeline, b.conseiller_pipeline)):
        bad.append("conseiller pipeline")
    for kind in (Staff, Collectivite):
        if [x.unique_id for x in a.agents_by_type[kind]] != [x.unique_id for x in b.agents_by_type[kind]]:
            bad.append(f"agents {kind.__name__}")
    return bad


@pytest.mark.parametrize("case", list(CASES))
def test_reference_loop_matches_vectorised_rules_bit_for_bit(case, monkeypatch):
    if case == "levers":
        # Send every selection through the bucket pre-filter, the fast path used at national scale.
        monkeypatch.setattr(selection, "_PREFILTER_MIN", 0)
    cfg = small_config(n_communes=60, years=2, seed=11, **CASES[case])
    vectorised, reference = TransitionModel(cfg), ReferenceModel(cfg)
    assert vectorised.n_history > 0
    assert _differences(vectorised, reference) == [], "initial state"
    spent: dict[str, float] = {}
    while vectorised.running and vectorised.step_index < vectorised.n_steps:
        vectorised.step()
        reference.step()
        assert _differences(vectorised, reference) == [], f"step {vectorised.step_index}"
        for key, value in vectorised.spend.items():
            spent[key] = spent.get(key, 0.0) + value
    assert reference.step_index == vectorised.n_steps and not reference.running
    # The case went through the paths it is meant to compare.
    counters = vectorised.counters
    assert counters["hires"] > 0 and counters["trainings_completed"] > 0 and counters["retirements"] > 0
    assert (vectorised.colls.pool >= 0).any()
    if case != "baseline":
        assert spent["training"] > 0 and spent["referents"] > 0 and spent["mediation"] > 0
        assert vectorised.colls.conseillers.sum() > 0
    if case == "levers":
        assert spent["unspent_training"] > 0  # the supply of places binds
        assert counters["hires"] > counters["retirements"] + counters["departures"]  # over-replacement
    if case == "epci_pools":
        assert counters["hires"] < counters["retirements"] + counters["departures"]


def test_reference_processes_keep_the_declarations_of_the_vectorised_ones():
    """Same order, names, reads, writes, levers and needs: the model refreshes the staff
    aggregates at the same points. Only the steps differ, for the per-agent processes."""
    assert len(ReferenceModel.processes) == len(TransitionModel.processes)
    for ref, vec in zip(ReferenceModel.processes, TransitionModel.processes):
        assert (ref.name, ref.reads, ref.writes, ref.levers, ref.needs) == (
            vec.name,
            vec.reads,
            vec.writes,
            vec.levers,
            vec.needs,
        )
        assert (ref.step is vec.step) == (ref.name not in REFERENCE_PROCESSES)
    assert set(REFERENCE_PROCESSES) == {
        "training",
        "peer_learning",
        "practice",
        "turnover",
        "maturity",
        "adoption",
        "inhabitants",
    }
    assert ReferenceModel.refresh_staff_aggregates is not TransitionModel.refresh_staff_aggregates


def test_reference_loop_goes_through_mesa_agents():
    """The loop really reads the agents: a change made through one agent is seen by the rules."""
    cfg = small_config(n_communes=20, years=1, seed=2)
    a, b = TransitionModel(cfg), ReferenceModel(cfg)
    first = a.agents_by_type[Staff].to_list()[0].unique_id
    for model in (a, b):
        agent = model.agents_by_type[Staff].to_list()[0]
        agent.skill, agent.age = 0.0, 70.0  # retires at the next step
        commune = model.agents_by_type[Collectivite].to_list()[0]
        commune.maturity = 1.0
    assert _differences(a, b) == []
    a.step()
    b.step()
    assert _differences(a, b) == []
    assert a.agents_by_type[Staff].to_list()[0].unique_id != first  # the first staff agent left
    untouched = ReferenceModel(cfg)
    untouched.step()
    assert untouched.colls.maturity[0] < b.colls.maturity[0]
