"""Unit tests of each process on small hand-made situations: each mechanism does what its
docstring and the sources say, on constructed inputs where the expected answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from sim import levers
from sim.config import OrganisationConfig, TerritoryConfig, TrainingConfig
from sim.model import TransitionModel
from sim.processes import governance, inhabitants, it_staff, maturity, mutualisation, practice, training, turnover
from sim.selection import first_k_per_group, weighted_order
from sim.state import DIGITAL, NEVER, RECEPTION
from tests.conftest import small_config


def no_history(**groups):
    """A small model that starts its policy period at once (no history steps)."""
    groups.setdefault("simulation", {})
    cfg = small_config(**{k: v for k, v in groups.items() if k != "simulation"})
    cfg.simulation.history_start_year = float(cfg.simulation.start_year)
    for key, value in groups["simulation"].items():
        setattr(cfg.simulation, key, value)
    return cfg


# ------------------------------------------------------------------------------------ training
def test_training_gain_has_diminishing_returns():
    skills = np.array([0.1, 0.4, 0.7, 0.95])
    gains = training.training_gain(skills, 0.0, 0.2, 1.0, 0.5)
    assert np.all(gains > 0)
    assert np.all(np.diff(gains) < 0)  # the more skilled gain less
    assert np.all(skills + gains <= 1.0)
    assert training.training_gain(0.3, 1.0, 0.2, 1.0, 0.5) < training.training_gain(0.3, 0.0, 0.2, 1.0, 0.5)


def test_elearning_favours_the_skilled_tutoring_reaches_the_illectronic():
    completion = TrainingConfig().completion
    threshold = 0.15
    p = {
        m: (lambda s, m=m: training.completion_probability(s, *completion[m], threshold if m == "elearning" else 0.0))
        for m in completion
    }
    low, mid, high = 0.05, 0.3, 0.8
    assert p["elearning"](low) == 0.0  # staff in illectronism do not complete self-service e-learning
    assert p["elearning"](high) > p["elearning"](mid) > 0
    assert p["tutoring"](low) > p["blended"](low) > p["elearning"](low)


def test_first_k_per_group_takes_smallest_keys_within_quota():
    groups = np.array([0, 0, 0, 1, 1, 2])
    keys = np.array([0.3, 0.1, 0.2, 0.9, 0.5, 0.4])
    quota = np.array([2, 1, 0])
    assert sorted(first_k_per_group(groups, keys, quota).tolist()) == [1, 2, 4]


def _lever_training_model(**training_cfg):
    model = TransitionModel(
        no_history(training={"modality": "tutoring", **training_cfg}, organisation={"own_training_share": 0.0})
    )
    model.flows.levers_on = True
    model.flows.own_training = np.zeros(model.colls.n)
    return model


def test_furthest_targeting_trains_the_least_skilled(monkeypatch):
    monkeypatch.setattr(training, "completion_probability", lambda skill, *args: 1.0 + 0.0 * skill)
    model = _lever_training_model(budget_eur_per_staff=200.0, targeting="furthest")
    st = model.staff
    rows = st.active_rows()
    before = st.skill[rows].copy()
    training.step(model)
    trained = st.last_training[rows] != NEVER
    assert trained.any()
    emp = st.employer[rows]
    for e in np.unique(emp[trained]):
        mask = emp == e
        if (~trained & mask).any():
            assert before[trained & mask].max() <= before[~trained & mask].min() + 1e-6


def test_the_training_supply_caps_places_and_the_rest_of_the_money_is_reported_unspent():
    model = _lever_training_model(
        budget_eur_per_staff=5000.0, supply_per_1000_staff={"elearning": 1000.0, "blended": 60.0, "tutoring": 10.0}
    )
    staff = float(model.flows.staff.sum())
    training.step(model)
    places = 10.0 * staff / 1000.0 / model.steps_per_year
    assert model.counters["trainings"] <= places + 1
    assert model.counters["trainings"] >= places - model.colls.n  # whole places per collectivité
    budget = 5000.0 * staff / model.steps_per_year
    assert model.spend["training"] == pytest.approx(model.counters["trainings"] * 1000.0)
    # The rest stays in the lever's envelope, reported as unspent if still there at the end.
    assert model.envelope["training"] == pytest.approx(budget - model.spend["training"])
    assert model.spend["unspent_training"] == 0.0
    model.step_index = model.n_steps
    training.step(model)
    assert model.spend["unspent_training"] > budget and "training" in model.unspent_warnings


def test_a_completed_training_becomes_skill_only_after_the_competence_delay(monkeypatch):
    monkeypatch.setattr(training, "completion_probability", lambda skill, *args: 1.0 + 0.0 * skill)
    model = _lever_training_model(budget_eur_per_staff=300.0)
    model.cfg.staff.competence_delay_steps = 2
    st = model.staff
    rows = st.active_rows()
    before = st.skill[rows].copy()
    training.step(model)
    done = rows[st.gain_step[rows] != NEVER]
    assert len(done) and np.all(st.pending_gain[done] > 0)
    assert np.array_equal(st.skill[rows], before)  # nothing usable yet
    model.step_index += 2
    training.apply_due_gains(model)
    assert np.allclose(st.skill[done], np.minimum(1.0, before[np.searchsorted(rows, done)] + st.fresh_gain[done]))
    assert np.all(st.skill[done] > before[np.searchsorted(rows, done)]) and np.all(st.gain_step[done] == NEVER)


def test_staff_trained_recently_are_not_offered_training_again():
    model = _lever_training_model(budget_eur_per_staff=0.0)
    st = model.staff
    rows = st.active_rows()
    st.last_training[rows[:10]] = model.step_index - 1  # trained a step ago, interval one year
    st.last_training[rows[10:20]] = model.step_index - 4 * model.steps_per_year  # long ago
    eligible = set(training.eligible_rows(model).tolist())
    assert not eligible & set(rows[:10].tolist())
    assert set(rows[10:20].tolist()) <= eligible


# ------------------------------------------------------------------------------------ practice
def test_users_follow_the_bar_and_keep_their_training_non_users_lose_it():
    model = TransitionModel(no_history())
    st = model.staff
    rows = st.active_rows()
    model.required_skill, model.required_skill_rise = 0.6, 0.01
    band = model.cfg.drivers.following_band
    st.skill[rows[:5]] = 0.6 - band + 0.05  # users
    st.skill[rows[5:10]] = 0.6 - band - 0.2  # non-users
    st.fresh_gain[rows[:10]] = 0.1
    practice.step(model)
    sc = model.cfg.staff
    assert np.allclose(st.skill[rows[:5]], 0.6 - band + 0.05 + sc.learning_by_doing * 0.01)
    assert np.all(st.fresh_gain[rows[:5]] == 0.0)  # consolidated
    lost = 0.1 * (1.0 - np.exp(-sc.gain_decay_rate / model.steps_per_year))
    assert np.allclose(st.skill[rows[5:10]], 0.6 - band - 0.2 - lost)
    assert np.allclose(st.fresh_gain[rows[5:10]], 0.1 - lost)


# ------------------------------------------------------------------------------------ pools
def test_a_pool_pays_its_fixed_need_once_so_its_members_get_more_capacity_together():
    o = OrganisationConfig()
    staff = np.full(30, 5.0)  # thirty small communes of five staff each
    fte_each = np.full(30, 0.2)
    alone = maturity.capacity_index(
        fte_each,
        staff,
        fte_each >= o.dsi_critical_fte,
        o.capacity_need_per_staff,
        o.capacity_need_fixed,
        o.below_critical_factor,
    )
    together = mutualisation.pool_capacity_index(
        np.array([fte_each.sum()]), np.array([staff.sum()]), np.array([30.0]), 0.05, o
    )
    assert together[0] > 3 * alone.max()
    # a small pool, below the critical size of an IT team, gives less than a critical one
    small = mutualisation.pool_capacity_index(np.array([1.0]), np.array([30.0]), np.array([6.0]), 0.05, o)
    big = mutualisation.pool_capacity_index(np.array([2.5]), np.array([30.0]), np.array([6.0]), 0.05, o)
    assert small[0] < 0.5 * big[0]
    # coordination costs grow with the number of members
    many = mutualisation.pool_capacity_index(np.array([6.0]), np.array([150.0]), np.array([300.0]), 0.05, o)
    few = mutualisation.pool_capacity_index(np.array([6.0]), np.array([150.0]), np.array([30.0]), 0.05, o)
    assert many[0] < few[0]


def test_members_combine_their_own_capacity_with_their_pool():
    own = np.array([0.0, 0.3, 0.3])
    pool = np.array([0.4, 0.0, 0.4])
    combined = maturity.combined_capacity(own, pool)
    assert combined[0] == pytest.approx(0.4) and combined[1] == pytest.approx(0.3)
    assert combined[2] > max(own[2], pool[2]) and combined[2] < 1.0


def test_pools_hire_their_staff_gradually_and_members_pay_fees():
    model = TransitionModel(
        no_history(mutualisation={"budget_eur_per_staff": 200.0, "coverage": 0.0, "structure": "opsn"})
    )
    model.flows.levers_on = True
    model.flows.investment = np.full(model.colls.n, 1e6)
    mutualisation.step(model)
    staffed = model.pool_staff.copy()
    target_before_subsidy = staffed.sum()
    for _ in range(3):
        model.flows.investment = np.full(model.colls.n, 1e6)
        mutualisation.step(model)
    # the subsidy raised the pools' target; they fill it over several steps, not at once
    assert model.pool_staff.sum() > target_before_subsidy
    assert model.spend["pool_contributions"] > 0
    assert model.envelope["mutualisation"] > 0  # money offered for posts not yet filled


def test_the_lever_pushes_joins_only_as_far_as_its_money_goes():
    common = {"coverage": 1.0, "push_rate": 20.0, "base_join_rate": 0.0, "gap_weight": 0.0, "imitation_weight": 0.0}
    free = TransitionModel(no_history(mutualisation={**common, "budget_eur_per_staff": 0.0}))
    paid = TransitionModel(
        no_history(mutualisation={**common, "budget_eur_per_staff": 200.0, "join_support_eur": 15000.0})
    )
    for model in (free, paid):
        model.flows.levers_on = True
        before = (model.colls.pool >= 0).sum()
        mutualisation.step(model)
        model.joined = (model.colls.pool >= 0).sum() - before
    assert free.joined == 0 and free.spend["mutualisation"] == 0.0
    budget = 200.0 * float(paid.flows.staff.sum()) / paid.steps_per_year
    assert 0 < paid.joined <= budget // 15000.0
    assert paid.counters["pushed_joins"] == paid.joined


# ------------------------------------------------------------------------------------ own IT staff
def test_small_communes_aim_at_no_digital_staff_and_a_strategy_raises_the_target():
    t, o = TerritoryConfig(), OrganisationConfig()
    staff = np.array([5.0, 50.0, 500.0, 5000.0])
    target = it_staff.it_target(staff, np.zeros(4, bool), t, o)
    assert target[0] == 0 and np.all(np.diff(target) >= 0) and target[-1] >= 50
    assert np.all(it_staff.it_target(staff, np.ones(4, bool), t, o) >= target)
    assert it_staff.it_target(staff, np.ones(4, bool), t, o)[-1] > target[-1]


def test_digital_posts_are_filled_more_often_by_large_urban_mature_employers():
    o = OrganisationConfig()
    a = it_staff.attractiveness(
        np.array([300.0, 300.0, 100000.0, 100000.0]),
        np.array([True, False, False, False]),
        np.array([0.1, 0.1, 0.1, 0.6]),
        o,
    )
    assert a[0] < a[1] < a[2] < a[3]
    assert np.all(it_staff.fill_probability(a, 0.9, 3.0) <= 1.0)


def test_hires_arrive_after_the_hiring_delay_as_digital_staff():
    model = TransitionModel(no_history())
    model.cfg.organisation.hire_delay_steps = 2
    n0 = len(model.staff.active_rows())
    it_staff.schedule(model, np.array([3, 3, 5]), recruited=False)
    assert model.colls.it_pending[3] == 2 and len(model.staff.active_rows()) == n0
    model.step_index += 1
    it_staff.arrive(model)
    assert len(model.staff.active_rows()) == n0
    model.step_index += 1
    it_staff.arrive(model)
    rows = model.staff.active_rows()
    new = rows[-3:]
    assert len(rows) == n0 + 3 and np.all(model.staff.job_family[new] == DIGITAL)
    assert model.colls.it_pending[3] == 0


# ------------------------------------------------------------------------------------ turnover
def test_retirement_removes_the_oldest_and_replacements_take_the_same_post():
    model = TransitionModel(no_history(staff={"departure_rate": 0.0, "digital_departure_extra": 0.0}))
    st = model.staff
    rows = st.active_rows()
    old = rows[(st.job_family[rows] != DIGITAL)][:6]
    st.age[old] = 70.0
    posts = sorted(zip(st.employer[old].tolist(), st.category[old].tolist(), st.job_family[old].tolist(), strict=True))
    size = st.size
    turnover.step(model)
    assert not st.active[old].any()
    new = np.arange(size, st.size)
    assert (
        sorted(zip(st.employer[new].tolist(), st.category[new].tolist(), st.job_family[new].tolist(), strict=True))
        == posts
    )
    assert np.all(st.age[new] < 70.0)


def test_digital_leavers_are_not_replaced_by_turnover():
    model = TransitionModel(no_history(staff={"departure_rate": 0.0, "digital_departure_extra": 0.0}))
    st = model.staff
    rows = st.active_rows()
    digital = rows[st.job_family[rows] == DIGITAL][:3]
    assert len(digital) == 3
    st.age[digital] = 70.0
    size = st.size
    turnover.step(model)
    assert st.size == size  # nobody hired: their posts go back to the collectivité's own hiring


# ------------------------------------------------------------------------------------ governance
def test_elections_redraw_sponsorship_only_of_the_kinds_that_vote():
    model = TransitionModel(no_history())
    c = model.colls
    model.year = 2026.2  # municipal elections
    before = c.sponsorship.copy()
    governance.elections(model, np.random.default_rng(0))
    changed = c.sponsorship != before
    assert changed[c.kind == 0].any() and not changed[c.kind >= 2].any()
    share = changed[c.kind <= 1].mean()
    assert abs(share - model.cfg.organisation.executive_change_share) < 0.1
    model.year = 2027.0  # no election
    before = c.sponsorship.copy()
    governance.elections(model, np.random.default_rng(1))
    assert np.array_equal(c.sponsorship, before)


def test_profiles_count_the_criteria_of_the_survey():
    model = TransitionModel(no_history())
    c, o = model.colls, model.cfg.organisation
    n = c.n
    c.sponsorship[:] = 0.0
    c.has_strategy[:] = False
    c.it_fte[:] = 0.0
    c.recruited_fte[:] = 0.0
    c.pool_critical[:] = False
    c.services_online[:] = 0.0
    c.has_monitoring[:] = False
    assert np.all(governance.profile_index(c, o) == 0)
    c.sponsorship[:] = 1.0
    c.has_strategy[:] = True
    assert np.all(governance.profile_index(c, o) == 1)  # two criteria: Explorateur
    c.it_fte[:] = 3.0
    c.services_online[:] = 0.9
    c.has_monitoring[:] = True
    assert np.all(governance.profile_index(c, o) == 4) and n > 0  # all five: Systémique


# ------------------------------------------------------------------------------------ maturity
def test_maturity_grows_faster_with_capacity_prior_knowledge_and_staff_who_use_the_tools():
    o = OrganisationConfig()
    base = {"drive": 0.5, "capacity": 0.3, "use_share": 0.5, "boost": 1.0, "bar_rise_per_year": 0.0, "o": o}
    m = np.array([0.05, 0.3])
    d = maturity.maturity_change(m, **base)
    assert d[1] > d[0]  # absorptive capacity grows with what is known
    more_capacity = maturity.maturity_change(m, **{**base, "capacity": 0.8})
    assert np.all(more_capacity > d)
    more_use = maturity.maturity_change(m, **{**base, "use_share": 1.0})
    assert np.all(more_use > d)
    assert np.all(maturity.maturity_change(np.array([0.999]), **{**base, "drive": 1.0}) + 0.999 <= 1.0)
    eroded = maturity.maturity_change(m, **{**base, "drive": 0.0, "capacity": 0.0, "bar_rise_per_year": 0.012})
    assert np.all(eroded < 0)  # without capacity, a rising bar erodes maturity


# ------------------------------------------------------------------------------------ inhabitants
def test_cohort_renewal_lowers_the_old_groups_illectronism_toward_the_younger():
    shares = np.array([[0.147, 0.216, 0.317, 0.207, 0.113]])
    ill = np.array([[0.02, 0.04, 0.08, 0.27, 0.67]])
    after = inhabitants.cohort_flow(shares, ill, 1.0, 0.0)
    assert after[0, 0] == ill[0, 0]
    assert np.all(after[0, 1:] <= ill[0, 1:]) and after[0, 4] < ill[0, 4]
    drift = inhabitants.cohort_flow(shares, ill, 1.0, 0.01)
    assert np.all(drift[0, 2:] > after[0, 2:]) and np.all(drift[0, :2] == after[0, :2])


def test_exclusion_grows_with_procedures_online_unless_help_keeps_pace():
    ill, help_ = 0.15, 50.0
    excluded = []
    for online in (0.2, 0.5, 0.8):
        need = 1000 * ill * online
        excluded.append(ill * online * (1 - inhabitants.help_coverage(np.array(help_), np.array(need))))
    assert excluded[0] < excluded[1] < excluded[2]
    more_help = ill * 0.8 * (1 - inhabitants.help_coverage(np.array(500.0), np.array(1000 * ill * 0.8)))
    assert more_help < excluded[2]
    assert inhabitants.help_coverage(np.array(10.0), np.array(0.0)) == 1.0  # nothing online, no need


def test_conseillers_serve_only_after_their_recruitment_and_training():
    model = TransitionModel(no_history(mediation={"budget_eur_per_staff": 50.0, "conseiller_ramp_steps": 2}))
    model.flows.levers_on = True
    communes = model.colls.kind == 0
    served = []
    for _ in range(4):
        inhabitants.mediation(model, communes)
        served.append(model.colls.conseillers.sum())
    assert served[0] == served[1] == 0.0 and served[2] > 0 and served[3] == pytest.approx(served[2])
    assert model.spend["mediation"] > 0  # posts are paid while in training


# ------------------------------------------------------------------------------------ levers
def test_allocation_sends_money_by_staff_need_rurality_or_population_band():
    model = TransitionModel(no_history())
    c = model.colls
    staff = model.flows.staff
    model.cfg.recruitment.allocation = "staff"
    assert np.allclose(levers.allocation_weights(model, "recruitment"), staff)
    model.cfg.training.allocation = "need"
    c.proficient_share[:] = 0.25
    assert np.allclose(levers.allocation_weights(model, "training"), 0.75 * staff)
    model.cfg.recruitment.allocation = "rural"
    assert np.all(levers.allocation_weights(model, "recruitment")[~c.rural] == 0)
    model.cfg.recruitment.allocation = "bands"
    model.cfg.recruitment.allocation_bands = ["<500"]
    w = levers.allocation_weights(model, "recruitment")
    assert np.all(w[(c.kind != 0) | (c.population >= 500)] == 0) and w.sum() > 0
    money = levers.share(model, "recruitment", 1000.0)
    assert money.sum() == pytest.approx(1000.0)


def test_weighted_order_puts_heavy_items_first_and_zero_weights_last():
    rng = np.random.default_rng(0)
    w = np.array([0.0, 1.0, 100.0, 0.0, 1.0])
    firsts = [weighted_order(w, rng)[0] for _ in range(200)]
    assert np.mean(np.array(firsts) == 2) > 0.9
    assert set(weighted_order(w, rng)[-2:].tolist()) == {0, 3}


def test_reception_agents_who_use_the_tools_are_the_mediators():
    model = TransitionModel(
        no_history(mediation={"budget_eur_per_staff": 1000.0, "every_agent_mediator": True, "conseiller_ramp_steps": 0})
    )
    model.flows.levers_on = True
    st = model.staff
    rows = st.active_rows()
    st.skill[rows[st.job_family[rows] == RECEPTION]] = 0.0  # nobody can mediate
    none = inhabitants.mediation(model, model.colls.kind == 0).sum()
    st.skill[rows[st.job_family[rows] == RECEPTION]] = 1.0
    some = inhabitants.mediation(model, model.colls.kind == 0).sum()
    assert some > none
