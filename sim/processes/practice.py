"""Practice: skills follow the rising bar by use, or fade unused (DESIGN.md, Processes 3 and 7).

Staff who use the tools (skill within ``drivers.following_band`` of the required skill) learn by
doing: their skill follows ``staff.learning_by_doing`` of the bar's rise (skills acquired by
practice, seed 002 L2043-2052), and the skill their last trainings brought is consolidated.
Staff who do not use them (overwhelmed: they work around the tools, « retour au papier ») do not
follow the bar, and lose the unconsolidated skill a training brought them at
``staff.gain_decay_rate`` a year (« les agents oublient », seed 002 L1313-1315; half-life of
6.5-13 months without use, docs/FIGURES.md §5). So the gap to the bar widens for those left
behind (« le temps long de l'acculturation ne coïncide pas ... avec le rythme imposé par le
changement numérique », seed 002 L2132-2134), and a training that does not lift its trainee
to the tools is lost.
"""

from __future__ import annotations

import numpy as np

from sim.processes import Process


def uses_tools(skill, required: float, band: float):
    """Staff who use the tools: within the following band of the required skill."""
    return skill >= required - band


def practise(skill, fresh_gain, use, learnt: float, decay: float):
    """(new skill, new fresh gain): users learn ``learnt`` by doing and consolidate their fresh
    gain; the others lose ``decay`` of it. (Written with in-place operations: at national scale
    each temporary array is 15 MB.)"""
    if np.ndim(skill) == 0:  # one staff member (the per-agent reference): the same operations
        lost = 0.0 if use else fresh_gain * decay
        return min(max(skill + (learnt if use else 0.0) - lost, 0.0), 1.0), 0.0 if use else fresh_gain - lost
    kept = ~use
    lost = fresh_gain * decay
    lost *= kept  # 0 for users (multiplying by a mask: four times faster than np.where here)
    new_skill = skill - lost  # skill + 0.0 - lost: the same bits
    new_skill += use * learnt
    np.clip(new_skill, 0.0, 1.0, out=new_skill)
    new_fresh = fresh_gain - lost
    new_fresh *= kept
    return new_skill, new_fresh


def step_factors(model) -> tuple[float, float]:
    """(skill learnt by doing this step, share of an unused fresh gain lost this step)."""
    sc = model.cfg.staff
    rise = max(model.required_skill_rise, 0.0)
    return sc.learning_by_doing * rise, 1.0 - np.exp(-sc.gain_decay_rate / model.steps_per_year)


def step(model) -> None:
    st = model.staff
    # Over the whole columns, written back to current staff only (see sim.processes.peer_learning).
    n = st.size
    active = st.active[:n]
    skill, fresh = st.skill[:n], st.fresh_gain[:n]
    use = uses_tools(skill, model.required_skill, model.cfg.drivers.following_band)
    new_skill, new_fresh = practise(skill, fresh, use, *step_factors(model))
    np.copyto(skill, new_skill, where=active)
    np.copyto(fresh, new_fresh, where=active)


PROCESS = Process(
    name="practice",
    step=step,
    summary="staff who use the tools follow part of the bar's rise and keep their training; others lose it",
    reads=("staff.skill", "staff.fresh_gain"),
    writes=("staff.skill", "staff.fresh_gain"),
)
