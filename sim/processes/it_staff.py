"""The collectivités' own digital staff: posts, hiring and arrivals (DESIGN.md, Process 5).

A collectivité aims at a number of digital posts: ``it_staff_share * staff / (staff + half)`` of
its staff (small communes aim at none and rely on providers and pools: seed 002 L2754-2757),
more with a digital strategy (seed 000 L59, L63-64), and no more than its digital budget can pay
(``max_payroll_share``). Missing posts are opened; an open post is filled each step with a
probability that grows with the employer's attractiveness: its size, not being rural, and its
maturity relative to the others' (« attractives numériquement pour pouvoir recruter des talents »,
collectivités « en concurrence entre elles », seed 002 L675-682;
experts concentrated in metropoles, seed 000 L99-100; private-sector competition, seed 004
L113). A filled post is taken ``hire_delay_steps`` later by a new digital Staff agent, whose
salary the collectivité's budget pays from then on (:mod:`sim.processes.budget`). Digital staff
who leave (:mod:`sim.processes.turnover`) leave a gap that this process reopens.

The recruitment lever (:mod:`sim.processes.recruitment`) hires through the same functions.
"""

from __future__ import annotations

import numpy as np

from sim.processes import Process
from sim.state import DIGITAL
from sim.territory.staffing import initial_attitude


def it_share(real_staff, share: float, half_size: float):
    """Digital staff as a share of staff: ``share * staff / (staff + half)``."""
    return share * real_staff / (real_staff + half_size)


def it_target(real_staff, has_strategy, t, o):
    """Digital posts a collectivité aims at (whole posts)."""
    want = it_share(real_staff, t.it_staff_share, t.it_staff_half_size) * real_staff
    return np.floor(want * (1.0 + o.strategy_it_extra * has_strategy) + 0.5)


def attractiveness(population, rural, maturity, o, mean_maturity: float = 0.0):
    """Relative attractiveness of an employer to digital profiles: its size, not being rural, and
    its maturity relative to the mean (collectivités compete for the same candidates: the more
    advanced draw them from the others; « en concurrence entre elles », seed 002 L675-682)."""
    size = np.sqrt(population / (population + o.hire_size_half))
    talent = (1.0 + o.hire_maturity_attraction * maturity) / (1.0 + o.hire_maturity_attraction * mean_maturity)
    return size * np.where(rural, o.hire_rural_penalty, 1.0) * talent


def fill_probability(attract, success: float, premium_factor: float = 1.0):
    """Probability that an open post is filled this step."""
    return np.minimum(1.0, success * attract * premium_factor)


def schedule(model, employers: np.ndarray, recruited: bool) -> None:
    """Posts just filled (one entry per real post): their hires arrive after the hiring delay."""
    if len(employers) == 0:
        return
    c = model.colls
    np.add.at(c.recruited_pending if recruited else c.it_pending, employers, 1.0)
    model.arrivals.append((model.step_index + model.cfg.organisation.hire_delay_steps, employers, recruited))


def arrive(model) -> None:
    """Hires whose delay is over take their posts: new digital Staff agents."""
    due = [a for a in model.arrivals if a[0] <= model.step_index]
    if not due:
        return
    model.arrivals = [a for a in model.arrivals if a[0] > model.step_index]
    c, cfg = model.colls, model.cfg
    rng = model.streams["it_hiring.arrivals"]
    for _, employers, recruited in due:
        np.subtract.at(c.recruited_pending if recruited else c.it_pending, employers, 1.0)
        scale = cfg.territory.staff_scale
        # One hire is one real FTE; in the modelled sample it is a Staff agent with probability scale.
        agents = employers[rng.random(len(employers)) < scale] if scale < 1.0 else employers
        n = len(agents)
        if n == 0:
            continue
        t, st = cfg.territory, cfg.staff
        age = np.clip(st.hire_age_mean + t.age_sd * rng.standard_normal(n), 20.0, st.retirement_age - 0.5)
        lo, hi = st.digital_hire_skill
        model.add_staff(
            {
                "employer": agents,
                "category": rng.choice(3, size=n, p=np.asarray(t.category_shares) / sum(t.category_shares)).astype(
                    np.int8
                ),
                "job_family": np.full(n, DIGITAL, dtype=np.int8),
                "age": age,
                "skill": rng.uniform(lo, hi, n),
                "attitude": initial_attitude(age, cfg.initial, rng),
                "recruited": np.full(n, recruited, dtype=bool),
            }
        )
        # Keep the digital staff counts current within the step (the refresh recomputes them).
        np.add.at(c.recruited_fte if recruited else c.it_fte, agents, 1.0 / scale)
        model.counters["digital_hires_lever" if recruited else "digital_hires_own"] += n


def step(model) -> None:
    c, cfg = model.colls, model.cfg
    o, t = cfg.organisation, cfg.territory
    arrive(model)
    target = it_target(np.maximum(model.flows.staff, 1.0), c.has_strategy, t, o)
    affordable = np.floor(o.max_payroll_share * c.budget * model.budget_factor / o.it_cost_eur + 1e-9)
    goal = np.minimum(target, affordable)
    # Open the missing posts; close open posts beyond the goal (a budget cut, a lost strategy).
    room = np.maximum(goal - c.it_fte - c.it_pending, 0.0)
    c.it_vacancies = room
    n_open = c.it_vacancies.astype(np.int64)
    if n_open.sum() > 0:
        p = fill_probability(attractiveness(c.population, c.rural, c.maturity, o, c.maturity.mean()), o.hire_success)
        filled = model.streams["it_hiring"].binomial(n_open, p)
        c.it_vacancies -= filled
        model.counters["digital_posts_open"] += int(n_open.sum())
        schedule(model, np.repeat(np.arange(c.n), filled), recruited=False)
        arrive(model)


PROCESS = Process(
    name="it_staff",
    step=step,
    summary="the collectivités' own digital posts: opened up to a target their budget can pay, filled by attractiveness, hires arriving",
    reads=("colls.it_fte", "colls.has_strategy", "colls.budget", "colls.maturity"),
    writes=("colls.it_vacancies", "colls.it_pending", "staff.active", "staff.employer"),
)
