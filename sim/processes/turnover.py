"""Turnover: ageing, retirement, departures and replacement hiring (DESIGN.md, Process 5).

- Staff age by one step; those at or above the retirement age retire.
- Others leave with a yearly departure rate, higher for digital staff (private-sector
  competition: seed 004 L113).
- A departure from an ordinary post is replaced with probability ``replacement_rate`` (1 =
  headcount kept, seed 004 L48) by a hire on the same post (same category and job family),
  younger, whose skill is drawn like the initial staff's plus a bonus (younger generations, seed
  000 L23). Digital posts are not replaced here: the collectivité's own hiring reopens them
  (:mod:`sim.processes.it_staff`), and the recruitment lever's posts go back to the lever.

Staff counts change only here and in the hiring processes.
"""

from __future__ import annotations

import numpy as np

from sim.processes import Process
from sim.state import DIGITAL
from sim.territory.staffing import draw_staff, stochastic_round


def leaving(age, retirement_age: float, departure_draw, departure_probability):
    """True where a staff member leaves this step (retired or departed)."""
    return (age >= retirement_age) | (departure_draw < departure_probability)


def departure_probability(yearly_rate, steps_per_year: int):
    return 1.0 - (1.0 - yearly_rate) ** (1.0 / steps_per_year)


def step(model) -> None:
    st = model.staff
    sc = model.cfg.staff
    rng = model.streams["turnover"]
    rows = st.active_rows()
    age = st.age[: st.size]
    np.add(age, 1.0 / model.steps_per_year, out=age, where=st.active[: st.size])  # current staff age
    digital = st.job_family[rows] == DIGITAL
    # The two departure probabilities (others, digital staff), picked for each staff member.
    rates = np.array([sc.departure_rate, min(sc.departure_rate + sc.digital_departure_extra, 1.0)])
    others, digital_p = departure_probability(rates, model.steps_per_year)
    probability = np.where(digital, digital_p, others)
    draw = rng.random(len(rows))
    leaves = leaving(age[rows], sc.retirement_age, draw, probability)
    gone = rows.take(np.flatnonzero(leaves))
    retired = int((st.age[gone] >= sc.retirement_age).sum())
    model.counters["retirements"] += retired
    model.counters["departures"] += len(gone) - retired
    model.counters["digital_departures"] += int(digital[leaves].sum())

    ordinary = gone[(st.job_family[gone] != DIGITAL) & ~st.recruited[gone]]
    employers, category, family = st.employer[ordinary], st.category[ordinary], st.job_family[ordinary]
    model.remove_staff(gone)

    replaced = (
        rng.random(len(ordinary)) < sc.replacement_rate if sc.replacement_rate < 1.0 else np.ones(len(ordinary), bool)
    )
    extra = stochastic_round(np.full(len(ordinary), max(sc.replacement_rate - 1.0, 0.0)), rng)
    n_hires = replaced.astype(np.int64) + extra
    if n_hires.sum():
        idx = np.repeat(np.arange(len(ordinary)), n_hires)
        cols = draw_staff(
            employers[idx],
            model.cfg,
            rng,
            age_mean=sc.hire_age_mean,
            bonus=sc.hire_skill_bonus,
            category=category[idx],
            job_family=family[idx],
        )
        model.add_staff(cols)
        model.counters["hires"] += len(idx)


PROCESS = Process(
    name="turnover",
    step=step,
    summary="ageing, retirement, departures (more for digital staff), replacement on the same post",
    reads=("staff.age", "staff.job_family", "staff.recruited"),
    writes=("staff.age", "staff.active", "staff.employer", "staff.skill"),
)
