"""From a table of collectivités to the model's initial state (at the history start, 2018).

Derives, the same way for every territory: rurality, population band, staff counts and their
digital staff (a share that falls with size: small communes have none), the yearly digital
budget (per inhabitant, plus the salaries of the digital staff), sponsorship, initial maturity
(heterogeneous and increasing with size and engagement: seed 000 L59-60, seed 002 L760-761),
services online, open data (size gradient: seed 004 L70), strategy and monitoring (at the
balance of their own dynamics), pools (initial.pooled_share_by_band), inhabitants' age structure
and illectronism by age, and the staff with their category, job family, age, skill and attitude.
Every figure is a parameter of ``territory`` or ``initial``; all draws use the territory's
generator (the territory seed), so every scenario and replicate of a comparison starts from the
same state.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import Config, InitialConfig
from sim.state import DIGITAL, KINDS, NON_DIGITAL_FAMILIES, CollectiviteTable, StaffTable, pop_band_index


def _index(codes: pd.Series, universe: list[str]) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(universe)}
    return np.array([lookup.get(c, -1) for c in codes], dtype=np.int64)


def stochastic_round(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Round to an integer keeping the expectation (floor plus a Bernoulli of the remainder)."""
    base = np.floor(x)
    return (base + (rng.random(len(x)) < (x - base))).astype(np.int64)


def initial_skill(category, job_family, age, cfg: Config, rng: np.random.Generator, bonus=0.0):
    i = cfg.initial
    a, b = i.skill_beta
    skill = (
        rng.beta(a, b, len(age))
        + np.asarray(i.category_skill_shift)[category]
        + np.asarray(i.family_skill_shift)[job_family]
        + i.age_skill_slope * (age - cfg.territory.age_mean)
        + bonus
    )
    return np.clip(skill, 0.0, 1.0)


def initial_attitude(age, i: InitialConfig, rng: np.random.Generator):
    return np.clip(rng.beta(*i.attitude_beta, len(age)) + i.attitude_age_slope * (age - 45.0), 0.0, 1.0)


def draw_staff(
    employers: np.ndarray,
    cfg: Config,
    rng: np.random.Generator,
    age_mean=None,
    bonus=0.0,
    category=None,
    job_family=None,
    digital_share=None,
) -> dict:
    """Columns of new staff for the given employer rows. ``category`` and ``job_family`` keep a
    post's (replacements); otherwise they are drawn, digital with probability ``digital_share``
    (per staff member; 0 if not given) and else from territory.job_family_shares."""
    t = cfg.territory
    n = len(employers)
    if category is None:
        category = rng.choice(3, size=n, p=np.asarray(t.category_shares) / sum(t.category_shares)).astype(np.int8)
    if job_family is None:
        shares = np.asarray(t.job_family_shares) / sum(t.job_family_shares)
        job_family = np.asarray(NON_DIGITAL_FAMILIES, dtype=np.int8)[rng.choice(len(shares), size=n, p=shares)]
        if digital_share is not None:
            job_family = np.where(rng.random(n) < digital_share, np.int8(DIGITAL), job_family).astype(np.int8)
    mean = t.age_mean if age_mean is None else age_mean
    age = np.clip(mean + t.age_sd * rng.standard_normal(n), 20.0, cfg.staff.retirement_age - 0.5)
    return {
        "employer": employers,
        "category": np.asarray(category, dtype=np.int8),
        "job_family": np.asarray(job_family, dtype=np.int8),
        "age": age,
        "skill": initial_skill(category, job_family, age, cfg, rng, bonus),
        "attitude": initial_attitude(age, cfg.initial, rng),
        "recruited": np.zeros(n, dtype=bool),
    }


def age_structure(rural: np.ndarray, shares: list[float], senior_shift: float) -> np.ndarray:
    """Shares of the 15+ population by age group (n x 5): national, older in rural communes."""
    base = np.asarray(shares, dtype=np.float64) / sum(shares)
    older = base.copy()
    working, senior = base[1:3].sum(), base[3:].sum()
    shift = min(senior_shift, working)
    older[1:3] -= shift * base[1:3] / working
    older[3:] += shift * base[3:] / senior
    return np.where(rural[:, None], older, base)


def initial_strategy_probability(sponsorship, critical, cfg: Config):
    """Share of collectivités with a strategy at the balance of its dynamics: adoption at the
    hazard of sim.processes.governance, loss when a new executive drops it (every 6 years)."""
    o = cfg.organisation
    adopt = o.strategy_rate * sponsorship * np.where(critical, 1.0, o.below_critical_factor)
    lose = o.executive_change_share * o.strategy_loss_on_change / 6.0
    return adopt / (adopt + lose)


def populate(table: pd.DataFrame, cfg: Config, rng: np.random.Generator) -> tuple[CollectiviteTable, StaffTable]:
    from sim.processes.it_staff import it_share
    from sim.processes.mutualisation import pool_keys

    t, i, o = cfg.territory, cfg.initial, cfg.organisation
    n = len(table)
    c = CollectiviteTable(n)
    c.staff_scale = t.staff_scale
    kind_names = table["kind"].to_numpy()
    c.kind = np.array([KINDS.index(k) for k in kind_names], dtype=np.int8)
    c.population = np.maximum(table["population"].to_numpy(dtype=np.float64), 1.0)
    c.codes = table["code"].astype(str).tolist()
    c.names = table["name"].astype(str).tolist()
    c.departement_codes = sorted(set(table["departement"].astype(str)) - {""})
    c.region_codes = sorted(set(table["region"].astype(str)) - {""})
    c.departement = _index(table["departement"].astype(str), c.departement_codes)
    c.region = _index(table["region"].astype(str), c.region_codes)
    epci_rows = {code: r for r, (code, k) in enumerate(zip(c.codes, kind_names, strict=True)) if k == "epci"}
    c.epci = np.array([epci_rows.get(e, -1) for e in table["epci"].astype(str)], dtype=np.int64)
    c.x = table["x"].to_numpy(dtype=np.float64)
    c.y = table["y"].to_numpy(dtype=np.float64)

    # Rurality: communes by size; groups by where most of their inhabitants live.
    is_commune = c.kind == 0
    rural_commune = is_commune & (c.population < t.rural_threshold)
    c.rural = rural_commune.copy()
    rural_pop = np.where(rural_commune, c.population, 0.0)
    for key, kind in ((c.epci, 1), (c.departement, 2), (c.region, 3)):
        group_rows = np.flatnonzero(c.kind == kind)
        valid = is_commune & (key >= 0)
        size = max(int(key.max()) + 1, 1) if len(key) else 1
        rp = np.bincount(key[valid], weights=rural_pop[valid], minlength=size)
        tp = np.bincount(key[valid], weights=c.population[valid], minlength=size)
        idx = group_rows if kind == 1 else key[group_rows]
        c.rural[group_rows] = rp[idx] > 0.5 * np.maximum(tp[idx], 1.0)
    c.pop_band = pop_band_index(c.population)

    # Staff counts by kind and size (real), then scaled to the modelled sample.
    rate = np.array([t.staff_per_1000_inh[k] for k in KINDS])[c.kind] / 1000.0
    elastic = np.where(is_commune, (c.population / 1000.0) ** t.staff_size_elasticity, 1.0)
    real_staff = np.maximum(rate * c.population * elastic, np.where(is_commune, 1.0, 5.0))
    n_staff = stochastic_round(real_staff * t.staff_scale, rng)
    if t.staff_scale >= 1.0:
        n_staff = np.maximum(n_staff, 1)
    employers = np.repeat(np.arange(n), n_staff)
    digital_share = it_share(real_staff, t.it_staff_share, t.it_staff_half_size)
    staff = StaffTable(int(len(employers) * 1.3) + 16)
    staff.append(**draw_staff(employers, cfg, rng, digital_share=digital_share[employers]))
    digital_fte = np.bincount(employers[staff.job_family[: staff.size] == DIGITAL], minlength=n) / t.staff_scale

    # The digital budget: per inhabitant, plus the salaries of the digital staff.
    c.budget = np.array([t.budget_eur_per_inh[k] for k in KINDS])[c.kind] * c.population + digital_fte * o.it_cost_eur

    log_size = np.log10(c.population)
    c.sponsorship = np.clip(rng.beta(*i.sponsorship_beta, n) + i.sponsorship_size_slope * (log_size - 3.0), 0.0, 1.0)
    # Initial maturity grows with size and with the collectivité's engagement (its sponsorship,
    # persistent: « une disparité d'engagement des collectivités », seed 000 L59), plus noise.
    c.maturity = np.clip(
        i.maturity_base
        + i.maturity_size_slope * (log_size - 3.0)
        + i.maturity_sponsorship_slope * (c.sponsorship - 0.4)
        + i.maturity_noise * rng.standard_normal(n),
        0.01,
        0.95,
    )
    c.services_online = np.clip(
        i.services_per_maturity * c.maturity + i.services_noise * rng.standard_normal(n), 0.0, 1.0
    )
    p_open = 1.0 / (1.0 + np.exp(-i.open_data_slope * (log_size - i.open_data_mid_log10_pop)))
    c.open_data = rng.random(n) < p_open

    # Pools that exist at the start.
    keys = pool_keys(c, cfg.mutualisation.structure)
    p_pool = np.asarray(i.pooled_share_by_band)[c.pop_band]
    start_pooled = (keys >= 0) & (rng.random(n) < p_pool)
    c.pool = np.where(start_pooled, keys, -1)

    # Strategy and monitoring at the balance of their dynamics (sim.processes.governance).
    critical = (digital_fte >= o.dsi_critical_fte) | (c.pool >= 0)
    p_strategy = initial_strategy_probability(c.sponsorship, critical, cfg)
    c.has_strategy = rng.random(n) < p_strategy
    ratio = digital_fte / (o.capacity_need_per_staff * real_staff + o.capacity_need_fixed)
    cap = ratio / (1.0 + ratio)
    m_rate = o.monitoring_rate * cap
    lose = o.executive_change_share * o.strategy_loss_on_change / 6.0
    c.has_monitoring = c.has_strategy & (rng.random(n) < m_rate / (m_rate + lose))

    # Inhabitants (15+): age structure and illectronism by age group.
    c.age_share = age_structure(rural_commune, t.inhabitant_age_shares, t.rural_senior_shift)
    ill = np.asarray(i.illectronism_by_age)[None, :] + i.rural_illectronism_extra * rural_commune[:, None]
    ill = ill + i.illectronism_noise * rng.standard_normal(n)[:, None]
    c.illectronism_age = np.clip(ill, 0.0, 1.0)
    c.illectronism = np.sum(c.age_share * c.illectronism_age, axis=1)
    return c, staff
