"""Per-agent reference implementation of the rules, for the tests and the benchmark.

:class:`ReferenceModel` is a :class:`~sim.model.TransitionModel` whose staff-level processes and
some collectivité-level processes are written the plain Mesa way: a Python loop over
``model.agents_by_type[Staff]`` or ``[Collectivite]``, reading and writing agent attributes one
agent at a time, with the same elementwise formulas as the vectorised modules of
:mod:`sim.processes` (imported from them). Per agent here:

- training: gains whose delay is over, then own training and the training lever (who is
  eligible, quotas within the money and the supply of places, targeting, completion, the pending
  gain and its step);
- peer_learning: the referents lever's FTE, the reference skill of each collectivité (own staff
  and pool), the gains and the fresh gains;
- practice: learning by doing, decay of the fresh gains of staff who do not use the tools;
- turnover: ageing, retirements and departures, replacements on the same post;
- maturity: IT capacity (own and pooled index), leadership, maturity change;
- adoption: services online gated by the front line's use of the tools, open data;
- inhabitants: cohort flow, France services, the mediation lever (agent mediators, the
  conseillers' pipeline), coverage, exits, exclusion, e-services, and the aggregation to EPCI,
  départements and régions;
- the staff aggregates of each collectivité (:meth:`ReferenceModel.refresh_staff_aggregates`).

Each reference process is the vectorised process's :class:`~sim.processes.Process` declaration
with another ``step`` (same name, reads, writes, levers and needs), so the model refreshes the
staff aggregates at the same points. Shared with the vectorised model: the processes drivers,
budget, it_staff, mutualisation, recruitment and governance, which act on collectivités as a
whole; what every lever shares (:mod:`sim.levers`: the money available, the allocation among
collectivités and its needs, the accounting); the lever's supply of training places (one number
for the territory, in :func:`sim.processes.training.step`); the draw of new staff's
characteristics (:func:`sim.territory.staffing.draw_staff`); the Mesa bookkeeping of staff who
leave or arrive (:meth:`~sim.model.TransitionModel.remove_staff`, ``add_staff``); the outputs
(:mod:`sim.metrics`).

Random numbers: the same draws in the same order. Each array of draws is taken as the vectorised
code takes it (from the same stream ``model.streams[...]``, one array per purpose, e.g. one
uniform per current staff member), then the loop hands the i-th value to the i-th agent. Mesa
keeps agents in insertion order and the staff rows only grow, so iterating over
``agents_by_type[Staff]`` visits staff in row order, the order of ``StaffTable.active_rows()``.

Results: the same floating-point operations in the same order, so the same bits. Three details
make this hold: (1) sums over agents are accumulated in row order like ``np.bincount`` (and a
commune's sum over its age groups is numpy's sum of its row); (2) totals over all collectivités
(the euros spent) are summed with the same ``ndarray.sum`` of an array the loop fills; (3)
formulas with ``**`` or ``exp`` get one-element arrays (:func:`_a`), because numpy's array
routines and the C library's ``pow``/``exp`` (what Python floats and numpy scalars use for
``**``) differ in the last bit for a few percent of values. The tests
(tests/test_reference.py) compare the two models state by state and step by step.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial

import numpy as np

from sim import levers
from sim.agents import Collectivite, Staff
from sim.model import TransitionModel
from sim.processes import STEP_ORDER, adoption, inhabitants, maturity, peer_learning, practice, training, turnover
from sim.processes.adoption import services_change, services_potential
from sim.processes.inhabitants import cohort_flow, help_coverage, online_share
from sim.processes.maturity import (
    capacity_index,
    combined_capacity,
    investment_index,
    leadership_index,
    maturity_change,
)
from sim.processes.peer_learning import peer_gain
from sim.processes.practice import practise, step_factors, uses_tools
from sim.processes.training import IMPACT_PRIORITY, completion_probability, eligible, retrain_interval, training_gain
from sim.processes.turnover import departure_probability, leaving
from sim.state import CATEGORIES, DIGITAL, INSTRUCTION, JOB_FAMILIES, MANAGEMENT, NEVER, RECEPTION
from sim.territory.staffing import draw_staff

#: Job family label -> code (agents give labels).
_FAMILY = {label: code for code, label in enumerate(JOB_FAMILIES)}
_CATEGORY = {label: code for code, label in enumerate(CATEGORIES)}
_FRONT = {JOB_FAMILIES[RECEPTION], JOB_FAMILIES[INSTRUCTION]}


def _a(x) -> np.ndarray:
    """One-element array: numpy evaluates ``**`` and ``exp`` on it as on a column (see module
    doc); take ``[0]`` of the result."""
    return np.array([x], dtype=np.float64)


def staff_agents(model) -> list:
    """The current staff agents, in row order."""
    return list(model.agents_by_type[Staff]) if Staff in model.agents_by_type else []


def collectivite_agents(model) -> list:
    """The collectivités, in row order."""
    return list(model.agents_by_type[Collectivite])


def _clip01(x) -> float:
    return min(max(float(x), 0.0), 1.0)


def _mean(total: float, count: float) -> float:
    """``total / count``, NaN for an empty group (as :func:`sim.selection.group_mean`)."""
    return total / count if count else math.nan


# ------------------------------------------------------------------------------------ training
def apply_due_gains(model) -> None:
    """Gains whose delay is over become skill (and fresh gain, which decays unused)."""
    now = model.step_index
    for agent in staff_agents(model):
        due = agent.gain_step
        if due != NEVER and due <= now:
            gain = agent.pending_gain
            agent.skill = min(1.0, agent.skill + gain)
            agent.fresh_gain = agent.fresh_gain + gain
            agent.pending_gain = 0.0
            agent.gain_step = NEVER


def _quotas(available, cost: float, n_eligible: list, places: float, scale: float) -> list:
    """Trainees per collectivité: what its money buys among its eligible staff, every quota cut
    in the same proportion (largest remainders) when the places of the supply bind."""
    quota = [min(math.floor(available[e] / cost + 1e-9), n_eligible[e]) for e in range(len(n_eligible))]
    total = sum(quota)
    limit = math.floor(places * scale + 1e-9) if math.isfinite(places) else total
    if total > limit:
        ratio = limit / total
        exact = [q * ratio for q in quota]
        cut = [math.floor(x) for x in exact]
        rest = limit - sum(cut)
        if rest > 0:
            for e in sorted(range(len(cut)), key=lambda e: -(exact[e] - cut[e]))[:rest]:
                cut[e] += 1
        quota = cut
    return quota


def train(model, money, carry, modality: str, targeting: str, cost_per_real: float, places: float, rng) -> tuple:
    """Offer training within each collectivité's money and within ``places``; return (spent,
    new carry per collectivité). Per agent: :func:`sim.processes.training._train`."""
    colls = collectivite_agents(model)
    n = len(colls)
    scale = model.cfg.territory.staff_scale
    cost = cost_per_real / scale
    now, interval = model.step_index, retrain_interval(model)
    candidates = [a for a in staff_agents(model) if eligible(a.last_training, a.gain_step, now, interval)]
    n_eligible = [0] * n
    for agent in candidates:
        n_eligible[agent.employer.row] += 1
    available = np.zeros(n)
    for col in colls:
        available[col.row] = money[col.row] + carry[col.row]
    quota = _quotas(available, cost, n_eligible, places, scale)
    spent, new_carry = np.zeros(n), np.zeros(n)
    for col in colls:
        e = col.row
        spent[e] = quota[e] * cost
        new_carry[e] = min(available[e] - spent[e], cost)  # the remainder smaller than one place
    if sum(quota) == 0:
        return 0.0, new_carry

    noise = rng.random(len(candidates))
    by_employer: dict[int, list] = {}
    for i, (agent, u) in enumerate(zip(candidates, noise)):
        if targeting == "furthest":
            key = agent.skill + 1e-6 * u
        elif targeting == "most_impacted":
            key = IMPACT_PRIORITY[_FAMILY[agent.job_family]] + u
        else:
            key = u
        by_employer.setdefault(agent.employer.row, []).append((key, i, agent))
    chosen = []  # by collectivité, then key, then row
    for e in sorted(by_employer):
        if quota[e] > 0:
            chosen += [agent for _, _, agent in sorted(by_employer[e], key=lambda t: t[:2])[: quota[e]]]

    draws = rng.random(len(chosen))
    low, high = model.cfg.training.completion[modality]
    min_skill = model.illectronism_threshold if modality == "elearning" else 0.0
    sc = model.cfg.staff
    efficacy = model.cfg.training.efficacy[modality]
    completed = 0
    for agent, u in zip(chosen, draws):
        s = agent.skill
        if u < completion_probability(s, low, high, min_skill):
            agent.pending_gain = training_gain(s, agent.attitude, sc.training_effect, efficacy, sc.resistance_weight)
            agent.gain_step = now + sc.competence_delay_steps
            agent.last_training = now
            completed += 1
    model.counters["trainings"] += len(chosen)
    model.counters["trainings_completed"] += completed
    return float(spent.sum()), new_carry


# ------------------------------------------------------------------------------- peer learning
def peer_learning_step(model) -> None:
    r, sc = model.cfg.referents, model.cfg.staff
    spy = model.steps_per_year
    colls = collectivite_agents(model)
    n = len(colls)
    real_staff = [max(model.flows.staff[col.row], 1.0) for col in colls]
    budget = levers.available(model, "referents")
    money = levers.share(model, "referents", budget)
    for col in colls:
        col.referents = money[col.row] * spy / r.cost_per_referent_eur  # FTE-equivalents
    levers.record(model, "referents", float(money.sum()), budget)

    pools = [col.pool for col in colls]
    any_pooled = any(p >= 0 for p in pools)
    n_pools = max(pools) + 1 if any_pooled else 0
    pool_of = [p if p >= 0 else n_pools for p in pools]
    staff = staff_agents(model)
    skills = [agent.skill for agent in staff]
    own_total, own_count = [0.0] * n, [0] * n
    pool_total, pool_count = [0.0] * (n_pools + 1), [0] * (n_pools + 1)
    for agent, s in zip(staff, skills):
        if s >= model.required_skill:  # proficient colleagues
            e = agent.employer.row
            own_total[e] += s
            own_count[e] += 1
            pool_total[pool_of[e]] += s
            pool_count[pool_of[e]] += 1
    pool_referents, pool_staff = [0.0] * (n_pools + 1), [0.0] * (n_pools + 1)
    for col in colls:
        pool_referents[pool_of[col.row]] += col.referents
        pool_staff[pool_of[col.row]] += real_staff[col.row]

    reference, rate = [0.0] * n, [0.0] * n
    for col in colls:
        e = col.row
        ref = _mean(own_total[e], own_count[e])
        per_staff = col.referents / real_staff[e]
        if any_pooled:
            p = pool_of[e]
            pooled = pools[e] >= 0
            spill = r.pool_spillover * pool_referents[p] / max(pool_staff[p], 1.0) if pooled else 0.0
            per_staff = per_staff + spill
            ref = float(np.fmax(ref, _mean(pool_total[p], pool_count[p]) if pooled else math.nan))
        reference[e] = -math.inf if math.isnan(ref) else ref  # no reference: no gain
        rate[e] = sc.peer_learning_rate + r.learning_per_referent_share * per_staff
    for agent, s in zip(staff, skills):
        e = agent.employer.row
        new = min(1.0, s + peer_gain(s, reference[e], agent.attitude, rate[e], sc.resistance_weight))
        agent.skill = new
        agent.fresh_gain = agent.fresh_gain + (new - s)


# ------------------------------------------------------------------------------------ practice
def practice_step(model) -> None:
    learnt, decay = step_factors(model)
    band = model.cfg.drivers.following_band
    for agent in staff_agents(model):
        s = agent.skill
        agent.skill, agent.fresh_gain = practise(
            s, agent.fresh_gain, uses_tools(s, model.required_skill, band), learnt, decay
        )


# ------------------------------------------------------------------------------------ turnover
def turnover_step(model) -> None:
    sc = model.cfg.staff
    spy = model.steps_per_year
    rng = model.streams["turnover"]
    staff = staff_agents(model)
    for agent in staff:
        agent.age = agent.age + 1.0 / spy
    draws = rng.random(len(staff))
    digital_rate = min(sc.departure_rate + sc.digital_departure_extra, 1.0)
    gone, ordinary = [], []
    retired = digital_gone = 0
    for agent, u in zip(staff, draws):
        digital = agent.job_family == JOB_FAMILIES[DIGITAL]
        yearly = digital_rate if digital else sc.departure_rate
        age = agent.age
        if not leaving(age, sc.retirement_age, u, departure_probability(_a(yearly), spy)[0]):
            continue
        gone.append(agent)
        retired += age >= sc.retirement_age
        digital_gone += digital
        if not digital and not agent.recruited:  # an ordinary post, replaced on the same post
            ordinary.append((agent.employer.row, _CATEGORY[agent.category], _FAMILY[agent.job_family]))
    model.counters["retirements"] += retired
    model.counters["departures"] += len(gone) - retired
    model.counters["digital_departures"] += digital_gone
    model.remove_staff(np.array([agent.row for agent in gone], dtype=np.int64))

    # Replacements: one with probability replacement_rate, and a stochastic rounding of any excess.
    k = len(ordinary)
    replaced = rng.random(k) < sc.replacement_rate if sc.replacement_rate < 1.0 else [True] * k
    excess = max(sc.replacement_rate - 1.0, 0.0)
    base = math.floor(excess)
    extra = rng.random(k)
    hires = []
    for post, is_replaced, u in zip(ordinary, replaced, extra):
        hires += [post] * (int(is_replaced) + base + int(u < excess - base))
    if hires:
        employers, category, family = (np.array(x) for x in zip(*hires))
        cols = draw_staff(
            employers.astype(np.int64),
            model.cfg,
            rng,
            age_mean=sc.hire_age_mean,
            bonus=sc.hire_skill_bonus,
            category=category.astype(np.int8),
            job_family=family.astype(np.int8),
        )
        model.add_staff(cols)
        model.counters["hires"] += len(hires)


# ------------------------------------------------------------------------------------ maturity
def _real_staff(model, col) -> float:
    return max(col.n_staff / model.cfg.territory.staff_scale, 1.0)


def update_capacity(model) -> None:
    """IT capacity: own digital staff (critical size or not) combined with the pool's."""
    o = model.cfg.organisation
    for col in collectivite_agents(model):
        own = col.it_fte + col.recruited_fte
        own_index = capacity_index(
            own,
            _real_staff(model, col),
            own >= o.dsi_critical_fte,
            o.capacity_need_per_staff,
            o.capacity_need_fixed,
            o.below_critical_factor,
        )
        col.capacity_index = combined_capacity(own_index, col.pool_capacity)


def maturity_step(model) -> None:
    o = model.cfg.organisation
    colls = collectivite_agents(model)
    update_capacity(model)
    invest = np.zeros(len(colls))
    for col in colls:
        invest[col.row] = max(model.flows.investment[col.row], 0.0)
    model.spend["investment"] += float(invest.sum())
    w = o.maturity_weights
    bar_rise = model.cfg.drivers.required_skill_growth
    for col in colls:
        inv = investment_index(
            invest[col.row], _real_staff(model, col), o.investment_ref_eur_per_staff, o.investment_fixed_eur
        )
        col.leadership = leadership_index(col.sponsorship, col.manager_skill, o.manager_weight)
        cap = col.capacity_index
        drive = w[0] * inv + w[1] * cap + w[2] * col.leadership
        boost = 1.0 + o.strategy_boost * col.has_strategy + o.monitoring_boost * col.has_monitoring
        m = col.maturity
        col.maturity = _clip01(m + maturity_change(m, drive, cap, col.staff_use_share, boost, bar_rise, o))


# ------------------------------------------------------------------------------------ adoption
def adoption_step(model) -> None:
    d, o = model.cfg.drivers, model.cfg.organisation
    pull = d.obligation_pull * model.obligation_strength
    colls = collectivite_agents(model)
    for col in colls:
        s = col.services_online
        potential = services_potential(
            _a(col.maturity), col.front_use_share, o.services_maturity_exponent, o.use_gate_floor
        )
        change = services_change(s, potential, col.capacity_index, o.services_speed, pull, d.online_target)
        col.services_online = _clip01((s + change)[0])
    draws = model.streams["open_data"].random(len(colls))
    for col, u in zip(colls, draws):
        if not col.open_data and u < (o.open_data_rate * _a(col.maturity) ** 2)[0]:
            col.open_data = True


# --------------------------------------------------------------------------------- inhabitants
def mediation(model, communes: list) -> list:
    """The mediation lever's help (persons a year, per collectivité) and its spending."""
    med = model.cfg.mediation
    spy = model.steps_per_year
    colls = collectivite_agents(model)
    n = len(colls)
    budget = levers.available(model, "mediation")
    helped = [0.0] * n
    agent_money = 0.0
    if budget > 0 and med.every_agent_mediator:  # reception staff who use the tools
        counts = [0] * n
        band = model.cfg.drivers.following_band
        for agent in staff_agents(model):
            if agent.job_family == JOB_FAMILIES[RECEPTION] and uses_tools(agent.skill, model.required_skill, band):
                counts[agent.employer.row] += 1
        scale = model.cfg.territory.staff_scale
        mediators = np.array([counts[e] / scale if communes[e] else 0.0 for e in range(n)])
        cost = med.agent_mediator_cost_eur * mediators.sum() / spy
        agent_money = min(cost, budget)
        funded = agent_money / cost if cost > 0 else 0.0
        for e in range(n):
            helped[e] += funded * mediators[e] * med.persons_per_agent_mediator_year
    conseiller_money = levers.share(model, "mediation", budget - agent_money)
    posts = np.zeros(n)  # FTE funded this step, serving after the ramp
    for col in colls:
        posts[col.row] = conseiller_money[col.row] * spy / med.conseiller_cost_eur
    model.conseiller_pipeline.append(posts)
    serving = model.conseiller_pipeline.pop(0) if len(model.conseiller_pipeline) > med.conseiller_ramp_steps else None
    for col in colls:
        e = col.row
        col.conseillers = serving[e] if communes[e] and serving is not None else 0.0
        helped[e] += col.conseillers * med.persons_per_conseiller_year
    levers.record(model, "mediation", agent_money + float(conseiller_money.sum()), budget)
    return helped


def inhabitants_step(model) -> None:
    h, d = model.cfg.inhabitants, model.cfg.drivers
    spy = model.steps_per_year
    colls = collectivite_agents(model)
    communes = [col.kind == "commune" for col in colls]
    for col in colls:
        if communes[col.row]:
            col.illectronism_age = cohort_flow(col.age_share, col.illectronism_age, 1.0 / spy, h.illectronism_drift)
    mediated = mediation(model, communes)
    for col in colls:
        e = col.row
        commune = communes[e]
        ill_persons = np.sum(col.age_share * col.illectronism_age) * col.population if commune else 0.0
        counters = d.france_services_per_100k_inh * col.population / 1e5 * model.france_services_share
        helped = (counters * d.france_services_persons_per_year if commune else 0.0) + mediated[e]
        online = online_share(col.services_online, model.state_online_share, d.state_procedures_weight)
        need = ill_persons * online
        coverage = help_coverage(_a(helped), _a(need))[0] if commune else 0.0
        # Inhabitants helped become autonomous.
        reached = min(helped, need) / max(ill_persons, 1e-12) if ill_persons > 0 else 0.0
        exit_share = _clip01(h.help_exit_rate * reached / spy)
        if commune:
            col.illectronism_age = col.illectronism_age * (1.0 - exit_share)
        ill = np.sum(col.age_share * col.illectronism_age)
        col.help_coverage = coverage
        if commune:
            col.illectronism = ill
        col.excluded = ill * online * (1.0 - coverage) if commune else 0.0
        col.eservice_use = col.services_online * (1.0 - col.illectronism * (1.0 - coverage)) * h.eservice_ceiling
    aggregate(model)


def aggregate(model) -> None:
    """EPCI, départements and régions get the population-weighted values of their communes,
    accumulated commune by commune."""
    colls = collectivite_agents(model)
    communes = [col for col in colls if col.kind == "commune"]
    names = ("illectronism", "excluded", "help_coverage")
    n_ages = len(colls[0].age_share) if colls else 0
    for kind in ("epci", "departement", "region"):
        groups = [col for col in colls if col.kind == kind]
        if not groups:
            continue
        size = max(getattr(col, kind) for col in colls) + 1
        totals = {name: [0.0] * size for name in names}
        weight = [0.0] * size
        age_total, age_weight, share_total = ([[0.0] * n_ages for _ in range(size)] for _ in range(3))
        for col in communes:
            k = getattr(col, kind)
            if k < 0:
                continue
            w = col.population
            for name in names:
                totals[name][k] += getattr(col, name) * w
            weight[k] += w
            share, ill_age = col.age_share, col.illectronism_age
            for g in range(n_ages):
                ww = w * share[g]
                age_total[k][g] += ill_age[g] * ww
                age_weight[k][g] += ww
                share_total[k][g] += share[g] * w
        for col in groups:
            k = col.row if kind == "epci" else getattr(col, kind)
            for name in names:
                setattr(col, name, np.nan_to_num(_mean(totals[name][k], weight[k])))
            col.illectronism_age = [np.nan_to_num(_mean(age_total[k][g], age_weight[k][g])) for g in range(n_ages)]
            col.age_share = [np.nan_to_num(_mean(share_total[k][g], weight[k])) for g in range(n_ages)]
    ceiling = model.cfg.inhabitants.eservice_ceiling
    for col in colls:
        if col.kind != "commune":
            col.eservice_use = col.services_online * (1.0 - col.illectronism * (1.0 - col.help_coverage)) * ceiling


# ------------------------------------------------------------------------------------ the model
def _per_agent(process, step):
    """The vectorised process's declaration (name, reads, writes, levers, needs) with ``step``."""
    return dataclasses.replace(process, step=step)


REFERENCE_PROCESSES = {
    p.name: p
    for p in (
        _per_agent(training.PROCESS, partial(training.step, train=train, apply_gains=apply_due_gains)),
        _per_agent(peer_learning.PROCESS, peer_learning_step),
        _per_agent(practice.PROCESS, practice_step),
        _per_agent(turnover.PROCESS, turnover_step),
        _per_agent(maturity.PROCESS, maturity_step),
        _per_agent(adoption.PROCESS, adoption_step),
        _per_agent(inhabitants.PROCESS, inhabitants_step),
    )
}


class ReferenceModel(TransitionModel):
    """The model with the per-agent versions of the processes of :data:`REFERENCE_PROCESSES`
    and of the staff aggregates."""

    processes = tuple(REFERENCE_PROCESSES.get(p.name, p) for p in STEP_ORDER)

    def refresh_staff_aggregates(self) -> None:
        """Per collectivité, staff by staff: count and mean skill, digital staff (own and
        lever-hired), shares who use the tools (all; reception and instruction), managers' skill
        relative to the required skill, share up to date."""
        n = self.colls.n
        scale = self.cfg.territory.staff_scale
        required, band = self.required_skill, self.cfg.drivers.following_band
        total, count, users, proficient = [0.0] * n, [0] * n, [0.0] * n, [0.0] * n
        own_digital, recruited = [0] * n, [0] * n
        front_users, front_count, manager_total, manager_count = [0.0] * n, [0] * n, [0.0] * n, [0] * n
        for agent in staff_agents(self):
            e = agent.employer.row
            s, family = agent.skill, agent.job_family
            use = bool(uses_tools(s, required, band))
            total[e] += s
            count[e] += 1
            users[e] += use
            proficient[e] += s >= required
            if family == JOB_FAMILIES[DIGITAL]:
                if agent.recruited:
                    recruited[e] += 1
                else:
                    own_digital[e] += 1
            elif family in _FRONT:
                front_users[e] += use
                front_count[e] += 1
            elif family == JOB_FAMILIES[MANAGEMENT]:
                manager_total[e] += s
                manager_count[e] += 1
        for col in collectivite_agents(self):
            e = col.row
            mean = _mean(total[e], count[e])
            col.staff_mean_skill = mean
            col.n_staff = count[e]
            col.it_fte = own_digital[e] / scale
            col.recruited_fte = recruited[e] / scale
            col.staff_use_share = users[e] / count[e] if count[e] else 0.0
            col.proficient_share = proficient[e] / count[e] if count[e] else 0.0
            col.front_use_share = front_users[e] / front_count[e] if front_count[e] else col.staff_use_share
            relative = (manager_total[e] / manager_count[e] if manager_count[e] else mean) / max(required, 1e-9)
            col.manager_skill = 0.0 if math.isnan(relative) else _clip01(relative)
