"""Recruitment of digital profiles paid by the State (DESIGN.md, Process 5; policy lever).

The lever's yearly budget pays whole salaries (``organisation.it_cost_eur * (1 +
salary_premium)``): it affords ``floor(budget / salary)`` posts for the territory. Each step, the
posts not yet filled or taken are opened in hiring units drawn by the lever's allocation (by
default ``need``: where IT capacity is lacking; 'staff' sends them where staff are, i.e. to large
collectivités). With pooled hiring a member's post is advertised by its pool, with the pool's
attractiveness. An opening is filled with the probability of :mod:`sim.processes.it_staff` (size,
rurality, maturity), raised by the premium; an unfilled opening is posted again, possibly
elsewhere, at the next step. Small, rural collectivités recruit less (seed 000 L99-100; seed 004
L113), which pooled hiring corrects. The hire arrives after the hiring delay, as a digital Staff
agent paid by the lever (``recruited``); its salary is spent only once it is there, and the money
of posts not filled is reported as unspent.
"""

from __future__ import annotations

import numpy as np

from sim import levers
from sim.processes import Process
from sim.processes.it_staff import arrive, attractiveness, fill_probability, schedule
from sim.processes.mutualisation import pool_hosts


def need(model) -> np.ndarray:
    """Need for the lever, per staff member: the FTE a collectivité lacks to meet its IT need
    (``capacity_need_per_staff * staff + capacity_need_fixed``), so that allocation='need' draws
    posts in proportion to the missing FTE: small communes lack a fixed need each."""
    c, o = model.colls, model.cfg.organisation
    staff = np.maximum(model.flows.staff, 1.0)
    missing = o.capacity_need_per_staff * staff + o.capacity_need_fixed - (c.it_fte + c.recruited_fte + c.pool_fte)
    return np.maximum(missing, 0.0) / staff


def hiring_units(model) -> np.ndarray:
    """The collectivité that hires for each collectivité: itself, or with pooled hiring the host of its pool."""
    c = model.colls
    unit = np.arange(c.n)
    r, m = model.cfg.recruitment, model.cfg.mutualisation
    if r.pooled_hiring and m.structure != "none":
        hosts = pool_hosts(c, m.structure)
        unit = np.where(c.pool >= 0, hosts[np.maximum(c.pool, 0)], unit)
    return unit


def step(model) -> None:
    r = model.cfg.recruitment
    o = model.cfg.organisation
    c = model.colls
    arrive(model)
    budget = levers.available(model, "recruitment")
    salary = o.it_cost_eur * (1.0 + r.salary_premium)
    # Posts the yearly budget pays, plus those the money left by vacancies pays over the rest of
    # the policy period.
    yearly = levers.step_budget(model, "recruitment") * model.steps_per_year
    extra = model.envelope["recruitment"] / max(levers.remaining_years(model), 1.0 / model.steps_per_year)
    posts = int(np.floor((yearly + extra) / salary + 1e-9))
    taken = round(c.recruited_fte.sum() + c.recruited_pending.sum())
    n_open = posts - taken
    if n_open > 0:
        weight = levers.allocation_weights(model, "recruitment")
        if weight.sum() > 0:
            rng = model.streams["lever.recruitment"]
            where = rng.choice(c.n, size=n_open, p=weight / weight.sum())
            # With pooled hiring the post is advertised by the pool: its population and maturity
            # are those of the pool's host and members.
            unit = hiring_units(model)
            unit_pop = np.bincount(unit, weights=np.where(c.kind == 0, c.population, 0.0), minlength=c.n)
            unit_pop = np.where(unit_pop > 0, unit_pop, c.population)
            u = unit[where]
            premium = 1.0 + r.premium_elasticity * r.salary_premium
            attract = attractiveness(unit_pop[u], c.rural[u], c.maturity[u], o, c.maturity.mean())
            p = fill_probability(attract, o.hire_success, premium)
            hires = np.sort(where[rng.random(n_open) < p])
            model.counters["lever_openings"] += n_open
            schedule(model, hires, recruited=True)
            arrive(model)
    # Salaries of the lever's hires present during the step (the refreshed count after arrivals
    # is known at the next refresh: count the arrivals of this step through their pending posts).
    present = min(float(c.recruited_fte.sum()), posts)
    levers.record(model, "recruitment", min(present * salary / model.steps_per_year, budget), budget)


PROCESS = Process(
    name="recruitment",
    step=step,
    summary="digital profiles paid by the State: posts opened where the allocation sends them, filled by attractiveness",
    reads=("colls.capacity_index", "colls.population", "colls.rural", "colls.maturity", "colls.pool"),
    writes=("colls.recruited_pending", "staff.active", "staff.employer"),
    levers=("recruitment",),
    needs={"recruitment": need},
)
