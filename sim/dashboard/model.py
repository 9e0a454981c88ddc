"""The dashboard's model: keyword inputs from the page -> Hydra overrides -> validated Config.

SolaraViz builds the model with keyword arguments only (``model_params``) and rebuilds it with
the current inputs when the user presses *Reset*. :class:`DashboardModel` turns those inputs into
the same Hydra overrides as the command line (``scenario=...``, ``training.budget_eur_per_staff=...``),
composes ``conf/`` with :func:`sim.api.compose_config` and validates with
:func:`sim.config.to_config`. It then wraps a :class:`~sim.model.TransitionModel` in ``self.sim``.

It never raises on bad input: a text field that is not a number, a value out of its range, an
unknown scenario... leave ``self.sim`` empty, put the message in ``self.error`` (the page shows
it) and stop the model (``running = False``), so SolaraViz keeps working.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

from sim.api import CONF_DIR, compose_config
from sim.config import LEVERS, ConfigError, to_config
from sim.model import TransitionModel
from sim.state import LEVER_SPEND

logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO

#: Choice in the select boxes that keeps whatever the scenario preset says.
AS_SCENARIO = "as in scenario"
#: Levers whose spending the page shows (investment and own training are the collectivités' own).
#: Territory sizes and horizons offered by the page (any value in the config's range is accepted).
TERRITORY_SIZES = (100, 250, 500, 1000, 2000, 5000)
HORIZONS = (2, 5, 10, 15, 20)

_HYDRA_LOCK = threading.Lock()  # Hydra's global state is not thread-safe; Solara serves in threads.


def list_scenarios() -> list[str]:
    """Scenario presets in conf/scenario/ (read at each call: new presets show up at once)."""
    names = sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))
    if "business_as_usual" in names:  # the reference first
        names.remove("business_as_usual")
        names.insert(0, "business_as_usual")
    return names


@dataclass(frozen=True)
class TextLever:
    """A free-text numeric input: blank keeps the scenario's value."""

    kwarg: str
    key: str  # dotted config key
    label: str
    label_fr: str = ""
    group: str = ""  # the lever's config group (sim.config.LEVERS), "" for other inputs


def _lever_inputs() -> tuple[TextLever, ...]:
    """One budget input per policy lever of :data:`sim.config.LEVERS` (its title and budget field), plus
    the pooling coverage target."""
    out = []
    for group, lever in LEVERS.items():
        kwarg = f"{group}_budget"  # training_budget, mutualisation_budget, ...
        key = f"{group}.{lever.budget_field}"
        out.append(TextLever(kwarg, key, f"{lever.title}: EUR/staff/yr", f"{lever.title_fr} : €/agent/an", group))
        if group == "mutualisation":
            out.append(TextLever("mutualisation_coverage", "mutualisation.coverage", "Pooling coverage target (0-1)",
                                 "Cible de couverture de la mutualisation (0-1)", group))  # fmt: skip
    return tuple(out)


TEXT_LEVERS = _lever_inputs()
#: Territories the page offers: the synthetic one (a size) or French départements (territory=france).
TERRITORIES = ("synthetic", "france")
_DEPARTEMENT = re.compile(r"^(\d{2}|2[AB]|97\d)$", re.IGNORECASE)
#: Most départements the page runs at once (each has 300 to 900 communes).
MAX_DEPARTEMENTS = 12
CHOICE_LEVERS = (
    ("training_modality", "training.modality", "Training modality", ("elearning", "blended", "tutoring")),
    ("training_targeting", "training.targeting", "Training targeting", ("universal", "furthest", "most_impacted")),
    ("mutualisation_mode", "mutualisation.structure", "Pooling structure", ("none", "epci", "opsn")),
)
#: Page label of each configuration key the page sets (to name the field in error messages).
FIELD_LABELS = {
    "seed": "Seed",
    "territory.n_communes": "Communes",
    "territory.departements": "Départements",
    "simulation.years": "Years",
    **{lever.key: lever.label for lever in TEXT_LEVERS},
    **{key: label for _, key, label, _ in CHOICE_LEVERS},
}


class InputError(ValueError):
    """A page input that cannot be turned into a configuration value."""


def _parse_number(text, label: str) -> float | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        value = float(str(text).strip().replace(",", ".").replace(" ", "").replace("\u202f", ""))
    except ValueError:
        raise InputError(
            f"{label}: {str(text)!r} is not a number (leave it blank to keep the scenario's value)"
        ) from None
    if not math.isfinite(value):
        raise InputError(f"{label}: {text!r} is not a finite number")
    return value


def _parse_seed(text) -> int:
    s = str(text).strip()
    if not re.fullmatch(r"[+-]?\d+", s):
        raise InputError(f"Seed: {s!r} is not a whole number")
    return int(s)


def parse_departements(text) -> list[str]:
    """``"35, 56 29"`` -> ``["35", "56", "29"]`` (raises :class:`InputError` on a bad code)."""
    codes = [c.strip().upper() for c in re.split(r"[\s,;]+", str(text or "")) if c.strip()]
    if not codes:
        raise InputError(
            "Départements: give at least one code, e.g. 35, 56 (the page does not run the whole of France)"
        )
    bad = [c for c in codes if not _DEPARTEMENT.match(c)]
    if bad:
        raise InputError(f"Départements: {', '.join(bad)} not département codes (two digits, 2A, 2B or 97x)")
    if len(codes) > MAX_DEPARTEMENTS:
        raise InputError(f"Départements: at most {MAX_DEPARTEMENTS} at once in the page (got {len(codes)})")
    return list(dict.fromkeys(codes))


def build_overrides(
    *,
    n_communes=1000,
    scenario_name="business_as_usual",
    years=10,
    seed="0",
    territory="synthetic",
    departements="35",
    training_modality=AS_SCENARIO,
    training_targeting=AS_SCENARIO,
    mutualisation_mode=AS_SCENARIO,
    **text_levers,
) -> list[str]:
    """Hydra overrides for the page's inputs (raises :class:`InputError` on unparsable input).

    A lever value equal to the scenario's (as :func:`scenario_values` shows it) gives no override: the
    page shows the scenario's values in its fields, and the overrides say only what was changed."""
    unknown = set(text_levers) - {lever.kwarg for lever in TEXT_LEVERS}
    if unknown:
        raise InputError(f"unknown inputs: {', '.join(sorted(unknown))}")
    if scenario_name not in list_scenarios():
        raise InputError(f"Scenario: {scenario_name!r} is not one of {', '.join(list_scenarios())}")
    if territory not in TERRITORIES:
        raise InputError(f"Territory: {territory!r} is not one of {', '.join(TERRITORIES)}")
    n = _parse_number(n_communes, "Communes")
    y = _parse_number(years, "Years")
    if n is None or n != int(n) or y is None or y != int(y):
        raise InputError(f"Communes and Years must be whole numbers (got {n_communes!r}, {years!r})")
    if territory == "france":
        codes = parse_departements(departements)
        where = ["territory=france", "territory.departements=[" + ",".join(f"'{c}'" for c in codes) + "]"]
    else:
        where = ["territory.kind=synthetic", f"territory.n_communes={int(n)}"]
    overrides = [
        f"scenario={scenario_name}",
        *where,
        f"simulation.years={int(y)}",
        "simulation.progress=false",
        "simulation.figures=false",
        f"seed={_parse_seed(seed)}",
    ]
    preset = scenario_values(scenario_name)
    choices = {
        "training_modality": training_modality,
        "training_targeting": training_targeting,
        "mutualisation_mode": mutualisation_mode,
    }
    for kwarg, key, label, allowed in CHOICE_LEVERS:
        value = choices[kwarg]
        if value in (None, "", AS_SCENARIO):
            continue
        if value not in allowed:
            raise InputError(f"{label}: {value!r} is not allowed; allowed values: {', '.join(allowed)}")
        if value != preset.get(kwarg):
            overrides.append(f"{key}={value}")
    for lever in TEXT_LEVERS:
        value = _parse_number(text_levers.get(lever.kwarg, ""), lever.label)
        if value is not None and not _same(value, preset.get(lever.kwarg)):
            overrides.append(f"{lever.key}={value!r}")
    return overrides


def _same(value: float, preset) -> bool:
    try:
        return preset is not None and math.isclose(float(value), float(preset), rel_tol=1e-12, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


_SCENARIO_VALUES: dict[str, dict[str, str]] = {}


def scenario_values(scenario_name: str) -> dict[str, str]:
    """The lever values a scenario preset sets, as the page's fields show them: {input keyword: text}
    (budgets in EUR per staff member a year, choices by name). Composed from conf/ once per scenario."""
    if scenario_name in _SCENARIO_VALUES:
        return _SCENARIO_VALUES[scenario_name]
    if scenario_name not in list_scenarios():
        return {}
    with _HYDRA_LOCK:
        cfg = compose_config([f"scenario={scenario_name}"])
    from omegaconf import OmegaConf

    plain = OmegaConf.to_container(cfg, resolve=True)
    out: dict[str, str] = {}
    for lever in TEXT_LEVERS:
        group, field = lever.key.split(".")
        value = plain.get(group, {}).get(field)
        out[lever.kwarg] = _number_text(value)
    for kwarg, key, _label, _allowed in CHOICE_LEVERS:
        group, field = key.split(".")
        out[kwarg] = str(plain.get(group, {}).get(field))
    _SCENARIO_VALUES[scenario_name] = out
    return out


def _number_text(value) -> str:
    if value is None:
        return ""
    v = float(value)
    return str(int(v)) if v == int(v) else repr(v)


def _name_fields(message: str) -> str:
    """Append the page label after each configuration key named in an error message."""
    for key, label in FIELD_LABELS.items():
        message = re.sub(rf"(?<![\w.]){re.escape(key)}(?=[=\s])", f"{key} [{label}]", message, count=1)
    return message


def make_config(**inputs):
    """Validated :class:`~sim.config.Config` for the page's inputs (raises InputError/ConfigError)."""
    overrides = build_overrides(**inputs)
    with _HYDRA_LOCK:
        try:
            cfg = compose_config(overrides)
        except Exception as exc:  # Hydra: wrong type, missing preset...
            raise InputError(f"{type(exc).__name__}: {exc}") from exc
    return to_config(cfg), overrides


class DashboardModel(mesa.Model):
    """The model SolaraViz drives: keyword inputs only; the simulation is ``self.sim``.

    The preset is ``scenario_name``, not ``scenario``: Mesa reserves ``scenario`` (its
    experimental Scenario object), and SolaraViz's Reset would pass one under that name.
    """

    def __init__(
        self,
        *,
        n_communes: int = 1000,
        scenario_name: str = "business_as_usual",
        years: int = 10,
        seed: str = "0",
        territory: str = "synthetic",
        departements: str = "35",
        training_modality: str = AS_SCENARIO,
        training_targeting: str = AS_SCENARIO,
        mutualisation_mode: str = AS_SCENARIO,
        rng=None,
        **lever_inputs: str,
    ):
        super().__init__(rng=rng)
        # Lever inputs (one per lever of sim.config.LEVERS, e.g. training_budget; blank keeps the scenario's).
        self.inputs = {
            "n_communes": n_communes, "scenario_name": scenario_name, "years": years, "seed": seed,
            "territory": territory, "departements": departements,
            "training_modality": training_modality, "training_targeting": training_targeting,
            "mutualisation_mode": mutualisation_mode,
            **{lever.kwarg: "" for lever in TEXT_LEVERS}, **lever_inputs,
        }  # fmt: skip
        self.error: str | None = None
        self.sim: TransitionModel | None = None
        self.overrides: list[str] = []
        self.completed = 0  # records of completed steps (the page reads only those)
        self.cache: dict = {}  # figures and frames kept across renders, per model
        self._by_metric: dict = {}
        self._indexed = 0
        self.step_index, self.year, self.communes, self.maturity = 0, float("nan"), np.zeros(0, int), np.zeros(0)
        try:
            config, self.overrides = make_config(**self.inputs)
            self.sim = TransitionModel(config)
        except (InputError, ConfigError) as exc:
            self.error = _name_fields(str(exc))
        # Mesa replaced ``self.step`` by its time-advancing wrapper; step only while the
        # simulation runs, so that Mesa's ``time`` stays the simulation's step (the page's Play
        # and Step buttons may call step() after a "Run to the end" or on a failed build).
        # The lock: SolaraViz's play loop steps in a thread while "Run to the end" or Step may
        # be pressed; steps must not overlap.
        mesa_step = self.step
        self._lock = threading.RLock()

        def step_while_running() -> None:
            with self._lock:
                if self.running:
                    mesa_step()

        self.step = step_while_running
        if self.sim is None:
            self.running = False
            return
        c = self.sim.colls
        self.communes = np.flatnonzero(c.kind == 0)
        # The history period (2018 to the start year, no lever) runs at once: the page starts at
        # the policy start, and its series show the policy period.
        while self.sim.step_index < 0:
            self.sim.step()
        self._indexed = len(self.sim.records) - sum(1 for r in self.sim.records if r[0] == 0)
        self._snapshot()

    # ------------------------------------------------------------------ running
    def step(self) -> None:
        if self.sim is not None and self.sim.running:
            self.sim.step()
            self._snapshot()
        self.running = self.sim is not None and self.sim.running

    def run_to_end(self) -> None:
        while self.running:
            self.step()

    def _snapshot(self) -> None:
        """Copy what the page draws once a step is complete (the play loop steps in a thread)."""
        self.maturity = self.sim.colls.maturity[self.communes].copy()
        self.step_index = int(self.sim.step_index)
        self.year = float(self.sim.year)
        self.completed = len(self.sim.records)

    @property
    def n_steps(self) -> int:
        return self.sim.n_steps if self.sim is not None else 0

    # ------------------------------------------------------------------ reading the records
    def _index(self) -> dict:
        """Records of the completed steps, grouped by (stratum_kind, metric) then stratum; kept
        across calls and extended with the new records only (a pandas pivot per chart per step
        would cost more than the step)."""
        records = self.sim.records if self.sim is not None else []
        for step, year, kind, stratum, metric, value in records[self._indexed : self.completed]:
            years, values = self._by_metric.setdefault((kind, metric), {}).setdefault(stratum, ([], []))
            years.append(year)
            values.append(value)
        self._indexed = max(self._indexed, self.completed)
        return self._by_metric

    def series(self, metric: str, stratum_kind: str = "all") -> dict[str, pd.Series]:
        """One metric over time: {stratum: Series indexed by year} (stratum "all" for totals)."""
        groups = self._index().get((stratum_kind, metric), {})
        return {
            stratum: pd.Series(values, index=years, name=stratum, dtype=float)
            for stratum, (years, values) in groups.items()
        }

    def latest(self, metric: str, stratum_kind: str = "all", stratum: str = "all") -> float:
        """Last recorded value (NaN before any record)."""
        s = self.series(metric, stratum_kind).get(stratum)
        return float(s.iloc[-1]) if s is not None and len(s) else float("nan")

    def first(self, metric: str, stratum_kind: str = "all", stratum: str = "all") -> float:
        s = self.series(metric, stratum_kind).get(stratum)
        return float(s.iloc[0]) if s is not None and len(s) else float("nan")

    def spend_cumulative(self, categories=LEVER_SPEND) -> pd.DataFrame:
        """Cumulative euros spent per category (columns: policy levers by default) by year."""
        cols = {c: self.series(f"spend_{c}_eur").get("all") for c in categories}
        cols = {c: s for c, s in cols.items() if s is not None}
        if not cols:
            return pd.DataFrame(columns=list(categories), dtype=float)
        return pd.DataFrame(cols).reindex(columns=list(categories), fill_value=0.0).cumsum()


def default_inputs() -> dict:
    """The page's inputs at start: the model's defaults, with the lever fields showing the default
    scenario's values (so that they read as the scenario's, and are editable)."""
    import inspect

    params = inspect.signature(DashboardModel.__init__).parameters
    out = {k: p.default for k, p in params.items() if k not in ("self", "rng", "lever_inputs")}
    out.update(scenario_values(out["scenario_name"]))
    return out


__all__ = [
    "AS_SCENARIO",
    "LEVER_SPEND",
    "DashboardModel",
    "InputError",
    "build_overrides",
    "default_inputs",
    "list_scenarios",
    "make_config",
    "scenario_values",
]
