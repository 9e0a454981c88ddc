"""Property tests (hypothesis): invariants that hold whatever the parameters."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import SPEND_CATEGORIES, TransitionModel
from tests.conftest import small_config

lever_budget = st.floats(min_value=0.0, max_value=500.0, allow_nan=False)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    training_budget=lever_budget,
    recruit_budget=lever_budget,
    mediation_budget=lever_budget,
    subsidy=lever_budget,
    modality=st.sampled_from(["elearning", "blended", "tutoring"]),
    targeting=st.sampled_from(["universal", "furthest", "most_impacted"]),
    pooled_hiring=st.booleans(),
    mode=st.sampled_from(["none", "epci", "opsn"]),
    shocks=st.booleans(),
)
def test_invariants_hold_for_any_levers(
    seed, training_budget, recruit_budget, mediation_budget, subsidy, modality, targeting, pooled_hiring, mode, shocks
):
    cfg = small_config(
        n_communes=40,
        years=2,
        seed=seed,
        training={"budget_eur_per_staff": training_budget, "modality": modality, "targeting": targeting},
        recruitment={"budget_eur_per_staff": recruit_budget, "pooled_hiring": pooled_hiring},
        mediation={"budget_eur_per_staff": mediation_budget, "every_agent_mediator": True},
        mutualisation={"mode": mode, "subsidy_eur_per_staff": subsidy, "coverage": 0.5},
        referents={"budget_eur_per_staff": 10.0},
        sponsorship={"budget_eur_per_staff": 10.0},
        drivers={
            "lockdown": shocks,
            "cyber_attacks": shocks,
            "budget_cut": shocks,
            "lockdown_year": 2021.5,
            "budget_cut_year": 2021.5,
        },
    )
    model = TransitionModel(cfg)
    c, staff = model.colls, model.staff
    spy = model.steps_per_year
    for _ in range(model.n_steps):
        n_before = len(staff.active_rows())
        counts_before = dict(model.counters)
        real_staff = c.n_staff.sum()  # staff_scale is 1 in small_config
        model.step()
        # Skills, attitudes and collectivité states stay in range.
        rows = staff.active_rows()
        for arr in (staff.skill[rows], staff.attitude[rows]):
            assert np.all((arr >= 0) & (arr <= 1))
        for name in (
            "maturity",
            "services_online",
            "sponsorship",
            "illectronism",
            "excluded",
            "eservice_use",
            "mediation_coverage",
            "capacity_index",
        ):
            arr = getattr(c, name)
            assert np.all((arr >= 0) & (arr <= 1)), name
        # Staff change only through turnover and the recruitment lever.
        delta = {
            k: model.counters[k] - counts_before.get(k, 0)
            for k in ("retirements", "departures", "hires", "digital_hires")
        }
        agents_hired = len(rows) - n_before + delta["retirements"] + delta["departures"] - delta["hires"]
        assert 0 <= agents_hired <= delta["digital_hires"]
        # Money: each lever spends at most its budget of the step.
        lever_budgets = {
            "training": training_budget,
            "recruitment": recruit_budget,
            "mediation": mediation_budget,
            "mutualisation": subsidy,
            "referents": 10.0,
            "sponsorship": 10.0,
        }
        tol = 1e-6 * (1 + real_staff)
        for lever in ("recruitment", "mediation", "referents", "mutualisation"):
            assert model.spend[lever] <= lever_budgets[lever] * real_staff / spy + tol
        # Training and sponsorship may spend money carried over from earlier steps, never more
        # than the total allocated so far.
        assert set(model.spend) == set(SPEND_CATEGORIES)
        assert all(v >= 0 for v in model.spend.values())
    assert np.isfinite(c.maturity).all()


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), budget=st.floats(10.0, 800.0))
def test_training_spending_never_exceeds_cumulative_budget(seed, budget):
    model = TransitionModel(
        small_config(
            n_communes=40, years=3, seed=seed, training={"budget_eur_per_staff": budget, "modality": "blended"}
        )
    )
    allocated = spent = 0.0
    for _ in range(model.n_steps):
        allocated += budget * model.colls.n_staff.sum() / model.steps_per_year
        model.step()
        spent += model.spend["training"]
        assert spent <= allocated + 1e-6
        assert model.carry["training"].min() >= -1e-9
