"""Inhabitants: illectronism by age, human help, exclusion and e-service use (DESIGN.md,
Process 7; the mediation lever).

Inhabitants live in communes, in five age groups of the 15+ population whose shares stay
constant (a stationary age structure, older in rural communes). Each group has its share in
illectronism:

- Cohort renewal: each year ``share[g-1] / width[g-1]`` of the population moves from one group to
  the next, carrying its illectronism, so the old groups' rates move toward the younger ones'
  (generational renewal: illectronism is 62 % at 75+ and 4 % at 25-39, research/targets.md).
- Drift: ``inhabitants.illectronism_drift`` of the able inhabitants of 40+ fall into
  illectronism each year as tools change (seed 000 L74).

Human help with online procedures (persons a year): France services counters (rolled out by the
drivers), conseillers numériques funded by the mediation lever — each post is paid from its
funding but serves only ``conseiller_ramp_steps`` later (recruitment and initial training) — and,
optionally, reception agents who use the tools acting as mediators (seed 003 L34-36). The need
for help is the inhabitants in illectronism times the share of their procedures that are online
(the State's and social bodies', ``drivers.state_procedures_weight`` of them, and the
collectivité's own services online): the procedures they can no longer do at a counter. Coverage
is ``1 - exp(-help / need)``.

Exclusion grows with dematerialisation unless help keeps pace: the excluded share is
``illectronism * online share * (1 - coverage)`` (dematerialisation strengthens exclusion,
seed 000 L113; « isolement progressif de publics non acculturés », seed 004 L60). Inhabitants
helped leave illectronism at ``help_exit_rate`` a year. E-service use is ``services_online * (1 -
illectronism * (1 - coverage)) * ceiling`` (ceiling 80 %, seed 002 L2296-2300).
"""

from __future__ import annotations

import numpy as np

from sim import levers
from sim.processes import Process
from sim.processes.practice import uses_tools
from sim.selection import ratio
from sim.state import AGE_DRIFT_FROM, AGE_GROUP_WIDTHS, RECEPTION


def cohort_flow(age_share, ill_age, years: float, drift: float):
    """Illectronism by age after ``years``: renewal of the cohorts, then the drift of the 40+.
    The age groups are the last axis (one commune's vector, or one row per commune)."""
    new = ill_age.copy()
    for g in range(1, ill_age.shape[-1]):
        inflow = (age_share[..., g - 1] / AGE_GROUP_WIDTHS[g - 1]) / np.maximum(age_share[..., g], 1e-12)
        new[..., g] += years * inflow * (ill_age[..., g - 1] - ill_age[..., g])
    new[..., AGE_DRIFT_FROM:] += years * drift * (1.0 - new[..., AGE_DRIFT_FROM:])
    return np.clip(new, 0.0, 1.0)


def online_share(services_online, state_online: float, state_weight: float):
    """Share of an inhabitant's procedures that are online: the State's and social bodies', and
    the collectivité's own services."""
    return state_weight * state_online + (1.0 - state_weight) * services_online


def help_coverage(help_persons, need_persons):
    """Share of the need for help met: 1 - exp(-help / need) (1 where there is no need)."""
    return np.where(need_persons > 0, 1.0 - np.exp(-help_persons / np.maximum(need_persons, 1e-12)), 1.0)


def need(model) -> np.ndarray:
    """Need for the mediation lever: the share of inhabitants in illectronism."""
    c = model.colls
    return np.where(c.kind == 0, c.illectronism, 0.0)


def mediation(model, communes: np.ndarray) -> np.ndarray:
    """The mediation lever's help (persons a year, per collectivité) and its spending."""
    med = model.cfg.mediation
    c, st = model.colls, model.staff
    spy = model.steps_per_year
    budget = levers.available(model, "mediation")
    helped = np.zeros(c.n)
    spent = 0.0
    agent_money = 0.0
    if budget > 0 and med.every_agent_mediator:
        rows = st.active_rows()
        mediator = (st.job_family[rows] == RECEPTION) & uses_tools(
            st.skill[rows], model.required_skill, model.cfg.drivers.following_band
        )
        mediators = np.bincount(st.active_employers()[mediator], minlength=c.n) / model.cfg.territory.staff_scale
        mediators = np.where(communes, mediators, 0.0)
        cost = med.agent_mediator_cost_eur * mediators.sum() / spy
        agent_money = min(cost, budget)
        funded = agent_money / cost if cost > 0 else 0.0
        helped += funded * mediators * med.persons_per_agent_mediator_year
    conseiller_money = levers.share(model, "mediation", budget - agent_money)
    posts = conseiller_money * spy / med.conseiller_cost_eur  # FTE funded this step
    model.conseiller_pipeline.append(posts)
    serving = model.conseiller_pipeline.pop(0) if len(model.conseiller_pipeline) > med.conseiller_ramp_steps else 0.0
    c.conseillers = np.where(communes, serving, 0.0)
    helped += c.conseillers * med.persons_per_conseiller_year
    spent = agent_money + float(conseiller_money.sum())
    levers.record(model, "mediation", spent, budget)
    return helped


def step(model) -> None:
    c = model.colls
    h, d = model.cfg.inhabitants, model.cfg.drivers
    spy = model.steps_per_year
    communes = c.kind == 0
    c.illectronism_age[communes] = cohort_flow(
        c.age_share[communes], c.illectronism_age[communes], 1.0 / spy, h.illectronism_drift
    )
    ill = np.sum(c.age_share * c.illectronism_age, axis=1)
    ill_persons = ill * c.population * communes

    counters = d.france_services_per_100k_inh * c.population / 1e5 * model.france_services_share
    helped = np.where(communes, counters * d.france_services_persons_per_year, 0.0) + mediation(model, communes)
    online = online_share(c.services_online, model.state_online_share, d.state_procedures_weight)
    need_persons = ill_persons * online
    coverage = np.where(communes, help_coverage(helped, need_persons), 0.0)

    # Inhabitants helped become autonomous.
    reached = np.where(ill_persons > 0, np.minimum(helped, need_persons) / np.maximum(ill_persons, 1e-12), 0.0)
    exit_share = np.clip(h.help_exit_rate * reached / spy, 0.0, 1.0)
    c.illectronism_age[communes] *= (1.0 - exit_share[communes])[:, None]
    ill = np.sum(c.age_share * c.illectronism_age, axis=1)

    c.help_coverage = coverage
    c.illectronism = np.where(communes, ill, c.illectronism)
    c.excluded = np.where(communes, ill * online * (1.0 - coverage), 0.0)
    c.eservice_use = c.services_online * (1.0 - c.illectronism * (1.0 - c.help_coverage)) * h.eservice_ceiling
    aggregate(model)


def initial_state(model) -> None:
    """Exclusion, help coverage and e-service use of the initial state (before any step): the
    need for help against the France services counters open then, without mediation."""
    c = model.colls
    h, d = model.cfg.inhabitants, model.cfg.drivers
    communes = c.kind == 0
    ill_persons = c.illectronism * c.population * communes
    counters = d.france_services_per_100k_inh * c.population / 1e5 * model.france_services_share
    online = online_share(c.services_online, model.state_online_share, d.state_procedures_weight)
    coverage = np.where(
        communes, help_coverage(counters * d.france_services_persons_per_year, ill_persons * online), 0.0
    )
    c.help_coverage = coverage
    c.excluded = np.where(communes, c.illectronism * online * (1.0 - coverage), 0.0)
    c.eservice_use = c.services_online * (1.0 - c.illectronism * (1.0 - coverage)) * h.eservice_ceiling
    aggregate(model)


def _aggregate_plan(c) -> list:
    """The part of :func:`aggregate` that does not change over a run, for each kind of group:
    its rows, the communes counted, the cells and weights of the changing values and their
    weight sums, and the groups' age shares (weights and values both fixed). Kept on the table
    with a copy of what it was computed from, and computed again if any of that differs."""
    communes = c.kind == 0
    inputs = (c.kind, c.epci, c.departement, c.region, c.population, c.age_share[communes])
    cached = getattr(c, "_aggregate_plan", None)
    if cached is not None and all(np.array_equal(a, b) for a, b in zip(cached[0], inputs, strict=True)):
        return cached[1]
    w = c.population * communes
    n_age = c.illectronism_age.shape[1]
    n_changing = 3 + n_age  # illectronism, exclusion, help coverage, illectronism by age
    plan = []
    for key, kind in ((c.epci, 1), (c.departement, 2), (c.region, 3)):
        rows = np.flatnonzero(c.kind == kind)
        if len(rows) == 0:
            continue
        valid = communes & (key >= 0)
        size = int(key.max()) + 1
        idx = rows if kind == 1 else key[rows]
        wv = w[valid]
        age_w = wv[:, None] * c.age_share[valid]  # population of each age group
        weights = np.column_stack([wv, wv, wv, age_w, np.repeat(wv[:, None], n_age, axis=1)])
        k = weights.shape[1]
        cells = (key[valid][:, None] * k + np.arange(k)).ravel()
        count = np.bincount(cells, weights=weights.ravel(), minlength=size * k).reshape(size, k)
        # Each cell sums its own column only, in the order of the communes: the age shares'
        # totals are those of the whole table, whatever the other columns hold.
        values = np.zeros_like(weights)
        values[:, n_changing:] = c.age_share[valid]
        total = np.bincount(cells, weights=(values * weights).ravel(), minlength=size * k).reshape(size, k)
        age_share = np.nan_to_num(ratio(total, count))[idx][:, n_changing:]
        changing_cells = (key[valid][:, None] * n_changing + np.arange(n_changing)).ravel()
        plan.append(
            (
                rows,
                valid,
                size,
                idx,
                changing_cells,
                np.ascontiguousarray(weights[:, :n_changing]),
                np.ascontiguousarray(count[:, :n_changing]),
                age_share,
            )
        )
    c._aggregate_plan = (tuple(np.array(a, copy=True) for a in inputs), plan)
    return plan


def aggregate(model) -> None:
    """Give EPCI, départements and régions the population-weighted values of their communes
    (illectronism, exclusion, help coverage; illectronism by age weighted by each age group's
    population, and the age shares). One weighted count per kind of group: the numerators and
    weights of the values are laid side by side and summed in a single bincount; the weights,
    their sums and the age shares are fixed over a run (:func:`_aggregate_plan`)."""
    c = model.colls
    communes = c.kind == 0
    n_age = c.illectronism_age.shape[1]
    for rows, valid, size, idx, cells, weights, count, age_share in _aggregate_plan(c):
        values = np.column_stack(
            [c.illectronism[valid], c.excluded[valid], c.help_coverage[valid], c.illectronism_age[valid]]
        )
        k = values.shape[1]
        total = np.bincount(cells, weights=(values * weights).ravel(), minlength=size * k).reshape(size, k)
        mean = np.nan_to_num(ratio(total, count))[idx]
        c.illectronism[rows], c.excluded[rows], c.help_coverage[rows] = mean[:, 0], mean[:, 1], mean[:, 2]
        c.illectronism_age[rows] = mean[:, 3 : 3 + n_age]
        c.age_share[rows] = age_share
    groups = ~communes
    c.eservice_use[groups] = (
        c.services_online[groups]
        * (1.0 - c.illectronism[groups] * (1.0 - c.help_coverage[groups]))
        * model.cfg.inhabitants.eservice_ceiling
    )


PROCESS = Process(
    name="inhabitants",
    step=step,
    summary="illectronism by age (cohort renewal, drift), human help (France services, mediation lever), exclusion, e-services",
    reads=("colls.services_online", "colls.population", "colls.age_share", "staff.skill", "staff.job_family"),
    writes=(
        "colls.illectronism_age",
        "colls.illectronism",
        "colls.help_coverage",
        "colls.excluded",
        "colls.eservice_use",
        "colls.conseillers",
    ),
    levers=("mediation",),
    needs={"mediation": need},
)
