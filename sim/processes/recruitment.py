"""Recruitment of digital profiles (DESIGN.md, Process 5; policy lever).

The lever's yearly budget (EUR per staff member of the territory) pays the salaries of digital
profiles: it affords ``floor(budget / (salary * (1 + premium)))`` posts for the whole territory,
so spending never exceeds the budget. Each step, the posts not yet filled are opened in hiring
units drawn in proportion to their staff (a collectivité, or with pooled hiring the host of its
pool, which recruits for all its members). An opening is filled with probability
``base_success * attractiveness * (1 + elasticity * premium)``, where attractiveness is
``sqrt(pop / (pop + size_half))``, times ``rural_penalty`` for rural employers; an unfilled
opening is posted again, possibly elsewhere, at the next step. Small, rural collectivités
recruit less (seed 000 L99-100; seed 004 L113), which pooled hiring corrects. Each hire is a new
Staff agent (category A, digital job family, skilled) and adds one FTE of IT capacity to its
employer (shared across the pool's members under pooled hiring).
"""

from __future__ import annotations

import numpy as np

from sim.state import DIGITAL


def attractiveness(population, rural, size_half: float, rural_penalty: float):
    return np.sqrt(population / (population + size_half)) * np.where(rural, rural_penalty, 1.0)


def fill_probability(attract, r) -> np.ndarray:
    return np.minimum(1.0, r.base_success * attract * (1.0 + r.premium_elasticity * r.salary_premium))


def step(model) -> None:
    r = model.cfg.recruitment
    c = model.colls
    if r.budget_eur_per_staff <= 0:
        return
    yearly_cost = r.salary_eur * (1.0 + r.salary_premium)
    budget_year = r.budget_eur_per_staff * float(model.budget_staff.sum())
    posts = int(np.floor(budget_year / yearly_cost + 1e-9))

    # Hiring units: each collectivité, or with pooled hiring the host of each pool.
    unit = np.arange(c.n)
    if r.pooled_hiring and model.cfg.mutualisation.mode != "none":
        hosts = model.pool_hosts()
        pooled = c.pool >= 0
        unit = np.where(pooled, hosts[np.maximum(c.pool, 0)], unit)
    weight = np.bincount(unit, weights=model.budget_staff, minlength=c.n)
    n_open = posts - round(c.recruited_fte.sum())
    hires = np.zeros(0, dtype=np.int64)
    if n_open > 0 and weight.sum() > 0:
        where = model.rng.choice(c.n, size=n_open, p=weight / weight.sum())
        unit_pop = np.bincount(unit, weights=np.where(c.kind == 0, c.population, 0.0), minlength=c.n)
        unit_pop = np.where(unit_pop > 0, unit_pop, c.population)
        p = fill_probability(attractiveness(unit_pop[where], c.rural[where], r.size_half, r.rural_penalty), r)
        hires = np.sort(where[model.rng.random(n_open) < p])
        np.add.at(c.recruited_fte, hires, 1.0)
        model.counters["openings"] += n_open
    scale = model.cfg.territory.staff_scale
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
    model.spend["recruitment"] += min(float(c.recruited_fte.sum()) * yearly_cost, budget_year) / model.steps_per_year
