"""From a table of collectivités to the model's initial state.

Derives, the same way for every territory: rurality, population band, yearly digital budget,
IT capacity, sponsorship, initial maturity (heterogeneous and increasing with size: seed 000
L59-60, seed 002 L760-761), services online, open data (size gradient: seed 004 L70),
inhabitants' illectronism, and the staff with their category, job family, age, skill and
attitude. All draws use the model's numpy generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import Config
from sim.state import KINDS, CollectiviteTable, StaffTable, pop_band_index

# Initial skill shifts by category (A, B, C) and job family; age slope per year. Assumptions:
# qualification and digital jobs raise skill, age lowers it (seed 000 L23: younger generations).
CATEGORY_SKILL_SHIFT = np.array([0.10, 0.04, -0.02])
FAMILY_SKILL_SHIFT = np.array([0.0, 0.02, -0.05, 0.05, 0.30, 0.0])
AGE_SKILL_SLOPE = -0.004


def _index(codes: pd.Series, universe: list[str]) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(universe)}
    return np.array([lookup.get(c, -1) for c in codes], dtype=np.int64)


def stochastic_round(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Round to an integer keeping the expectation (floor plus a Bernoulli of the remainder)."""
    base = np.floor(x)
    return (base + (rng.random(len(x)) < (x - base))).astype(np.int64)


def initial_skill(category, job_family, age, cfg: Config, rng: np.random.Generator, bonus=0.0):
    a, b = cfg.territory.skill_beta
    skill = (
        rng.beta(a, b, len(age))
        + CATEGORY_SKILL_SHIFT[category]
        + FAMILY_SKILL_SHIFT[job_family]
        + AGE_SKILL_SLOPE * (age - cfg.territory.age_mean)
        + bonus
    )
    return np.clip(skill, 0.0, 1.0)


def initial_attitude(age, rng: np.random.Generator):
    return np.clip(rng.beta(2.0, 3.0, len(age)) + 0.004 * (age - 45.0), 0.0, 1.0)


def draw_staff(employers: np.ndarray, cfg: Config, rng: np.random.Generator, age_mean=None, bonus=0.0) -> dict:
    """Columns of new staff for the given employer rows."""
    t = cfg.territory
    n = len(employers)
    category = rng.choice(3, size=n, p=np.asarray(t.category_shares) / sum(t.category_shares)).astype(np.int8)
    family = rng.choice(6, size=n, p=np.asarray(t.job_family_shares) / sum(t.job_family_shares)).astype(np.int8)
    mean = t.age_mean if age_mean is None else age_mean
    age = np.clip(mean + t.age_sd * rng.standard_normal(n), 20.0, cfg.behaviour.retirement_age - 0.5)
    return {
        "employer": employers,
        "category": category,
        "job_family": family,
        "age": age,
        "skill": initial_skill(category, family, age, cfg, rng, bonus),
        "attitude": initial_attitude(age, rng),
        "recruited": np.zeros(n, dtype=bool),
    }


def populate(table: pd.DataFrame, cfg: Config, rng: np.random.Generator) -> tuple[CollectiviteTable, StaffTable]:
    t = cfg.territory
    n = len(table)
    c = CollectiviteTable(n)
    kind_names = table["kind"].to_numpy()
    c.kind = np.array([KINDS.index(k) for k in kind_names], dtype=np.int8)
    c.population = np.maximum(table["population"].to_numpy(dtype=np.float64), 1.0)
    c.codes = table["code"].astype(str).tolist()
    c.names = table["name"].astype(str).tolist()
    c.departement_codes = sorted(set(table["departement"].astype(str)) - {""})
    c.region_codes = sorted(set(table["region"].astype(str)) - {""})
    c.departement = _index(table["departement"].astype(str), c.departement_codes)
    c.region = _index(table["region"].astype(str), c.region_codes)
    epci_rows = {code: i for i, (code, k) in enumerate(zip(c.codes, kind_names)) if k == "epci"}
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

    c.budget = np.array([t.budget_eur_per_inh[k] for k in KINDS])[c.kind] * c.population
    c.it_fte = real_staff * t.it_fte_per_1000_staff / 1000.0
    log_size = np.log10(c.population)
    c.sponsorship = np.clip(rng.beta(2.0, 3.0, n) + 0.03 * (log_size - 3.0), 0.0, 1.0)
    # Initial maturity grows with size and with the collectivité's engagement (its sponsorship,
    # persistent: « une disparité d'engagement des collectivités », seed 000 L59), plus noise.
    c.maturity = np.clip(
        0.16 + 0.07 * (log_size - 3.0) + 0.35 * (c.sponsorship - 0.4) + 0.03 * rng.standard_normal(n), 0.01, 0.95
    )
    c.services_online = np.clip(0.8 * c.maturity + 0.05 * rng.standard_normal(n), 0.0, 1.0)
    p_open = 1.0 / (1.0 + np.exp(-3.0 * (log_size - 4.95)))  # calibrated to seed 004 L70
    c.open_data = rng.random(n) < p_open
    c.illectronism = np.clip(
        t.inhabitants_illectronism + t.rural_illectronism_extra * c.rural + 0.02 * rng.standard_normal(n), 0.0, 1.0
    )

    employers = np.repeat(np.arange(n), n_staff)
    staff = StaffTable(int(len(employers) * 1.3) + 16)
    staff.append(**draw_staff(employers, cfg, rng))
    return c, staff
