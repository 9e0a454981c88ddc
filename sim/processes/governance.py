"""Governance: sponsorship, digital strategy and monitoring (DESIGN.md, Processes 6-7; lever).

- Elections (``drivers.municipal_elections`` for communes and EPCI, ``departmental_elections``
  for départements and régions): the executive changes in ``executive_change_share`` of the
  collectivités, whose sponsorship is drawn again (new executives tend to put digital higher:
  docs/FIGURES.md §6); a new executive abandons the strategy with ``strategy_loss_on_change``.
- Between elections sponsorship imitates peers (mean of the same EPCI for communes, of the same
  kind in the same région otherwise: research/anchors.md C.4) and follows results: it closes a
  share of its gap to maturity each year (results sustain commitment; awareness not followed by
  results fades: research/seed_003_004.md §4.1 M1).
- The awareness lever (seed 003 L52, L54-58) buys programmes for collectivités chosen by its
  allocation (need: lack of sponsorship); a programme closes ``gain`` of the gap to full
  sponsorship.
- A formal digital strategy is adopted with a yearly hazard proportional to sponsorship, lower
  without a critical-size IT team, own or pooled (« sans DSI de taille critique », seed 000 L92;
  the strategy's maturity drives integration, seed 000 L59); monitoring and evaluation follow a
  strategy with a hazard proportional to IT capacity.
- The five survey profiles count the criteria met: sponsorship (an élu in charge), a formal
  strategy, specialised digital staff (own, or a critical-size pool), emerging online services,
  monitoring; 0-1 criteria is Observateur, 5 Systémique.
"""

from __future__ import annotations

import numpy as np

from sim import levers
from sim.processes import Process
from sim.selection import group_mean, weighted_order


def hazard_probability(yearly_hazard, steps_per_year: int):
    return 1.0 - np.exp(-np.asarray(yearly_hazard) / steps_per_year)


def has_specialised_staff(c) -> np.ndarray:
    """Own digital staff (at least one FTE) or a pool of critical size."""
    return (c.it_fte + c.recruited_fte >= 1.0) | c.pool_critical


def criteria(c, o) -> np.ndarray:
    """The five criteria of the survey profiles, one column each (n x 5 booleans)."""
    return np.column_stack(
        [
            c.sponsorship >= o.profile_sponsorship,
            c.has_strategy,
            has_specialised_staff(c),
            c.services_online >= o.profile_services,
            c.has_monitoring,
        ]
    )


def profile_index(c, o) -> np.ndarray:
    """Survey profile of each collectivité (index into sim.state.PROFILES): criteria met - 1."""
    return np.clip(criteria(c, o).sum(axis=1) - 1, 0, 4).astype(np.int8)


def peer_sponsorship(c) -> np.ndarray:
    """Mean sponsorship of each collectivité's peers: the communes of its EPCI for a commune, the
    collectivités of its kind in its région otherwise."""
    communes = (c.kind == 0) & (c.epci >= 0)
    by_epci, _ = group_mean(c.epci[communes], c.sponsorship[communes], c.n)
    key = np.maximum(c.region, 0) * 4 + c.kind
    by_region, _ = group_mean(key, c.sponsorship, int(key.max()) + 1)
    peer = np.where(communes, by_epci[np.maximum(c.epci, 0)], by_region[key])
    return np.where(np.isnan(peer), c.sponsorship, peer)


def need(model) -> np.ndarray:
    """Need for the awareness lever: lack of sponsorship."""
    return 1.0 - model.colls.sponsorship


def elections(model, rng) -> None:
    c, d, o = model.colls, model.cfg.drivers, model.cfg.organisation
    for dates, kinds in ((d.municipal_elections, (0, 1)), (d.departmental_elections, (2, 3))):
        for date in dates:
            if model.crossed(date):
                change = np.isin(c.kind, kinds) & (rng.random(c.n) < o.executive_change_share)
                drawn = rng.beta(*o.new_executive_beta, c.n)
                c.sponsorship[change] = drawn[change]
                lose = change & c.has_strategy & (rng.random(c.n) < o.strategy_loss_on_change)
                c.has_strategy[lose] = False
                c.has_monitoring[lose] = False
                model.counters["executive_changes"] += int(change.sum())


def awareness(model) -> None:
    s = model.cfg.sponsorship
    c = model.colls
    had = levers.available(model, "sponsorship")
    n = int(min(np.floor(had / s.cost_per_collectivite_eur + 1e-9), c.n))
    spent = 0.0
    if n > 0:
        w = levers.allocation_weights(model, "sponsorship")
        order = weighted_order(w, model.streams["lever.sponsorship"])
        chosen = order[:n][w[order[:n]] > 0]
        c.sponsorship[chosen] += s.gain * (1.0 - c.sponsorship[chosen])
        spent = len(chosen) * s.cost_per_collectivite_eur
        model.counters["awareness_programmes"] += len(chosen)
    levers.record(model, "sponsorship", spent, had)


def step(model) -> None:
    c, o = model.colls, model.cfg.organisation
    spy = model.steps_per_year
    rng = model.streams["governance"]
    elections(model, rng)
    drift = o.sponsorship_peer_rate * (peer_sponsorship(c) - c.sponsorship) + o.sponsorship_maturity_rate * (
        c.maturity - c.sponsorship
    )
    c.sponsorship = np.clip(c.sponsorship + drift / spy, 0.0, 1.0)
    awareness(model)

    critical = (c.it_fte + c.recruited_fte >= o.dsi_critical_fte) | c.pool_critical
    h_strategy = o.strategy_rate * c.sponsorship * np.where(critical, 1.0, o.below_critical_factor)
    adopt = ~c.has_strategy & (rng.random(c.n) < hazard_probability(h_strategy, spy))
    c.has_strategy |= adopt
    h_monitoring = o.monitoring_rate * c.capacity_index
    start = c.has_strategy & ~c.has_monitoring & (rng.random(c.n) < hazard_probability(h_monitoring, spy))
    c.has_monitoring |= start
    model.counters["strategies_adopted"] += int(adopt.sum())


PROCESS = Process(
    name="governance",
    step=step,
    summary="elections, sponsorship following peers and results, the awareness lever, strategy and monitoring",
    reads=("colls.maturity", "colls.it_fte", "colls.recruited_fte", "colls.pool_critical", "colls.capacity_index"),
    writes=("colls.sponsorship", "colls.has_strategy", "colls.has_monitoring"),
    levers=("sponsorship",),
    needs={"sponsorship": need},
)
