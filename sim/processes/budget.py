"""Budgets: each collectivité's digital budget for the step (DESIGN.md, Process 2).

The yearly budget (per inhabitant by kind, times the drivers' trend) is split between its own
training (a fixed share, spent on self-service e-learning: seed 000 L108) and investment; the
mutualisation process may move part of the investment into a pool. Policy levers are funded
on top, by the State, each from its own budget.
"""

from __future__ import annotations


def step(model) -> None:
    c = model.colls
    # Lever budgets are per staff member at the start of the step (before turnover).
    model.budget_staff = c.n_staff / model.cfg.territory.staff_scale
    quarter = c.budget * model.budget_factor / model.steps_per_year
    own_training = quarter * model.cfg.behaviour.own_training_share
    model.alloc_own_training = own_training
    model.alloc_investment = quarter - own_training


def lever_allocation(model, budget_eur_per_staff: float):
    """Per-collectivité share of a lever's budget for this step, proportional to its staff."""
    return budget_eur_per_staff * model.budget_staff / model.steps_per_year
