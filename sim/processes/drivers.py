"""Exogenous drivers: the rising skill bar, obligations, budgets, human help, shocks
(DESIGN.md, Process 1).

- Required skill rises linearly with time (technology waves; seed 004 L50-56); the
  illectronism threshold of staff follows ``illectronism_threshold_rise`` of its rise (0: an
  absolute definition, like INSEE's).
- The obligation to put services online pulls harder as its deadline approaches (seed 000 L47:
  70 % by 2022): full strength from ``online_target_year`` on.
- Budgets follow a yearly trend and an optional cut (seed 004 L48).
- The State's and social bodies' procedures go online (from ``state_online_start`` to
  ``state_online_end`` by the target year): with the collectivités' own services online, they
  make the share of an inhabitant's procedures that are online.
- France services counters are rolled out (a human alternative for online procedures).
- The 2020 lockdown (history) and an optional stress-test lockdown (seed 000 L113): services
  online leap forward where IT capacity exists, while inhabitants' illectronism rises.
- Optional cyber-attacks (seed 000 L114): a collectivité without pooled security is hit with a
  yearly probability and loses part of its maturity and services online.
"""

from __future__ import annotations

import numpy as np

from sim.processes import Process


def required_skill(start: float, growth: float, years_elapsed: float) -> float:
    return min(1.0, start + growth * years_elapsed)


def ramp(year: float, start: float, end: float) -> float:
    """0 before ``start``, 1 from ``end`` on, linear between."""
    if end <= start:
        return float(year >= start)
    return float(np.clip((year - start) / (end - start), 0.0, 1.0))


def lockdown(model) -> None:
    """A lockdown: the leapfrog of services online and the rise of exclusion."""
    d = model.cfg.drivers
    c = model.colls
    c.services_online = np.minimum(1.0, c.services_online + d.lockdown_use_jump * c.capacity_index)
    c.illectronism_age = np.minimum(1.0, c.illectronism_age + d.lockdown_exclusion_jump)
    model.counters["lockdowns"] += 1


def step(model) -> None:
    d = model.cfg.drivers
    s = model.cfg.simulation
    c = model.colls
    elapsed = model.year - s.history_start_year
    model.required_skill_rise = -model.required_skill
    model.required_skill = required_skill(d.required_skill_start, d.required_skill_growth, elapsed)
    model.required_skill_rise += model.required_skill
    model.illectronism_threshold = d.illectronism_threshold + d.illectronism_threshold_rise * (
        model.required_skill - d.required_skill_start
    )
    model.obligation_strength = ramp(model.year, s.history_start_year, d.online_target_year)
    factor = (1.0 + d.budget_trend) ** (model.year - s.start_year)
    if d.budget_cut and model.year > d.budget_cut_year:
        factor *= 1.0 - d.budget_cut_share
    model.budget_factor = factor
    model.france_services_share = ramp(model.year, *d.france_services_years)
    state = ramp(model.year, s.history_start_year, d.online_target_year)
    model.state_online_share = d.state_online_start + (d.state_online_end - d.state_online_start) * state

    if d.covid_lockdown and model.crossed(d.covid_year):
        lockdown(model)
    if d.lockdown and model.crossed(d.lockdown_year):
        lockdown(model)

    if d.cyber_attacks and model.flows.levers_on:
        yearly = d.cyber_rate * np.where(c.pool >= 0, 1.0 - d.cyber_pool_protection, 1.0)
        hit = model.streams["cyber_attacks"].random(c.n) < 1.0 - (1.0 - yearly) ** (1.0 / model.steps_per_year)
        c.maturity[hit] *= 1.0 - d.cyber_damage
        c.services_online[hit] *= 1.0 - d.cyber_damage
        model.counters["cyber_attacks"] += int(hit.sum())


PROCESS = Process(
    name="drivers",
    step=step,
    summary="the rising skill bar, the obligation's pull, budget trend and cuts, France services, lockdowns, cyber-attacks",
    reads=("colls.capacity_index", "colls.pool"),
    writes=("colls.services_online", "colls.illectronism_age", "colls.maturity"),
)
