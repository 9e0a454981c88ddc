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
from sim.state import CATEGORIES, JOB_FAMILIES, KINDS, LEVER_SPEND, POP_BANDS, PROFILES, maturity_profile


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
    n_rows = len(rows)

    def share(mask):  # == mask.mean(): the count is exact, the division correctly rounded
        return np.count_nonzero(mask) / n_rows if n_rows else np.nan

    put("all", "all", "staff_count", n_rows / model.cfg.territory.staff_scale)
    put("all", "all", "staff_mean_skill", skill.mean() if n_rows else np.nan)
    put("all", "all", "staff_proficient_share", share(prof))
    put("all", "all", "staff_following_share", share(use & ~prof))
    put("all", "all", "staff_overwhelmed_share", share(~use))
    put("all", "all", "staff_illectronism_share", share(ill))
    put("all", "all", "staff_use_share", share(use))
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
    put("all", "all", "spend_levers_eur", sum(model.spend[k] for k in LEVER_SPEND))

    # Staff counts per collectivité by (illectronic, proficient), in one pass over the staff;
    # the strata then add them up (integer counts: the same shares as averaging staff rows).
    emp = st.active_employers()
    code = (ill.view(np.uint8) << 1) | prof.view(np.uint8)  # 0..3
    combo = np.bincount(emp * 4 + code, minlength=4 * c.n).reshape(c.n, 4).astype(np.float64)
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
    fam = st.job_family[rows]
    nf = len(JOB_FAMILIES)
    cells = np.bincount((cat * nf + fam) * 4 + code, minlength=len(CATEGORIES) * nf * 4)  # int8 codes < 72
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
