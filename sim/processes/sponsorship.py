"""Awareness of élus and managers: the sponsorship lever (seed 003 L52, L54-58).

The lever buys awareness programmes (``cost_per_collectivite_eur`` each) for collectivités
drawn at random each step; a programme closes ``gain`` of the gap to full sponsorship.
Sponsorship then enters the maturity drive (« la volonté politique et managériale est
indispensable »: seed 002 L811-812; seed 000 L65).
"""

from __future__ import annotations

import numpy as np


def step(model) -> None:
    s = model.cfg.sponsorship
    c = model.colls
    if s.budget_eur_per_staff <= 0:
        return
    budget = s.budget_eur_per_staff * model.budget_staff.sum() / model.steps_per_year
    available = budget + model.carry["sponsorship"]
    n = int(min(np.floor(available / s.cost_per_collectivite_eur), c.n))
    model.carry["sponsorship"] = available - n * s.cost_per_collectivite_eur
    if n == 0:
        return
    chosen = model.rng.choice(c.n, size=n, replace=False)
    c.sponsorship[chosen] += s.gain * (1.0 - c.sponsorship[chosen])
    model.spend["sponsorship"] += n * s.cost_per_collectivite_eur
