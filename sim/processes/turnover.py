"""Turnover: ageing, retirement, departures and replacement hiring (DESIGN.md, Process 5).

- Staff age by one step; those at or above the retirement age retire (the oldest leave
  first).
- Others leave with a yearly departure rate.
- Each departure of an ordinary post is replaced with probability ``replacement_rate`` (1 =
  headcount kept, seed 004 L48) by a younger hire whose skill is drawn like the initial staff
  plus a bonus (younger generations, seed 000 L23). Digital profiles hired under the
  recruitment lever are not replaced here: their post goes back to that lever.

Staff counts change only here and in the recruitment lever.
"""

from __future__ import annotations

import numpy as np

from sim.territory.staffing import draw_staff, stochastic_round


def leaving(age, retirement_age: float, departure_draw, departure_probability: float):
    """True where a staff member leaves this step (retired or departed)."""
    return (age >= retirement_age) | (departure_draw < departure_probability)


def step(model) -> None:
    st, c = model.staff, model.colls
    b = model.cfg.behaviour
    rows = st.active_rows()
    st.age[rows] += 1.0 / model.steps_per_year
    p_depart = 1.0 - (1.0 - b.departure_rate) ** (1.0 / model.steps_per_year)
    draw = model.rng.random(len(rows))
    leaves = leaving(st.age[rows], b.retirement_age, draw, p_depart)
    gone = rows[leaves]
    retired = int((st.age[gone] >= b.retirement_age).sum())
    model.counters["retirements"] += retired
    model.counters["departures"] += len(gone) - retired

    recruited = gone[st.recruited[gone]]
    np.subtract.at(c.recruited_fte, st.employer[recruited], 1.0 / model.cfg.territory.staff_scale)
    np.maximum(c.recruited_fte, 0.0, out=c.recruited_fte)
    ordinary = gone[~st.recruited[gone]]
    model.remove_staff(gone)

    per_employer = np.bincount(st.employer[ordinary], minlength=c.n).astype(np.float64)
    hires = stochastic_round(per_employer * b.replacement_rate, model.rng)
    employers = np.repeat(np.arange(c.n), hires)
    if len(employers):
        cols = draw_staff(employers, model.cfg, model.rng, age_mean=b.hire_age_mean, bonus=b.hire_skill_bonus)
        model.add_staff(cols)
        model.counters["hires"] += len(employers)
