"""Maturity dynamics (DESIGN.md, Process 6).

Each step, maturity ``m`` of a collectivité grows by

    speed * absorptive * drive  -  erosion * m * (1 - capacity)
    absorptive = (1 - m) * (floor + (1 - floor) * capacity)

- ``drive = w_inv * investment + w_cap * capacity + w_skill * skill + w_spons * sponsorship``
  (each index in 0..1): investment (saturating, half at a fixed cost plus a per-staff cost:
  small budgets buy little, seed 000 L59), IT capacity (own, recruited and pooled FTE per staff,
  saturating; halved below the critical size of an IT team unless pooled: seed 000 L92),
  staff mean skill relative to the required level, and sponsorship (seed 000 L65).
- ``absorptive`` is the absorptive-capacity bound: the room left ``(1 - m)``, scaled by the IT
  capacity that lets a collectivité absorb change (large collectivités innovate more: seed 002
  L760-761), so that without capacity the advanced pull away (seed 000 L60); the erosion term makes collectivités without
  IT capacity fall behind as requirements rise (seed 002 L2132-2134).
"""

from __future__ import annotations

import numpy as np


def capacity_index(fte, real_staff, below_critical):
    """IT capacity index in 0..1: FTE against a need of 2 FTE per 100 staff plus 0.5."""
    ratio = fte / (0.02 * real_staff + 0.5)
    idx = ratio / (1.0 + ratio)
    return np.where(below_critical, 0.5 * idx, idx)


def investment_index(investment, real_staff, per_staff_reference: float, fixed: float):
    """Investment drive in 0..1: half when investment equals a fixed cost plus a per-staff cost."""
    return investment / (investment + fixed + per_staff_reference * real_staff)


def maturity_change(m, drive, capacity, speed: float, erosion: float, absorptive_floor: float):
    absorptive = (1.0 - m) * (absorptive_floor + (1.0 - absorptive_floor) * capacity)
    return speed * absorptive * drive - erosion * m * (1.0 - capacity)


def step(model) -> None:
    c = model.colls
    b = model.cfg.behaviour
    real_staff = np.maximum(c.n_staff / model.cfg.territory.staff_scale, 1.0)
    own_fte = c.it_fte + c.recruited_fte
    pooled = c.pool >= 0
    fte = own_fte + model.pool_fte_share + model.pooled_recruited_share()
    c.capacity_index = capacity_index(fte, real_staff, (own_fte < b.dsi_critical_fte) & ~pooled)
    inv = investment_index(
        np.maximum(model.alloc_investment, 0.0), real_staff, b.investment_ref_eur_per_staff, b.investment_fixed_eur
    )
    model.spend["investment"] += float(np.maximum(model.alloc_investment, 0.0).sum())
    skill = np.clip(np.nan_to_num(c.staff_mean_skill) / max(model.required_skill, 1e-9), 0.0, 1.0)
    w = b.maturity_weights
    drive = w[0] * inv + w[1] * c.capacity_index + w[2] * skill + w[3] * c.sponsorship
    c.maturity = np.clip(
        c.maturity
        + maturity_change(
            c.maturity, drive, c.capacity_index, b.maturity_speed, b.maturity_erosion, b.absorptive_floor
        ),
        0.0,
        1.0,
    )
