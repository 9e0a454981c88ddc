"""Budgets: each collectivité's digital budget for the step (DESIGN.md, Process 2).

The yearly budget (per inhabitant by kind, plus the salaries of the digital staff it had at the
start, times the drivers' trend) first pays the salaries of its own digital staff (hiring is
paid from it: :mod:`sim.processes.it_staff`); what is left is split between its own training (a
fixed share, spent on self-service e-learning: seed 000 L108) and investment. The mutualisation
process may move part of the investment into a pool.

Calls for projects (France Relance in 2021-2022; seed 002 L607-612): a national envelope per
inhabitant is awarded in fixed-size awards to collectivités drawn with a chance that grows with
their IT capacity (answering a call needs people who can write the project): the advanced
capture more (seed 000 L60). An award is spent as investment over the following year.
"""

from __future__ import annotations

import numpy as np

from sim.processes import Process


def call_weights(capacity, exponent: float):
    """Chance of each collectivité to win an award, relative: capacity ** exponent."""
    return np.power(np.maximum(capacity, 0.0), exponent)


def calls_for_projects(model) -> None:
    d, o = model.cfg.drivers, model.cfg.organisation
    c = model.colls
    start, end = d.calls_years
    if d.calls_eur_per_inh_year > 0 and start <= model.year - 1e-9 < end:
        communes = c.kind == 0
        envelope = d.calls_eur_per_inh_year * float(c.population[communes].sum()) / model.steps_per_year
        available = envelope + model.carry["calls"]
        n_awards = int(np.floor(available / d.calls_award_eur + 1e-9))
        model.carry["calls"] = available - n_awards * d.calls_award_eur
        w = call_weights(c.capacity_index, o.call_capacity_exponent)
        if n_awards > 0 and w.sum() > 0:
            winners = model.streams["calls"].choice(c.n, size=n_awards, p=w / w.sum())
            np.add.at(c.project_funds, winners, d.calls_award_eur)
            model.counters["call_awards"] += n_awards
    # Awards are spent over a year.
    spend = np.minimum(c.project_funds, d.calls_award_eur / model.steps_per_year)
    c.project_funds -= spend
    model.flows.investment += spend
    model.spend["calls_for_projects"] += float(spend.sum())


def step(model) -> None:
    c = model.colls
    o = model.cfg.organisation
    spy = model.steps_per_year
    quarter = c.budget * model.budget_factor / spy
    salaries = c.it_fte * o.it_cost_eur / spy
    salaries = np.minimum(salaries, quarter)
    model.spend["it_staff"] += float(salaries.sum())
    net = quarter - salaries
    own_training = net * o.own_training_share
    model.flows.own_training = own_training
    model.flows.investment = net - own_training
    calls_for_projects(model)


PROCESS = Process(
    name="budget",
    step=step,
    summary="digital salaries, own training and investment out of each budget; awards of calls for projects",
    reads=("colls.budget", "colls.it_fte", "colls.capacity_index", "colls.population"),
    writes=("colls.project_funds",),
)
