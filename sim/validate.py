"""Validation: does the baseline reproduce the stylized facts of the sources?

    python -m sim.validate                       # 5 seeds, default territory (1,000 communes)
    python -m sim.validate --seeds 10 --out outputs/validation --docs   # and update docs/VALIDATION.md
    python -m sim.validate --seeds 2 --communes 300 --years 4          # a quick look
    python -m sim.validate --set territory=france --set territory.departements=[35]

Runs the baseline (``scenario=business_as_usual``) over seeds, plus, for the two-speed
training fact, the baseline with a training lever of equal budget under each modality, and
checks the stylized facts of DESIGN.md (sources in ``research/``):

1. maturity is heterogeneous and increases with size (seed 000 L59; seed 002 L760-761);
2. a growing gap between advanced collectivités and the others (seed 000 L60);
3. open data: more than half of régions, départements, métropoles and large agglomérations,
   under 10 % of collectivités of 3,500 to 50,000 inhabitants (seed 004 L70), at the start;
4. about 10 % of staff up to date, 40 % following, 50 % overwhelmed (seed 002 L2128-2130);
5. slow adoption: the 70 % online target is not reached by 2022 (seed 000 L47), services and
   staff use rise slowly (seed 000 L104; seed 002 L2132-2134);
6. self-service e-learning makes a two-speed transition (seed 000 L108; seed 002 L1317-1321).

Each check has one number per seed, a criterion, the mean and the 2.5-97.5 % range over
seeds, and a status: PASS when the criterion holds for the mean over seeds and in at least
80 % of the seeds, FAIL otherwise (including when the number cannot be computed). Facts the
model does not reproduce are reported as FAIL with their values: that is a finding, and the
command still exits 0 (``--strict`` makes it exit 1).

Each check also says what it is evidence of: "validated" when nothing in the model was set to
reproduce it (the dynamics produce it), "calibrated" when a parameter was set so that the model
reproduces that very figure (passing it shows the calibration holds, not that the model is
right). Changes "over the run" are measured from the policy start (step 0, after the history
period that lets the initial state settle into the model's dynamics) to the end, so that they
come from the mechanisms and not from the initial state; "at the start" means the initial state
(the history start, 2018, the date of the seed figures it was set from).

The measuring functions are plain functions of DataFrames and arrays, tested on constructed
inputs (tests/test_validate.py).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.state import POP_BANDS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "VALIDATION.md"
MODALITIES = ("elearning", "blended", "tutoring")
#: Share of seeds in which a criterion must hold (with the mean over seeds) for a PASS.
PASS_SHARE = 0.8

FACTS = {
    "1": "Maturity is very heterogeneous and increases with size",
    "2": "A growing gap opens between collectivités « en avance » and the others",
    "3": "Open data: over half of large collectivités, under 10 % of those of 3,500-50,000 inhabitants",
    "4": "Among staff, about 10 % up to date, 40 % following, 50 % overwhelmed",
    "5": "Work resists digital: adoption is slow",
    "6": "Self-service e-learning makes a two-speed transition",
}
FACT_SOURCES = {
    "1": "seed 000 L59 (« très diversement avancées »); seed 002 L760-761 (size and innovation)",
    "2": "seed 000 L60 (« une fracture croissante entre collectivités en avance et les autres »)",
    "3": "seed 004 L70",
    "4": "seed 002 L2128-2130",
    "5": "seed 000 L47 (70 % online by 2022), L104 (« le travail résiste au numérique »); seed 002 L2132-2134",
    "6": "seed 000 L108 (« transition à plusieurs vitesses »); seed 002 L1317-1321 (e-learning leaves "
    "the agents far from digital behind)",
}


# ---------------------------------------------------------------------------------------- measures
def band_maturity(colls: pd.DataFrame) -> pd.Series:
    """Mean maturity of communes by population band, in band order (absent bands dropped)."""
    communes = colls[colls["kind"] == "commune"]
    means = communes.groupby("pop_band", observed=True)["maturity"].mean()
    return means.reindex([b for b in POP_BANDS if b in means.index])


def increasing_share(values: Sequence[float]) -> float:
    """Share of successive steps that increase (1.0 = strictly increasing); NaN with < 2 values."""
    v = np.asarray([x for x in values if not pd.isna(x)], dtype=float)
    if len(v) < 2:
        return math.nan
    return float(np.mean(np.diff(v) > 0))


def rank_correlation(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation (Pearson correlation of average ranks); NaN if undefined."""
    rx = pd.Series(np.asarray(x, dtype=float)).rank().to_numpy()
    ry = pd.Series(np.asarray(y, dtype=float)).rank().to_numpy()
    if len(rx) < 3 or rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def size_maturity_correlation(colls: pd.DataFrame) -> float:
    """Rank correlation between population and maturity among communes."""
    communes = colls[colls["kind"] == "commune"]
    return rank_correlation(communes["population"], communes["maturity"])


def spread(x: Sequence[float], lo: float = 10, hi: float = 90) -> float:
    """Difference between two percentiles (P90 - P10 by default)."""
    x = np.asarray(x, dtype=float)
    return float(np.percentile(x, hi) - np.percentile(x, lo)) if len(x) else math.nan


def top_rest_gap(x: Sequence[float], top: float = 0.1) -> float:
    """Mean of the top share of values minus the mean of the others."""
    x = np.sort(np.asarray(x, dtype=float))
    k = math.ceil(top * len(x))
    if k < 1 or k >= len(x):
        return math.nan
    return float(x[-k:].mean() - x[:-k].mean())


def open_data_shares(
    colls: pd.DataFrame, large: float = 100_000.0, band: tuple[float, float] = (3_500.0, 50_000.0)
) -> dict:
    """Share of collectivités with open data: régions and départements; communes and EPCI of at
    least ``large`` inhabitants (métropoles, large agglomerations and their core cities); communes
    and EPCI of the ``band`` (3,500 to 50,000 inhabitants), and communes only of that band. NaN for
    an empty group."""
    kind, pop, od = colls["kind"], colls["population"], colls["open_data"].astype(float)
    local = kind.isin(["commune", "epci"])
    groups = {
        "open_data_regions_departements": kind.isin(["region", "departement"]),
        "open_data_large_local": local & (pop >= large),
        "open_data_3500_50000": local & (pop >= band[0]) & (pop < band[1]),
        "open_data_3500_50000_communes": (kind == "commune") & (pop >= band[0]) & (pop < band[1]),
    }
    return {name: float(od[mask].mean()) if mask.any() else math.nan for name, mask in groups.items()}


def value_at(ts: pd.DataFrame, metric: str, year: float | None = None) -> float:
    """Value of an overall metric at the last step whose year is at most ``year`` (last step if
    None); NaN if the metric is absent or the run does not reach that year."""
    rows = ts[(ts["stratum_kind"] == "all") & (ts["metric"] == metric)].sort_values("step")
    if year is not None:
        if len(rows) == 0 or rows["year"].max() < year - 1e-9:
            return math.nan
        rows = rows[rows["year"] <= year + 1e-9]
    return float(rows["value"].iloc[-1]) if len(rows) else math.nan


def first_value(ts: pd.DataFrame, metric: str) -> float:
    """Value of an overall metric at the policy start (step 0; the first step of a run without
    history)."""
    rows = ts[(ts["stratum_kind"] == "all") & (ts["metric"] == metric)].sort_values("step")
    rows = rows[rows["step"] >= 0] if (rows["step"] >= 0).any() else rows
    return float(rows["value"].iloc[0]) if len(rows) else math.nan


def initial_value(ts: pd.DataFrame, metric: str) -> float:
    """Value of an overall metric in the initial state (the first recorded step)."""
    rows = ts[(ts["stratum_kind"] == "all") & (ts["metric"] == metric)].sort_values("step")
    return float(rows["value"].iloc[0]) if len(rows) else math.nan


def change(ts: pd.DataFrame, metric: str) -> float:
    """Last minus first value of an overall metric."""
    return value_at(ts, metric) - first_value(ts, metric)


def yearly_rise(ts: pd.DataFrame, metric: str) -> float:
    """Mean yearly change of an overall metric over the policy period."""
    rows = ts[(ts["stratum_kind"] == "all") & (ts["metric"] == metric) & (ts["step"] >= 0)].sort_values("step")
    if len(rows) < 2:
        return math.nan
    span = rows["year"].iloc[-1] - rows["year"].iloc[0]
    return float((rows["value"].iloc[-1] - rows["value"].iloc[0]) / span) if span > 0 else math.nan


def skill_outcomes(skill_start: np.ndarray, skill_end: np.ndarray, active_end: np.ndarray, top: float = 0.25) -> dict:
    """Training outcomes of one run, for the staff present at the start.

    ``skill_start``: skill of the initial staff (rows 0..n-1); ``skill_end`` and ``active_end``:
    the same rows at the end (rows are never reused). Returns the mean skill gain of the initial top ``top`` share (the
    already skilled) and of the initial bottom share, among those still employed.
    """
    skill_start = np.asarray(skill_start, dtype=float)
    n = len(skill_start)
    end = np.asarray(skill_end, dtype=float)[:n]
    stay = np.asarray(active_end, dtype=bool)[:n]
    hi_cut = np.quantile(skill_start, 1.0 - top)
    lo_cut = np.quantile(skill_start, top)
    top_rows = stay & (skill_start >= hi_cut)
    bottom_rows = stay & (skill_start <= lo_cut)
    gain = end - skill_start
    return {
        "gain_top": float(gain[top_rows].mean()) if top_rows.any() else math.nan,
        "gain_bottom": float(gain[bottom_rows].mean()) if bottom_rows.any() else math.nan,
    }


# ---------------------------------------------------------------------------------------- checks
@dataclass(frozen=True)
class Check:
    """One testable statement: a measure (one number per seed) and a criterion on it."""

    id: str
    what: str
    measure: str
    op: str  # ">", "<", ">=", "<=", "==", "within"
    target: float | tuple[float, float]
    why: str = ""
    #: "validated" (the dynamics produce it) or "calibrated" (a parameter was set to reproduce it).
    basis: str = "validated"

    @property
    def fact(self) -> str:
        return self.id.rstrip("abcdefghij")

    def holds(self, value: float) -> bool:
        if value is None or pd.isna(value):
            return False
        if self.op == "within":
            center, tol = self.target
            return abs(value - center) <= tol + 1e-12
        t = self.target
        return {
            ">": value > t,
            "<": value < t,
            ">=": value >= t - 1e-12,
            "<=": value <= t + 1e-12,
            "==": abs(value - t) <= 1e-9,
        }[self.op]

    @property
    def criterion(self) -> str:
        if self.op == "within":
            center, tol = self.target
            return f"{center:g} ± {tol:g}"
        return f"{self.op} {self.target:g}"


def checks(
    training_budget: float = 30.0, online_year: float = 2022.0, start_year: float = 2021.0, later_years: int = 3
) -> list[Check]:
    later = f"{start_year + later_years:g}"
    eq = f"training lever of {training_budget:g} EUR/staff/year, universal targeting, same seeds"
    cal = "calibrated"
    return [
        Check(
            "1a",
            "P90 - P10 of collectivités' maturity at the end",
            "maturity_spread_end",
            ">=",
            0.20,
            "assumption: at least one of the five survey profiles between P10 and P90",
        ),
        Check(
            "1b",
            "mean maturity of communes increases across the 5 population bands (share of increasing steps), "
            "in the initial state",
            "band_increasing_start",
            "==",
            1.0,
            "imposed by the initial state (initial.maturity_size_slope)",
            cal,
        ),
        Check(
            "1c",
            "mean maturity of communes increases across the population bands, at the end",
            "band_increasing_end",
            "==",
            1.0,
            "monotone gradient, after the dynamics",
        ),
        Check(
            "1d",
            "rank correlation of population and maturity among communes, at the end",
            "size_correlation_end",
            ">=",
            0.3,
            "assumption: at least a moderate correlation; robust to the few communes of the top band",
        ),
        Check(
            "2a",
            "change of gap_size (largest minus smallest population band) over the policy period",
            "gap_size_change",
            ">",
            0.0,
        ),
        Check(
            "2b",
            "change of the top-decile-vs-rest maturity gap over the policy period",
            "top_rest_gap_change",
            ">",
            0.0,
        ),
        Check(
            "2c",
            "change of maturity P90 - P10 over the policy period",
            "maturity_spread_change",
            ">",
            0.0,
            "research/seed_000.md SF0-01: Gini or P90 - P10 rises",
        ),
        Check(
            "2d",
            "change of the Gini index of maturity over the policy period",
            "maturity_gini_change",
            ">",
            0.0,
            "research/seed_000.md SF0-01 (relative dispersion)",
        ),
        Check(
            "2e",
            "change of the between-band part of the Theil index of communes' maturity over the policy period",
            "theil_between_change",
            ">",
            0.0,
            "between-group measure: the gap between population bands, relative",
        ),
        Check(
            "3a",
            "share of régions and départements with open data, in the initial state",
            "open_data_regions_departements",
            ">",
            0.5,
            "",
            cal,
        ),
        Check(
            "3b",
            "share of communes and EPCI of 100,000+ inhabitants with open data, in the initial state",
            "open_data_large_local",
            ">",
            0.5,
            "assumption: 100,000 inhabitants stands for « métropoles et grandes agglomérations »",
            cal,
        ),
        Check(
            "3c",
            "share of communes and EPCI of 3,500-50,000 inhabitants with open data, in the initial state",
            "open_data_3500_50000",
            "<",
            0.10,
            "",
            cal,
        ),
        Check(
            "3d",
            "same, communes only, in the initial state",
            "open_data_3500_50000_communes",
            "<",
            0.10,
            "in law EPCI are établissements publics, not collectivités territoriales: the strict reading of L70",
            cal,
        ),
        Check(
            "3e",
            "same share (communes and EPCI of 3,500-50,000), at the end",
            "open_data_3500_50000_end",
            "<",
            0.25,
            "assumption: the slow ramp-up (seed 000 L54) keeps it low; OpenDataFrance: 16 % of obliged "
            "collectivités in 2022 (docs/FIGURES.md §12)",
        ),
        Check(
            "4a",
            "staff up to date (staff_proficient_share), in the initial state (2018)",
            "proficient_start",
            "within",
            (0.10, 0.10),
            "± 10 points: research/seed_002.md SF1",
            cal,
        ),
        Check(
            "4b",
            "staff following (staff_following_share), in the initial state",
            "following_start",
            "within",
            (0.40, 0.10),
            "",
            cal,
        ),
        Check(
            "4c",
            "staff overwhelmed (staff_overwhelmed_share), in the initial state",
            "overwhelmed_start",
            "within",
            (0.50, 0.10),
            "",
            cal,
        ),
        Check("4d", f"staff up to date, in {later}", "proficient_later", "within", (0.10, 0.10)),
        Check("4e", f"staff following, in {later}", "following_later", "within", (0.40, 0.10)),
        Check("4f", f"staff overwhelmed, in {later}", "overwhelmed_later", "within", (0.50, 0.10)),
        Check(
            "5a",
            f"services_online_mean at the end of {online_year:g} (target 70 %)",
            "services_online_target_year",
            "<",
            0.70,
            "target not reached (seed 000 L47; research/seed_000.md SF0-04)",
        ),
        Check(
            "5b",
            "mean yearly rise of services_online_mean over the policy period",
            "services_online_yearly_rise",
            "<=",
            0.05,
            "assumption: at most 5 points a year (half the way to full adoption takes a decade or more)",
        ),
        Check(
            "5c",
            "mean yearly rise of staff_use_share (staff able to use the tools)",
            "staff_use_yearly_rise",
            "<=",
            0.05,
            "assumption: as 5b; acculturation is slower than technical change (seed 002 L2132-2134)",
        ),
        Check(
            "6a",
            f"skill gain of the initially skilled (top quartile), e-learning minus tutoring ({eq})",
            "gain_top_elearning_minus_tutoring",
            ">",
            0.0,
        ),
        Check(
            "6b",
            "skill gain of the initially skilled, e-learning minus blended",
            "gain_top_elearning_minus_blended",
            ">",
            0.0,
        ),
        Check(
            "6c",
            "staff illectronism share at the end, e-learning minus tutoring",
            "illectronism_elearning_minus_tutoring",
            ">",
            0.0,
        ),
        Check(
            "6d",
            "staff illectronism share at the end, e-learning minus blended",
            "illectronism_elearning_minus_blended",
            ">",
            0.0,
        ),
    ]


def evaluate(per_seed: pd.DataFrame, check_list: Sequence[Check]) -> pd.DataFrame:
    """The validation table from per-seed measures (columns ``seed, measure, value``)."""
    out = []
    for c in check_list:
        v = per_seed.loc[per_seed["measure"] == c.measure, "value"].to_numpy(dtype=float)
        finite = v[~np.isnan(v)]
        mean = float(finite.mean()) if len(finite) else math.nan
        lo, hi = (
            (float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5)))
            if len(finite)
            else (math.nan, math.nan)
        )
        n_pass = int(sum(c.holds(x) for x in v))
        ok = len(v) > 0 and c.holds(mean) and n_pass >= PASS_SHARE * len(v) - 1e-9
        out.append(
            {
                "fact": c.fact,
                "check": c.id,
                "what": c.what,
                "measure": c.measure,
                "criterion": c.criterion,
                "mean": mean,
                "lo": lo,
                "hi": hi,
                "seeds_passing": n_pass,
                "n_seeds": len(v),
                "status": "PASS" if ok else "FAIL",
                "basis": c.basis,
                "source": FACT_SOURCES[c.fact],
                "note": c.why,
            }
        )
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------- runs
def _overrides(seed: int, n_communes: int | None, years: int | None, extra: Sequence[str]) -> list[str]:
    ov = ["scenario=business_as_usual", f"seed={seed}", "simulation.progress=false", "simulation.figures=false"]
    if n_communes is not None:
        ov.append(f"territory.n_communes={n_communes}")
    if years is not None:
        ov.append(f"simulation.years={years}")
    return ov + list(extra)


def _run(overrides: list[str]):
    """Build and run one model; return (collectivités in the initial state, at the policy start
    and at the end, timeseries, skills at the policy start, model)."""
    from sim import io
    from sim.api import compose_config
    from sim.config import to_config
    from sim.model import TransitionModel

    logging.getLogger("MESA").setLevel(logging.WARNING)
    model = TransitionModel(to_config(compose_config(overrides)))
    colls_initial = io.collectivites_table(model)
    while model.step_index < 0:
        model.step()
    colls_start = io.collectivites_table(model)
    skill_start = model.staff.view("skill").copy()
    model.run()
    return colls_initial, colls_start, io.collectivites_table(model), io.timeseries_table(model), skill_start, model


def baseline_measures(overrides: list[str], later_years: int = 3) -> dict:
    """Measures of facts 1-5 (and the no-lever training outcomes) from one baseline run."""
    ci, c0, c1, ts, skill0, model = _run(overrides)
    cfg = model.cfg
    start = float(cfg.simulation.start_year)
    b0, b1 = band_maturity(c0), band_maturity(c1)
    out = {
        "maturity_spread_end": value_at(ts, "maturity_p90") - value_at(ts, "maturity_p10"),
        "band_increasing_start": increasing_share(band_maturity(ci).to_numpy()),
        "band_increasing_end": increasing_share(b1.to_numpy()),
        "size_correlation_start": size_maturity_correlation(c0),
        "size_correlation_end": size_maturity_correlation(c1),
        "gap_size_change": change(ts, "gap_size"),
        "top_rest_gap_change": top_rest_gap(c1["maturity"]) - top_rest_gap(c0["maturity"]),
        "maturity_spread_change": (value_at(ts, "maturity_p90") - value_at(ts, "maturity_p10"))
        - (first_value(ts, "maturity_p90") - first_value(ts, "maturity_p10")),
        "maturity_gini_change": change(ts, "maturity_gini"),
        "theil_between_change": change(ts, "maturity_theil_between_band"),
        **open_data_shares(ci),
        "open_data_3500_50000_end": open_data_shares(c1)["open_data_3500_50000"],
        "proficient_start": initial_value(ts, "staff_proficient_share"),
        "following_start": initial_value(ts, "staff_following_share"),
        "overwhelmed_start": initial_value(ts, "staff_overwhelmed_share"),
        "proficient_later": value_at(ts, "staff_proficient_share", start + later_years),
        "following_later": value_at(ts, "staff_following_share", start + later_years),
        "overwhelmed_later": value_at(ts, "staff_overwhelmed_share", start + later_years),
        # The target is for 2022: measured at the end of that year (model year target + 1).
        "services_online_target_year": value_at(ts, "services_online_mean", cfg.drivers.online_target_year + 1.0),
        "services_online_yearly_rise": yearly_rise(ts, "services_online_mean"),
        "staff_use_yearly_rise": yearly_rise(ts, "staff_use_share"),
        # Context for the report (not checked).
        "maturity_mean_start": first_value(ts, "maturity_mean"),
        "maturity_mean_end": value_at(ts, "maturity_mean"),
        "gap_size_start": first_value(ts, "gap_size"),
        "gap_size_end": value_at(ts, "gap_size"),
        "maturity_gini_start": first_value(ts, "maturity_gini"),
        "maturity_gini_end": value_at(ts, "maturity_gini"),
        "theil_between_start": first_value(ts, "maturity_theil_between_band"),
        "theil_between_end": value_at(ts, "maturity_theil_between_band"),
        "theil_within_start": first_value(ts, "maturity_theil_within_band"),
        "theil_within_end": value_at(ts, "maturity_theil_within_band"),
        "maturity_mean_pop_start": first_value(ts, "maturity_mean_pop"),
        "maturity_mean_pop_end": value_at(ts, "maturity_mean_pop"),
        "services_online_start": first_value(ts, "services_online_mean"),
        "services_online_end": value_at(ts, "services_online_mean"),
        "staff_use_start": first_value(ts, "staff_use_share"),
        "staff_use_end": value_at(ts, "staff_use_share"),
        "open_data_share_start": first_value(ts, "open_data_share"),
        "open_data_share_end": value_at(ts, "open_data_share"),
        "illectronism_none": value_at(ts, "staff_illectronism_share"),
        **{
            f"{k}_none": v
            for k, v in skill_outcomes(skill0, model.staff.view("skill"), model.staff.view("active")).items()
        },
    }
    for label, bands in (("start", b0), ("end", b1)):
        for band, value in bands.items():
            out[f"band_{band}_{label}"] = float(value)
    return out


def training_measures(overrides: list[str], modality: str, budget: float, targeting: str = "universal") -> dict:
    """Training outcomes of the baseline plus a training lever of the given modality."""
    ov = list(overrides) + [
        f"training.budget_eur_per_staff={budget}",
        f"training.modality={modality}",
        f"training.targeting={targeting}",
    ]
    _, _, _, ts, skill0, model = _run(ov)
    outcomes = skill_outcomes(skill0, model.staff.view("skill"), model.staff.view("active"))
    return {
        f"gain_top_{modality}": outcomes["gain_top"],
        f"gain_bottom_{modality}": outcomes["gain_bottom"],
        f"illectronism_{modality}": value_at(ts, "staff_illectronism_share"),
        f"spend_training_{modality}": float(
            ts[(ts["metric"] == "spend_training_eur") & (ts["stratum_kind"] == "all")]["value"].sum()
        ),
    }


def _task(args: tuple) -> tuple[int, dict]:
    kind, seed, overrides, extra = args
    if kind == "baseline":
        return seed, baseline_measures(overrides, **extra)
    return seed, training_measures(overrides, **extra)


def measure(
    seeds: Sequence[int],
    n_communes: int | None = None,
    years: int | None = None,
    extra: Sequence[str] = (),
    training_budget: float = 30.0,
    targeting: str = "universal",
    later_years: int = 3,
    jobs: int = 1,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Run the baseline and the training comparison over seeds; per-seed measures (long table)."""
    tasks = []
    for s in seeds:
        ov = _overrides(s, n_communes, years, extra)
        tasks.append(("baseline", s, ov, {"later_years": later_years}))
        tasks += [
            ("training", s, ov, {"modality": m, "budget": training_budget, "targeting": targeting}) for m in MODALITIES
        ]
    results: dict[int, dict] = {s: {} for s in seeds}
    t0 = time.perf_counter()
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            done = pool.map(_task, tasks)
            for i, (seed, values) in enumerate(done, 1):
                results[seed].update(values)
                if log:
                    log(f"run {i}/{len(tasks)} done ({time.perf_counter() - t0:.0f} s)")
    else:
        for i, task in enumerate(tasks, 1):
            seed, values = _task(task)
            results[seed].update(values)
            if log:
                log(
                    f"run {i}/{len(tasks)} ({task[0]} {task[3].get('modality', '')} seed {seed}) done ({time.perf_counter() - t0:.0f} s)"
                )
    rows = []
    for seed, values in results.items():
        for other in ("tutoring", "blended"):
            values[f"gain_top_elearning_minus_{other}"] = values["gain_top_elearning"] - values[f"gain_top_{other}"]
            values[f"illectronism_elearning_minus_{other}"] = (
                values["illectronism_elearning"] - values[f"illectronism_{other}"]
            )
        rows += [{"seed": seed, "measure": k, "value": float(v)} for k, v in values.items()]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------- report
def _num(x: float) -> str:
    if pd.isna(x):
        return "n/a"
    return f"{x:.3f}" if abs(x) >= 0.001 or x == 0 else f"{x:.1e}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _seed_mean(per_seed: pd.DataFrame, name: str) -> float:
    v = per_seed.loc[per_seed["measure"] == name, "value"]
    return float(v.mean()) if len(v) else math.nan


def to_markdown(table: pd.DataFrame, per_seed: pd.DataFrame, meta: dict) -> str:
    n_pass = int((table["status"] == "PASS").sum())
    validated = table["basis"] == "validated"
    n_val, n_val_pass = int(validated.sum()), int((validated & (table["status"] == "PASS")).sum())
    lines = [
        f"Command: `{meta['command']}`  ",
        (
            f"Date: {meta['date']}; {meta['n_seeds']} seeds ({meta['seeds']}); territory: {meta['territory']}; "
            f"{meta['years']} years from {meta['start_year']}; {meta['runs']} runs in {meta['wall_s']:.0f} s."
        ),
        "",
        (
            f"**{n_pass} of {len(table)} checks pass; of the {n_val} validated checks (facts nothing was set to "
            f"reproduce), {n_val_pass} pass.** Values are the mean over seeds and, in brackets, the "
            f"2.5-97.5 % range over seeds. PASS: the criterion holds for the mean and in at least "
            f"{PASS_SHARE:.0%} of the seeds. *calibrated*: a parameter was set to reproduce that figure."
        ),
        "",
        "| check | what is measured | criterion | mean [range over seeds] | seeds passing | status |",
        "|---|---|---|---|---|---|",
    ]
    fact = None
    for r in table.itertuples():
        if r.fact != fact:
            fact = r.fact
            lines.append(f"| **{fact}** | **{FACTS[fact]}** ({FACT_SOURCES[fact]}) | | | | |")
        note = f" <br>*{r.note}*" if r.note else ""
        lines.append(
            f"| {r.check} | {r.what}{note} | {r.criterion} | {_num(r.mean)} [{_num(r.lo)}, {_num(r.hi)}] | "
            f"{r.seeds_passing}/{r.n_seeds} | **{r.status}**{' (calibrated)' if r.basis == 'calibrated' else ''} |"
        )

    def m(name: str) -> str:
        return _num(_seed_mean(per_seed, name))

    bands = [b for b in POP_BANDS if f"band_{b}_start" in set(per_seed["measure"])]
    lines += [
        "",
        "### Context (means over seeds)",
        "",
        "Mean maturity of communes by population band:",
        "",
        "| | " + " | ".join(bands) + " |",
        "|---|" + "---|" * len(bands),
        "| start | " + " | ".join(m(f"band_{b}_start") for b in bands) + " |",
        "| end | " + " | ".join(m(f"band_{b}_end") for b in bands) + " |",
        "",
        "Start: the policy start (after the history period); end: the horizon.",
        "",
        "| outcome | start | end |",
        "|---|---|---|",
        f"| maturity_mean | {m('maturity_mean_start')} | {m('maturity_mean_end')} |",
        f"| gap_size | {m('gap_size_start')} | {m('gap_size_end')} |",
        f"| maturity_gini | {m('maturity_gini_start')} | {m('maturity_gini_end')} |",
        f"| maturity_theil_between_band | {m('theil_between_start')} | {m('theil_between_end')} |",
        f"| maturity_theil_within_band | {m('theil_within_start')} | {m('theil_within_end')} |",
        f"| maturity_mean_pop (communes, weighted by population) | {m('maturity_mean_pop_start')} | {m('maturity_mean_pop_end')} |",
        f"| services_online_mean | {m('services_online_start')} | {m('services_online_end')} |",
        f"| staff_use_share | {m('staff_use_start')} | {m('staff_use_end')} |",
        f"| open_data_share (all collectivités) | {m('open_data_share_start')} | {m('open_data_share_end')} |",
        f"| rank correlation of population and maturity (communes) | {m('size_correlation_start')} | {m('size_correlation_end')} |",
        "",
        (
            "Band means averaged over seeds increase across all bands: "
            f"start {_yes(increasing_share([_seed_mean(per_seed, f'band_{b}_start') for b in bands]) == 1.0)}, "
            f"end {_yes(increasing_share([_seed_mean(per_seed, f'band_{b}_end') for b in bands]) == 1.0)}."
        ),
        "",
        f"Training comparison ({meta['training']}); staff present at the start and still employed at the end:",
        "",
        "| lever | skill gain, top quartile | skill gain, bottom quartile | staff illectronism share at the end | training spend (EUR) |",
        "|---|---|---|---|---|",
        f"| none (baseline) | {m('gain_top_none')} | {m('gain_bottom_none')} | {m('illectronism_none')} | 0 |",
    ]
    for mod in MODALITIES:
        lines.append(
            f"| {mod} | {m('gain_top_' + mod)} | {m('gain_bottom_' + mod)} | {m('illectronism_' + mod)} | "
            f"{_seed_mean(per_seed, 'spend_training_' + mod):,.0f} |"
        )
    return "\n".join(lines) + "\n"


def format_table(table: pd.DataFrame, width: int = 58) -> str:
    """The table for a terminal: one line per check."""
    lines = [
        f"{'check':<6}{'what':<{width}}  {'criterion':<10}{'mean':>8}  {'range over seeds':<20}{'seeds':>6}  status"
    ]
    for r in table.itertuples():
        what = r.what if len(r.what) <= width else r.what[: width - 1] + "…"
        rng = f"[{_num(r.lo)}, {_num(r.hi)}]"
        lines.append(
            f"{r.check:<6}{what:<{width}}  {r.criterion:<10}{_num(r.mean):>8}  {rng:<20}{r.seeds_passing:>3}/{r.n_seeds:<2}  {r.status}"
        )
    return "\n".join(lines)


DOC_HEADER = """# Validation against the sources

<!-- The table below is written by `python -m sim.validate --docs`; edit the text around it only. -->

The baseline (`scenario=business_as_usual`) is run over seeds and compared with the stylized facts of
DESIGN.md, each taken from the seeds (line numbers refer to `../shared/seeds/NNN_*.txt`; English extracts
in `research/`). `sim/validate.py` states how each number is measured; `tests/test_validate.py` checks the
measuring functions on constructed inputs. A FAIL is a finding, not a bug to hide: it says where the model
and the sources disagree, and the text after the table discusses each one.

Reproduce (4 runs per seed, a few seconds each at the default territory: 10 seeds take about 3
minutes on one core; `--jobs N` runs them in parallel):

```bash
python -m sim.validate --seeds 10 --out outputs/validation --docs
```

It writes `validation.md`, `validation.csv` (one row per check) and `measures.csv` (one row per seed and
measure) into `--out`, and with `--docs` replaces the section below.

"""

BEGIN, END = "<!-- BEGIN RESULTS -->", "<!-- END RESULTS -->"


def update_doc(results_md: str, path: Path = DOC) -> None:
    """Replace the results section of docs/VALIDATION.md (create the file if needed)."""
    block = f"{BEGIN}\n## Latest full run\n\n{results_md}{END}"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            path.write_text(head + block + tail, encoding="utf-8")
            return
    path.write_text(DOC_HEADER + block + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sim.validate", description="Check the baseline against the stylized facts of the sources."
    )
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0..N-1; default 5)")
    parser.add_argument(
        "--communes",
        type=int,
        default=None,
        help="communes of the synthetic territory (default: the configured territory, 1,000)",
    )
    parser.add_argument("--years", type=int, default=None, help="horizon in years (default: the configured 10)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("outputs/validation"),
        help="directory of the report (default outputs/validation)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra Hydra override for every run (repeatable)",
    )
    parser.add_argument(
        "--training-budget",
        type=float,
        default=30.0,
        help="budget of the training lever compared across modalities (EUR/staff/year; default 30, within "
        "the training supply)",
    )
    parser.add_argument(
        "--targeting",
        default="universal",
        choices=("universal", "furthest", "most_impacted"),
        help="targeting held equal across modalities",
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes)")
    parser.add_argument("--docs", action="store_true", help="also replace the results section of docs/VALIDATION.md")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any check fails")
    args = parser.parse_args(argv)

    from sim.api import compose_config
    from sim.config import to_config

    seeds = list(range(args.seeds))
    cfg = to_config(compose_config(_overrides(0, args.communes, args.years, args.overrides)))
    t0 = time.perf_counter()
    per_seed = measure(
        seeds,
        args.communes,
        args.years,
        args.overrides,
        args.training_budget,
        args.targeting,
        jobs=args.jobs,
        log=lambda msg: print(msg, file=sys.stderr),
    )
    wall = time.perf_counter() - t0
    table = evaluate(per_seed, checks(args.training_budget, cfg.drivers.online_target_year, cfg.simulation.start_year))
    territory = f"{cfg.territory.kind}" + (
        f", {cfg.territory.n_communes} communes" if cfg.territory.kind == "synthetic" else ""
    )
    meta = {
        "command": "python -m sim.validate " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seeds": f"{seeds[0]}..{seeds[-1]}" if seeds else "none",
        "n_seeds": len(seeds),
        "territory": territory,
        "years": cfg.simulation.years,
        "start_year": cfg.simulation.start_year,
        "runs": len(seeds) * (1 + len(MODALITIES)),
        "wall_s": wall,
        "training": f"training lever of {args.training_budget:g} EUR/staff/year, targeting {args.targeting}",
    }
    md = to_markdown(table, per_seed, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "validation.md").write_text("# Validation report\n\n" + md, encoding="utf-8")
    table.to_csv(args.out / "validation.csv", index=False)
    per_seed.to_csv(args.out / "measures.csv", index=False)
    if args.docs:
        update_doc(md)
    print(format_table(table))
    n_fail = int((table["status"] == "FAIL").sum())
    print(
        f"\n{len(table) - n_fail}/{len(table)} checks pass; report in {args.out}/validation.md"
        + (" and docs/VALIDATION.md" if args.docs else "")
    )
    return 1 if (args.strict and n_fail) else 0


if __name__ == "__main__":
    sys.exit(main())
