"""Outcomes recorded at each step, overall and by stratum (docs/OUTPUTS.md lists them).

Adoption (maturity, survey profiles, services online, open data, strategy, staff proficient and
using tools, inhabitants' e-service use and online procedures), fracture (Gini and Theil of
maturity across collectivités with its between/within decomposition by population band, gaps
between the largest and smallest population bands, between urban and rural communes and between
the top decile and the rest, staff in illectronism, inhabitants excluded) and cost (euros spent
per category during the step, and lever money that could not be spent). Records are tuples
``(step, year, stratum_kind, stratum, metric, value)`` appended to ``model.records``; steps of
the history period (before the policy start) are negative.
"""

from __future__ import annotations

import numpy as np

from sim.processes.governance import profile_index
from sim.processes.practice import uses_tools
from sim.selection import group_mean
from sim.state import (
    AGE_GROUPS,
    CATEGORIES,
    JOB_FAMILIES,
    KINDS,
    LEVER_SPEND,
    OWN_SPEND,
    POP_BANDS,
    PROFILES,
    PROGRAMME_SPEND,
    SPEND_CATEGORIES,
)

#: Collectivités under the open-data obligation: 3,500 inhabitants or more (seed 002 L1635-1637).
OPEN_DATA_OBLIGATION_POP = 3500.0
#: Communes and EPCI from this population stand for métropoles and large agglomérations (OpenDataFrance).
LARGE_LOCAL_POP = 100_000.0


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return 0.0
    # A numpy sum, not a BLAS dot product: OpenBLAS splits a dot product between threads (the
    # result then depends on their number) and its idle threads spin, which doubled the CPU time
    # of a run on a 2-core machine.
    return float(np.sum((2.0 * np.arange(1, n + 1) - n - 1) * x) / (n * x.sum()))


def theil(x: np.ndarray) -> float:
    """Theil T index of positive values (0 = equal)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[x > 0]
    if len(x) == 0:
        return 0.0
    r = x / x.mean()
    return float(np.mean(r * np.log(r)))


def theil_decomposition(x: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """(between, within) parts of the Theil T index of positive values by group; they add up to
    :func:`theil` of the same values."""
    x = np.asarray(x, dtype=np.float64)
    keep = x > 0
    x, groups = x[keep], np.asarray(groups)[keep]
    if len(x) == 0:
        return 0.0, 0.0
    mu = x.mean()
    between = within = 0.0
    for g in np.unique(groups):
        xg = x[groups == g]
        weight = len(xg) / len(x) * xg.mean() / mu
        between += weight * np.log(xg.mean() / mu)
        within += weight * theil(xg)
    return float(between), float(within)


def top_decile_gap(x: np.ndarray) -> float:
    """Mean of the top decile minus mean of the rest (NaN with fewer than 10 values)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    if len(x) < 10:
        return float("nan")
    k = len(x) - int(np.ceil(0.1 * len(x)))
    return float(x[k:].mean() - x[:k].mean())


def _strata(model):
    """(stratum_kind, labels, index per collectivité, mask of collectivités) definitions."""
    c = model.colls
    communes = c.kind == 0
    return (
        ("kind", KINDS, c.kind.astype(np.int64), np.ones(c.n, dtype=bool)),
        ("pop_band", POP_BANDS, c.pop_band.astype(np.int64), communes),
        ("rurality", ("urban", "rural"), c.rural.astype(np.int64), communes),
    )


def collect(model, snapshot=None) -> None:
    """Append this step's records. ``snapshot`` (a :class:`sim.model.StaffSnapshot`), when
    given, is what the refresh of the staff aggregates computed over the current staff, with
    the staff unchanged since: its arrays and counts are used instead of computing them again."""
    c, st = model.colls, model.staff
    cfg = model.cfg
    step, year = int(model.step_index), float(model.year)
    out = model.records

    def put(kind, stratum, metric, value):
        out.append((step, year, kind, stratum, metric, float(value)))

    m = c.maturity
    communes = c.kind == 0
    for q, name in ((10, "p10"), (50, "p50"), (90, "p90")):
        put("all", "all", f"maturity_{name}", np.percentile(m, q))
    put("all", "all", "maturity_mean", m.mean())
    pop_w = c.population * communes
    put("all", "all", "maturity_mean_pop", (m * pop_w).sum() / max(pop_w.sum(), 1.0))
    put("all", "all", "services_online_pop", (c.services_online * pop_w).sum() / max(pop_w.sum(), 1.0))
    put("all", "all", "maturity_gini", gini(m))
    put("all", "all", "maturity_theil", theil(m))
    between, within = theil_decomposition(m[communes], c.pop_band[communes])
    put("all", "all", "maturity_theil_between_band", between)
    put("all", "all", "maturity_theil_within_band", within)
    put("all", "all", "gap_top_decile", top_decile_gap(m))
    profiles = np.bincount(profile_index(c, cfg.organisation), minlength=len(PROFILES)) / c.n
    for label, share in zip(PROFILES, profiles, strict=True):
        put("all", "all", "profile_share_" + label.lower().replace("é", "e"), share)
    put("all", "all", "services_online_mean", c.services_online.mean())
    put("all", "all", "open_data_share", c.open_data.mean())
    obliged = c.population >= OPEN_DATA_OBLIGATION_POP
    put("all", "all", "open_data_obliged_share", c.open_data[obliged].mean() if obliged.any() else np.nan)
    large = (c.kind <= 1) & (c.population >= LARGE_LOCAL_POP)
    put("all", "all", "open_data_large_share", c.open_data[large].mean() if large.any() else np.nan)
    put("all", "all", "pooled_share", (c.pool[communes] >= 0).mean() if communes.any() else 0.0)
    put("all", "all", "strategy_share", c.has_strategy.mean())
    put("all", "all", "monitoring_share", c.has_monitoring.mean())
    put("all", "all", "sponsorship_mean", c.sponsorship.mean())

    rows = st.active_rows()
    thresholds = (model.required_skill, model.illectronism_threshold, cfg.drivers.following_band)
    if snapshot is not None and (snapshot.thresholds != thresholds or len(snapshot.skill) != len(rows)):
        snapshot = None
    if snapshot is not None:
        skill, prof, ill, use = snapshot.skill, snapshot.proficient, snapshot.ill, snapshot.use
    else:
        skill = st.skill[rows]
        prof = skill >= model.required_skill
        ill = skill < model.illectronism_threshold
        use = uses_tools(skill, model.required_skill, cfg.drivers.following_band)
    n_rows = len(rows)

    def share(mask):  # == mask.mean(): the count is exact, the division correctly rounded
        return np.count_nonzero(mask) / n_rows if n_rows else np.nan

    scale = cfg.territory.staff_scale
    pop = c.population * communes
    total_pop = max(pop.sum(), 1.0)
    put("all", "all", "staff_count", n_rows / scale)
    put("all", "all", "staff_per_1000_inh", 1000.0 * n_rows / scale / total_pop)
    put("all", "all", "staff_mean_skill", skill.mean() if n_rows else np.nan)
    put("all", "all", "staff_proficient_share", share(prof))
    put("all", "all", "staff_following_share", share(use & ~prof))
    put("all", "all", "staff_overwhelmed_share", share(~use))
    put("all", "all", "staff_illectronism_share", share(ill))
    put("all", "all", "staff_use_share", share(use))
    put("all", "all", "required_skill", model.required_skill)
    digital = float((c.it_fte + c.recruited_fte).sum())
    put("all", "all", "it_fte_per_1000_staff", 1000.0 * digital / max(n_rows / scale, 1.0))
    put("all", "all", "digital_vacancies", c.it_vacancies.sum())
    put("all", "all", "conseillers_fte", c.conseillers.sum())

    put("all", "all", "inhabitants_excluded_share", (c.excluded * pop).sum() / total_pop)
    put("all", "all", "inhabitants_illectronism_share", (c.illectronism * pop).sum() / total_pop)
    put("all", "all", "eservice_use_share", (c.eservice_use * pop).sum() / total_pop)
    put(
        "all",
        "all",
        "online_procedures_share",
        cfg.inhabitants.online_uptake * (1.0 - (c.illectronism * pop).sum() / total_pop),
    )
    age_w = c.age_share * pop[:, None]
    for g, label in enumerate(AGE_GROUPS):
        w = age_w[:, g]
        put(
            "age_group",
            label,
            "inhabitants_illectronism_share",
            (c.illectronism_age[:, g] * w).sum() / max(w.sum(), 1e-12),
        )

    band_mean, band_n = group_mean(c.pop_band[communes].astype(np.int64), m[communes], len(POP_BANDS))
    filled = np.flatnonzero(band_n > 0)
    put("all", "all", "gap_size", band_mean[filled[-1]] - band_mean[filled[0]] if len(filled) > 1 else np.nan)
    rur_mean, rur_n = group_mean(c.rural[communes].astype(np.int64), m[communes], 2)
    put("all", "all", "gap_rural_urban", rur_mean[0] - rur_mean[1] if (rur_n > 0).all() else np.nan)

    for name in SPEND_CATEGORIES:
        put("all", "all", f"spend_{name}_eur", model.spend[name])
    put("all", "all", "spend_total_eur", sum(model.spend[k] for k in OWN_SPEND + PROGRAMME_SPEND + LEVER_SPEND))
    put("all", "all", "spend_levers_eur", sum(model.spend[k] for k in LEVER_SPEND))
    put(
        "all",
        "all",
        "spend_mobilised_eur",
        sum(model.spend[k] for k in LEVER_SPEND) + model.spend["pool_contributions"],
    )

    # Staff counts per collectivité by (illectronic, proficient), in one pass over the staff;
    # the strata then add them up (integer counts: the same shares as averaging staff rows).
    code = (ill.view(np.uint8) << 1) | prof.view(np.uint8)  # 0..3
    if snapshot is not None:  # counts by (kind of post, ill, prof, use, employer): add them up
        combo = snapshot.cells.sum(axis=(0, 3)).reshape(4, c.n).T.astype(np.float64)
    else:
        cell = st.active_employers() * 4
        cell += code
        combo = np.bincount(cell, minlength=4 * c.n).reshape(c.n, 4).astype(np.float64)
    staff_n = combo.sum(axis=1)
    staff_counts = (
        ("staff_proficient_share", combo[:, 1] + combo[:, 3]),
        ("staff_illectronism_share", combo[:, 2] + combo[:, 3]),
    )

    # By stratum of collectivités.
    for kind, labels, index, mask in _strata(model):
        size = len(labels)
        w = pop[mask]
        idx = index[mask]
        for metric, values in (
            ("maturity_mean", m),
            ("services_online_mean", c.services_online),
            ("pooled_share", (c.pool >= 0).astype(float)),
            ("open_data_share", c.open_data.astype(float)),
            ("strategy_share", c.has_strategy.astype(float)),
        ):
            mean, n = group_mean(idx, values[mask], size)
            for i in np.flatnonzero(n > 0):
                put(kind, labels[i], metric, mean[i])
        wsum = np.bincount(idx, weights=w, minlength=size)
        exc = np.bincount(idx, weights=(c.excluded * pop)[mask], minlength=size)
        for i in np.flatnonzero(wsum > 0):
            put(kind, labels[i], "inhabitants_excluded_share", exc[i] / wsum[i])
        n = np.bincount(idx, weights=staff_n[mask], minlength=size)
        for metric, counts in staff_counts:
            total = np.bincount(idx, weights=counts[mask], minlength=size)
            for i in np.flatnonzero(n > 0):
                put(kind, labels[i], metric, total[i] / n[i])

    # By staff category and job family: counts of (category, family, illectronic, proficient).
    cat = st.category[rows]
    fam = snapshot.family if snapshot is not None else st.job_family[rows]
    nf = len(JOB_FAMILIES)
    cells = np.bincount((cat * nf + fam) * 4 + code, minlength=len(CATEGORIES) * nf * 4)
    cells = cells.reshape(len(CATEGORIES), nf, 2, 2).astype(np.float64)
    for kind, labels, index, axis in (("category", CATEGORIES, cat, 1), ("job_family", JOB_FAMILIES, fam, 0)):
        by = cells.sum(axis=axis)  # (label, ill, prof)
        n = by.sum(axis=(1, 2))
        skill_sum = np.bincount(index, weights=skill, minlength=len(labels))
        for metric, total in (
            ("staff_illectronism_share", by[:, 1, :].sum(axis=1)),
            ("staff_proficient_share", by[:, :, 1].sum(axis=1)),
            ("staff_mean_skill", skill_sum),
        ):
            for i in np.flatnonzero(n > 0):
                put(kind, labels[i], metric, total[i] / n[i])
