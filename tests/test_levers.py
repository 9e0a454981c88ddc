"""Direction of effect of each policy lever, each mechanism and each stress test, on a small
territory, over seeds.

Each test runs paired simulations (same seed: the same territory and, through common random
numbers, the same draws) with and without a lever or a mechanism, and checks the direction the
sources and DESIGN.md give, on means over a few seeds. Sizes are small (100 communes, 4 policy
years) to keep the suite fast; the margins in each assertion are large against the seed-to-seed
noise at that size.
"""

from __future__ import annotations

import numpy as np

from sim.model import TransitionModel
from sim.run import run_simulation
from tests.conftest import small_config

SEEDS = range(3)
N, YEARS = 100, 4


def series(result, metric, kind="all", stratum="all"):
    ts = result.timeseries
    d = ts[(ts.metric == metric) & (ts.stratum_kind == kind) & (ts.stratum == stratum)]
    return d.set_index("step")["value"].sort_index()


def final(result, metric, **kw):
    return float(series(result, metric, **kw).iloc[-1])


def run(seed, n=N, years=YEARS, **groups):
    return run_simulation(small_config(n, years, seed, **groups))


def mean_final(metric, seeds=SEEDS, **groups):
    return float(np.mean([final(run(s, **groups), metric) for s in seeds]))


# ------------------------------------------------------------------------------------ training
def test_more_training_budget_lowers_staff_illectronism_within_the_supply():
    values = [
        mean_final(
            "staff_illectronism_share",
            training={"budget_eur_per_staff": b, "targeting": "furthest", "modality": "blended"},
        )
        for b in (0.0, 10.0, 30.0)
    ]
    assert values[0] > values[1] > values[2], values


def test_money_above_the_training_supply_buys_nothing_more_and_is_reported():
    lever = {"targeting": "furthest", "modality": "blended", "supply_growth": 0.0}
    at_supply = run(0, training={**lever, "budget_eur_per_staff": 30.0})
    above = run(0, training={**lever, "budget_eur_per_staff": 300.0})
    assert abs(final(above, "staff_illectronism_share") - final(at_supply, "staff_illectronism_share")) < 0.01
    assert series(above, "spend_unspent_training_eur").sum() > 5 * series(above, "spend_training_eur").sum()
    assert series(at_supply, "spend_unspent_training_eur").sum() < 0.2 * series(at_supply, "spend_training_eur").sum()


def test_training_takes_effect_after_the_competence_delay_not_at_once():
    lever = {"budget_eur_per_staff": 30.0, "targeting": "furthest", "modality": "tutoring"}
    for s in SEEDS:
        base, trained = run(s, years=2), run(s, years=2, training=lever)
        delay = trained.manifest["config"]["staff"]["competence_delay_steps"]
        ill_base, ill = series(base, "staff_illectronism_share"), series(trained, "staff_illectronism_share")
        assert (ill.loc[:delay] == ill_base.loc[:delay]).all()  # nothing before the trainees can use it
        assert ill.iloc[-1] < ill_base.iloc[-1]


def test_tutoring_reaches_illectronic_staff_more_than_self_service_elearning():
    tut = np.mean([_completion_of_initially_illectronic("tutoring", s) for s in SEEDS])
    elearn = np.mean([_completion_of_initially_illectronic("elearning", s) for s in SEEDS])
    assert tut > 0.03 and elearn < 0.2 * tut, (tut, elearn)


def test_targeting_the_furthest_lowers_illectronism_more_than_universal_training():
    lever = {"budget_eur_per_staff": 30.0, "modality": "blended"}
    furthest = mean_final("staff_illectronism_share", training={**lever, "targeting": "furthest"})
    universal = mean_final("staff_illectronism_share", training={**lever, "targeting": "universal"})
    base = mean_final("staff_illectronism_share")
    assert base - furthest > 2 * (base - universal), (base, furthest, universal)


# ------------------------------------------------------------------------------------ pooling
def test_pooling_raises_small_communes_maturity_more_than_large_ones():
    """Pools give most to collectivités without IT staff of their own (among communes pooled in
    both runs, the lever's subsidy raises the pool's capacity, which adds less to own capacity)."""
    without_it, with_it, gain_without_it = [], [], []
    for s in SEEDS:
        none = run_simulation(small_config(N, YEARS, s, mutualisation={"structure": "opsn"}), keep_model=True)
        pooled = run(
            s, mutualisation={"structure": "opsn", "coverage": 0.8, "budget_eur_per_staff": 100.0}
        ).collectivites
        gain = pooled["capacity_index"] - none.collectivites["capacity_index"]  # same territory: rows match
        own = none.model.colls.it_fte + none.model.colls.recruited_fte
        both = (none.collectivites["pooled"] & pooled["pooled"]).to_numpy()
        without_it.append(gain[both & (own == 0)].mean())
        with_it.append(gain[both & (own >= 1)].mean())
        gain_without_it.append((pooled["maturity"] - none.collectivites["maturity"])[both & (own == 0)].mean())
    assert np.mean(without_it) > 1.2 * np.mean(with_it), (without_it, with_it)
    assert np.mean(gain_without_it) > 0.005, gain_without_it


def test_the_push_into_pools_costs_money_and_does_nothing_without_it():
    push = {"coverage": 1.0, "push_rate": 20.0}
    for s in SEEDS:
        base = run(s)
        free = run(s, mutualisation={**push, "budget_eur_per_staff": 0.0})
        paid = run(s, mutualisation={**push, "budget_eur_per_staff": 50.0})
        assert final(free, "pooled_share") == final(base, "pooled_share")
        assert final(paid, "pooled_share") > final(base, "pooled_share")
        assert series(paid, "spend_mutualisation_eur").sum() > 0


# ------------------------------------------------------------------------------------ recruitment
def test_recruitment_by_need_goes_where_capacity_lacks_and_raises_it():
    cap_hired = {}
    for allocation in ("staff", "need"):
        values = []
        for s in SEEDS:
            base = run_simulation(small_config(N, YEARS, s), keep_model=True)
            lever = {"budget_eur_per_staff": 100.0, "allocation": allocation, "pooled_hiring": True}
            rec = run_simulation(small_config(N, YEARS, s, recruitment=lever), keep_model=True)
            hired = rec.model.colls.recruited_fte > 0
            assert hired.any()
            gain = (rec.collectivites["capacity_index"] - base.collectivites["capacity_index"])[hired].mean()
            assert gain > 0.02, (allocation, gain)
            values.append(base.collectivites["capacity_index"][hired].mean())
        cap_hired[allocation] = float(np.mean(values))
    assert cap_hired["need"] < cap_hired["staff"], cap_hired


def test_collectivites_hire_digital_staff_from_their_own_budget():
    poor = mean_final("it_fte_per_1000_staff", organisation={"max_payroll_share": 0.05})
    base = mean_final("it_fte_per_1000_staff")
    ambitious = mean_final("it_fte_per_1000_staff", organisation={"strategy_it_extra": 3.0})
    assert poor < 0.8 * base, (poor, base)  # a budget that cannot pay salaries opens no post
    assert ambitious > 1.05 * base, (ambitious, base)  # strategies raise the posts aimed at


# ------------------------------------------------------------------------------------ mediation
def test_mediation_lowers_inhabitants_excluded_and_agent_mediators_add_to_it():
    without = mean_final("inhabitants_excluded_share", seeds=range(2))
    conseillers = mean_final("inhabitants_excluded_share", seeds=range(2), mediation={"budget_eur_per_staff": 50.0})
    every_agent = mean_final(
        "inhabitants_excluded_share",
        seeds=range(2),
        mediation={"budget_eur_per_staff": 50.0, "every_agent_mediator": True},
    )
    assert conseillers < 0.95 * without, (conseillers, without)
    assert every_agent < conseillers, (every_agent, conseillers)


def test_exclusion_grows_with_dematerialisation_unless_help_keeps_pace():
    slow = mean_final("inhabitants_excluded_share", drivers={"state_online_end": 0.6})
    fast = mean_final("inhabitants_excluded_share", drivers={"state_online_end": 0.95})
    helped = mean_final(
        "inhabitants_excluded_share", drivers={"state_online_end": 0.95, "france_services_per_100k_inh": 20.0}
    )
    assert fast > 1.2 * slow, (fast, slow)
    assert helped < 0.5 * fast, (helped, fast)


# ------------------------------------------------------------------------------------ governance
def test_sponsorship_lever_raises_sponsorship_and_maturity():
    diffs, spons = [], []
    for s in SEEDS:
        base, aware = run(s), run(s, sponsorship={"budget_eur_per_staff": 100.0})
        diffs.append(final(aware, "maturity_mean") - final(base, "maturity_mean"))
        spons.append(final(aware, "sponsorship_mean") - final(base, "sponsorship_mean"))
    assert np.mean(spons) > 0.02 and min(spons) > 0, spons
    assert np.mean(diffs) > 0, diffs


def test_elections_move_sponsorship_without_any_lever():
    on = series(run(0, years=6), "sponsorship_mean")
    no = series(
        run(0, years=6, drivers={"municipal_elections": [1990.0, 1991.0], "departmental_elections": [1990.0, 1991.0]}),
        "sponsorship_mean",
    )
    # the 2026 municipal elections (step 21) move it; without elections it only drifts
    assert abs(on.loc[21] - on.loc[20]) > 5 * abs(no.loc[21] - no.loc[20])


def test_referents_raise_staff_skill():
    without = mean_final("staff_mean_skill")
    with_referents = mean_final("staff_mean_skill", referents={"budget_eur_per_staff": 20.0})
    assert with_referents > without + 0.002, (with_referents, without)


# ------------------------------------------------------------------------------------ cumulative advantage
def test_talent_and_calls_captured_by_the_advanced_widen_the_gap():
    """Cumulative advantage: absorptive capacity growing with prior knowledge and calls for
    projects won by capacity widen the relative gaps; talent goes to the advanced."""
    assert _gini_change(absorptive_prior=0.1) > _gini_change(absorptive_prior=100.0) + 0.005
    calls = {"calls_eur_per_inh_year": 20.0}
    assert _gini_change(calls, call_capacity_exponent=4.0) > _gini_change(calls, call_capacity_exponent=0.0)
    spread = {}
    for a in (0.0, 5.0):
        values = []
        for s in SEEDS:
            r = run_simulation(small_config(200, 6, s, organisation={"hire_maturity_attraction": a}), keep_model=True)
            c = r.model.colls
            hiring = c.n_staff >= 100  # collectivités that keep digital posts of their own
            start = r.collectivites["maturity"].to_numpy()  # end state; the ranking is stable
            top = hiring & (start >= np.quantile(start[hiring], 0.75))
            bottom = hiring & (start <= np.quantile(start[hiring], 0.25))
            fte = (c.it_fte + c.recruited_fte) / np.maximum(c.n_staff, 1)
            values.append(fte[top].mean() - fte[bottom].mean())
        spread[a] = float(np.mean(values))
    assert spread[5.0] > spread[0.0], spread


# ------------------------------------------------------------------------------------ stress tests
def test_lockdown_raises_services_online_and_exclusion_at_the_shock():
    shock_step = 4  # drivers.lockdown_year 2022.0, start 2021, quarterly
    for s in range(2):
        base, shock = run(s, years=2), run(s, years=2, drivers={"lockdown": True})
        for metric, least in (("services_online_mean", 0.005), ("inhabitants_excluded_share", 0.0001)):
            before, after = series(base, metric), series(shock, metric)
            assert after.loc[shock_step - 1] == before.loc[shock_step - 1]  # nothing before
            assert after.loc[shock_step] - before.loc[shock_step] > least, metric


def test_cyber_attacks_hurt_unpooled_collectivites_more():
    cyber = {"cyber_attacks": True, "cyber_rate": 0.2}
    loss = {}
    for name, mut in (
        ("unpooled", {"structure": "none"}),
        ("pooled", {"structure": "opsn", "coverage": 1.0, "push_rate": 20.0, "budget_eur_per_staff": 100.0}),
    ):
        rel = []
        for s in SEEDS:
            calm = final(run(s, mutualisation=mut), "maturity_mean")
            hit = final(run(s, mutualisation=mut, drivers=cyber), "maturity_mean")
            rel.append((calm - hit) / calm)
        loss[name] = float(np.mean(rel))
    assert loss["unpooled"] > 0.02, loss
    assert loss["unpooled"] > 1.5 * loss["pooled"], loss


# ------------------------------------------------------------------------------------ common random numbers
def test_a_lever_never_shifts_the_draws_of_other_processes():
    """With the same seed, switching a lever on leaves the draws of other processes alone: the
    same staff retire and leave (turnover's stream), the same executives change at elections."""
    base = TransitionModel(small_config(N, YEARS, 5))
    lever = TransitionModel(
        small_config(N, YEARS, 5, sponsorship={"budget_eur_per_staff": 50.0}, training={"budget_eur_per_staff": 20.0})
    )
    base.run()
    lever.run()
    for key in ("retirements", "departures", "executive_changes"):
        assert base.counters[key] == lever.counters[key], key


def test_recruitment_by_need_fills_fewer_posts_than_by_staff_without_pooled_hiring():
    """Posts sent where capacity lacks go to small, rural collectivités that struggle to hire
    (seed 000 L100): more of the money stays unspent, unless the pools advertise them."""
    unspent = {}
    for name, lever in (
        ("staff", {"allocation": "staff"}),
        ("need", {"allocation": "need"}),
        ("need_pooled", {"allocation": "need", "pooled_hiring": True}),
    ):
        values = []
        for s in SEEDS:
            r = run(s, recruitment={"budget_eur_per_staff": 100.0, **lever})
            spent = series(r, "spend_recruitment_eur").sum()
            values.append(series(r, "spend_unspent_recruitment_eur").sum() / max(spent, 1.0))
        unspent[name] = float(np.mean(values))
    assert unspent["need"] > unspent["staff"], unspent
    assert unspent["need_pooled"] < unspent["need"], unspent


def _gini_change(drivers=None, **organisation):
    out = []
    for s in SEEDS:
        g = series(run(s, n=200, years=6, organisation=organisation, drivers=drivers or {}), "maturity_gini")
        out.append(g.iloc[-1] - g.loc[0])
    return float(np.mean(out))


def _completion_of_initially_illectronic(modality: str, seed: int) -> float:
    # Same number of places for both modalities (same cost per trainee), offered at random, no
    # own e-learning, and gains kept pending (a long competence delay) so that completed
    # trainings can be counted at the end: only the modality differs.
    cfg = small_config(
        N,
        2,
        seed,
        training={
            "budget_eur_per_staff": 20.0,
            "targeting": "universal",
            "modality": modality,
            "cost_eur": {"elearning": 500.0, "blended": 500.0, "tutoring": 500.0},
            "supply_per_1000_staff": {"elearning": 100.0, "blended": 100.0, "tutoring": 100.0},
        },
        organisation={"own_training_share": 0.0},
        staff={"competence_delay_steps": 40},
    )
    model = TransitionModel(cfg)
    st = model.staff
    rows = st.active_rows()
    ill = rows[st.skill[rows] < model.illectronism_threshold]
    model.run()
    return float((st.pending_gain[ill] > 0).mean())
