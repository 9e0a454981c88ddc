"""Exogenous drivers: the rising skill bar, budget trends and shocks (DESIGN.md, Process 1).

- Required skill rises linearly with time (technology waves; seed 004 L50-56).
- Budgets follow a yearly trend and an optional cut (seed 004 L48).
- Optional lockdown shock (seed 000 L113): services online leap forward where IT capacity
  exists, while inhabitants' exclusion rises (the leapfrog widens inequalities).
- Optional cyber-attacks (seed 000 L114): a collectivité without pooled security is hit with a
  yearly probability and loses part of its maturity and services online.
"""

from __future__ import annotations

import numpy as np


def required_skill(start: float, growth: float, years_elapsed: float) -> float:
    return min(1.0, start + growth * years_elapsed)


def step(model) -> None:
    d = model.cfg.drivers
    c = model.colls
    elapsed = model.year - model.cfg.simulation.start_year
    model.required_skill = required_skill(d.required_skill_start, d.required_skill_growth, elapsed)
    model.illectronism_threshold = d.illectronism_threshold + (model.required_skill - d.required_skill_start)
    factor = (1.0 + d.budget_trend) ** elapsed
    if d.budget_cut and model.year > d.budget_cut_year:
        factor *= 1.0 - d.budget_cut_share
    model.budget_factor = factor

    if d.lockdown and model.crossed(d.lockdown_year):
        c.services_online = np.minimum(1.0, c.services_online + d.lockdown_use_jump * c.capacity_index)
        c.illectronism = np.minimum(1.0, c.illectronism + d.lockdown_exclusion_jump)
        model.events.append((model.step_index, "lockdown"))

    if d.cyber_attacks:
        yearly = d.cyber_rate * np.where(c.pool >= 0, 1.0 - d.cyber_pool_protection, 1.0)
        hit = model.rng.random(c.n) < 1.0 - (1.0 - yearly) ** (1.0 / model.steps_per_year)
        c.maturity[hit] *= 1.0 - d.cyber_damage
        c.services_online[hit] *= 1.0 - d.cyber_damage
        model.counters["cyber_attacks"] += int(hit.sum())
