"""The dashboard's comparison: the chosen scenario (with the lever values of the page) against business
as usual, on the same territory, for a few seeds (same seed = same territory and same chance events).

:func:`run_comparison` runs both for each seed in memory (``sim.api.run``, nothing written) and keeps
the tidy time series and the end-of-run collectivités; the figures show the two series with their
range over the seeds, the paired difference seed by seed, and the map of the difference commune by
commune; :func:`export_bytes` gives the runs as Parquet or CSV and the figures as a ZIP of PNG files.
Labels, units and formats come from the outcome registry (:mod:`sim.outcomes`).
"""

from __future__ import annotations

import io
import math
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from sim import outcomes as reg
from sim.dashboard.model import AS_SCENARIO, TEXT_LEVERS, InputError, make_config

BASELINE = "business_as_usual"
ROLES = ("scenario", "baseline")
#: Metrics the comparison offers (headline adoption and fracture metrics of the registry).
COMPARE_METRICS = tuple(reg.metrics("adoption", headline=True) + reg.metrics("fracture", headline=True))
MAP_COLUMNS = {"maturity": "maturity_mean", "inhabitants_excluded": "inhabitants_excluded_share"}
COLORS = {"scenario": "#d55e00", "baseline": "#0072b2"}
DPI = 80


def scenario_title(name: str, lang: str = "en") -> str:
    from analysis.i18n import scenario_title as title

    return title(name, lang)


def baseline_inputs(inputs: dict) -> dict:
    """Business as usual on the same territory, horizon and seed: the page's levers left to the preset."""
    out = dict(inputs)
    out["scenario_name"] = BASELINE
    for lever in TEXT_LEVERS:
        out[lever.kwarg] = ""
    for key in ("training_modality", "training_targeting", "mutualisation_mode"):
        out[key] = AS_SCENARIO
    return out


@dataclass
class Comparison:
    """Runs of the scenario and of the baseline for the same seeds."""

    inputs: dict
    seeds: list[int]
    timeseries: pd.DataFrame = field(default_factory=pd.DataFrame)
    collectivites: pd.DataFrame = field(default_factory=pd.DataFrame)
    overrides: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def scenario(self) -> str:
        return str(self.inputs["scenario_name"])

    def series(self, metric: str) -> pd.DataFrame:
        """``role, seed, year, value`` of a metric (whole territory)."""
        ts = self.timeseries
        sub = ts[(ts["metric"] == metric) & (ts["stratum_kind"] == "all")]
        return sub[["role", "seed", "year", "value"]]

    def paired(self, metric: str) -> pd.DataFrame:
        """Scenario minus baseline, seed by seed and year by year: ``seed, year, diff``."""
        s = self.series(metric)
        wide = s.pivot_table(index=["seed", "year"], columns="role", values="value")
        return (wide["scenario"] - wide["baseline"]).rename("diff").reset_index()

    def end_table(self, lang: str = "en") -> pd.DataFrame:
        """One row per headline metric: baseline and scenario at the end (means over seeds), the
        difference (mean, range over the seeds) and in how many seeds the scenario does better."""
        rows = []
        last = self.timeseries["year"].max()
        for m in COMPARE_METRICS:
            s = self.series(m)
            if s.empty:
                continue
            end = s[s["year"] == last].pivot_table(index="seed", columns="role", values="value")
            o = reg.get(m)
            a, b = end["scenario"], end["baseline"]
            if o.absolute:
                a, b = a.abs(), b.abs()
            d = a - b
            better = int(((d * o.direction) > 0).sum())
            rows.append({
                "metric": m, "label": o.title(lang), "baseline": float(b.mean()), "scenario": float(a.mean()),
                "diff": float(d.mean()), "diff_min": float(d.min()), "diff_max": float(d.max()),
                "better_in": better, "seeds": len(d),
            })  # fmt: skip
        return pd.DataFrame(rows)


def run_comparison(
    inputs: dict, n_seeds: int = 3, progress: Callable[[int, int, str], None] | None = None
) -> Comparison:
    """Run the scenario of ``inputs`` and business as usual for ``n_seeds`` seeds from the page's seed.

    Raises :class:`InputError` or :class:`sim.config.ConfigError` on bad input (nothing is run)."""
    from sim.api import run

    if not 1 <= int(n_seeds) <= 10:
        raise InputError(f"Seeds to compare: {n_seeds!r} is not between 1 and 10")
    first = int(str(inputs.get("seed", "0")).strip() or 0)
    seeds = list(range(first, first + int(n_seeds)))
    configs = []
    for seed in seeds:  # every configuration is checked before anything runs
        for role, inp in (("scenario", inputs), ("baseline", baseline_inputs(inputs))):
            cfg, overrides = make_config(**{**inp, "seed": str(seed)})
            configs.append((role, seed, cfg, overrides))
    cmp = Comparison(dict(inputs), seeds)
    frames, colls = [], []
    t0 = time.perf_counter()
    for i, (role, seed, cfg, overrides) in enumerate(configs):
        if progress is not None:
            progress(i, len(configs), f"{scenario_title(cfg.scenario_name)}, seed {seed}")
        result = run(cfg)
        frames.append(result.timeseries.assign(role=role, scenario=cfg.scenario_name, seed=seed))
        colls.append(result.collectivites.assign(role=role, scenario=cfg.scenario_name, seed=seed))
        cmp.overrides.setdefault(role, overrides)
    if progress is not None:
        progress(len(configs), len(configs), "done")
    cmp.timeseries = pd.concat(frames, ignore_index=True)
    cmp.collectivites = pd.concat(colls, ignore_index=True)
    cmp.seconds = time.perf_counter() - t0
    return cmp


# --------------------------------------------------------------------------- figures


def _figure(size=(5.6, 3.6)) -> tuple[Figure, object]:
    fig = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _years_axis(ax, lang: str) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.set_xlabel("année" if lang == "fr" else "year")


def _yfmt(ax, metric: str, lang: str, diff: bool = False) -> None:
    o = reg.get(metric)
    if o.fmt == "share":
        ax.yaxis.set_major_formatter(
            (lambda v, _: reg.format_points(v * 100, lang))
            if diff
            else (lambda v, _: reg.format_value(metric, v, lang))
        )


def bands_figure(cmp: Comparison, metric: str, lang: str = "en") -> Figure:
    """Both series over time: mean over the seeds, band from the lowest to the highest seed."""
    s = cmp.series(metric)
    fig, ax = _figure()
    for role in ROLES:
        g = s[s["role"] == role].groupby("year")["value"]
        name = scenario_title(cmp.scenario if role == "scenario" else BASELINE, lang)
        if role == "scenario" and cmp.scenario == BASELINE:
            name += " (" + ("vos leviers" if lang == "fr" else "your levers") + ")"
        mean = g.mean()
        ax.plot(mean.index, mean.to_numpy(), color=COLORS[role], lw=2, label=name)
        ax.fill_between(mean.index, g.min().to_numpy(), g.max().to_numpy(), color=COLORS[role], alpha=0.2, lw=0)
    n = len(cmp.seeds)
    band = (
        f"bande : de la plus basse à la plus haute des {n} graines" if lang == "fr" else f"band: range over {n} seeds"
    )
    ax.set_title(f"{reg.label(metric, lang)}\n{band}", fontsize=10)
    _years_axis(ax, lang)
    _yfmt(ax, metric, lang)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.14, top=0.84)
    return fig


def difference_figure(cmp: Comparison, metric: str, lang: str = "en") -> Figure:
    """Scenario minus baseline seed by seed (thin lines) and their mean (thick): same seed = same territory."""
    d = cmp.paired(metric)
    fig, ax = _figure()
    for _seed, g in d.groupby("seed"):
        ax.plot(g["year"], g["diff"], color=COLORS["scenario"], lw=0.8, alpha=0.5)
    mean = d.groupby("year")["diff"].mean()
    ax.plot(mean.index, mean.to_numpy(), color=COLORS["scenario"], lw=2.4, label="moyenne" if lang == "fr" else "mean")
    ax.axhline(0, color="0.3", lw=0.8)
    o = reg.get(metric)
    better = ("mieux : plus haut" if lang == "fr" else "better: higher") if o.direction > 0 else (
        "mieux : plus bas" if lang == "fr" else "better: lower")  # fmt: skip
    unit = " (points)" if o.fmt == "share" else ""
    title = (f"Écart {scenario_title(cmp.scenario, lang)} - {scenario_title(BASELINE, lang)}{unit}\n"
             f"même graine = même territoire ; {better}") if lang == "fr" else (
             f"{scenario_title(cmp.scenario, lang)} minus {scenario_title(BASELINE, lang)}{unit}\n"
             f"same seed = same territory; {better}")  # fmt: skip
    ax.set_title(title, fontsize=10)
    _years_axis(ax, lang)
    _yfmt(ax, metric, lang, diff=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.14, top=0.84)
    return fig


def map_figure(cmp: Comparison, column: str = "maturity", lang: str = "en") -> Figure:
    """Communes of the first seed coloured by the scenario's ``column`` minus the baseline's (same
    territory); green is better."""
    c = cmp.collectivites
    seed = cmp.seeds[0]
    com = c[(c["seed"] == seed) & (c["kind"].astype(str) == "commune")]
    a = com[com["role"] == "scenario"].set_index("code")
    b = com[com["role"] == "baseline"].set_index("code")
    d = (a[column] - b[column].reindex(a.index)).astype(float)
    direction = reg.get(MAP_COLUMNS[column]).direction
    fig, ax = _figure((5.4, 4.4))
    span = float(np.nanmax(np.abs(d))) if len(d) and np.isfinite(d).any() else 0.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-(span or 1e-9), vmax=span or 1e-9)
    pop = a["population"].astype(float)
    order = np.argsort(-pop.to_numpy())
    sizes = 3.0 + 120.0 * np.sqrt(pop / max(pop.max(), 1.0))
    pts = ax.scatter(a["x"].to_numpy()[order], a["y"].to_numpy()[order], s=sizes.to_numpy()[order],
                     c=(d * direction).to_numpy()[order], cmap="PiYG", norm=norm, linewidths=0.2, edgecolors="white")  # fmt: skip
    cb = fig.colorbar(pts, ax=ax, shrink=0.8)
    fmt = lambda v, _: reg.format_diff(MAP_COLUMNS[column], v * direction, lang)
    cb.ax.yaxis.set_major_formatter(fmt)
    x, y = a["x"].astype(float), a["y"].astype(float)
    geographic = bool(x.min() < -0.01 or x.max() > 1.01 or y.min() < -0.01 or y.max() > 1.01)
    ax.set_aspect(1.0 / max(math.cos(math.radians(float(y.mean()))), 0.1) if geographic else "equal")
    ax.set_xticks([])
    ax.set_yticks([])
    what = reg.label(MAP_COLUMNS[column], lang)
    ax.set_title((f"{what}\nécart par commune (graine {seed}), vert = mieux" if lang == "fr" else
                  f"{what}\ndifference by commune (seed {seed}), green = better"), fontsize=10)  # fmt: skip
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.86)
    return fig


def territorial_table(cmp: Comparison, level: str = "pop_band") -> pd.DataFrame:
    """By population band (or département): mean maturity of the communes and population-weighted share
    of inhabitants excluded, for the scenario and the baseline (means over the seeds), and the paired
    difference. Columns: level, maturity_baseline, maturity_scenario, maturity_diff, and the same for
    inhabitants_excluded."""
    from analysis.maps import aggregate, aggregate_summary

    coll = cmp.collectivites.assign(run_id=cmp.collectivites["role"] + cmp.collectivites["seed"].astype(str))
    agg = aggregate(coll, level, ["role"], ("maturity", "inhabitants_excluded"))
    table = aggregate_summary(agg, level, ["role"], "baseline", ("maturity", "inhabitants_excluded"))
    wide = table.pivot_table(index=level, columns="role", values=["maturity", "inhabitants_excluded"])
    wide.columns = [f"{v}_{r}" for v, r in wide.columns]
    diffs = table[table["role"] == "scenario"].set_index(level)[["maturity_diff", "inhabitants_excluded_diff"]]
    out = wide.join(diffs).reset_index()
    if level == "pop_band":
        from analysis.plots import band_order

        order = {b: i for i, b in enumerate(band_order(out[level].astype(str).tolist()))}
        out = out.sort_values(level, key=lambda s: s.map(order)).reset_index(drop=True)
    return out


def export_bytes(cmp: Comparison, kind: str, lang: str = "en") -> bytes:
    """The comparison's runs as ``parquet`` or ``csv`` (tidy time series with role, scenario and seed),
    the end-of-run collectivités as ``collectivites.csv``, or every figure as ``figures.zip``."""
    if kind == "parquet":
        buf = io.BytesIO()
        cmp.timeseries.to_parquet(buf, index=False)
        return buf.getvalue()
    if kind == "csv":
        return cmp.timeseries.to_csv(index=False).encode()
    if kind == "collectivites.csv":
        return cmp.collectivites.to_csv(index=False).encode()
    if kind == "figures.zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for m in COMPARE_METRICS:
                if cmp.series(m).empty:
                    continue
                z.writestr(f"{m}_bands.png", png(bands_figure(cmp, m, lang)))
                z.writestr(f"{m}_difference.png", png(difference_figure(cmp, m, lang)))
            for column in MAP_COLUMNS:
                if column in cmp.collectivites:
                    z.writestr(f"map_{column}_difference.png", png(map_figure(cmp, column, lang)))
        return buf.getvalue()
    raise ValueError(f"unknown export {kind!r}")


__all__ = ["BASELINE", "COMPARE_METRICS", "Comparison", "baseline_inputs", "export_bytes", "run_comparison"]
