"""Capacity and maturity dynamics (DESIGN.md, Process 6).

IT capacity: the collectivité's own digital staff (its digital job family, and the lever's hires)
against a need of ``capacity_need_per_staff * staff + capacity_need_fixed`` FTE: ``index = fte /
(fte + need)``, cut to ``below_critical_factor`` of itself without a team of critical size (seed
000 L92). A pool member combines it with its pool's index (:mod:`sim.processes.mutualisation`):
``1 - (1 - own) * (1 - pool)``.

Leadership: élus' sponsorship and managers' digital skill relative to the required skill
(« le rôle du management est un facteur clé », seed 000 L65; managers lacking digital culture,
seed 004 L117), weighted by ``manager_weight``.

Each step, maturity ``m`` grows by

    speed * absorptive * drive * use_gate * (1 + strategy_boost * strategy + monitoring_boost * monitoring)
        - erosion * (bar's yearly rise / 0.01) * m * (1 - capacity)

    absorptive = (1 - m) * (prior + m) / (prior + 1) * (floor + (1 - floor) * capacity)
    drive      = w_inv * investment + w_cap * capacity + w_lead * leadership
    use_gate   = gate_floor + (1 - gate_floor) * share of staff who use the tools

- ``absorptive``: the room left, scaled by what the collectivité already knows (absorptive
  capacity grows with prior knowledge: the least mature absorb least, a cumulative advantage)
  and by its IT capacity (large collectivités innovate more: seed 002 L760-761).
- ``investment`` saturates: half at a fixed cost plus a per-staff cost (small budgets buy
  little: seed 000 L59).
- ``use_gate``: tools staff do not use deliver little (« le travail résiste au numérique », seed
  000 L104; return to paper, DESIGN.md Process 7).
- erosion: without IT capacity a collectivité falls behind as requirements rise (seed 002
  L2132-2134).
"""

from __future__ import annotations

import numpy as np

from sim.processes import Process


def capacity_index(fte, real_staff, critical, need_per_staff: float, need_fixed: float, below_critical_factor: float):
    """IT capacity index in 0..1: FTE against the need; cut without a critical-size team."""
    ratio = fte / (need_per_staff * real_staff + need_fixed)
    idx = ratio / (1.0 + ratio)
    return np.where(critical, idx, below_critical_factor * idx)


def investment_index(investment, real_staff, per_staff_reference: float, fixed: float):
    """Investment drive in 0..1: half when investment equals a fixed cost plus a per-staff cost."""
    return investment / (investment + fixed + per_staff_reference * real_staff)


def leadership_index(sponsorship, manager_skill, manager_weight: float):
    return (1.0 - manager_weight) * sponsorship + manager_weight * manager_skill


def maturity_change(m, drive, capacity, use_share, boost, bar_rise_per_year, o):
    absorptive = (1.0 - m) * (o.absorptive_prior + m) / (o.absorptive_prior + 1.0)
    absorptive = absorptive * (o.absorptive_floor + (1.0 - o.absorptive_floor) * capacity)
    gate = o.use_gate_floor + (1.0 - o.use_gate_floor) * use_share
    erosion = o.maturity_erosion * (bar_rise_per_year / 0.01) * m * (1.0 - capacity)
    return o.maturity_speed * absorptive * drive * gate * boost - erosion


def combined_capacity(own_index, pool_index):
    """Capacity of a pool member: its own and its pool's capacities complement each other."""
    return 1.0 - (1.0 - own_index) * (1.0 - pool_index)


def update_capacity(model) -> None:
    c, o = model.colls, model.cfg.organisation
    own = c.it_fte + c.recruited_fte
    own_index = capacity_index(
        own,
        c.real_staff,
        own >= o.dsi_critical_fte,
        o.capacity_need_per_staff,
        o.capacity_need_fixed,
        o.below_critical_factor,
    )
    c.capacity_index = combined_capacity(own_index, c.pool_capacity)


def step(model) -> None:
    c = model.colls
    o = model.cfg.organisation
    update_capacity(model)
    invest = np.maximum(model.flows.investment, 0.0)
    inv = investment_index(invest, c.real_staff, o.investment_ref_eur_per_staff, o.investment_fixed_eur)
    model.spend["investment"] += float(invest.sum())
    c.leadership = leadership_index(c.sponsorship, c.manager_skill, o.manager_weight)
    w = o.maturity_weights
    drive = w[0] * inv + w[1] * c.capacity_index + w[2] * c.leadership
    boost = 1.0 + o.strategy_boost * c.has_strategy + o.monitoring_boost * c.has_monitoring
    bar_rise = model.cfg.drivers.required_skill_growth
    dm = maturity_change(c.maturity, drive, c.capacity_index, c.staff_use_share, boost, bar_rise, o)
    c.maturity = np.clip(c.maturity + dm, 0.0, 1.0)


PROCESS = Process(
    name="maturity",
    step=step,
    summary="IT capacity (own, lever-hired, pooled; critical size), leadership, and the maturity change",
    reads=(
        "colls.it_fte",
        "colls.recruited_fte",
        "colls.pool_capacity",
        "colls.n_staff",
        "colls.sponsorship",
        "colls.manager_skill",
        "colls.staff_use_share",
        "colls.has_strategy",
        "colls.has_monitoring",
    ),
    writes=("colls.capacity_index", "colls.leadership", "colls.maturity"),
)
