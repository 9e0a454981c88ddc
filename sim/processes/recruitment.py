"""Recruitment of digital profiles (DESIGN.md, Process 5; policy lever).

The lever pays the salaries of digital profiles. A collectivité (or its pool, with pooled
hiring) opens a post only when its yearly share of the lever's budget covers one more salary,
so spending never exceeds the budget. An opening is filled with probability
``base_success * attractiveness * (1 + elasticity * premium)``, where attractiveness is
``sqrt(pop / (pop + size_half))``, times ``rural_penalty`` for rural employers: small, rural
collectivités recruit less (seed 000 L99-100; seed 004 L113). Each hire is a new Staff agent
(category A, digital job family, skilled) and adds one FTE of IT capacity to its employer
(shared across the pool's members under pooled hiring).
"""

from __future__ import annotations

import numpy as np

from sim.state import DIGITAL


def attractiveness(population, rural, size_half: float, rural_penalty: float):
    return np.sqrt(population / (population + size_half)) * np.where(rural, rural_penalty, 1.0)


def fill_probability(attract, r) -> np.ndarray:
    return np.minimum(1.0, r.base_success * attract * (1.0 + r.premium_elasticity * r.salary_premium))


def step(model) -> None:
    from sim.processes.budget import lever_allocation

    r = model.cfg.recruitment
    c = model.colls
    if r.budget_eur_per_staff <= 0:
        return
    yearly_cost = r.salary_eur * (1.0 + r.salary_premium)
    budget_q = lever_allocation(model, r.budget_eur_per_staff)

    # Hiring units: each collectivité, or with pooled hiring the host of each pool.
    unit = np.arange(c.n)
    if r.pooled_hiring and model.cfg.mutualisation.mode != "none":
        hosts = model.pool_hosts()
        pooled = c.pool >= 0
        unit = np.where(pooled, hosts[np.maximum(c.pool, 0)], unit)
    unit_budget_year = np.bincount(unit, weights=budget_q, minlength=c.n) * model.steps_per_year
    affordable = np.floor(unit_budget_year / yearly_cost + 1e-9)
    openings = (affordable >= c.recruited_fte + 1.0) & (unit_budget_year > 0)
    unit_pop = np.bincount(unit, weights=np.where(c.kind == 0, c.population, 0.0), minlength=c.n)
    unit_pop = np.where(unit_pop > 0, unit_pop, c.population)
    p = fill_probability(attractiveness(unit_pop, c.rural, r.size_half, r.rural_penalty), r)
    filled = openings & (model.rng.random(c.n) < p)
    model.counters["openings"] += int(openings.sum())
    hires = np.flatnonzero(filled)
    scale = model.cfg.territory.staff_scale
    c.recruited_fte[hires] += 1.0
    # One hire is one real FTE; in the modelled sample it is a Staff agent with probability scale.
    agents = hires[model.rng.random(len(hires)) < scale]
    if len(agents):
        n = len(agents)
        model.add_staff(
            {
                "employer": agents,
                "category": np.zeros(n, dtype=np.int8),
                "job_family": np.full(n, DIGITAL, dtype=np.int8),
                "age": np.clip(32.0 + 6.0 * model.rng.standard_normal(n), 22.0, 60.0),
                "skill": model.rng.uniform(0.7, 0.95, n),
                "attitude": model.rng.uniform(0.0, 0.2, n),
                "recruited": np.ones(n, dtype=bool),
            }
        )
    model.counters["digital_hires"] += len(hires)
    salaries = np.minimum(c.recruited_fte * yearly_cost, unit_budget_year) / model.steps_per_year
    model.spend["recruitment"] += float(salaries.sum())
