"""The processes of one step, in the order the model runs them.

Each module holds one process as a ``step(model)`` function of vectorised updates over the
model's columns (:mod:`sim.state`), plus the elementwise formulas it uses, written so that
they apply to numpy arrays and to scalars alike (the per-agent reference loop of the
benchmark reuses them).
"""

from sim.processes import (
    adoption,
    budget,
    drivers,
    maturity,
    mutualisation,
    peer_learning,
    recruitment,
    sponsorship,
    training,
    turnover,
)

#: Order of the processes within a step (DESIGN.md, Processes 1-7).
STEP_ORDER = (
    drivers,  # 1. exogenous drivers: required skill, obligations, shocks
    budget,  # 2. budgets split between investment and own training
    mutualisation,  # 6b. joining pools, pooled capacity
    recruitment,  # 5b. digital profiles (lever)
    training,  # 3. own and policy training
    peer_learning,  # 4. referents and colleagues
    turnover,  # 5. ageing, retirement, departures, hiring
    sponsorship,  # awareness of élus and managers (lever)
    maturity,  # 6. maturity dynamics
    adoption,  # 7. services online, staff use, inhabitants' e-service use, mediation
)

__all__ = ["STEP_ORDER"]
