"""Mutualisation: communes join pools that give them pooled IT capacity (DESIGN.md, Process 6).

Pools are the EPCI (``mode=epci``: each EPCI pools for its member communes) or a
département-wide public digital-services operator (``mode=opsn``: seed 000 L91). Only
communes join, and membership is kept once taken.

Joining (per step, for communes not yet pooled) has a yearly hazard
``base + gap_weight * (1 - capacity) + imitation_weight * (share of pooled neighbours + share
of pooled similar communes) / 2 (+ push_rate while the pooled share is below the policy
coverage)``; neighbours are the communes of the same EPCI, similar ones those of the same
population band in the same département (imitation of neighbouring and similar communes:
research/anchors.md C.4, Attour 2013).

Pooled capacity: members pay ``contribution_share`` of their investment budget into the pool,
the State adds the mutualisation subsidy; the pool buys IT FTE, which economies of scale and a
coordination cost turn into ``raw * members^scale_exponent / (1 + coordination_cost *
(members - 1))`` effective FTE (seed 000 L59, L92; seed 002 L1535-1538), shared among members
half equally (non-rival services) and half in proportion to their staff. Small communes, with
no IT team of their own, gain most.
"""

from __future__ import annotations

import numpy as np

from sim.selection import group_mean


def effective_pool_fte(raw_fte, members, scale_exponent: float, coordination_cost: float):
    members = np.maximum(members, 1.0)
    return raw_fte * members**scale_exponent / (1.0 + coordination_cost * (members - 1.0))


def pool_keys(model) -> np.ndarray:
    """Pool id each commune would belong to (-1 for non-communes or communes without one)."""
    c = model.colls
    mode = model.cfg.mutualisation.mode
    key = c.epci if mode == "epci" else c.departement
    return np.where((c.kind == 0) & (key >= 0), key, -1)


def join_hazard(capacity, neighbours_pooled, similar_pooled, push, m) -> np.ndarray:
    """Yearly joining hazard of unpooled communes."""
    return (
        m.base_join_rate
        + m.gap_weight * (1.0 - capacity)
        + m.imitation_weight * 0.5 * (neighbours_pooled + similar_pooled)
        + push
    )


def step(model) -> None:
    from sim.processes.budget import lever_allocation

    m = model.cfg.mutualisation
    c = model.colls
    model.pool_fte_share = np.zeros(c.n)
    if m.mode == "none":
        return
    keys = pool_keys(model)
    communes = keys >= 0
    pooled = c.pool >= 0

    # Joining decisions of unpooled communes.
    candidates = communes & ~pooled
    if candidates.any():
        n_keys = int(keys.max()) + 1
        nb_share, _ = group_mean(keys[communes], pooled[communes].astype(float), n_keys)
        sim_key = c.departement * 8 + c.pop_band
        sim_size = int(sim_key.max()) + 1
        sim_share, _ = group_mean(sim_key[communes], pooled[communes].astype(float), sim_size)
        pooled_share = pooled[communes].mean()
        push = m.push_rate if pooled_share < m.coverage else 0.0
        hazard = join_hazard(
            c.capacity_index, np.nan_to_num(nb_share[np.maximum(keys, 0)]), np.nan_to_num(sim_share[sim_key]), push, m
        )
        p = 1.0 - np.exp(-hazard / model.steps_per_year)
        joins = candidates & (model.rng.random(c.n) < p)
        c.pool[joins] = keys[joins]
        model.counters["joins"] += int(joins.sum())

    pooled = c.pool >= 0
    if not pooled.any():
        return
    n_pools = int(c.pool.max()) + 1
    contribution = np.where(pooled, m.contribution_share * model.alloc_investment, 0.0)
    model.alloc_investment = model.alloc_investment - contribution
    subsidy = lever_allocation(model, m.subsidy_eur_per_staff) if m.subsidy_eur_per_staff > 0 else np.zeros(c.n)
    subsidy = np.where(pooled, subsidy, 0.0)  # the subsidy follows pooled staff
    # The lever's money is the State subsidy (capped by its budget); members' contributions are
    # their own investment money moved into the pool, accounted apart.
    model.spend["mutualisation"] += float(subsidy.sum())
    model.spend["pool_contributions"] += float(contribution.sum())
    pool_money = np.bincount(c.pool[pooled], weights=(contribution + subsidy)[pooled], minlength=n_pools)
    members = np.bincount(c.pool[pooled], minlength=n_pools).astype(float)
    raw = pool_money * model.steps_per_year / model.cfg.behaviour.it_fte_cost_eur
    pool_fte = effective_pool_fte(raw, members, m.scale_exponent, m.coordination_cost)
    real_staff = c.n_staff / model.cfg.territory.staff_scale
    pool_staff = np.bincount(c.pool[pooled], weights=real_staff[pooled], minlength=n_pools)
    # Half of a pool's capacity is shared equally (non-rival services: software, DPO, support),
    # half in proportion to members' staff (an assumption).
    p = np.maximum(c.pool, 0)
    share = np.where(pooled, 0.5 / np.maximum(members[p], 1.0) + 0.5 * real_staff / np.maximum(pool_staff[p], 1.0), 0.0)
    model.pool_fte_share = np.where(pooled, pool_fte[np.maximum(c.pool, 0)] * share, 0.0)
    model.pool_members = members
