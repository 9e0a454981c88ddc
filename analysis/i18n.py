"""Words of the reports and figures in English and French (``lang="en"`` or ``"fr"``).

Metric labels live in the outcome registry (:mod:`sim.outcomes`); this module holds the sentences
around them and the names of the named scenarios (``conf/scenario/``).
"""

from __future__ import annotations

from typing import Any

LANGS = ("en", "fr")

#: Display names of the named scenarios (a scenario not listed shows its name without underscores).
SCENARIO_TITLES: dict[str, tuple[str, str]] = {
    "business_as_usual": ("Business as usual", "Fil de l'eau"),
    "massive_targeted_training": ("Massive targeted training", "Formation massive ciblée"),
    "mutualisation_first": ("Mutualisation first", "Mutualisation d'abord"),
    "recruitment_first": ("Recruitment first", "Recrutement d'abord"),
    "mediation": ("Digital mediation", "Médiation numérique"),
    "leadership_first": ("Leadership first", "Sensibilisation des élus d'abord"),
    "peer_networks": ("Peer networks", "Réseaux de référents"),
    "combined": ("All levers combined", "Tous leviers combinés"),
    "equal_budget_training": ("Equal budget: training", "Budget égal : formation"),
    "equal_budget_recruitment": ("Equal budget: recruitment", "Budget égal : recrutement"),
    "equal_budget_mutualisation": ("Equal budget: mutualisation", "Budget égal : mutualisation"),
    "training_x_mutualisation": ("Training x mutualisation", "Formation x mutualisation"),
}

#: Display names of swept columns the reports know.
COLUMN_TITLES: dict[str, tuple[str, str]] = {
    "scenario": ("Scenario", "Scénario"),
    "equal_budget_eur_per_staff": ("Budget per staff member a year", "Budget par agent et par an"),
    "seed": ("Seed (territory)", "Graine (territoire)"),
}


def scenario_title(name: Any, lang: str = "en") -> str:
    text = str(name)
    if text in SCENARIO_TITLES:
        return SCENARIO_TITLES[text][1 if lang == "fr" else 0]
    return text.replace("_", " ").capitalize() if "_" in text or text.islower() else text


def column_title(name: str, lang: str = "en") -> str:
    if name in COLUMN_TITLES:
        return COLUMN_TITLES[name][1 if lang == "fr" else 0]
    return name


STRINGS: dict[str, tuple[str, str]] = {
    # figures
    "year": ("Year", "Année"),
    "step": ("Step", "Pas de temps"),
    "mean_band": (
        "mean over seeds with {level} interval",
        "moyenne sur les graines, intervalle à {level}",
    ),
    "diff_vs": ("Difference against {baseline}", "Écart à {baseline}"),
    "diff_vs_lower": ("difference against {baseline}", "écart à {baseline}"),
    "diff_paired_note": (
        "paired by seed (same seed = same territory), {level} interval",
        "apparié par graine (même graine = même territoire), intervalle à {level}",
    ),
    "better": ("better", "mieux"),
    "worse": ("worse", "moins bien"),
    "not_sure": ("not distinguishable from zero", "non distinct de zéro"),
    "points": ("points", "points"),
    "pp": ("percentage points", "points de pourcentage"),
    "index_points": ("index (0-1)", "indice (0-1)"),
    "meur": ("million EUR", "millions d'euros"),
    "at_end": ("at the end of the run", "en fin de simulation"),
    "dist_seeds": ("distribution across seeds", "distribution sur les graines"),
    "tradeoff": ("Adoption against fracture", "Adoption et fracture"),
    "lower_better": ("lower is better", "plus bas = mieux"),
    "higher_better": ("higher is better", "plus haut = mieux"),
    "by_band": ("by population band", "par strate de population"),
    "pop_band_axis": ("Population band (inhabitants)", "Strate de population (habitants)"),
    "map_title": ("{what}, {scenario}, seed {seed}", "{what}, {scenario}, graine {seed}"),
    "map_diff_title": (
        (
            "{what}: {baseline} (first map), then each scenario minus {baseline}, commune by commune "
            "(seed {seed}: same territory)"
        ),
        (
            "{what} : {baseline} (première carte), puis chaque scénario moins {baseline}, commune par commune "
            "(graine {seed} : même territoire)"
        ),
    ),
    "size_population": ("point size: population", "taille des points : population"),
    "cumulative": ("cumulative", "cumulé"),
}


def t(key: str, lang: str = "en", **kw: Any) -> str:
    """The string ``key`` in ``lang``, formatted with ``kw``."""
    en, fr = STRINGS[key]
    return (fr if lang == "fr" else en).format(**kw)


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return lang
