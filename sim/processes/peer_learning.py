"""Peer learning: colleagues and referents raise skills (DESIGN.md, Process 4; lever).

Inside each collectivité, staff below the mean skill of its proficient colleagues close a
share of the gap each step: ``rate * (reference - skill) * (1 - w * attitude)``. The base
rate is spontaneous learning between colleagues (seed 002 L1266-1269); the referent-network
lever (seed 003 L23-26, recommendation 2) funds referents' time, shared among collectivités by
its allocation, which raises the rate in proportion to referents per staff; pooled members also
draw on their pool's referents and skilled staff. What is learnt this way fades unless it is used,
like a training's gain (:mod:`sim.processes.practice`).
"""

from __future__ import annotations

import numpy as np

from sim import levers
from sim.processes import Process
from sim.selection import group_mean, ratio


def peer_gain(skill, reference, attitude, rate, resistance_weight: float):
    return rate * np.maximum(0.0, reference - skill) * (1.0 - resistance_weight * attitude)


def need(model) -> np.ndarray:
    """Need for the lever: the share of a collectivité's staff below the required skill."""
    return 1.0 - model.colls.proficient_share


def step(model) -> None:
    st, c = model.staff, model.colls
    r = model.cfg.referents
    sc = model.cfg.staff
    real_staff = np.maximum(model.flows.staff, 1.0)
    budget = levers.available(model, "referents")
    money = levers.share(model, "referents", budget)
    c.referents = money * model.steps_per_year / r.cost_per_referent_eur  # FTE-equivalents, spent in full
    levers.record(model, "referents", float(money.sum()), budget)

    # Computed over the whole columns and written back to current staff only (masked): the
    # leavers' rows not yet compacted away are left as they were. Cheaper than gathering and
    # scattering the current staff's rows, and the same values, in the same row order.
    n = st.size
    active = st.active[:n]
    skill = st.skill[:n]
    emp = st.employer[:n]
    proficient = skill >= model.required_skill
    proficient &= active
    # Indices, then gathers: boolean indexing with an irregular mask is several times slower.
    which = np.flatnonzero(proficient)
    emp_p, skill_p = emp.take(which), skill.take(which)
    ref_own, count_own = group_mean(emp_p, skill_p, c.n)
    referents_per_staff = c.referents / real_staff

    pooled = c.pool >= 0
    if pooled.any():
        n_pools = int(c.pool.max()) + 1
        pool_of_row = np.where(pooled, c.pool, n_pools)
        # The pools' counts add up the collectivités' (integers: exact); their skill totals are
        # summed over the staff, in row order, like the collectivités'.
        pool_total = np.bincount(pool_of_row[emp_p], weights=skill_p, minlength=n_pools + 1)
        ref_pool = ratio(pool_total, np.bincount(pool_of_row, weights=count_own, minlength=n_pools + 1))
        pool_ref_fte = np.bincount(pool_of_row, weights=c.referents, minlength=n_pools + 1)
        pool_staff = np.bincount(pool_of_row, weights=real_staff, minlength=n_pools + 1)
        spill = np.where(
            pooled, r.pool_spillover * pool_ref_fte[pool_of_row] / np.maximum(pool_staff[pool_of_row], 1.0), 0.0
        )
        referents_per_staff = referents_per_staff + spill
        ref_pool_row = np.where(pooled, ref_pool[pool_of_row], np.nan)
        reference = np.fmax(ref_own, ref_pool_row)
    else:
        reference = ref_own
    rate = sc.peer_learning_rate + r.learning_per_referent_share * referents_per_staff
    # Collectivités without a reference get -inf: the gain max(0, reference - skill) is then 0
    # (the same result as skipping their staff, without masking two million rows).
    reference = np.where(np.isnan(reference), -np.inf, reference)
    # peer_gain(skill, reference[emp], attitude, rate[emp], w), in place: the same operations in
    # the same order, without four staff-long temporaries.
    gap = reference.take(emp)
    gap -= skill
    np.maximum(0.0, gap, out=gap)
    gain = rate.take(emp)
    gain *= gap
    openness = np.multiply(sc.resistance_weight, st.attitude[:n], out=gap)
    np.subtract(1.0, openness, out=openness)
    gain *= openness
    new = skill + gain
    np.minimum(new, 1.0, out=new)
    # Like a training's, what colleagues teach fades unless it is used (sim.processes.practice).
    learnt = np.subtract(new, skill, out=gain)
    np.copyto(skill, new, where=active)
    np.add(st.fresh_gain[:n], learnt, out=st.fresh_gain[:n], where=active)


PROCESS = Process(
    name="peer_learning",
    step=step,
    summary="colleagues and referents (lever) close part of the gap to the skilled staff of the collectivité or its pool",
    reads=("colls.pool", "staff.skill", "staff.attitude"),
    writes=("staff.skill", "staff.fresh_gain", "colls.referents"),
    levers=("referents",),
    needs={"referents": need},
)
