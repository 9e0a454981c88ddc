"""The registry of observed targets: what the model is calibrated and validated against.

The data live in ``sim/data/targets.yaml`` (package data); this module reads them, checks them,
and measures each target on a run's outputs::

    from sim.targets import load_targets, measure
    targets = load_targets()                      # every target, in file order
    value = measure(targets["insee_illectronism_2021"], result.timeseries)

A target's *quantity* is either a metric of ``timeseries.parquet`` (``metric``, with
``stratum_kind`` and ``stratum``, both ``all`` by default) read at the target's ``date`` (the
last recorded step at or before it), or a named function of the outputs (:data:`FUNCTIONS`).
When a run cannot measure a target (metric not recorded, stratum absent, date outside the run),
:func:`measure` raises :class:`TargetUnavailable` with the reason: calibration refuses such
targets rather than skipping them.

    python -m sim.targets                 # the table of targets
    python -m sim.targets --check-run simulation.start_year=2018   # which ones a run can measure
    python -m sim.targets --docs          # rewrite the table in docs/CALIBRATION.md
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "CALIBRATION.md"
USES = ("calibration", "validation")
BEGIN, END = "<!-- BEGIN TARGETS -->", "<!-- END TARGETS -->"


class TargetError(ValueError):
    """The target registry (or a target given by the user) is malformed."""


class TargetUnavailable(LookupError):
    """A run's outputs cannot measure a target (the reason is the message)."""


@dataclass(frozen=True)
class Target:
    """One observed figure and how the model measures it (see the module docstring)."""

    id: str
    title: str
    year: int
    use: str
    source: str
    metric: str | None = None
    stratum_kind: str = "all"
    stratum: str = "all"
    function: str | None = None
    since: float | None = None
    date: float | None = None
    value: float | None = None
    sd: float | None = None
    lo: float | None = None
    hi: float | None = None
    discrepancy_sd: float = 0.0
    geography: str = ""
    population: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def when(self) -> float:
        """Decimal year at which the model is read (``date``, else mid-``year``)."""
        return float(self.date) if self.date is not None else self.year + 0.5

    @property
    def is_range(self) -> bool:
        return self.lo is not None

    @property
    def observed(self) -> float:
        """The observed value (the middle of the range for a range target)."""
        return float(self.value) if self.value is not None else (self.lo + self.hi) / 2

    @property
    def obs_var(self) -> float:
        """Observation variance (0 for a range target: its width is handled by the distance)."""
        return float(self.sd) ** 2 if self.sd is not None else 0.0

    @property
    def quantity(self) -> str:
        if self.function:
            return f"{self.function}()"
        strat = "" if self.stratum_kind == "all" else f"[{self.stratum_kind}={self.stratum}]"
        change = "" if self.since is None else f", change since {self.since:g}"
        return f"{self.metric}{strat}{change}"

    def observed_text(self) -> str:
        if self.is_range:
            return f"[{_num(self.lo)}, {_num(self.hi)}]"
        return f"{_num(self.value)} ± {_num(self.sd)}"

    def distance(self, predicted: np.ndarray | float) -> np.ndarray:
        """|z - prediction|, or the distance to the range (0 inside) for a range target."""
        p = np.asarray(predicted, dtype=float)
        if self.is_range:
            return np.maximum.reduce([self.lo - p, np.zeros_like(p), p - self.hi])
        return np.abs(p - self.value)

    def to_dict(self) -> dict:
        out = {"id": self.id, "title": self.title, "year": self.year, "date": self.when, "use": self.use}
        if self.function:
            out["function"] = self.function
        else:
            out.update(metric=self.metric, stratum_kind=self.stratum_kind, stratum=self.stratum)
            if self.since is not None:
                out["since"] = self.since
        if self.is_range:
            out["range"] = [self.lo, self.hi]
        else:
            out.update(value=self.value, sd=self.sd)
        out.update(
            discrepancy_sd=self.discrepancy_sd,
            geography=self.geography,
            population=self.population,
            source=self.source,
        )
        if self.note:
            out["note"] = self.note
        return out


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


# --------------------------------------------------------------------------------- functions
def _staff_per_1000_inh(ts: pd.DataFrame, colls: pd.DataFrame | None, when: float) -> float:
    """Staff per 1,000 inhabitants: the metric ``staff_per_1000_inh`` when the run records it,
    else ``staff_count`` x 1,000 / the population of the communes (``collectivites.parquet``)."""
    if _has(ts, "staff_per_1000_inh"):
        return _value_at(ts, "staff_per_1000_inh", "all", "all", when)
    if colls is None:
        raise TargetUnavailable("needs collectivites.parquet (commune populations) or the metric staff_per_1000_inh")
    pop = float(colls.loc[colls["kind"] == "commune", "population"].sum())
    if pop <= 0:
        raise TargetUnavailable("no commune population in collectivites.parquet")
    return _value_at(ts, "staff_count", "all", "all", when) * 1000.0 / pop


#: Named functions of a run's outputs: ``f(timeseries, collectivites or None, date) -> value``.
FUNCTIONS: dict[str, Callable[[pd.DataFrame, pd.DataFrame | None, float], float]] = {
    "staff_per_1000_inh": _staff_per_1000_inh,
}
#: Functions that need the run's collectivités table.
NEEDS_COLLECTIVITES = {"staff_per_1000_inh"}


# --------------------------------------------------------------------------------- registry
_FIELDS = {
    "id",
    "title",
    "quantity",
    "year",
    "date",
    "value",
    "sd",
    "range",
    "discrepancy_sd",
    "use",
    "geography",
    "population",
    "source",
    "note",
}


def _parse(entry: Mapping, where: str) -> Target:
    from sim.params import citation_errors

    if not isinstance(entry, Mapping):
        raise TargetError(f"{where}: a target must be a mapping")
    tid = str(entry.get("id", "")).strip()
    where = f"{where} ({tid or 'no id'})"
    errors = []
    unknown = set(entry) - _FIELDS
    if unknown:
        errors.append(f"unknown fields {sorted(unknown)}")
    for key in ("id", "title", "year", "use", "source", "quantity"):
        if entry.get(key) in (None, ""):
            errors.append(f"missing {key}")
    if entry.get("use") not in USES:
        errors.append(f"use must be one of {USES}, not {entry.get('use')!r}")
    q = entry.get("quantity") or {}
    if not isinstance(q, Mapping) or (("metric" in q) == ("function" in q)):
        errors.append("quantity must give either metric (with stratum_kind, stratum) or function")
    elif "function" in q and q["function"] not in FUNCTIONS:
        errors.append(f"unknown function {q['function']!r} (known: {', '.join(FUNCTIONS)})")
    elif set(q) - {"metric", "stratum_kind", "stratum", "function", "since"}:
        errors.append(
            f"unknown quantity fields {sorted(set(q) - {'metric', 'stratum_kind', 'stratum', 'function', 'since'})}"
        )
    elif "since" in q and ("function" in q or not isinstance(q["since"], (int, float))):
        errors.append("since (the date a change is measured from) is a number, for a metric quantity")
    has_value, has_range = entry.get("value") is not None, entry.get("range") is not None
    lo = hi = None
    if has_value == has_range:
        errors.append("give either value (with sd) or range [lo, hi]")
    elif has_value:
        if not isinstance(entry.get("sd"), (int, float)) or not entry["sd"] > 0:
            errors.append("a value needs an sd > 0")
    else:
        r = entry["range"]
        if not (isinstance(r, (list, tuple)) and len(r) == 2 and all(isinstance(x, (int, float)) for x in r)):
            errors.append("range must be [lo, hi]")
        elif not r[0] < r[1]:
            errors.append("range must be increasing")
        else:
            lo, hi = float(r[0]), float(r[1])
        if entry.get("sd") is not None:
            errors.append("a range target takes no sd")
    disc = entry.get("discrepancy_sd", 0.0)
    if not isinstance(disc, (int, float)) or disc < 0:
        errors.append("discrepancy_sd must be a number >= 0")
    if has_range and disc == 0:
        errors.append("a range target needs a discrepancy_sd > 0 (its implausibility divides by it)")
    errors += citation_errors(str(entry.get("source", "")))
    if errors:
        raise TargetError(f"{where}: " + "; ".join(errors))
    return Target(
        id=tid,
        title=str(entry["title"]),
        year=int(entry["year"]),
        use=str(entry["use"]),
        source=str(entry["source"]),
        metric=q.get("metric"),
        stratum_kind=str(q.get("stratum_kind", "all")),
        stratum=str(q.get("stratum", "all")),
        function=q.get("function"),
        since=float(q["since"]) if q.get("since") is not None else None,
        date=float(entry["date"]) if entry.get("date") is not None else None,
        value=float(entry["value"]) if has_value else None,
        sd=float(entry["sd"]) if has_value else None,
        lo=lo,
        hi=hi,
        discrepancy_sd=float(disc),
        geography=str(entry.get("geography", "")),
        population=str(entry.get("population", "")),
        note=" ".join(str(entry.get("note", "")).split()),
    )


def default_path() -> Path:
    return Path(str(resources.files("sim").joinpath("data", "targets.yaml")))


def load_targets(path: str | Path | None = None) -> dict[str, Target]:
    """Every target of the registry (``sim/data/targets.yaml`` by default), by id, in file order."""
    path = Path(path) if path is not None else default_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TargetError(f"{path}: cannot read the target registry ({exc})") from exc
    entries = data.get("targets") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise TargetError(f"{path}: expected a mapping with a non-empty list 'targets'")
    out: dict[str, Target] = {}
    for i, entry in enumerate(entries):
        t = _parse(entry, f"{path.name}: target {i + 1}")
        if t.id in out:
            raise TargetError(f"{path.name}: target id {t.id!r} appears twice")
        out[t.id] = t
    return out


def select(
    targets: Mapping[str, Target], ids: Sequence[str] | None = None, use: str | None = "calibration"
) -> list[Target]:
    """Targets by id (all of ``use`` when ``ids`` is None). Asking by id for a target of another
    use raises TargetError: validation targets are never used to fit."""
    if ids is None:
        return [t for t in targets.values() if use is None or t.use == use]
    unknown = [i for i in ids if i not in targets]
    if unknown:
        raise TargetError(f"unknown targets: {', '.join(unknown)} (python -m sim.targets lists them)")
    chosen = [targets[i] for i in ids]
    wrong = [t.id for t in chosen if use is not None and t.use != use]
    if wrong:
        raise TargetError(f"targets not tagged '{use}' cannot be used here: {', '.join(wrong)}")
    return chosen


# --------------------------------------------------------------------------------- measuring
def _has(ts: pd.DataFrame, metric: str) -> bool:
    return bool((ts["metric"] == metric).any())


def _value_at(ts: pd.DataFrame, metric: str, kind: str, stratum: str, when: float) -> float:
    rows = ts[(ts["metric"] == metric)]
    if len(rows) == 0:
        raise TargetUnavailable(f"the run does not record the metric {metric}")
    rows = rows[(rows["stratum_kind"] == kind) & (rows["stratum"] == stratum)]
    if len(rows) == 0:
        kinds = sorted(map(str, ts.loc[ts["metric"] == metric, "stratum_kind"].unique()))
        strata = sorted(map(str, ts.loc[(ts["metric"] == metric) & (ts["stratum_kind"] == kind), "stratum"].unique()))
        where = f"strata of {kind}: {', '.join(strata)}" if strata else f"stratum kinds: {', '.join(kinds)}"
        raise TargetUnavailable(f"{metric} has no stratum {kind}={stratum} ({where})")
    first, last = float(rows["year"].min()), float(rows["year"].max())
    if when < first - 1e-9:
        raise TargetUnavailable(f"date {when:g} is before the run starts ({first:g}): start the run earlier")
    if when > last + 0.25 + 1e-9:
        raise TargetUnavailable(f"date {when:g} is after the run ends ({last:g}): run longer")
    rows = rows[rows["year"] <= when + 1e-9].sort_values("step")
    return float(rows["value"].iloc[-1])


def measure(target: Target, ts: pd.DataFrame, colls: pd.DataFrame | None = None) -> float:
    """The model's value of ``target`` in one run (raises TargetUnavailable with the reason)."""
    if target.function:
        value = FUNCTIONS[target.function](ts, colls, target.when)
    else:
        value = _value_at(ts, target.metric, target.stratum_kind, target.stratum, target.when)
        if target.since is not None:
            value -= _value_at(ts, target.metric, target.stratum_kind, target.stratum, target.since)
    if not math.isfinite(value):
        raise TargetUnavailable(f"{target.quantity} is not a finite number at {target.when:g}")
    return value


def availability(
    targets: Iterable[Target], ts: pd.DataFrame, colls: pd.DataFrame | None = None
) -> dict[str, str | None]:
    """For each target, None when the run can measure it, else the reason it cannot."""
    out = {}
    for t in targets:
        try:
            measure(t, ts, colls)
            out[t.id] = None
        except TargetUnavailable as exc:
            out[t.id] = str(exc)
    return out


def measure_runs(targets: Sequence[Target], tidy: pd.DataFrame, colls: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per run (``run_id``) of a tidy multi-run table (``analysis.load.load``), one column
    per target; NaN where a run cannot measure a target."""
    metric_targets = [t for t in targets if not t.function]
    ids = tidy["run_id"].astype(str)
    runs = pd.Index(pd.unique(ids), name="run_id")
    out = pd.DataFrame(index=runs)
    if metric_targets:
        sub = tidy.assign(run_id=ids)
        for col in ("metric", "stratum_kind", "stratum"):
            sub[col] = sub[col].astype(str)
        for t in metric_targets:
            rows = sub[
                (sub["metric"] == t.metric) & (sub["stratum_kind"] == t.stratum_kind) & (sub["stratum"] == t.stratum)
            ]
            first = rows.groupby("run_id")["year"].min()
            last = rows.groupby("run_id")["year"].max()

            def at(when: float, rows=rows, first=first, last=last) -> pd.Series:
                ok = (first <= when + 1e-9) & (last + 0.25 + 1e-9 >= when)
                before = rows[rows["year"] <= when + 1e-9].sort_values(["run_id", "step"])
                val = before.groupby("run_id")["value"].last()
                return val.where(ok.reindex(val.index, fill_value=False)).reindex(runs)

            out[t.id] = at(t.when) if t.since is None else at(t.when) - at(t.since)
    for t in targets:
        if not t.function:
            continue
        vals = []
        for rid in runs:
            ts = tidy[ids == rid]
            c = colls[colls["run_id"].astype(str) == rid] if colls is not None else None
            try:
                vals.append(FUNCTIONS[t.function](ts, c, t.when))
            except TargetUnavailable:
                vals.append(np.nan)
        out[t.id] = vals
    return out[[t.id for t in targets]]


# --------------------------------------------------------------------------------- tables
def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _observed_cell(t: Target) -> str:
    """The observed value and the discrepancy sd for people: shares in %, other quantities as they are."""
    share = t.metric is not None and "share" in t.metric

    def f(x: float) -> str:
        return f"{x * 100:.4g}" if share else f"{x:g}"

    unit = " %" if share else ""
    obs = f"[{f(t.lo)}, {f(t.hi)}]{unit}" if t.is_range else f"{f(t.value)}{unit} ± {f(t.sd)}"
    return f"{obs} (discrepancy sd {f(t.discrepancy_sd)})"


def table(targets: Iterable[Target], status: Mapping[str, str | None] | None = None) -> str:
    """Markdown table of targets (with the availability of each when ``status`` is given)."""
    head = "| id | use | observed | year (read at) | model quantity | who, where | source |"
    sep = "|---|---|---|---|---|---|---|"
    if status is not None:
        head = head[:-1] + " on this model |"
        sep += "---|"
    lines = [head, sep]
    for t in targets:
        row = (
            f"| `{t.id}` | {t.use} | {_cell(_observed_cell(t))} | {t.year} ({t.when:g}) | "
            f"`{_cell(t.quantity)}` | {_cell(t.population)}; {_cell(t.geography)} | {_cell(t.source)} |"
        )
        if status is not None:
            reason = status.get(t.id)
            row += f" {'yes' if reason is None else 'no: ' + _cell(reason)} |"
        lines.append(row)
    return "\n".join(lines)


def probe_run(overrides: Sequence[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the model once in memory (default territory unless overridden) for availability checks."""
    from sim.api import compose_config, run

    cfg = compose_config(["simulation.progress=false", "simulation.figures=false", *overrides])
    result = run(cfg)
    return result.timeseries, result.collectivites


def write_docs(text: str, path: Path = DOC) -> None:
    doc = path.read_text(encoding="utf-8")
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{path} lacks the markers {BEGIN} / {END}")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(head + BEGIN + "\n" + text + "\n" + END + tail, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sim.targets",
        description="List the observed targets (sim/data/targets.yaml), check which ones a run of the "
        "model can measure, and write their table into docs/CALIBRATION.md.",
    )
    parser.add_argument("--file", type=Path, help="another target registry (YAML)")
    parser.add_argument(
        "--check-run",
        nargs="*",
        metavar="OVERRIDE",
        help="run the model once (with these Hydra overrides) and say which targets it can measure",
    )
    parser.add_argument("--docs", action="store_true", help="write the table into docs/CALIBRATION.md")
    args = parser.parse_args(argv)
    targets = load_targets(args.file)
    status = None
    if args.check_run is not None:
        ts, colls = probe_run(args.check_run)
        status = availability(targets.values(), ts, colls)
    text = table(targets.values(), status)
    if args.docs:
        write_docs(text)
        print(f"Wrote the table of {len(targets)} targets into {DOC}")
    else:
        print(text)
    if status is not None:
        missing = [k for k, v in status.items() if v is not None]
        print(f"\n{len(targets) - len(missing)} of {len(targets)} targets measurable on this model.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
