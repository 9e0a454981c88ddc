"""Per-agent reference implementation of the rules, for the tests and the benchmark.

:class:`ReferenceModel` is a :class:`~sim.model.TransitionModel` whose staff-level processes
(training, peer learning, turnover, the staff aggregates of each collectivité) and
collectivité-level processes maturity and adoption (with the inhabitants' aggregates) are
written the plain Mesa way: a Python loop over ``model.agents_by_type[Staff]`` or
``[Collectivite]``, reading and writing agent attributes one agent at a time, with the same
elementwise formulas as the vectorised modules of :mod:`sim.processes`.

It consumes the same random numbers in the same order: each draw is taken as the vectorised
code takes it (one array per step and purpose, e.g. one uniform per current staff member),
then the loop hands the i-th value to the i-th agent. Mesa keeps agents in insertion order and
hires are appended to the staff rows (compaction keeps the rows' order), so iterating over
``agents_by_type[Staff]`` visits staff in row order, the order of ``StaffTable.active_rows()``.
The first such iteration creates the staff agents (they are made on demand).

Results: the same floating-point operations in the same order, so the same bits. Three details
make this hold: (1) sums over agents are accumulated in row order like ``np.bincount``;
(2) totals over all collectivités (the euros spent per lever) are summed with the same
``ndarray.sum``; (3) formulas with ``**`` or ``exp`` get 0-d arrays, because numpy's array
routines and the C library's ``pow``/``exp`` (what Python floats use) differ in the last bit
for a few percent of values. The tests (tests/test_reference.py) compare the two models state
by state and step by step.

The other processes (drivers, budget, mutualisation, recruitment, sponsorship) and the
outputs (:mod:`sim.metrics`) are shared: they act on collectivités as a whole (tens of
thousands of rows) and cost little either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.agents import Collectivite, Staff
from sim.model import TransitionModel, process_name
from sim.processes import STEP_ORDER, training
from sim.processes.adoption import mediation_coverage, services_change
from sim.processes.maturity import capacity_index, investment_index, maturity_change
from sim.processes.peer_learning import peer_gain
from sim.processes.training import IMPACT_PRIORITY, completion_probability, training_gain
from sim.processes.turnover import leaving
from sim.state import JOB_FAMILIES
from sim.territory.staffing import draw_staff

_RECEPTION = JOB_FAMILIES[0]


@dataclass(frozen=True)
class Process:
    """A process of the step: its name (as in sim.processes) and its ``step(model)``."""

    name: str
    step: Callable


def _a(x) -> np.ndarray:
    """0-d array: numpy evaluates ``**`` and ``exp`` on it as on a column (see module doc)."""
    return np.asarray(x, dtype=np.float64)


def staff_agents(model) -> list:
    """The current staff agents, in row order."""
    return list(model.agents_by_type[Staff]) if Staff in model.agents_by_type else []


def collectivite_agents(model) -> list:
    return list(model.agents_by_type[Collectivite])


def _clip01(x: float) -> float:
    return min(max(x, 0.0), 1.0)


# ------------------------------------------------------------------------------------ training
def _train(model, budget, carry, modality: str, targeting: str, cost_per_real: float) -> tuple:
    cost = cost_per_real / model.cfg.territory.staff_scale
    colls = collectivite_agents(model)
    carry = np.broadcast_to(np.asarray(carry, dtype=np.float64), (len(colls),))
    available = np.zeros(len(colls))
    spent = np.zeros(len(colls))
    quota = [0] * len(colls)
    for col in colls:
        e = col.row
        available[e] = budget[e] + carry[e]
        quota[e] = min(math.floor(available[e] / cost), col.n_staff)
        spent[e] = quota[e] * cost
    if sum(quota) == 0:
        return 0.0, available
    staff = staff_agents(model)
    noise = model.rng.random(len(staff))
    candidates: dict[int, list] = {}
    for i, (agent, u) in enumerate(zip(staff, noise)):
        if targeting == "furthest":
            key = agent.skill + 1e-6 * u
        elif targeting == "most_impacted":
            key = IMPACT_PRIORITY[JOB_FAMILIES.index(agent.job_family)] + u
        else:
            key = u
        candidates.setdefault(agent.employer.row, []).append((key, i, agent))
    chosen = []
    for e in sorted(candidates):
        if quota[e] > 0:
            chosen += [agent for _, _, agent in sorted(candidates[e])[: quota[e]]]
    draws = model.rng.random(len(chosen))
    low, high = model.cfg.training.completion[modality]
    min_skill = model.illectronism_threshold if modality == "elearning" else 0.0
    b = model.cfg.behaviour
    efficacy = model.cfg.training.efficacy[modality]
    completed = 0
    for agent, u in zip(chosen, draws):
        s = agent.skill
        if u < completion_probability(s, low, high, min_skill):
            agent.skill = min(
                1.0, s + training_gain(s, agent.attitude, b.training_effect, efficacy, b.resistance_weight)
            )
            agent.last_training = model.step_index
            completed += 1
    model.counters["trainings"] += len(chosen)
    model.counters["trainings_completed"] += completed
    return float(spent.sum()), available - spent


def _lever(model, budget_eur_per_staff: float) -> np.ndarray:
    out = np.zeros(model.colls.n)
    for col in collectivite_agents(model):
        out[col.row] = budget_eur_per_staff * model.budget_staff[col.row] / model.steps_per_year
    return out


def training_step(model) -> None:
    training.step(model, train=_train, allocation=_lever)


# ------------------------------------------------------------------------------- peer learning
def peer_learning_step(model) -> None:
    r, b = model.cfg.referents, model.cfg.behaviour
    scale = model.cfg.territory.staff_scale
    colls = collectivite_agents(model)
    n = len(colls)
    real_staff = [0.0] * n
    budget = np.zeros(n)
    for col in colls:
        e = col.row
        real_staff[e] = max(col.n_staff / scale, 1.0)
        if r.budget_eur_per_staff > 0:
            budget[e] = r.budget_eur_per_staff * model.budget_staff[e] / model.steps_per_year
        col.referents = budget[e] * model.steps_per_year / r.cost_per_referent_eur
    model.spend["referents"] += float(budget.sum())

    staff = staff_agents(model)
    required = model.required_skill
    pooled = [col.pool >= 0 for col in colls]
    n_pools = max(col.pool for col in colls) + 1 if any(pooled) else 0
    pool_of = [col.pool if col.pool >= 0 else n_pools for col in colls]
    own_total, own_count = [0.0] * n, [0] * n
    pool_total, pool_count = [0.0] * (n_pools + 1), [0] * (n_pools + 1)
    for agent in staff:
        s = agent.skill
        if s >= required:
            e = agent.employer.row
            own_total[e] += s
            own_count[e] += 1
            if n_pools:
                pool_total[pool_of[e]] += s
                pool_count[pool_of[e]] += 1
    pool_ref_fte, pool_staff = [0.0] * (n_pools + 1), [0.0] * (n_pools + 1)
    if n_pools:
        for col in colls:
            pool_ref_fte[pool_of[col.row]] += col.referents
            pool_staff[pool_of[col.row]] += real_staff[col.row]
    reference, rate = [math.nan] * n, [0.0] * n
    for col in colls:
        e = col.row
        ref = own_total[e] / own_count[e] if own_count[e] else math.nan
        per_staff = col.referents / real_staff[e]
        if n_pools:
            p = pool_of[e]
            spill = r.pool_spillover * pool_ref_fte[p] / max(pool_staff[p], 1.0) if pooled[e] else 0.0
            per_staff = per_staff + spill
            ref_pool = pool_total[p] / pool_count[p] if pooled[e] and pool_count[p] else math.nan
            ref = ref_pool if math.isnan(ref) else ref if math.isnan(ref_pool) else max(ref, ref_pool)
        reference[e] = ref
        rate[e] = b.peer_learning_rate + r.learning_per_referent_share * per_staff
    for agent in staff:
        e = agent.employer.row
        if not math.isnan(reference[e]):
            s = agent.skill
            agent.skill = min(1.0, s + peer_gain(s, reference[e], agent.attitude, rate[e], b.resistance_weight))


# ------------------------------------------------------------------------------------ turnover
def turnover_step(model) -> None:
    b = model.cfg.behaviour
    scale = model.cfg.territory.staff_scale
    staff = staff_agents(model)
    for agent in staff:
        agent.age = agent.age + 1.0 / model.steps_per_year
    p_depart = 1.0 - (1.0 - b.departure_rate) ** (1.0 / model.steps_per_year)
    draws = model.rng.random(len(staff))
    colls = model.collectivites
    leavers_by_employer = [0] * len(colls)
    retired = departed = 0
    for agent, u in zip(staff, draws):
        age = agent.age
        if not leaving(age, b.retirement_age, u, p_depart):
            continue
        if age >= b.retirement_age:
            retired += 1
        else:
            departed += 1
        employer = agent.employer
        if agent.recruited:
            employer.recruited_fte = employer.recruited_fte - 1.0 / scale
        else:
            leavers_by_employer[employer.row] += 1
        agent.remove()  # the staff member leaves: its row becomes inactive
    for col in colls:
        col.recruited_fte = max(col.recruited_fte, 0.0)
    model.counters["retirements"] += retired
    model.counters["departures"] += departed

    # Replacement hires: a stochastic rounding per employer, then the new staff's draws.
    draws = model.rng.random(len(colls))
    employers = []
    for col in colls:
        x = leavers_by_employer[col.row] * b.replacement_rate
        base = math.floor(x)
        employers += [col.row] * int(base + (draws[col.row] < x - base))
    if employers:
        cols = draw_staff(
            np.array(employers, dtype=np.int64),
            model.cfg,
            model.rng,
            age_mean=b.hire_age_mean,
            bonus=b.hire_skill_bonus,
        )
        for i in range(len(employers)):  # one hire (one new row and agent) at a time
            model.add_staff({name: values[i : i + 1] for name, values in cols.items()})
        model.counters["hires"] += len(employers)


# ------------------------------------------------------------------------------------ maturity
def maturity_step(model) -> None:
    b = model.cfg.behaviour
    scale = model.cfg.territory.staff_scale
    pooled_recruited = model.pooled_recruited_share()
    investment = np.zeros(model.colls.n)
    w = b.maturity_weights
    for col in collectivite_agents(model):
        e = col.row
        real_staff = max(col.n_staff / scale, 1.0)
        own_fte = col.it_capacity + col.recruited_fte
        fte = own_fte + model.pool_fte_share[e] + pooled_recruited[e]
        cap = float(capacity_index(fte, real_staff, own_fte < b.dsi_critical_fte and not col.pooled))
        col.capacity_index = cap
        investment[e] = max(model.alloc_investment[e], 0.0)
        inv = investment_index(investment[e], real_staff, b.investment_ref_eur_per_staff, b.investment_fixed_eur)
        mean_skill = col.staff_mean_skill
        skill = _clip01((0.0 if math.isnan(mean_skill) else mean_skill) / max(model.required_skill, 1e-9))
        drive = w[0] * inv + w[1] * cap + w[2] * skill + w[3] * col.sponsorship
        m = col.maturity
        col.maturity = _clip01(
            m + maturity_change(m, drive, cap, b.maturity_speed, b.maturity_erosion, b.absorptive_floor)
        )
    model.spend["investment"] += float(investment.sum())


# ------------------------------------------------------------------------------------ adoption
def adoption_step(model) -> None:
    d, b, med = model.cfg.drivers, model.cfg.behaviour, model.cfg.mediation
    spy = model.steps_per_year
    colls = collectivite_agents(model)
    n = len(colls)
    for col in colls:
        s = col.services_online
        change = services_change(
            s, _a(col.maturity), col.capacity_index, b.services_speed, d.obligation_pull, d.online_target
        )
        col.services_online = _clip01(float(s + change))
    draws = model.rng.random(n)
    for col in colls:
        if not col.open_data and draws[col.row] < b.open_data_rate * float(_a(col.maturity) ** 2):
            col.open_data = True

    is_commune = [col.kind == "commune" for col in colls]
    illectronic = np.zeros(n)
    for col in colls:
        illectronic[col.row] = col.inhabitants_illectronism * col.population * is_commune[col.row]
    served = [0.0] * n
    if med.budget_eur_per_staff > 0:
        budget_year = med.budget_eur_per_staff * model.budget_staff.sum()
        threshold = model.required_skill - d.following_band
        counts = [0] * n
        for agent in staff_agents(model):
            if agent.job_family == _RECEPTION and agent.skill >= threshold:
                counts[agent.employer.row] += 1
        mediators = np.array([counts[e] / model.cfg.territory.staff_scale if is_commune[e] else 0.0 for e in range(n)])
        agent_cost = med.agent_mediator_cost_eur * mediators.sum() if med.every_agent_mediator else 0.0
        funded = min(1.0, budget_year / agent_cost) if agent_cost > 0 else 1.0
        conseiller_money = max(0.0, budget_year - min(agent_cost, budget_year))
        conseillers = conseiller_money / med.conseiller_cost_eur
        total_illectronic = max(illectronic.sum(), 1.0)
        for col in colls:
            e = col.row
            if med.every_agent_mediator:
                served[e] += funded * mediators[e] * med.inhabitants_per_agent_mediator
            col.conseillers = conseillers * illectronic[e] / total_illectronic
            served[e] += col.conseillers * med.inhabitants_per_conseiller
        model.spend["mediation"] += (min(agent_cost, budget_year) + conseiller_money) / spy
    for col in colls:
        e = col.row
        col.mediation_coverage = float(mediation_coverage(_a(served[e]), illectronic[e])) if is_commune[e] else 0.0
        exit_rate = b.inhabitant_learning + med.exit_rate * col.mediation_coverage
        col.inhabitants_illectronism = _clip01(col.inhabitants_illectronism * (1.0 - exit_rate / spy))
        col.inhabitants_excluded = col.inhabitants_illectronism * (1.0 - col.mediation_coverage)
        col.eservice_use = col.services_online * (1.0 - col.inhabitants_excluded) * b.eservice_ceiling
    model.aggregate_inhabitants()


REFERENCE_PROCESSES = {
    "training": Process("training", training_step),
    "peer_learning": Process("peer_learning", peer_learning_step),
    "turnover": Process("turnover", turnover_step),
    "maturity": Process("maturity", maturity_step),
    "adoption": Process("adoption", adoption_step),
}


class ReferenceModel(TransitionModel):
    """The model with the per-agent versions of the processes of :data:`REFERENCE_PROCESSES`."""

    processes = tuple(REFERENCE_PROCESSES.get(process_name(p), p) for p in STEP_ORDER)

    def refresh_staff_aggregates(self) -> None:
        n = self.colls.n
        total, count = [0.0] * n, [0] * n
        for agent in staff_agents(self):
            e = agent.employer.row
            total[e] += agent.skill
            count[e] += 1
        self.colls.staff_mean_skill = np.array([total[e] / count[e] if count[e] else math.nan for e in range(n)])
        self.colls.n_staff = np.array(count, dtype=np.int64)

    def aggregate_inhabitants(self) -> None:
        """Population-weighted means of the communes' inhabitant shares for each EPCI,
        département and région, accumulated commune by commune."""
        c = self.colls
        colls = collectivite_agents(self)
        names = ("illectronism", "excluded", "mediation_coverage")
        for key, kind in ((c.epci, "epci"), (c.departement, "departement"), (c.region, "region")):
            rows = [col for col in colls if col.kind == kind]
            if not rows:
                continue
            size = int(key.max()) + 1
            totals = {name: [0.0] * size for name in names}
            weights = [0.0] * size
            for col in colls:
                k = int(key[col.row])
                if col.kind != "commune" or k < 0:
                    continue
                w = col.population
                values = (col.inhabitants_illectronism, col.inhabitants_excluded, col.mediation_coverage)
                for name, value in zip(names, values):
                    totals[name][k] += value * w
                weights[k] += w
            for col in rows:
                k = col.row if kind == "epci" else int(key[col.row])
                for name in names:
                    mean = totals[name][k] / weights[k] if weights[k] else 0.0
                    getattr(c, name)[col.row] = mean
        ceiling = self.cfg.behaviour.eservice_ceiling
        for col in colls:
            if col.kind != "commune":
                col.eservice_use = col.services_online * (1.0 - col.inhabitants_excluded) * ceiling
