"""Outcomes recorded at each step, overall and by stratum (docs/OUTPUTS.md lists them).

Adoption (maturity, services online, staff proficient and using tools, inhabitants' e-service
use), fracture (Gini and Theil of maturity across collectivités, gap between the largest and
smallest population bands and between urban and rural communes, staff in illectronism,
inhabitants excluded) and cost (euros spent per lever during the step). Records are tuples
``(step, year, stratum_kind, stratum, metric, value)`` appended to ``model.records``.
"""

from __future__ import annotations

import numpy as np

from sim.selection import group_mean
from sim.state import CATEGORIES, JOB_FAMILIES, KINDS, POP_BANDS, PROFILES, maturity_profile


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return 0.0
    return float((2.0 * np.arange(1, n + 1) - n - 1).dot(x) / (n * x.sum()))


def theil(x: np.ndarray) -> float:
    """Theil T index of positive values (0 = equal)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[x > 0]
    if len(x) == 0:
        return 0.0
    r = x / x.mean()
    return float(np.mean(r * np.log(r)))


def _strata(model):
    """(stratum_kind, labels, index per collectivité, mask of collectivités) definitions."""
    c = model.colls
    communes = c.kind == 0
    return (
        ("kind", KINDS, c.kind.astype(np.int64), np.ones(c.n, dtype=bool)),
        ("pop_band", POP_BANDS, c.pop_band.astype(np.int64), communes),
        ("rurality", ("urban", "rural"), c.rural.astype(np.int64), communes),
    )


def collect(model) -> None:
    c, st = model.colls, model.staff
    d = model.cfg.drivers
    step, year = int(model.step_index), float(model.year)
    out = model.records

    def put(kind, stratum, metric, value):
        out.append((step, year, kind, stratum, metric, float(value)))

    m = c.maturity
    for q, name in ((10, "p10"), (50, "p50"), (90, "p90")):
        put("all", "all", f"maturity_{name}", np.percentile(m, q))
    put("all", "all", "maturity_mean", m.mean())
    put("all", "all", "maturity_gini", gini(m))
    put("all", "all", "maturity_theil", theil(m))
    profiles = np.bincount(maturity_profile(m), minlength=5) / c.n
    for label, share in zip(PROFILES, profiles):
        put("all", "all", "profile_share_" + label.lower().replace("é", "e"), share)
    put("all", "all", "services_online_mean", c.services_online.mean())
    put("all", "all", "open_data_share", c.open_data.mean())
    communes = c.kind == 0
    put("all", "all", "pooled_share", (c.pool[communes] >= 0).mean() if communes.any() else 0.0)

    rows = st.active_rows()
    skill = st.skill[rows]
    prof = skill >= model.required_skill
    ill = skill < model.illectronism_threshold
    use = skill >= model.required_skill - d.following_band
    put("all", "all", "staff_count", len(rows) / model.cfg.territory.staff_scale)
    put("all", "all", "staff_mean_skill", skill.mean() if len(rows) else np.nan)
    put("all", "all", "staff_proficient_share", prof.mean() if len(rows) else np.nan)
    put("all", "all", "staff_following_share", (use & ~prof).mean() if len(rows) else np.nan)
    put("all", "all", "staff_overwhelmed_share", (~use).mean() if len(rows) else np.nan)
    put("all", "all", "staff_illectronism_share", ill.mean() if len(rows) else np.nan)
    put("all", "all", "staff_use_share", use.mean() if len(rows) else np.nan)
    put("all", "all", "required_skill", model.required_skill)

    pop = c.population * communes
    total_pop = max(pop.sum(), 1.0)
    put("all", "all", "inhabitants_excluded_share", (c.excluded * pop).sum() / total_pop)
    put("all", "all", "inhabitants_illectronism_share", (c.illectronism * pop).sum() / total_pop)
    put("all", "all", "eservice_use_share", (c.eservice_use * pop).sum() / total_pop)

    band_mean, band_n = group_mean(c.pop_band[communes].astype(np.int64), m[communes], len(POP_BANDS))
    filled = np.flatnonzero(band_n > 0)
    put("all", "all", "gap_size", band_mean[filled[-1]] - band_mean[filled[0]] if len(filled) > 1 else np.nan)
    rur_mean, rur_n = group_mean(c.rural[communes].astype(np.int64), m[communes], 2)
    put("all", "all", "gap_rural_urban", rur_mean[0] - rur_mean[1] if (rur_n > 0).all() else np.nan)

    total = 0.0
    for name, value in model.spend.items():
        put("all", "all", f"spend_{name}_eur", value)
        total += value
    put("all", "all", "spend_total_eur", total)
    put("all", "all", "spend_levers_eur", total - model.spend["investment"] - model.spend["own_training"])

    # By stratum of collectivités.
    emp = st.employer[rows]
    for kind, labels, index, mask in _strata(model):
        size = len(labels)
        w = pop[mask]
        for metric, values in (("maturity_mean", m), ("services_online_mean", c.services_online), ("pooled_share", (c.pool >= 0).astype(float))):
            mean, n = group_mean(index[mask], values[mask], size)
            for i in np.flatnonzero(n > 0):
                put(kind, labels[i], metric, mean[i])
        wsum = np.bincount(index[mask], weights=w, minlength=size)
        exc = np.bincount(index[mask], weights=(c.excluded * pop)[mask], minlength=size)
        for i in np.flatnonzero(wsum > 0):
            put(kind, labels[i], "inhabitants_excluded_share", exc[i] / wsum[i])
        in_mask = mask[emp]
        s_index = index[emp][in_mask]
        for metric, values in (("staff_proficient_share", prof), ("staff_illectronism_share", ill)):
            mean, n = group_mean(s_index, values[in_mask].astype(float), size)
            for i in np.flatnonzero(n > 0):
                put(kind, labels[i], metric, mean[i])

    # By staff category and job family.
    for kind, labels, index in (("category", CATEGORIES, st.category[rows]), ("job_family", JOB_FAMILIES, st.job_family[rows])):
        index = index.astype(np.int64)
        for metric, values in (("staff_illectronism_share", ill), ("staff_proficient_share", prof), ("staff_mean_skill", skill)):
            mean, n = group_mean(index, values.astype(float), len(labels))
            for i in np.flatnonzero(n > 0):
                put(kind, labels[i], metric, mean[i])
