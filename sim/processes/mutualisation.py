"""Mutualisation: pools of collectivités that share IT capacity (DESIGN.md, Process 6; lever).

Structures (``mutualisation.structure``): each EPCI runs a service commun for its communes
('epci'), or a département-wide public digital-services operator, an OPSN, serves the communes
and EPCI of the département and is hosted by the département ('opsn'; seed 000 L91). Pools
exist at the start (initial.pooled_share_by_band: mutualised IT services predate 2018, mostly for
small communes); membership is kept once taken.

Joining (unpooled members-to-be, each step) has a yearly hazard ``base + gap_weight * (1 -
capacity) + imitation_weight * (share of pooled neighbours + share of pooled similar communes) /
2``; neighbours are those of the same pool, similar ones communes of the same population band
in the same département (imitation of neighbouring and similar communes: research/anchors.md
C.4, Attour 2013).

The lever: while the pooled share of communes is below ``coverage``, the lever pushes
collectivités in, each pushed membership costing ``join_support_eur`` (convention, migration,
animation); without money there is no push. The rest of its budget subsidises the pools, shared
by its allocation among the members.

Pool capacity: members pay a yearly fee per inhabitant out of their investment budget (their own
money, spend_pool_contributions_eur), and the lever offers a subsidy. A pool hires staff up to what
this money pays at ``organisation.it_cost_eur``, with the same frictions as a collectivité (an
open post is filled with the probability of :mod:`sim.processes.it_staff`, by the attractiveness
of its members' population and its host); salaries are paid from the fees first, and the lever
pays the rest up to its offer (money offered for posts not filled is not spent and is reported).
Its staff give ``staff * members ** scale_exponent`` effective FTE (with
economies of scale beyond the critical size: shared software, hosting, procurement; seed 000
L59, seed 002 L1535-1538). The pool's capacity index is computed like a collectivité's
(:func:`sim.processes.maturity.capacity_index`), against its members' needs: their needs per staff
member, one fixed need for the whole pool (where pooling saves: the fixed costs of an IT function
are paid once) and a coordination cost of ``coordination_cost`` fixed needs per extra member. A
pool below the critical size of an IT team gets the below-critical cut (seed 000 L92): small
pools give little. Members combine their own capacity and the pool's (maturity process).
"""

from __future__ import annotations

import numpy as np

from sim import levers
from sim.processes import Process
from sim.selection import group_mean, weighted_order
from sim.state import POP_BANDS


def effective_pool_fte(raw_fte, members, scale_exponent: float):
    """FTE of service a pool's money buys, with economies of scale beyond the critical size."""
    return raw_fte * np.maximum(members, 1.0) ** scale_exponent


def pool_capacity_index(fte, pool_staff, members, coordination_cost: float, o):
    """Capacity index of each pool against its members' needs: per staff member, one fixed need
    for the pool, and ``coordination_cost`` fixed needs per member beyond the first."""
    from sim.processes.maturity import capacity_index

    fixed = o.capacity_need_fixed * (1.0 + coordination_cost * np.maximum(members - 1.0, 0.0))
    return capacity_index(
        fte, pool_staff, fte >= o.dsi_critical_fte, o.capacity_need_per_staff, fixed, o.below_critical_factor
    )


def pool_keys(c, structure: str) -> np.ndarray:
    """Pool each collectivité can belong to (-1: none): its EPCI's for communes ('epci'), its
    département's OPSN for communes and EPCI ('opsn')."""
    if structure == "epci":
        return np.where((c.kind == 0) & (c.epci >= 0), c.epci, -1)
    if structure == "opsn":
        return np.where(((c.kind == 0) | (c.kind == 1)) & (c.departement >= 0), c.departement, -1)
    return np.full(c.n, -1, dtype=np.int64)


def pool_hosts(c, structure: str) -> np.ndarray:
    """Row of the collectivité hosting each pool id: the EPCI ('epci'), or the département's
    collectivité, else its most populous commune ('opsn')."""
    if structure != "opsn":
        return np.arange(c.n)
    n_dep = int(c.departement.max()) + 1 if c.n else 0
    hosts = np.full(max(n_dep, 1), -1, dtype=np.int64)
    deps = np.flatnonzero(c.kind == 2)
    hosts[c.departement[deps]] = deps
    for d in np.flatnonzero(hosts < 0):
        members = np.flatnonzero((c.departement == d) & (c.kind == 0))
        hosts[d] = members[np.argmax(c.population[members])] if len(members) else 0
    return hosts


def join_hazard(capacity, neighbours_pooled, similar_pooled, m) -> np.ndarray:
    """Yearly spontaneous joining hazard."""
    return (
        m.base_join_rate
        + m.gap_weight * (1.0 - capacity)
        + m.imitation_weight * 0.5 * (neighbours_pooled + similar_pooled)
    )


def need(model) -> np.ndarray:
    """Need for the lever: the IT capacity gap."""
    return 1.0 - model.colls.capacity_index


def pool_fill_probability(model, pool, pooled, n_pools) -> np.ndarray:
    """Probability that a pool fills an open post this step: the attractiveness of its members'
    population, its host's rurality and maturity (sim.processes.it_staff)."""
    from sim.processes.it_staff import attractiveness, fill_probability

    c = model.colls
    hosts = np.zeros(n_pools, dtype=np.int64)
    known = pool_hosts(c, model.cfg.mutualisation.structure)[:n_pools]
    hosts[: len(known)] = known
    population = np.bincount(pool[pooled], weights=c.population[pooled], minlength=n_pools)
    o = model.cfg.organisation
    attract = attractiveness(np.maximum(population, 1.0), c.rural[hosts], c.maturity[hosts], o, c.maturity.mean())
    return fill_probability(attract, o.hire_success)


def step(model) -> None:
    m = model.cfg.mutualisation
    c = model.colls
    spy = model.steps_per_year
    budget = levers.available(model, "mutualisation")
    c.pool_fte[:] = 0.0
    c.pool_capacity[:] = 0.0
    c.pool_critical[:] = False
    if m.structure == "none":
        levers.record(model, "mutualisation", 0.0, budget)
        return
    keys = pool_keys(c, m.structure)
    eligible = keys >= 0
    pooled = c.pool >= 0
    candidates = eligible & ~pooled
    communes = (c.kind == 0) & eligible
    spent = 0.0
    available = budget

    if candidates.any():
        n_keys = int(keys.max()) + 1
        nb_share, _ = group_mean(keys[eligible], pooled[eligible].astype(float), n_keys)
        sim_key = np.maximum(c.departement, 0) * len(POP_BANDS) + c.pop_band
        sim_share, _ = group_mean(sim_key[communes], pooled[communes].astype(float), int(sim_key.max()) + 1)
        hazard = join_hazard(
            c.capacity_index, np.nan_to_num(nb_share[np.maximum(keys, 0)]), np.nan_to_num(sim_share[sim_key]), m
        )
        joins = candidates & (model.streams["mutualisation"].random(c.n) < 1.0 - np.exp(-hazard / spy))
        c.pool[joins] = keys[joins]
        model.counters["joins"] += int(joins.sum())

        # The lever pushes members in while below its coverage target, as far as its money goes.
        target = int(np.ceil(m.coverage * int(communes.sum()) - 1e-9))
        missing = target - int((c.pool[communes] >= 0).sum())
        if missing > 0 and available > 0:
            rng = model.streams["lever.mutualisation"]
            still = candidates & (c.pool < 0)
            drawn = still & (rng.random(c.n) < 1.0 - np.exp(-m.push_rate / spy))
            affordable = missing if m.join_support_eur <= 0 else int(np.floor(available / m.join_support_eur + 1e-9))
            k = min(missing, affordable, int(drawn.sum()))
            if k > 0:
                w = levers.allocation_weights(model, "mutualisation") * drawn
                order = weighted_order(w, rng)
                pushed = order[:k][w[order[:k]] > 0]
                c.pool[pushed] = keys[pushed]
                spent += len(pushed) * m.join_support_eur
                available -= len(pushed) * m.join_support_eur
                model.counters["pushed_joins"] += len(pushed)
            # Keep up to one membership's cost for the next push; the rest subsidises the pools.
            available -= min(available, m.join_support_eur)

    pooled = c.pool >= 0
    if not pooled.any():
        levers.record(model, "mutualisation", spent, budget)
        return
    n_pools = len(model.pool_staff)
    pool = np.maximum(c.pool, 0)
    contribution = np.where(
        pooled,
        np.minimum(m.contribution_eur_per_inh * c.population / spy, np.maximum(model.flows.investment, 0.0)),
        0.0,
    )
    model.flows.investment = model.flows.investment - contribution
    model.spend["pool_contributions"] += float(contribution.sum())
    # The rest of the lever's money is offered to the pools, shared among members by its allocation.
    w = levers.allocation_weights(model, "mutualisation") * pooled
    offer = available * w / w.sum() if (available > 0 and w.sum() > 0) else np.zeros(c.n)

    # Pools hire staff up to what their money pays, as collectivités do (same frictions).
    o = model.cfg.organisation
    fees = np.bincount(pool[pooled], weights=contribution[pooled], minlength=n_pools)
    offered = np.bincount(pool[pooled], weights=offer[pooled], minlength=n_pools)
    target = (fees + offered) * spy / o.it_cost_eur
    if model.pool_staff_started is False:  # pools existing at the start are staffed
        model.pool_staff[:] = target
        model.pool_staff_started = True
    p_fill = pool_fill_probability(model, pool, pooled, n_pools)
    staff_fte = model.pool_staff
    staff_fte[:] = np.where(staff_fte < target, staff_fte + (target - staff_fte) * p_fill, target)
    # Salaries are paid from the members' fees first; the lever pays the rest, up to its offer.
    payroll = staff_fte * o.it_cost_eur / spy
    subsidy_used = np.minimum(offered, np.maximum(payroll - fees, 0.0))
    levers.record(model, "mutualisation", spent + float(subsidy_used.sum()), budget)

    members = np.bincount(pool[pooled], minlength=n_pools).astype(np.float64)
    fte = effective_pool_fte(staff_fte, members, m.scale_exponent)
    real_staff = np.maximum(model.flows.staff, 1.0)
    pool_staff = np.bincount(pool[pooled], weights=real_staff[pooled], minlength=n_pools)
    index = pool_capacity_index(fte, pool_staff, members, m.coordination_cost, o)
    c.pool_fte[:] = np.where(pooled, fte[pool] * real_staff / np.maximum(pool_staff[pool], 1.0), 0.0)
    c.pool_capacity[:] = np.where(pooled, index[pool], 0.0)
    c.pool_critical[:] = pooled & (fte[pool] >= o.dsi_critical_fte)


PROCESS = Process(
    name="mutualisation",
    step=step,
    summary="joining pools (spontaneous, imitation, pushed by the lever), members' fees and the lever's subsidy, pooled capacity",
    reads=("colls.capacity_index", "colls.pop_band", "colls.population"),
    writes=("colls.pool", "colls.pool_fte", "colls.pool_capacity", "colls.pool_critical"),
    levers=("mutualisation",),
    needs={"mutualisation": need},
)
