"""A report a director can read: one self-contained HTML file (no external CSS, JS, fonts or images),
in English or French, printable on A4 and exportable to PDF.

Sections, in order: an executive summary generated from the numbers (for each outcome family, which
scenario does best, by how much, how sure and at what cost per point; the multi-criteria ranking;
what each scenario funds, in euros a year), the caveats (not a forecast; what the intervals cover),
figures of the differences against the baseline (paired by seed: same seed = same territory), the
territorial views (maps of communes, aggregates by population band and département), then the
detailed tables (levels, differences, ranking, cost per point, funding), the runs loaded and skipped,
the design and the provenance. Labels, units, formats and directions come from the outcome registry
(:mod:`sim.outcomes`); every table can be downloaded as CSV from the page (``data:`` links).

Designs: scenarios x seeds; scenarios within levels of another swept column (the equal-budget
experiment: by budget level, one baseline shared and counted once); scenarios x parameter sets x
seeds (probabilities over the parameter sets); 2D sweeps (heatmaps). See :mod:`analysis.compare`.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.compare import (
    ADOPTION_METRICS,
    COST_METRIC,
    FRACTURE_METRICS,
    Design,
    absolute_gaps,
    compare_design,
    describe_design,
    multi_criteria,
    prepare,
    run_outcomes,
    summarize_design,
)
from analysis.i18n import check_lang, column_title, scenario_title
from analysis.load import LoadReport, load, load_collectivites, run_table, scan
from analysis.robustness import RobustnessResult, design_robustness, group_label
from sim import outcomes as reg

#: Collectivité tables read for the maps and aggregates, at most.
MAX_COLLECTIVITE_RUNS = 200
REPORT_STRATA = ("all", "pop_band", "rurality", "kind")
#: Metric columns of a detailed table, at most (wider tables are split): keeps tables inside an A4 page.
MAX_TABLE_COLUMNS = 5
#: Share of parameter sets under which a rank must hold to be called robust.
ROBUST_SHARE = 0.9
#: Group names taken as the baseline when none is given (kept for compatibility).
BASELINE_NAMES = ("baseline", "business_as_usual")

CSS = """
:root{--ink:#1f2328;--muted:#57606a;--line:#d0d7de;--good:#1a7f37;--bad:#cf222e;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:1.5rem auto;max-width:60rem;
color:var(--ink);line-height:1.45;padding:0 1rem;font-size:15px}
h1{font-size:1.55rem;margin:.2rem 0}h2{font-size:1.22rem;margin-top:2rem;border-bottom:2px solid var(--line);
padding-bottom:.15rem}h3{font-size:1.02rem;margin:1.2rem 0 .4rem}h4{font-size:.95rem;margin:1rem 0 .3rem}
p,li{max-width:100%;overflow-wrap:break-word}.note{color:var(--muted);font-size:.88rem}
.summary{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.6rem 1rem}
.summary li{margin:.35rem 0}
table{border-collapse:collapse;margin:.5rem 0;font-size:.8rem;width:100%;table-layout:fixed}
th,td{border:1px solid var(--line);padding:.22rem .35rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere;word-break:normal;hyphens:auto}
th{background:var(--soft);font-weight:600}
td.num{text-align:right}td .ci{display:block;color:var(--muted);font-size:.72rem;white-space:normal}
td.good{color:var(--good)}td.bad{color:var(--bad)}
col.first{width:24%}
figure{margin:1rem 0;page-break-inside:avoid;break-inside:avoid}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:var(--muted)}
nav{font-size:.85rem}nav a{margin-right:.7rem}.dl{font-size:.8rem}
.tag{display:inline-block;border-radius:3px;padding:0 .3rem;font-size:.75rem;background:var(--soft);
border:1px solid var(--line)}
@page{size:A4;margin:14mm 12mm}
@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}nav,.dl{display:none}
h2,h3,h4{page-break-after:avoid;break-after:avoid}
table{font-size:7.5pt;page-break-inside:auto}tr,td,th{page-break-inside:avoid;break-inside:avoid}
thead{display:table-header-group}.summary{border:none;padding:0;background:none}}
"""


def tr(lang: str, en: str, fr: str) -> str:
    """``en`` or ``fr`` by ``lang``."""
    return fr if lang == "fr" else en


def _colon(lang: str) -> str:
    return "\u00a0: " if lang == "fr" else ": "  # French typography: a space before the colon


def _semi(lang: str) -> str:
    return "\u00a0; " if lang == "fr" else "; "


# --------------------------------------------------------------------------- formatting (kept API)


def fmt(value: Any, metric: str = "") -> str:
    """A number for a plain table: euros with thousands separators and no decimals, else 4 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if "eur" in metric:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def fmt_interval(mean: float, low: float, high: float, metric: str = "") -> str:
    if math.isnan(low) or math.isnan(high):
        return fmt(mean, metric)
    return f"{fmt(mean, metric)} [{fmt(low, metric)}, {fmt(high, metric)}]"


# --------------------------------------------------------------------------- report data


@dataclass
class ReportData:
    """Everything the report shows; built by :func:`collect`, rendered by :func:`render`."""

    title: str
    load_report: LoadReport
    by: list[str]
    baseline: Any
    level: float
    method: str
    outcomes: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame | None
    ranking: pd.DataFrame | None
    cost: pd.DataFrame | None  # the criteria table of the multi-criteria ranking (cost per point)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (caption, data URI)
    notes: list[str] = field(default_factory=list)
    cost_metric: str = COST_METRIC
    lang: str = "en"
    design: Design | None = None
    metrics: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    funding: pd.DataFrame | None = None
    territory: list[tuple[str, pd.DataFrame]] = field(default_factory=list)  # (title, table)
    map_figures: list[tuple[str, str]] = field(default_factory=list)
    years: float | None = None
    territory_note: str = ""
    robust: RobustnessResult | None = None  # the comparison under parameter uncertainty (parameter sets)
    ensemble: dict[str, Any] = field(default_factory=dict)  # where the parameter sets come from


def ensemble_info(configs: dict[str, dict]) -> dict[str, Any]:
    """The ensembles the runs drew their parameters from (``ensemble.path`` of their configuration):
    ``paths``, ``versions`` and the ``members`` used (empty when no run names an ensemble)."""
    paths, versions, members = set(), set(), set()
    for c in configs.values():
        path = _get(c, "ensemble.path")
        if not path:
            continue
        paths.add(str(path))
        if _get(c, "ensemble.version"):
            versions.add(str(_get(c, "ensemble.version")))
        if _get(c, "ensemble.member") is not None:
            members.add(int(_get(c, "ensemble.member")))
    return {"paths": sorted(paths), "versions": sorted(versions), "members": sorted(members)}


def _png_data_uri(fig: Any, dpi: int = 100) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _collectivite_runs(rep: LoadReport, by: list[str], limit: int) -> LoadReport:
    """A report restricted to at most ``limit`` complete runs, spread evenly over the groups."""
    complete = rep.complete
    if len(complete) <= limit:
        return rep
    runs = run_table(rep)
    keys = runs[by].astype(str).agg("|".join, axis=1) if by else pd.Series([""] * len(runs))
    per = max(1, limit // max(keys.nunique(), 1))
    chosen = set(runs.groupby(keys.to_numpy()).head(per)["run_id"])
    kept = [r for r in rep.runs if r.ok and r.run_id in chosen]
    return LoadReport(rep.root, rep.verify, kept, list(rep.param_columns))


def _configs(rep: LoadReport) -> dict[str, dict]:
    return {r.run_id: (r.manifest or {}).get("config") or {} for r in rep.complete}


def _get(config: dict, dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _years(configs: dict[str, dict]) -> float | None:
    ys = {_get(c, "simulation.years") for c in configs.values()}
    ys.discard(None)
    return float(next(iter(ys))) if len(ys) == 1 else None


def funding_table(
    outcomes: pd.DataFrame, design: Design, configs: dict[str, dict], years: float | None
) -> pd.DataFrame:
    """What each group funds: per lever of :data:`sim.config.LEVERS`, its budget (EUR per staff member a
    year, from the runs' configuration) and the euros it spent a year (mean over seeds); the levers'
    total, the collectivités' own spending, members' pool contributions and, when the model records
    it, the budget left unspent. One row per group (and panel level)."""
    from sim.config import LEVERS

    out = prepare(outcomes, design)
    keys = design.keys
    rows = []
    grouped = out.groupby(keys, dropna=False, sort=False) if keys else [((), out)]
    for key, grp in grouped:
        key = key if isinstance(key, tuple) else (key,)
        rec: dict[str, Any] = dict(zip(keys, key, strict=True))
        cfg = configs.get(str(grp["run_id"].iloc[0]), {})
        y = years or float(_get(cfg, "simulation.years") or 1.0)
        funded = []
        for group_name, lever in LEVERS.items():
            budget = _get(cfg, f"{group_name}.{lever.budget_field}")
            spent = grp.get(f"cum_spend_{lever.spend_key}_eur")
            unspent = grp.get(f"cum_spend_unspent_{lever.spend_key}_eur")
            rec[f"budget_{lever.spend_key}"] = float(budget) if isinstance(budget, (int, float)) else np.nan
            rec[f"spent_{lever.spend_key}"] = float(spent.mean()) / y if spent is not None else np.nan
            rec[f"unspent_{lever.spend_key}"] = float(unspent.mean()) / y if unspent is not None else np.nan
            if isinstance(budget, (int, float)) and budget > 0:
                funded.append(group_name)
        rec["levers_funded"] = funded
        for name, col in (
            ("levers", "cum_spend_levers_eur"),
            ("own", None),
            ("pool_contributions", "cum_spend_pool_contributions_eur"),
            ("total", "cum_spend_total_eur"),
        ):
            if col is None:
                own = [c for c in ("cum_spend_investment_eur", "cum_spend_own_training_eur") if c in grp]
                rec["spent_own"] = float(grp[own].sum(axis=1).mean()) / y if own else np.nan
            else:
                rec[f"spent_{name}"] = float(grp[col].mean()) / y if col in grp else np.nan
        rec["years"] = y
        rows.append(rec)
    return pd.DataFrame(rows)


def collect(
    folder: str | os.PathLike[str],
    *,
    baseline: Any = None,
    by: str | Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    level: float = 0.95,
    method: str = "t",
    verify: str = "auto",
    heatmap: tuple[str, str, str] | None = None,
    title: str | None = None,
    figures: bool = True,
    kind: str = "violin",
    max_collectivite_runs: int = MAX_COLLECTIVITE_RUNS,
    cost_metric: str = COST_METRIC,
    progress: bool | None = None,
    lang: str = "en",
    weights: dict[str, float] | None = None,
    panels: Sequence[str] | None = None,
    param_sets: Sequence[str] | None = None,
    maps: bool = True,
) -> ReportData:
    """Load the sweep under ``folder`` and compute every table and figure of the report."""
    check_lang(lang)
    rep = scan(folder, verify=verify, progress=progress)
    df, rep = load(folder, report=rep, stratum_kinds=REPORT_STRATA, progress=progress)
    notes: list[str] = []
    title = title or tr(lang, "Scenario comparison: ", "Comparaison de scénarios : ") + Path(folder).resolve().name
    if df.empty:
        notes.append(tr(lang, "No complete run: nothing to summarise.", "Aucune simulation complète : rien à résumer."))
        empty = pd.DataFrame()
        return ReportData(title, rep, [], baseline, level, method, empty, empty, None, None, None, [], notes,
                          cost_metric, lang)  # fmt: skip
    outcomes = run_outcomes(df)
    design = describe_design(outcomes, by=by, baseline=baseline, panels=panels, param_sets=param_sets)
    notes += design.notes
    wanted = list(metrics) if metrics else [*ADOPTION_METRICS, *FRACTURE_METRICS, cost_metric]
    mets = [m for m in wanted if m in outcomes.columns]
    missing = [m for m in wanted if m not in outcomes.columns]
    if missing:
        notes.append(tr(lang, "Metrics not in the data (left out): ", "Indicateurs absents des données (omis) : ")
                     + ", ".join(missing) + ".")  # fmt: skip
    spend_cols = [c for c in outcomes.columns if str(c).startswith("cum_spend_")]
    summary = summarize_design(outcomes, design, list(dict.fromkeys([*mets, *spend_cols])), level=level)
    differences = ranking = criteria = None
    criteria_metrics = [m for m in mets if m != cost_metric]
    if cost_metric in outcomes.columns:
        criteria_metrics.append(cost_metric)
    if design.baseline is not None and design.by:
        try:
            differences = compare_design(absolute_gaps(outcomes), design, mets, level=level, method=method)
            ranking, criteria = multi_criteria(
                outcomes, design, criteria_metrics, weights=weights, cost=cost_metric, level=level
            )
        except KeyError as exc:
            notes.append(tr(lang, "No comparison against the baseline: ", "Pas de comparaison au scénario de "
                            "référence : ") + str(exc.args[0]))  # fmt: skip
    else:
        if design.by and len(criteria_metrics):
            ranking, criteria = multi_criteria(outcomes, design, criteria_metrics, weights=weights, cost=cost_metric)
        if design.kind != "grid":
            notes.append(
                tr(lang, "No baseline given (and no group named business_as_usual or baseline): differences and "
                   "cost per point are not computed. Pass --baseline NAME.",
                   "Pas de scénario de référence (ni groupe nommé business_as_usual ou baseline) : écarts et coût "
                   "par point non calculés. Utiliser --baseline NOM.")
            )  # fmt: skip
    robust = None
    if design.param_sets and design.by:
        try:
            robust = design_robustness(outcomes, design, mets, level=level, robust_share=ROBUST_SHARE)
        except (KeyError, ValueError) as exc:
            notes.append(tr(lang, "No comparison under parameter uncertainty: ", "Pas de comparaison sous incertitude "
                            "des paramètres : ") + str(exc.args[0]))  # fmt: skip
    from analysis.compare import resolve_weights

    used_weights = resolve_weights(criteria_metrics, weights) if criteria_metrics else {}
    configs = _configs(rep)
    years = _years(configs)
    funding = funding_table(outcomes, design, configs, years) if design.by else None
    data = ReportData(
        title, rep, design.by, design.baseline, level, method, outcomes, summary, differences, ranking, criteria,
        [], notes, cost_metric, lang, design, mets, used_weights, funding, years=years,
        robust=robust, ensemble=ensemble_info(configs),
    )  # fmt: skip
    if figures:
        _figures(data, df, heatmap=heatmap, kind=kind)
    if maps and rep.complete and design.by:
        _territory(data, folder, max_collectivite_runs, progress, figures)
    return data


def _figures(data: ReportData, df: pd.DataFrame, *, heatmap: tuple[str, str, str] | None, kind: str) -> None:
    from analysis import plots

    lang, design, level = data.lang, data.design, data.level
    figs = data.figures
    mets = [m for m in data.metrics if m != data.cost_metric]
    base_title = scenario_title(data.baseline, lang) if data.baseline is not None else ""
    if data.differences is not None and not data.differences.empty:
        diff_mets = [m for m in [*mets, data.cost_metric] if m in set(data.differences["metric"])]
        for fam in ("adoption", "fracture", "cost"):
            fam_mets = [m for m in diff_mets if reg.get(m).family == fam]
            if not fam_mets:
                continue
            fig = plots.difference_figure(
                data.differences, fam_mets, by=design.by, panels=design.panels, baseline=data.baseline,
                level=level, lang=lang,
            )  # fmt: skip
            fam_title = reg.FAMILY_TITLES[fam][1 if lang == "fr" else 0]
            paired = (
                tr(
                    lang,
                    f"expected over the parameter sets, paired by parameter set and seed, with the {level:.0%} "
                    "interval of that mean over the parameter sets (it includes parameter uncertainty)",
                    f"espéré sur les jeux de paramètres, apparié par jeu de paramètres et graine, avec l'intervalle à "
                    f"{level:.0%} de cette moyenne sur les jeux de paramètres (il inclut l'incertitude sur les "
                    "paramètres)",
                )
                if design.param_sets
                else tr(
                    lang,
                    f"paired by seed (same seed = same territory), with its {level:.0%} interval",
                    f"apparié par graine (même graine = même territoire), avec son intervalle à {level:.0%}",
                )
            )
            figs.append((
                tr(lang, f"{fam_title}: difference against {base_title} at the end of the run, {paired}. Green: "
                   "better and the interval excludes zero; red: worse; grey: not distinguishable from zero.",
                   f"{fam_title} : écart à {base_title} en fin de simulation, {paired}. Vert : mieux et l'intervalle "
                   "exclut zéro ; rouge : moins bien ; gris : non distinct de zéro."),
                _png_data_uri(fig),
            ))  # fmt: skip
        if not design.panels and design.kind != "grid":
            for m in [m for m in ("maturity_mean", "inhabitants_excluded_share") if m in mets][:2]:
                fig = plots.difference_timeseries_figure(
                    df, m, by=design.by, baseline=data.baseline, pair_on=design.pair_on, level=level, lang=lang
                )
                figs.append((
                    tr(lang, f"{reg.label(m, lang)}: difference against {base_title} over time (mean of the paired "
                       f"differences with its {level:.0%} band).",
                       f"{reg.label(m, lang)} : écart à {base_title} au fil du temps (moyenne des écarts appariés, "
                       f"bande à {level:.0%})."),
                    _png_data_uri(fig),
                ))  # fmt: skip
    if design.kind == "grid" or heatmap is not None:
        out = data.outcomes
        xy = plots.find_2d_sweep(out) if heatmap is None else heatmap[:2]
        hm_metrics = [heatmap[2]] if heatmap is not None else [m for m in mets if reg.get(m).headline][:4]
        if xy is not None:
            for m in hm_metrics:
                if m in out.columns:
                    figs.append((
                        tr(lang, f"{reg.label(m, lang)} at the end of the run, mean over seeds, over {xy[0]} and "
                           f"{xy[1]}.", f"{reg.label(m, lang)} en fin de simulation, moyenne sur les graines, selon "
                           f"{xy[0]} et {xy[1]}."),
                        _png_data_uri(plots.heatmap_figure(out, xy[0], xy[1], m, lang=lang)),
                    ))  # fmt: skip
    if design.kind != "grid" and design.by:
        for m in [m for m in ("maturity_mean", "inhabitants_excluded_share") if m in mets][:2]:
            figs.append((
                tr(lang, f"{reg.label(m, lang)}: level over time, mean over seeds with its {level:.0%} band. The "
                   "bands overlap because each seed draws another territory; the paired differences above remove "
                   "that.", f"{reg.label(m, lang)} : niveau au fil du temps, moyenne sur les graines et bande à "
                   f"{level:.0%}. Les bandes se chevauchent car chaque graine tire un autre territoire ; les écarts "
                   "appariés ci-dessus retirent cet effet."),
                _png_data_uri(plots.timeseries_figure(df, m, design.by, level=level, lang=lang)),
            ))  # fmt: skip
        if ((df["stratum_kind"] == "pop_band") & (df["metric"] == "maturity_mean")).any() and not design.panels:
            figs.append((
                tr(lang, "Maturity of communes by population band at the end of the run.",
                   "Maturité des communes par strate de population en fin de simulation."),
                _png_data_uri(plots.maturity_by_band_figure(df, design.by, level=level, lang=lang)),
            ))  # fmt: skip


def _territory(data: ReportData, folder: Any, limit: int, progress: bool | None, figures: bool) -> None:
    """Maps and aggregates by population band and département (from the collectivité tables)."""
    from analysis import maps

    design, lang = data.design, data.lang
    sub = _collectivite_runs(data.load_report, design.keys, limit)
    try:
        import pyarrow.parquet as pq

        first = sub.complete[0].path / "collectivites.parquet"
        available = set(pq.read_schema(first).names) if first.is_file() else set()
        columns = [c for c in maps.MAP_COLUMNS if c in available]
        if not {"x", "y", "code", "population"} <= set(columns):
            return
        coll, _ = load_collectivites(folder, report=sub, columns=columns, progress=progress)
    except Exception as exc:  # noqa: BLE001 - the report goes on without the territorial views
        data.notes.append(tr(lang, "Collectivité tables not read: ", "Tables des collectivités non lues : ") + str(exc))
        return
    if coll.empty or "x" not in coll.columns:
        return
    coll = coll.copy()
    for c in design.by:
        coll[c] = coll[c].astype(object)
    if len(sub.complete) < len(data.load_report.complete):
        data.notes.append(tr(lang, f"Territorial views use {len(sub.complete)} of {len(data.load_report.complete)} "
                             "runs.", f"Les vues territoriales utilisent {len(sub.complete)} simulations sur "
                             f"{len(data.load_report.complete)}."))  # fmt: skip
    same = maps.same_territory(coll)
    data.territory_note = (
        tr(lang, "Every seed has the same communes (a real territory): aggregates by département are comparable "
           "across seeds.", "Toutes les graines ont les mêmes communes (territoire réel) : les agrégats par "
           "département sont comparables d'une graine à l'autre.") if same else
        tr(lang, "Each seed draws another synthetic territory: communes and départements are compared only within "
           "a seed (maps), and aggregates are given by population band.", "Chaque graine tire un autre territoire "
           "synthétique : communes et départements ne sont comparés qu'au sein d'une graine (cartes), et les "
           "agrégats sont donnés par strate de population.")
    )  # fmt: skip
    cols = [c for c in ("maturity", "inhabitants_excluded") if c in coll.columns]
    group_cols = design.keys
    levels = ["pop_band", "departement"] if same else ["pop_band"]
    for lvl in levels:
        if lvl not in coll.columns:
            continue
        agg = maps.aggregate(coll, lvl, group_cols, cols)
        table = maps.aggregate_summary(agg, lvl, group_cols, data.baseline, cols)
        if lvl == "departement" and table[lvl].nunique() > 30:
            top = agg.groupby(lvl)["communes"].mean().nlargest(30).index
            table = table[table[lvl].isin(top)]
        name = tr(lang, "population band", "strate de population") if lvl == "pop_band" else "département"
        data.territory.append((name, table))
    if figures and data.baseline is not None and len(design.by) == 1:
        for column in cols:
            try:
                fig = maps.difference_maps_figure(
                    coll, by=design.by, baseline=data.baseline, column=column, panels=design.panels, lang=lang
                )
            except ValueError as exc:
                data.notes.append(str(exc))
                break
            data.map_figures.append((
                tr(lang, f"Map of communes: {maps.label(column, lang)}. First map: {scenario_title(data.baseline, lang)}; "
                   "the others: each scenario minus the baseline, commune by commune, for the same seed (same "
                   "territory). Point size: population.", f"Carte des communes : {maps.label(column, lang)}. Première "
                   f"carte : {scenario_title(data.baseline, lang)} ; les autres : chaque scénario moins la référence, "
                   "commune par commune, pour la même graine (même territoire). Taille des points : population."),
                _png_data_uri(fig),
            ))  # fmt: skip


# --------------------------------------------------------------------------- rendering helpers


def _cell(text: str, cls: str = "", ci: str = "") -> str:
    e = html.escape
    inner = e(text) + (f'<span class="ci">{e(ci)}</span>' if ci else "")
    return f'<td class="{cls}">{inner}</td>' if cls else f"<td>{inner}</td>"


def _table_html(
    head: Sequence[str], rows: Sequence[Sequence[str]], first_col: bool = True, widths: Sequence[float] | None = None
) -> str:
    """A table whose cells are already HTML (``<td>...``) and whose head is plain text; ``widths``: the
    columns' shares of the table's width in %, else the first column takes 24 %."""
    e = html.escape
    colgroup = '<colgroup><col class="first"></colgroup>' if first_col and len(head) > 2 else ""
    if widths is not None and len(widths) == len(head):
        colgroup = "<colgroup>" + "".join(f'<col style="width:{w:g}%">' for w in widths) + "</colgroup>"
    thead = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    return f"<table>{colgroup}<thead><tr>{thead}</tr></thead><tbody>{body}</tbody></table>"


def _download(name: str, frame: pd.DataFrame | None, lang: str) -> str:
    if frame is None or frame.empty:
        return ""
    flat = frame.copy()
    for c in flat.columns:
        if flat[c].map(lambda v: isinstance(v, (list, tuple))).any():
            flat[c] = flat[c].map(lambda v: " ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    data = base64.b64encode(flat.to_csv(index=False).encode()).decode()
    word = tr(lang, "download", "télécharger")
    return f'<p class="dl"><a download="{html.escape(name)}" href="data:text/csv;base64,{data}">{word} {html.escape(name)}</a></p>'


def _plain_table(df: pd.DataFrame, lang: str) -> str:
    """A plain table of text (used for the runs, design and provenance)."""
    if df is None or df.empty:
        return f'<p class="note">{tr(lang, "(empty)", "(vide)")}</p>'
    rows = [[_cell("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)) for v in r]
            for r in df.itertuples(index=False)]  # fmt: skip
    return _table_html([str(c) for c in df.columns], rows)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _group_name(data: ReportData, row: pd.Series | dict, level: bool = True) -> str:
    design, lang = data.design, data.lang
    parts = []
    for c in design.by:
        v = row[c]
        parts.append(scenario_title(v, lang) if c == "scenario" else f"{column_title(c, lang)} = {v}")
    text = ", ".join(parts)
    lv = _level_text(data, row) if level else ""
    return f"{text} · {lv}" if lv else text


def _level_text(data: ReportData, row: pd.Series | dict) -> str:
    design, lang = data.design, data.lang
    parts = []
    for c in design.panels:
        v = row.get(c) if isinstance(row, dict) else row[c]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return tr(lang, "all levels", "tous niveaux")
        parts.append(_panel_value(c, v, lang))
    return ", ".join(parts)


def _panel_value(column: str, value: Any, lang: str) -> str:
    if column.endswith("eur_per_staff") and isinstance(value, (int, float)):
        return reg.euros(float(value), lang) + tr(lang, " per staff a year", " par agent et par an")
    return f"{column_title(column, lang)} = {value}"


def _is_base(data: ReportData, row: pd.Series | dict) -> bool:
    return data.baseline is not None and str(row[data.design.by[0]]) == str(data.baseline)


def _pct(p: float, lang: str) -> str:
    """A probability as a whole percentage (75 %; French 75 %)."""
    if p is None or not np.isfinite(p):
        return ""
    return f"{p * 100:.0f}\u00a0%"


def _count_text(n_better: int, n_tie: int, n: int, basis: str, lang: str) -> str:
    """better under k of n parameter sets (or in k of n seeds), and the equal ones."""
    if n_tie == n:  # a lever that does not touch this outcome: the same result under common random numbers
        return (tr(lang, "the same under every parameter set", "identique pour chaque jeu de paramètres")
                if basis == "parameter sets" else tr(lang, "the same in every seed", "identique pour chaque graine"))  # fmt: skip
    if basis == "parameter sets":
        text = tr(lang, f"better under {n_better} of {n} parameter sets",
                  f"mieux pour {n_better} jeu{'x' if n_better >= 2 else ''} de paramètres sur {n}")  # fmt: skip
        return text + (tr(lang, f", equal under {n_tie}", f", égal pour {n_tie}") if n_tie else "")
    text = tr(lang, f"better in {n_better} of {n} seeds",
              f"mieux pour {n_better} graine{'s' if n_better >= 2 else ''} sur {n}")  # fmt: skip
    return text + (tr(lang, f", equal in {n_tie}", f", égal pour {n_tie}") if n_tie else "")


def _param_range(row: pd.Series | dict, lang: str) -> str:
    """Where the difference lies under 95 % of the parameter sets (an ensemble comparison only): the
    interval beside the mean is that of the mean, much narrower than this range."""
    lo, hi = row.get("param_lo"), row.get("param_hi")
    if (
        lo is None
        or hi is None
        or not (np.isfinite(lo) and np.isfinite(hi))
        or row.get("prob_basis") != "parameter sets"
    ):
        return ""
    m = row["metric"]
    a, b = reg.format_diff(m, lo, lang), reg.format_diff(m, hi, lang)
    return tr(lang, f"{a} to {b} depending on the parameter set", f"de {a} à {b} selon le jeu de paramètres")


def _sure_text(row: pd.Series | dict, lang: str) -> str:
    """How sure: in how many parameter sets (or seeds) the group does better, with the probability over
    parameter sets, and whether the interval excludes 0."""
    lo, hi = row.get("improvement_low"), row.get("improvement_high")
    prob, basis, n = row.get("prob_better"), row.get("prob_basis"), row.get("prob_n")
    parts = []
    if prob is not None and not (isinstance(prob, float) and math.isnan(prob)):
        nb, nt = int(row.get("prob_n_better", 0)), int(row.get("prob_n_tie", 0))
        text = _count_text(nb, nt, int(n), basis, lang)
        if basis == "parameter sets" and nt < n:
            half = tr(lang, ", an equal counting one half", ", un égal comptant pour moitié") if nt else ""
            text += tr(lang, f", probability {_pct(prob, lang)}{half}", f", probabilité {_pct(prob, lang)}{half}")
        parts.append(text)
    if lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi):
        if lo > 0:
            parts.append(tr(lang, "interval excludes zero", "intervalle excluant zéro"))
        elif hi < 0:
            parts.append(tr(lang, "worse, interval excludes zero", "moins bien, intervalle excluant zéro"))
        else:
            parts.append(tr(lang, "not distinguishable from zero", "non distinct de zéro"))
    return _semi(lang).join(parts)


def _eur_per_point(value: float, extra: float, improvement: float, lang: str, low: float | None = None) -> str:
    """The cost per point, or why there is none: no gain, or a gain whose interval does not exclude zero
    (``low``, the improvement's lower bound): a cost per point of a gain that may be nil means nothing."""
    if improvement is None or not np.isfinite(improvement) or improvement <= 0:
        return tr(lang, "no gain", "pas de gain")
    if low is not None and np.isfinite(low) and low <= 0:
        return tr(lang, "gain not established", "gain non établi")
    if extra is not None and np.isfinite(extra) and extra <= 0:
        return tr(lang, "better and no dearer", "mieux et pas plus cher")
    if value is None or not np.isfinite(value):
        return ""
    return reg.euros(value, lang) + tr(lang, " per point", " par point")


def _levels(data: ReportData, frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    cols = data.design.panels
    if not cols or frame is None or frame.empty:
        return [()]
    vals = frame[cols].dropna().drop_duplicates()
    return sorted((tuple(r) for r in vals.itertuples(index=False)), key=lambda t: tuple(map(_natural_value, t)))


def _natural_value(v: Any) -> tuple[int, float, str]:
    return _natural(str(v))


def _at_level(data: ReportData, frame: pd.DataFrame, lv: tuple[Any, ...]) -> pd.DataFrame:
    if not lv:
        return frame
    mask = pd.Series(True, index=frame.index)
    for c, v in zip(data.design.panels, lv, strict=True):
        mask &= frame[c].astype(object) == v
    return frame[mask]


# --------------------------------------------------------------------------- sections


def _executive_summary(data: ReportData) -> str:
    lang, design = data.lang, data.design
    parts = [f'<h2 id="summary">{tr(lang, "Summary", "Synthèse")}</h2>']
    crit = data.cost
    if crit is None or crit.empty or "improvement" not in crit.columns:
        parts.append(f'<p class="note">{tr(lang, "No comparison against a baseline: see the tables below.", "Pas de comparaison à un scénario de référence : voir les tableaux ci-dessous.")}</p>')  # fmt: skip
        return "\n".join(parts)
    base = scenario_title(data.baseline, lang)
    n_seeds = design.n_seeds
    if design.param_sets:
        k = _n_param_sets(data)
        intro = tr(
            lang,
            f"Each scenario is compared with <b>{html.escape(base)}</b> on the same territories, under <b>{k} "
            f"parameter sets</b> {_source_text(data)}, with {n_seeds} seeds each (same seed = same territory and same "
            f"chance events){_after(data.years, lang)}. <b>Parameter uncertainty is part of every answer</b>: the "
            "interval beside a difference is the 95 % interval of its mean over the parameter sets; “a to b "
            f"depending on the parameter set” is where the difference lies under 95 % of them, and “better under k "
            f"of {k} parameter sets” says how sure.",
            f"Chaque scénario est comparé à <b>{html.escape(base)}</b> sur les mêmes territoires, sous <b>{k} jeux de "
            f"paramètres</b> {_source_text(data)}, avec {n_seeds} graines chacun (même graine = même territoire et "
            f"mêmes aléas){_after(data.years, lang)}. <b>L'incertitude sur les paramètres fait partie de chaque "
            "réponse</b> : l'intervalle à côté d'un écart est l'intervalle à 95 % de sa moyenne sur les jeux de "
            "paramètres ; « de a à b selon le jeu de paramètres » dit où se trouve l'écart pour 95 % d'entre eux, et "
            f"« mieux pour k jeux de paramètres sur {k} » dit avec quelle certitude.",
        )
        intro += " " + _spread_sentence(data)
    else:
        intro = tr(
            lang,
            f"Each scenario is compared with <b>{html.escape(base)}</b> on the same territories ({n_seeds} seeds: same "
            f"seed = same territory and same chance events){_after(data.years, lang)}.",
            f"Chaque scénario est comparé à <b>{html.escape(base)}</b> sur les mêmes territoires ({n_seeds} graines : "
            f"même graine = même territoire et mêmes aléas){_after(data.years, lang)}.",
        )
    parts.append(f"<p>{intro}</p>")
    for lv in _levels(data, crit):
        at = _at_level(data, crit, lv)
        at = at[at["improvement"].notna()]
        if at.empty:
            continue
        if lv:
            lv_text = _level_text(data, dict(zip(design.panels, lv, strict=True)))
            parts.append(f"<h3>{html.escape(lv_text)}</h3>")
        items = []
        for fam in ("adoption", "fracture"):
            fam_rows = at[at["family"] == fam]
            if fam_rows.empty:
                continue
            score = fam_rows.groupby(design.by, dropna=False)["normalised"].mean()
            best_key = score.idxmax()
            best_key = best_key if isinstance(best_key, tuple) else (best_key,)
            best = fam_rows
            for c, v in zip(design.by, best_key, strict=True):
                best = best[best[c].astype(str) == str(v)]
            name = _group_name(data, best.iloc[0], level=False)
            fam_title = reg.FAMILY_TITLES[fam][1 if lang == "fr" else 0]
            details = []
            for _, r in best.iterrows():
                m = r["metric"]
                d = reg.format_diff(m, r["diff"], lang)
                ci = reg.format_interval(m, r["ci_low"], r["ci_high"], lang, diff=True)
                cost = _eur_per_point(r.get("eur_per_point"), _extra(data, r), r["improvement"], lang,
                                      r.get("improvement_low"))  # fmt: skip
                sure = _semi(lang).join(t for t in (_param_range(r, lang), _sure_text(r, lang)) if t)
                details.append(f"{html.escape(reg.label(m, lang))} {html.escape(d)} {html.escape(ci)} "
                               f"({html.escape(sure)}{_semi(lang)}{html.escape(cost)})")  # fmt: skip
            lead = tr(lang, f"<b>{fam_title}</b>: <b>{html.escape(name)}</b> does best",
                      f"<b>{fam_title}</b> : <b>{html.escape(name)}</b> fait le mieux")  # fmt: skip
            items.append(f"<li>{lead}{_colon(lang)}" + _semi(lang).join(details) + ".</li>")
        items.append(_best_per_fracture(data, at))
        items.append(_ranking_sentence(data, lv))
        items.append(_funding_sentence(data, lv))
        parts.append('<ul class="summary">' + "".join(i for i in items if i) + "</ul>")
    return "\n".join(parts)


def _after(years: float | None, lang: str) -> str:
    if not years:
        return ""
    plural = "s" if (years != 1 if lang == "en" else years >= 2) else ""
    return tr(lang, f", after {years:g} year{plural}", f", après {years:g} an{plural}")


def _extra(data: ReportData, row: pd.Series) -> float:
    rk = data.ranking
    if rk is None or rk.empty:
        return np.nan
    sel = rk
    for c in [*data.design.panels, *data.design.by]:
        sel = sel[sel[c].astype(str) == str(row[c])]
    return float(sel["extra_cost"].iloc[0]) if len(sel) else np.nan


def _best_per_fracture(data: ReportData, at: pd.DataFrame) -> str:
    """One clause per fracture dimension: which group reduces it most, by how much, at what cost per point."""
    lang = data.lang
    fr_rows = at[at["family"] == "fracture"]
    if fr_rows.empty:
        return ""
    clauses = []
    for m, g in fr_rows.groupby("metric", sort=False):
        best = g.loc[g["improvement"].idxmax()]
        if not best["improvement"] > 0:
            clauses.append(tr(lang, f"{reg.label(m, lang)}: no scenario reduces it",
                              f"{reg.label(m, lang)} : aucun scénario ne le réduit"))  # fmt: skip
            continue
        cost = _eur_per_point(best.get("eur_per_point"), _extra(data, best), best["improvement"], lang,
                              best.get("improvement_low"))  # fmt: skip
        if best.get("prob_basis") == "parameter sets" and np.isfinite(best.get("prob_better", np.nan)):
            cost = _count_text(int(best["prob_n_better"]), int(best["prob_n_tie"]), int(best["prob_n"]),
                               "parameter sets", lang) + _semi(lang) + cost  # fmt: skip
            spread = _param_range(best, lang)
            cost = spread + _semi(lang) + cost if spread else cost
        clauses.append(
            f"{reg.label(m, lang)}{_colon(lang)}{_group_name(data, best, level=False)} {reg.format_diff(m, best['diff'], lang)} "
            f"{reg.format_interval(m, best['ci_low'], best['ci_high'], lang, diff=True)} ({cost})"
        )
    head = tr(lang, "<b>Each fracture dimension</b>, the scenario that reduces it most: ",
              "<b>Chaque dimension de la fracture</b>, le scénario qui la réduit le plus : ")  # fmt: skip
    return "<li>" + head + html.escape(_semi(lang).join(clauses)) + ".</li>"


def _ranking_sentence(data: ReportData, lv: tuple[Any, ...]) -> str:
    lang = data.lang
    rk = data.ranking
    if rk is None or rk.empty:
        return ""
    at = _at_level(data, rk, lv) if lv else rk
    at = at.sort_values("score", ascending=False)
    order = ", ".join(f"{_group_name(data, r, level=False)} ({_score(r['score'], lang)})" for _, r in at.iterrows())
    weights = _weights_text(data)
    return "<li>" + tr(
        lang,
        f"<b>Multi-criteria ranking</b> (score 0 to 1, 1 = best on every criterion): {html.escape(order)}. Weights: "
        f"{html.escape(weights)} (change them with --weights).",
        f"<b>Classement multicritère</b> (score de 0 à 1, 1 = le meilleur sur tous les critères) : {html.escape(order)}. "
        f"Poids : {html.escape(weights)} (à modifier avec --weights).",
    ) + html.escape(_ranking_uncertainty(data, at)) + "</li>"  # fmt: skip


def _label_name(data: ReportData, label: str) -> str:
    """The display name of a group named by its label in the robustness tables."""
    labels = data.robust.settings.get("labels", {}) if data.robust is not None else {}
    key = labels.get(label)
    if key is None or not data.design.by:
        return scenario_title(label, data.lang)
    return _group_name(data, dict(zip(data.design.by, key, strict=True)), level=False)


def _flips(row: pd.Series | dict) -> list[tuple[str, float]]:
    """(label, probability of beating it) of the groups a row of the multi-criteria ranking flips with."""
    names, probs = str(row.get("flips_with") or ""), str(row.get("flips_p") or "")
    if not names or names == "nan":
        return []
    return [(n, float(p)) for n, p in zip(names.split(", "), probs.split(", "), strict=True)]


def _ranking_uncertainty(data: ReportData, at: pd.DataFrame) -> str:
    """The multi-criteria ranking under parameter uncertainty, in words (plain text, empty without
    parameter sets): who scores best under how many parameter sets, which ranks are robust and which
    flip, with whom."""
    lang = data.lang
    if "p_first" not in at.columns or at["p_first"].isna().all():
        return ""
    k = int(at["n_param_sets"].dropna().iloc[0])
    at = at.sort_values("score", ascending=False)
    firsts = at[at["p_first"] > 0].sort_values("p_first", ascending=False)
    who = ", ".join(
        f"{_group_name(data, r, level=False)}{tr(lang, ' under ', ' pour ')}{_pct(r['p_first'], lang)}"
        for _, r in firsts.iterrows()
    )
    text = tr(lang, f" Under parameter uncertainty, the best score goes to {who} of the {k} parameter sets",
              f" Sous incertitude des paramètres, le meilleur score revient à {who} des {k} jeux de paramètres")  # fmt: skip
    pairs, seen = [], set()
    top = {group_label(tuple(r[c] for c in data.design.by), data.design.by) for _, r in at.head(3).iterrows()}
    for _, r in at.iterrows():
        for other, p in _flips(r):
            if not ({other, group_label(tuple(r[c] for c in data.design.by), data.design.by)} & top):
                continue  # the summary names the flips among the leaders; the ranking table gives them all
            pair = frozenset((group_label(tuple(r[c] for c in data.design.by), data.design.by), other))
            if pair in seen or p < 0.5:
                continue
            seen.add(pair)
            pairs.append(tr(lang, f"{_group_name(data, r, level=False)} ahead of {_label_name(data, other)} under "
                            f"{_pct(p, lang)}", f"{_group_name(data, r, level=False)} devant "
                            f"{_label_name(data, other)} pour {_pct(p, lang)}"))  # fmt: skip
    share = _pct(ROBUST_SHARE, lang)
    if at["robust"].fillna(False).all() and not pairs:
        text += tr(lang, f"; every rank is robust (the same under at least {share} of the parameter sets).",
                   f" ; chaque rang est robuste (le même pour au moins {share} des jeux de paramètres).")  # fmt: skip
        return text
    robust = [_group_name(data, r, level=False) for _, r in at.iterrows() if bool(r["robust"])]
    if robust:
        text += tr(lang, f"; robust ranks (the same under at least {share} of the sets): {', '.join(robust)}",
                   f" ; rangs robustes (les mêmes pour au moins {share} des jeux) : {', '.join(robust)}")  # fmt: skip
    if pairs:
        more = len(pairs) - 4
        text += tr(lang, "; the order flips: ", " ; l'ordre s'inverse : ") + ", ".join(pairs[:4])
        if more > 0:
            text += tr(lang, f", and {more} more (see the ranking table)", f", et {more} autres (voir le tableau du "
                       "classement)")  # fmt: skip
    return text + "."


def _n_param_sets(data: ReportData) -> int:
    d = data.design
    return int(data.outcomes[d.param_sets].drop_duplicates().shape[0]) if d is not None and d.param_sets else 0


def _source_text(data: ReportData) -> str:
    """Where the parameter sets come from (HTML): the calibrated ensemble named by the runs, or the swept
    columns."""
    lang, d, ens = data.lang, data.design, data.ensemble
    if ens.get("paths") and any(c.startswith("ensemble.") for c in d.param_sets):
        names = ", ".join(f"<code>{html.escape(p)}</code>" for p in ens["paths"])
        version = (tr(lang, " (version ", " (version ") + html.escape(", ".join(ens["versions"])) + ")"
                   if ens.get("versions") else "")  # fmt: skip
        return tr(lang, f"of the calibrated ensemble {names}{version}", f"de l'ensemble calibré {names}{version}")
    cols = ", ".join(f"<code>{html.escape(c)}</code>" for c in d.param_sets)
    return tr(lang, f"swept over {cols}", f"balayés sur {cols}")


def _share_range(values: pd.Series, lang: str) -> tuple[str, str]:
    """('lo to hi %' of the parameters, 'lo to hi %' of chance) of shares of the spread."""
    v = values[np.isfinite(values.astype(float))].astype(float)
    lo, hi = round(v.min() * 100), round(v.max() * 100)
    to = tr(lang, " to ", " à ")
    if lo == hi:
        return f"{lo}\u00a0%", f"{100 - lo}\u00a0%"
    return f"{lo}{to}{hi}\u00a0%", f"{100 - hi}{to}{100 - lo}\u00a0%"


def _spread_sentence(data: ReportData) -> str:
    """How much of the spread of the differences comes from the parameters and how much from chance,
    over every outcome and scenario (HTML)."""
    lang, r = data.lang, data.robust
    if r is None or r.versus_baseline.empty:
        return ""
    shares = r.versus_baseline["share_param"].astype(float)
    shares = shares[np.isfinite(shares)]
    if shares.empty:
        return tr(lang, "With one seed per parameter set, chance cannot be told apart from parameter uncertainty.",
                  "Avec une graine par jeu de paramètres, le hasard ne peut être séparé de l'incertitude sur les "
                  "paramètres.")  # fmt: skip
    med = f"{round(float(shares.median()) * 100)}\u00a0%"
    params, _ = _share_range(shares, lang)
    text = tr(lang, f"Of the spread of the differences between paired runs, {med} (median over outcomes and scenarios; "
              f"{params}) comes from what we do not know about the parameters, the rest from chance (the seeds).",
              f"De la dispersion des écarts entre simulations appariées, {med} (médiane sur les indicateurs et les "
              f"scénarios ; {params}) vient de ce que nous ignorons des paramètres, le reste du hasard (les graines).")  # fmt: skip
    if shares.median() >= 0.5:
        text += tr(lang, " More seeds would not make the answers much surer; knowing the parameters better would.",
                   " Plus de graines ne rendraient guère les réponses plus sûres ; mieux connaître les paramètres, "
                   "si.")  # fmt: skip
    else:
        text += tr(lang, " More seeds would make the answers surer.", " Plus de graines rendraient les réponses plus "
                   "sûres.")  # fmt: skip
    return text


def _magnitude(metric: str, value: float, lang: str) -> str:
    """A non-negative amount in the units of a metric's differences (1.2 pp, 0.012, 12 k EUR)."""
    if value is None or not np.isfinite(value):
        return ""
    return reg.format_diff(metric, abs(float(value)), lang).lstrip("+")


def _score(value: float, lang: str) -> str:
    """A 0-1 score with two decimals (decimal comma in French)."""
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "fr" else text


def _weights_text(data: ReportData) -> str:
    """The weights, by family when the family's criteria share it equally."""
    lang = data.lang
    parts = []
    for fam in ("adoption", "fracture", "cost"):
        ws = {m: w for m, w in data.weights.items() if reg.get(m).family == fam}
        if not ws:
            continue
        title = reg.FAMILY_TITLES[fam][1 if lang == "fr" else 0].lower()
        if len(set(np.round(list(ws.values()), 12))) == 1:
            each = tr(lang, f"shared by {len(ws)} criteria", f"partagé entre {len(ws)} critères")
            parts.append(f"{title} {sum(ws.values()):.3g}" + (f" ({each})" if len(ws) > 1 else ""))
        else:
            parts.append(title + " (" + ", ".join(f"{reg.label(m, lang)} {w:.3g}" for m, w in ws.items()) + ")")
    return _semi(lang).join(parts)


def _funding_sentence(data: ReportData, lv: tuple[Any, ...]) -> str:
    lang = data.lang
    f = data.funding
    if f is None or f.empty:
        return ""
    at = _at_level(data, f, lv) if lv else f
    clauses = []
    for _, r in at.iterrows():
        if _is_base(data, r):
            continue
        lever_words = _levers_text(r, lang)
        spent = r.get("spent_levers", np.nan)
        amount = (
            f" ({reg.euros(spent, lang)}{tr(lang, ' spent a year', ' dépensés par an')})" if np.isfinite(spent) else ""
        )
        clauses.append(f"{_group_name(data, r, level=False)}{_colon(lang)}{lever_words}{amount}")
    if not clauses:
        return ""
    head = tr(lang, "<b>What each scenario funds</b> (State money, mean over seeds): ",
              "<b>Ce que finance chaque scénario</b> (argent de l'État, moyenne sur les graines) : ")  # fmt: skip
    return "<li>" + head + html.escape(_semi(lang).join(clauses)) + ".</li>"


def _budget(value: float, lang: str) -> str:
    """A lever budget in EUR per staff member a year: whole euros without decimals."""
    if value is None or not np.isfinite(value):
        return ""
    return reg.format_number(value, lang) if value != round(value) else reg.format_whole(value, lang)


def _levers_text(row: pd.Series, lang: str) -> str:
    from sim.config import LEVERS

    funded = row.get("levers_funded") or []
    if not funded:
        return tr(lang, "no lever", "aucun levier")
    words = []
    for name in funded:
        lever = LEVERS[name]
        b = row.get(f"budget_{lever.spend_key}")
        title = lever.title_fr if lang == "fr" else lever.title
        words.append(f"{title.lower()} {_budget(b, lang)} {tr(lang, 'EUR/staff/yr', '€/agent/an')}")
    return ", ".join(words)


def _caveats(data: ReportData) -> str:
    lang, design, level = data.lang, data.design, f"{data.level:.0%}"
    items = [
        tr(lang, "<b>Not a forecast.</b> The simulator compares scenarios under its assumptions; most behavioural "
           "parameters are assumptions (docs/PARAMETERS.md lists every value and its source). Read the differences "
           "between scenarios, not the levels, and their direction more than their size.",
           "<b>Pas une prévision.</b> Le simulateur compare des scénarios sous ses hypothèses ; la plupart des "
           "paramètres de comportement sont des hypothèses (docs/PARAMETERS.md donne chaque valeur et sa source). "
           "Lire les écarts entre scénarios plutôt que les niveaux, et leur sens plus que leur taille."),
    ]  # fmt: skip
    if design is not None and design.param_sets:
        k = _n_param_sets(data)
        calibrated = bool(data.ensemble.get("paths")) and any(c.startswith("ensemble.") for c in design.param_sets)
        items.append(tr(
            lang,
            f"<b>What the intervals cover:</b> seed noise and parameter uncertainty. The runs come from {k} parameter "
            f"sets {_source_text(data)} crossed with {design.n_seeds} seeds. The {_pct(data.level, lang)} intervals of "
            "the expected "
            "differences are over the parameter sets (each counted once, with its mean over the seeds, all taken as "
            "equally likely); the range over parameter sets is where a difference lies under 95 % of them; the "
            "probability of doing better is the share of parameter sets under which the scenario does better on "
            f"average over the seeds (equal counts one half). With {k} parameter sets, probabilities move in steps of "
            f"{_pct(1 / k, lang)}: read them as rough when the sets are few.",
            f"<b>Ce que couvrent les intervalles :</b> l'aléa des graines et l'incertitude sur les paramètres. Les "
            f"simulations viennent de {k} jeux de paramètres {_source_text(data)} croisés avec {design.n_seeds} graines. "
            f"Les intervalles à {_pct(data.level, lang)} des écarts espérés portent sur les jeux de paramètres (chacun "
            "compté une fois, "
            "avec sa moyenne sur les graines, tous tenus pour également probables) ; l'étendue sur les jeux de "
            "paramètres est la plage où se trouve un écart pour 95 % d'entre eux ; la probabilité de faire mieux est "
            "la part des jeux de paramètres pour lesquels le scénario fait mieux en moyenne sur les graines (un égal "
            f"compte pour moitié). Avec {k} jeux de paramètres, les probabilités vont par pas de {_pct(1 / k, lang)} : "
            "les lire comme des ordres de grandeur quand les jeux sont peu nombreux.",
        ))  # fmt: skip
        items.append(tr(
            lang,
            "<b>What the parameter sets cover.</b> " + (
                "They are the values that the calibration on observed data left plausible (docs/CALIBRATION.md), not "
                "every assumption: the model's mechanisms, and the parameters without a prior range, are the same in "
                "every set." if calibrated else
                "They are swept values, not a calibrated ensemble: the probabilities are over the values swept, as if "
                "each were equally likely. For parameter sets that the observed data leave plausible, run "
                "<code>python -m sim -m experiment=ensemble_comparison ensemble.path=...</code> on an ensemble written "
                "by <code>python -m analysis calibrate</code> (docs/CALIBRATION.md)."),
            "<b>Ce que couvrent les jeux de paramètres.</b> " + (
                "Ce sont les valeurs que la calibration sur données observées a laissées plausibles "
                "(docs/CALIBRATION.md), pas toutes les hypothèses : les mécanismes du modèle, et les paramètres sans "
                "plage a priori, sont les mêmes dans chaque jeu." if calibrated else
                "Ce sont des valeurs balayées, pas un ensemble calibré : les probabilités portent sur les valeurs "
                "balayées, tenues pour également probables. Pour des jeux de paramètres que les données observées "
                "laissent plausibles, lancer <code>python -m sim -m experiment=ensemble_comparison ensemble.path=...</code> "
                "sur un ensemble écrit par <code>python -m analysis calibrate</code> (docs/CALIBRATION.md)."),
        ))  # fmt: skip
    else:
        one = ""
        ens = data.ensemble
        if ens.get("paths"):
            members = ", ".join(map(str, ens.get("members", [])))
            one = tr(lang, f" Every run uses the same parameter set (member {members} of the ensemble "
                     f"<code>{html.escape(', '.join(ens['paths']))}</code>).", f" Toutes les simulations utilisent le "
                     f"même jeu de paramètres (membre {members} de l'ensemble "
                     f"<code>{html.escape(', '.join(ens['paths']))}</code>).")  # fmt: skip
        items.append(tr(
            lang,
            f"<b>What the intervals cover:</b> seed noise only ({level} intervals over {design.n_seeds if design else 0} "
            "seeds; each seed draws another territory and other chance events)." + one + " They say nothing about "
            "the uncertainty on the model's parameters, most of which are assumptions. To include it, run the "
            "scenarios on a calibrated ensemble of parameter sets: <code>python -m sim -m experiment=ensemble_comparison "
            "ensemble.path=calibration/v2/ensemble.parquet</code> (an ensemble written by <code>python -m analysis "
            "calibrate</code>; see docs/CALIBRATION.md), then build this report on its folder "
            "(<code>multirun/ensemble_comparison</code>): it then gives, for each scenario, the probability of doing "
            "better over the parameter sets, intervals that include parameter uncertainty, and whether the ranking "
            "holds.",
            f"<b>Ce que couvrent les intervalles :</b> l'aléa des graines seulement (intervalles à {level} sur "
            f"{design.n_seeds if design else 0} graines ; chaque graine tire un autre territoire et d'autres aléas)." + one +
            " Ils ne disent rien de l'incertitude sur les paramètres du modèle, pour la plupart des hypothèses. Pour "
            "l'inclure, simuler les scénarios sur un ensemble calibré de jeux de paramètres : <code>python -m sim -m "
            "experiment=ensemble_comparison ensemble.path=calibration/v2/ensemble.parquet</code> (un ensemble écrit par "
            "<code>python -m analysis calibrate</code> ; voir docs/CALIBRATION.md), puis produire ce rapport sur son "
            "dossier (<code>multirun/ensemble_comparison</code>) : il donne alors, pour chaque scénario, la probabilité "
            "de faire mieux sur les jeux de paramètres, des intervalles qui incluent l'incertitude sur les paramètres, "
            "et si le classement tient.",
        ))  # fmt: skip
    items.append(tr(
        lang, "<b>Paired comparisons.</b> A scenario and the baseline run with the same seed share their territory "
        "and chance events, so their difference is measured much more precisely than their levels: level bands that "
        "overlap do not mean that there is no effect.",
        "<b>Comparaisons appariées.</b> Un scénario et la référence simulés avec la même graine partagent territoire "
        "et aléas : leur écart est mesuré bien plus précisément que leurs niveaux. Des bandes de niveau qui se "
        "chevauchent ne veulent pas dire qu'il n'y a pas d'effet.",
    ))  # fmt: skip
    items.append(tr(
        lang, "<b>Costs</b> are the euros the model spends: the State's levers (budgets in EUR per staff member a "
        "year, an assumption: the sources do not cost them) and the collectivités' own digital spending. A cost per "
        "point is the extra cost over the whole run divided by the points gained (percentage points for a share, "
        "hundredths for a 0-1 index).",
        "<b>Les coûts</b> sont les euros dépensés dans le modèle : leviers de l'État (budgets en euros par agent et par "
        "an, une hypothèse : les sources ne les chiffrent pas) et dépenses numériques propres des collectivités. Un "
        "coût par point est le surcoût sur toute la période divisé par les points gagnés (points de pourcentage pour "
        "une part, centièmes pour un indice de 0 à 1).",
    ))  # fmt: skip
    if data.load_report.skipped:
        items.append(tr(lang, f"{len(data.load_report.skipped)} runs failed or were incomplete and are left out (see "
                        "the list at the end).", f"{len(data.load_report.skipped)} simulations en échec ou incomplètes "
                        "sont écartées (liste en fin de rapport)."))  # fmt: skip
    head = f'<h2 id="caveats">{tr(lang, "How to read it", "Comment le lire")}</h2>'
    return head + "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _robust_metrics(data: ReportData, frame: pd.DataFrame) -> list[str]:
    """The report's metrics present in a robustness table, by family (adoption, fracture, cost)."""
    present = set(frame["metric"]) if not frame.empty else set()
    mets = [m for m in data.metrics if m in present]
    return [m for fam in ("adoption", "fracture", "cost") for m in mets if reg.get(m).family == fam]


def _robustness_html(data: ReportData) -> str:
    """The comparison under parameter uncertainty: for each outcome, each scenario's probability of
    beating the baseline, expected difference with its interval, range over parameter sets, the share
    of the spread that comes from the parameters, regret and rank (robust or flipping, with whom)."""
    lang, r, design = data.lang, data.robust, data.design
    if r is None or r.ranking.empty:
        return ""
    k = _n_param_sets(data)
    share = _pct(ROBUST_SHARE, lang)
    parts = [f'<h2 id="robustness">{tr(lang, "How sure: under parameter uncertainty", "Quelle certitude : sous incertitude des paramètres")}</h2>']  # fmt: skip
    base = scenario_title(data.baseline, lang) if data.baseline is not None else ""
    intro = tr(
        lang,
        f"The runs come from {k} parameter sets {_source_text(data)}, each run with {data.design.n_seeds} seeds. Under "
        "each parameter set, every scenario is averaged over its seeds; a scenario <b>beats</b> another under a "
        "parameter set when that average is better (equal counts one half), and the probability of beating it is "
        "the share of parameter sets where it does, each set counted as equally likely. The <b>expected "
        "difference</b> is the mean over the parameter sets, with its interval; the <b>range over parameter sets</b> "
        "is where the difference lies under 95 % of them. The <b>spread from the parameters</b> is the share of the "
        "variance of the differences between paired runs that comes from what we do not know about the parameters; "
        "the rest is chance (the seed: territory and random events). The <b>regret</b> of a choice is how much worse "
        "it is than the best scenario for the same parameter set (0 when it is the best), on average and at worst. A "
        f"<b>rank</b> is robust when it is the same under at least {share} of the parameter sets; otherwise the table "
        "names the scenarios it flips with and how often it beats them.",
        f"Les simulations viennent de {k} jeux de paramètres {_source_text(data)}, chacun simulé avec "
        f"{data.design.n_seeds} graines. Pour chaque jeu de paramètres, chaque scénario est moyenné sur ses graines ; "
        "un scénario <b>bat</b> un autre pour un jeu de paramètres quand cette moyenne est meilleure (un égal compte "
        "pour moitié), et la probabilité de le battre est la part des jeux de paramètres où il le bat, chaque jeu "
        "étant tenu pour également probable. L'<b>écart espéré</b> est la moyenne sur les jeux de paramètres, avec "
        "son intervalle ; l'<b>étendue sur les jeux de paramètres</b> est la plage où se trouve l'écart pour 95 % "
        "d'entre eux. La <b>part due aux paramètres</b> est la part de la variance des écarts entre simulations "
        "appariées qui vient de ce que nous ignorons des paramètres ; le reste est le hasard (la graine : territoire "
        "et aléas). Le <b>regret</b> d'un choix est ce qu'il perd face au meilleur scénario pour le même jeu de "
        "paramètres (0 quand il est le meilleur), en moyenne et au pire. Un <b>rang</b> est robuste s'il est le même "
        f"pour au moins {share} des jeux de paramètres ; sinon le tableau nomme les scénarios avec lesquels il "
        "s'inverse et la part des jeux où il les bat.",
    )  # fmt: skip
    parts.append(f'<p class="note">{intro}</p>')
    if data.robust.versus_baseline is not None and not data.robust.versus_baseline.empty:
        parts.append(f"<p>{_spread_sentence(data)}</p>")
    levels = _levels(data, r.ranking)
    for lv in levels:
        if lv:
            parts.append(f"<h3>{html.escape(_level_text(data, dict(zip(design.panels, lv, strict=True))))}</h3>")
        rk = _at_level(data, r.ranking, lv)
        vs = _at_level(data, r.versus_baseline, lv) if not r.versus_baseline.empty else r.versus_baseline
        rg = _at_level(data, r.regret, lv)
        tag = "h4" if lv else "h3"
        for m in _robust_metrics(data, rk):
            o = reg.get(m)
            direction = tr(lang, "higher is better", "plus haut = mieux") if o.direction > 0 else tr(
                lang, "lower is better", "plus bas = mieux")  # fmt: skip
            parts.append(f'<{tag}>{html.escape(reg.label(m, lang))} <span class="tag">{direction}</span></{tag}>')
            vm = vs[vs["metric"] == m] if not vs.empty else vs
            if not vm.empty and np.isfinite(vm["share_param"].astype(float)).any():
                params, chance = _share_range(vm["share_param"], lang)
                parts.append('<p class="note">' + html.escape(tr(
                    lang, f"Of the spread of the differences against {base}, {params} comes from what we do not know "
                    f"about the parameters and {chance} from chance.", f"De la dispersion des écarts à {base}, {params} "
                    f"vient de ce que nous ignorons des paramètres et {chance} du hasard.")) + "</p>")  # fmt: skip
            parts.append(_robust_table(data, m, rk[rk["metric"] == m], vm, rg[rg["metric"] == m], lv))
    for name in ("versus_baseline", "regret", "ranking", "pairwise"):
        parts.append(_download(f"robustness_{name}.csv", r.tables()[name], lang))
    return "\n".join(parts)


def _robust_table(data: ReportData, m: str, rk: pd.DataFrame, vs: pd.DataFrame, rg: pd.DataFrame, lv: tuple) -> str:
    lang, o = data.lang, reg.get(m)
    base = scenario_title(data.baseline, lang) if data.baseline is not None else ""
    head = [tr(lang, "Scenario", "Scénario"), tr(lang, f"Beats {base}", f"Bat {base}") if base else "",
            tr(lang, f"Expected difference [{_pct(data.level, lang)} interval]",
               f"Écart espéré [intervalle à {_pct(data.level, lang)}]"),
            tr(lang, "Range over parameter sets (95 %)", "Étendue sur les jeux de paramètres (95 %)"),
            tr(lang, "Spread from the parameters", "Part de la dispersion due aux paramètres"),
            tr(lang, "Regret: mean (worst)", "Regret : moyen (pire)"), tr(lang, "Rank", "Rang")]  # fmt: skip
    vs = vs.set_index("label") if not vs.empty else vs
    rg = rg.set_index("label")
    n_groups = len(rk)
    rows = []
    for _, r in rk.sort_values(["rank", "label"]).iterrows():
        label = r["label"]
        cells = [_cell(_group_name(data, r, level=False))]
        if not vs.empty and label in vs.index:
            v = vs.loc[label]
            cls = "num"
            lo, hi = v["ci_lo"], v["ci_hi"]
            if np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0):
                cls += " good" if v["mean_diff"] * o.direction > 0 else " bad"
            all_equal = int(v["n_tie"]) == int(v["n_members"])
            cells.append(_cell(tr(lang, "equal", "égal") if all_equal else _pct(v["p_better"], lang), "num",
                               _count_text(int(v["n_better"]), int(v["n_tie"]), int(v["n_members"]), "parameter sets",
                                           lang)))  # fmt: skip
            cells.append(_cell(reg.format_diff(m, v["mean_diff"], lang), cls,
                               reg.format_interval(m, lo, hi, lang, diff=True)))  # fmt: skip
            cells.append(_cell(reg.format_interval(m, v["param_lo"], v["param_hi"], lang, diff=True), "num"))
            sp, psd, ssd = v["share_param"], v["param_sd"], v["seed_sd"]
            sub = tr(lang, f"sd {_magnitude(m, psd, lang)} from the parameters, {_magnitude(m, ssd, lang)} from chance",
                     f"écart-type {_magnitude(m, psd, lang)} dû aux paramètres, {_magnitude(m, ssd, lang)} au hasard")  # fmt: skip
            if np.isfinite(sp):
                cells.append(_cell(_pct(sp, lang), "num", sub))
            elif psd == 0 and ssd == 0:  # the same difference under every parameter set and seed
                cells.append(_cell(tr(lang, "no spread", "aucune dispersion"), "num"))
            else:  # one seed per parameter set: chance cannot be told apart
                cells.append(_cell(tr(lang, "not measured (one seed per set)", "non mesurée (une graine par jeu)"),
                                   "num"))  # fmt: skip
        else:
            ref = tr(lang, "reference", "référence") if base and str(label) == str(data.baseline) else ""
            cells += [_cell(ref), _cell(""), _cell(""), _cell("")]
        g = rg.loc[label] if label in rg.index else None
        if g is not None:
            cells.append(_cell(_magnitude(m, g["mean_regret"], lang), "num",
                               tr(lang, "worst ", "pire ") + _magnitude(m, g["max_regret"], lang)))  # fmt: skip
        else:
            cells.append(_cell(""))
        rank = tr(lang, f"{int(r['rank'])} of {n_groups}", f"{int(r['rank'])} sur {n_groups}")
        if bool(r["robust"]):
            rank += tr(lang, ", robust", ", robuste")
        sub = [
            tr(lang, f"best under {_pct(r['p_best'], lang)}", f"meilleur pour {_pct(r['p_best'], lang)}")
            if r["p_best"] > 0
            else tr(lang, "never best", "jamais le meilleur")
        ]
        if r["rank_min"] != r["rank_max"]:
            sub.append(tr(lang, f"ranks {int(r['rank_min'])} to {int(r['rank_max'])}",
                          f"rangs {int(r['rank_min'])} à {int(r['rank_max'])}"))  # fmt: skip
        flips = data.robust.settings.get("flips", {}).get((lv, m, label), [])
        if flips:
            who = ", ".join(f"{_label_name(data, other)} ({tr(lang, 'beats it under', 'le bat pour')} {_pct(p, lang)})"
                            for other, p in flips)  # fmt: skip
            sub.append(tr(lang, f"flips with {who}", f"s'inverse avec {who}"))
        if r.get("tied_with"):
            tied = ", ".join(_label_name(data, t) for t in str(r["tied_with"]).split(", "))
            sub.append(tr(lang, f"equal to {tied} under every set", f"égal à {tied} pour chaque jeu"))
        cells.append(_cell(rank, "num", _semi(lang).join(sub)))
        rows.append(cells)
    if not base:
        head = [h for i, h in enumerate(head) if i not in (1, 2, 3, 4)]
        rows = [[c for i, c in enumerate(row) if i not in (1, 2, 3, 4)] for row in rows]
        return _table_html(head, rows, widths=(30, 25, 45))
    return _table_html(head, rows, widths=(16, 12, 13, 12, 13, 11, 23))


def _pairwise_html(data: ReportData) -> str:
    """For each outcome, the probability that the scenario of the row beats the scenario of the column
    (share of parameter sets), columns split in chunks that fit the page."""
    lang, r, design = data.lang, data.robust, data.design
    if r is None or r.pairwise.empty:
        return ""
    parts = [f'<p class="note">{tr(lang, "Share of the parameter sets under which the scenario of the row does better than the scenario of the column (mean over seeds; equal counts one half).", "Part des jeux de paramètres pour lesquels le scénario de la ligne fait mieux que celui de la colonne (moyenne sur les graines ; un égal compte pour moitié).")}</p>']  # fmt: skip
    for lv in _levels(data, r.ranking):
        rk = _at_level(data, r.ranking, lv)
        pw = _at_level(data, r.pairwise, lv)
        for m in _robust_metrics(data, rk):
            order = list(rk[rk["metric"] == m].sort_values(["rank", "label"])["label"])
            p = pw[pw["metric"] == m].set_index(["label", "versus"])["p_beats"]
            title = reg.label(m, lang) + (
                f" · {_level_text(data, dict(zip(design.panels, lv, strict=True)))}" if lv else ""
            )
            parts.append(f"<h4>{html.escape(title)}</h4>")
            for chunk in _chunks(order, MAX_TABLE_COLUMNS):
                head = [tr(lang, "Beats →", "Bat →"), *(_label_name(data, c) for c in chunk)]
                rows = []
                for a in order:
                    cells = [_cell(_label_name(data, a))]
                    for b in chunk:
                        if a == b:
                            cells.append(_cell("—", "num"))
                            continue
                        v = p.get((a, b), np.nan)
                        cls = "num" + (" good" if v >= ROBUST_SHARE else " bad" if v <= 1 - ROBUST_SHARE else "")
                        cells.append(_cell(_pct(v, lang), cls))
                    rows.append(cells)
                parts.append(_table_html(head, rows))
    return "\n".join(parts)


def _metric_table(data: ReportData, frame: pd.DataFrame, metrics: list[str], kind: str, csv: str) -> str:
    """Groups in rows, metrics in columns (split in chunks that fit the page): levels ("level") with their
    interval, or differences ("diff") with theirs, coloured by direction when the interval excludes 0."""
    lang, design = data.lang, data.design
    out = []
    keys = design.keys
    groups = frame[keys].drop_duplicates() if keys else pd.DataFrame([{}])
    if kind == "diff":
        frame = frame.set_index([*keys, "metric"])
    else:
        frame = frame.set_index([*keys, "metric"]) if keys else frame.set_index("metric")
    for chunk in _chunks(metrics, MAX_TABLE_COLUMNS):
        head = [tr(lang, "Scenario", "Scénario"), *(reg.label(m, lang, unit=kind == "level") for m in chunk)]
        rows = []
        for _, g in groups.iterrows():
            cells = [_cell(_group_name(data, g) if keys else tr(lang, "all runs", "toutes"))]
            for m in chunk:
                key = (*[g[c] for c in keys], m) if keys else m
                try:
                    r = frame.loc[key]
                except KeyError:
                    cells.append(_cell(""))
                    continue
                if isinstance(r, pd.DataFrame):
                    r = r.iloc[0]
                if kind == "level":
                    cells.append(_cell(reg.format_value(m, r["mean"], lang), "num",
                                       reg.format_interval(m, r["ci_low"], r["ci_high"], lang)))  # fmt: skip
                else:
                    o = reg.get(m)
                    lo, hi = r["ci_low"], r["ci_high"]
                    cls = "num"
                    if np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0) and o.direction:
                        cls += " good" if (r["diff"] * o.direction) > 0 else " bad"
                    cells.append(_cell(reg.format_diff(m, r["diff"], lang), cls,
                                       reg.format_interval(m, lo, hi, lang, diff=True)))  # fmt: skip
            rows.append(cells)
        out.append(_table_html(head, rows))
    return "".join(out)


def _ranking_table(data: ReportData) -> str:
    lang, rk = data.lang, data.ranking
    if rk is None or rk.empty:
        return f'<p class="note">{tr(lang, "Not computed.", "Non calculé.")}</p>'
    head = [tr(lang, "Scenario", "Scénario"), tr(lang, "Rank", "Rang"), "Score",
            tr(lang, "Adoption", "Adoption"), tr(lang, "Fracture", "Fractures"), tr(lang, "Cost", "Coût"),
            tr(lang, "Extra cost over the run", "Surcoût sur la période")]  # fmt: skip
    uncertain = "p_first" in rk.columns and rk["p_first"].notna().any()
    if uncertain:
        head.append(tr(lang, "Under parameter uncertainty", "Sous incertitude des paramètres"))
    rows = []
    for _, r in rk.iterrows():
        rows.append([
            _cell(_group_name(data, r)), _cell(str(r["rank"]), "num"), _cell(_score(r["score"], lang), "num"),
            *(_cell(_score(r[c], lang) if c in r and np.isfinite(r[c]) else "", "num")
              for c in ("adoption_score", "fracture_score", "cost_score")),
            _cell(reg.euros(r["extra_cost"], lang) if np.isfinite(r["extra_cost"]) else "", "num"),
        ])  # fmt: skip
        if uncertain:
            rows[-1].append(_rank_uncertainty_cell(data, r))
    weights = _weights_text(data)
    note = tr(
        lang,
        "Each criterion's mean is scaled from 0 (worst scenario) to 1 (best scenario, baseline included); the score "
        "is the weighted mean. Family weights are 1 by default, shared by the family's criteria; change them with "
        f"<code>--weights fracture=2 cost=0 inhabitants_excluded_share=3</code>. Weights used: {html.escape(weights)}.",
        "La moyenne de chaque critère est ramenée de 0 (pire scénario) à 1 (meilleur, référence comprise) ; le score est "
        "la moyenne pondérée. Chaque famille pèse 1 par défaut, partagé entre ses critères ; modifier avec "
        f"<code>--weights fracture=2 cost=0 inhabitants_excluded_share=3</code>. Poids utilisés : {html.escape(weights)}.",
    )  # fmt: skip
    if uncertain:
        note += " " + tr(
            lang, f"Under parameter uncertainty, the score is computed under each of the {_n_param_sets(data)} parameter "
            "sets (same scaling): how often each scenario scores best, the range of its ranks, and whether its rank "
            f"is robust (the same under at least {_pct(ROBUST_SHARE, lang)} of the sets) or flips, with whom.",
            f"Sous incertitude des paramètres, le score est calculé pour chacun des {_n_param_sets(data)} jeux de "
            "paramètres (même mise à l'échelle) : la part des jeux où chaque scénario a le meilleur score, l'étendue "
            f"de ses rangs, et si son rang est robuste (le même pour au moins {_pct(ROBUST_SHARE, lang)} des jeux) ou "
            "s'inverse, et avec qui.",
        )  # fmt: skip
    return f'<p class="note">{note}</p>' + _table_html(head, rows) + _download("ranking.csv", rk, lang)


def _rank_uncertainty_cell(data: ReportData, r: pd.Series) -> str:
    """First under p % of the parameter sets; ranks a to b; robust, or flips with whom."""
    lang = data.lang
    if not np.isfinite(r.get("p_first", np.nan)):
        return _cell("")
    sub = []
    if r["rank_best"] != r["rank_worst"]:
        sub.append(tr(lang, f"ranks {int(r['rank_best'])} to {int(r['rank_worst'])}",
                      f"rangs {int(r['rank_best'])} à {int(r['rank_worst'])}"))  # fmt: skip
    if bool(r["robust"]):
        sub.append(tr(lang, "robust rank", "rang robuste"))
    flips = _flips(r)
    if flips:
        who = ", ".join(f"{_label_name(data, o)} ({tr(lang, 'beats it under', 'le bat pour')} {_pct(p, lang)})"
                        for o, p in flips)  # fmt: skip
        sub.append(tr(lang, f"flips with {who}", f"s'inverse avec {who}"))
    first = (tr(lang, f"best under {_pct(r['p_first'], lang)}", f"meilleur pour {_pct(r['p_first'], lang)}")
             if r["p_first"] > 0 else tr(lang, "never best", "jamais le meilleur"))  # fmt: skip
    return _cell(first, "num", _semi(lang).join(sub))


def _cost_table(data: ReportData) -> str:
    """Cost per point of every criterion (groups in rows, criteria in columns), with the improvement."""
    lang, crit, design = data.lang, data.cost, data.design
    if crit is None or crit.empty or "improvement" not in crit.columns:
        return f'<p class="note">{tr(lang, "Not computed (needs a baseline and the spending).", "Non calculé (il faut une référence et les dépenses).")}</p>'  # fmt: skip
    rows_frame = crit[crit["improvement"].notna() & (crit["metric"] != data.cost_metric)]
    metrics = list(dict.fromkeys(rows_frame["metric"]))
    keys = design.keys
    groups = rows_frame[keys].drop_duplicates()
    idx = rows_frame.set_index([*keys, "metric"])
    out = []
    for chunk in _chunks(metrics, MAX_TABLE_COLUMNS):
        head = [tr(lang, "Scenario", "Scénario"), *(reg.label(m, lang) for m in chunk)]
        rows = []
        for _, g in groups.iterrows():
            cells = [_cell(_group_name(data, g))]
            for m in chunk:
                try:
                    r = idx.loc[(*[g[c] for c in keys], m)]
                except KeyError:
                    cells.append(_cell(""))
                    continue
                imp = reg.format_points(r["improvement"], lang) + tr(lang, " pts", " pts")
                extra = _extra(data, pd.Series({c: g[c] for c in keys}))
                text = _eur_per_point(r["eur_per_point"], extra, r["improvement"], lang, r.get("improvement_low"))
                cells.append(_cell(text, "num", imp))
            rows.append(cells)
        out.append(_table_html(head, rows))
    note = tr(lang, "Extra cost over the whole run per point gained (the points gained below each cost; a point is a "
              "percentage point for a share, a hundredth for a 0-1 index).", "Surcoût sur toute la période par point "
              "gagné (les points gagnés sous chaque coût ; un point est un point de pourcentage pour une part, un "
              "centième pour un indice de 0 à 1).")  # fmt: skip
    return f'<p class="note">{note}</p>' + "".join(out) + _download("cost_per_point.csv", crit, lang)


def _funding_html(data: ReportData) -> str:
    from sim.config import LEVERS

    lang, f = data.lang, data.funding
    if f is None or f.empty:
        return ""
    spends = [lv for lv in LEVERS.values() if f[f"spent_{lv.spend_key}"].fillna(0).gt(0).any()
              or f[f"budget_{lv.spend_key}"].fillna(0).gt(0).any()]  # fmt: skip
    cols = [(lv.title_fr if lang == "fr" else lv.title, lv.spend_key) for lv in spends]
    tables = []
    for chunk in _chunks(cols, 4):
        head = [tr(lang, "Scenario", "Scénario"), *(c[0] for c in chunk)]
        rows = []
        for _, r in f.iterrows():
            cells = [_cell(_group_name(data, r))]
            for _, key in chunk:
                b, s, u = r[f"budget_{key}"], r[f"spent_{key}"], r[f"unspent_{key}"]
                sub = (tr(lang, "budget ", "budget ") + _budget(b, lang) + tr(lang, " EUR/staff/yr", " €/agent/an")
                       if np.isfinite(b) and b > 0 else "")  # fmt: skip
                if np.isfinite(u) and u > 0:
                    sub += tr(lang, f"; unspent {reg.euros(u, lang)}/yr", f" ; non dépensé {reg.euros(u, lang)}/an")
                cells.append(_cell(reg.euros(s, lang) if np.isfinite(s) else "", "num", sub))
            rows.append(cells)
        tables.append(_table_html(head, rows))
    head = [tr(lang, "Scenario", "Scénario"), tr(lang, "All levers (State)", "Tous leviers (État)"),
            tr(lang, "Collectivités' own spending", "Dépense propre des collectivités"),
            tr(lang, "of which contributions to pools", "dont contributions aux mutualisations"),
            tr(lang, "Total", "Total")]  # fmt: skip
    rows = []
    for _, r in f.iterrows():
        rows.append([_cell(_group_name(data, r)), *(
            _cell(reg.euros(r[c], lang) if np.isfinite(r[c]) else "", "num")
            for c in ("spent_levers", "spent_own", "spent_pool_contributions", "spent_total"))])  # fmt: skip
    tables.append(_table_html(head, rows))
    note = tr(lang, "Euros spent a year (mean over seeds and over the run), by lever; below each amount, the lever's "
              "budget in EUR per staff member of the territory a year.", "Euros dépensés par an (moyenne sur les "
              "graines et sur la période), par levier ; sous chaque montant, le budget du levier en euros par agent "
              "du territoire et par an.")  # fmt: skip
    return f'<p class="note">{note}</p>' + "".join(tables) + _download("funding.csv", f, lang)


def _territory_html(data: ReportData) -> str:
    lang = data.lang
    if not data.territory and not data.map_figures:
        return ""
    parts = [f'<h2 id="territory">{tr(lang, "Territories", "Territoires")}</h2>']
    if data.territory_note:
        parts.append(f'<p class="note">{html.escape(data.territory_note)}</p>')
    for caption, uri in data.map_figures:
        parts.append(f'<figure><img src="{uri}" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>')  # fmt: skip
    design = data.design
    for name, table in data.territory:
        parts.append(f"<h3>{html.escape(tr(lang, 'By ', 'Par ') + name)}</h3>")
        level = "pop_band" if "pop_band" in table.columns else "departement"
        values = [c for c in ("maturity", "inhabitants_excluded") if c in table.columns]
        head = [tr(lang, "Scenario", "Scénario"), name.capitalize()]
        for c in values:
            head.append({"maturity": tr(lang, "Mean maturity of communes", "Maturité moyenne des communes"),
                         "inhabitants_excluded": tr(lang, "Inhabitants excluded", "Habitants exclus")}[c])  # fmt: skip
        rows = []
        for _, r in table.iterrows():
            cells = [_cell(_group_name(data, r)), _cell(str(r[level]))]
            for c in values:
                metric = "maturity_mean" if c == "maturity" else "inhabitants_excluded_share"
                sub = ""
                if f"{c}_diff" in r and np.isfinite(r[f"{c}_diff"]) and not _is_base(data, r):
                    sub = reg.format_diff(metric, r[f"{c}_diff"], lang) + tr(lang, " vs baseline", " vs référence")
                cells.append(_cell(reg.format_value(metric, r[c], lang), "num", sub))
            rows.append(cells)
        parts.append(_table_html(head, rows))
        parts.append(_download(f"by_{level}.csv", table, lang))
    del design
    return "\n".join(parts)


def _provenance(rep: LoadReport) -> pd.DataFrame:
    rows = []
    for key in ("package_version", "mesa_version", "python_version"):
        vals = sorted({str((r.manifest or {}).get(key)) for r in rep.complete})
        rows.append({"field": key, "values": ", ".join(vals)})
    hashes = {(r.manifest or {}).get("config_hash") for r in rep.complete}
    rows.append({"field": "distinct configurations (config_hash)", "values": str(len(hashes))})
    created = sorted(str((r.manifest or {}).get("created_utc")) for r in rep.complete)
    if created:
        rows.append({"field": "runs created (UTC)", "values": f"{created[0]} to {created[-1]}"})
    wall = [float((r.manifest or {}).get("wall_time_s") or 0) for r in rep.complete]
    rows.append({"field": "total run time (s)", "values": f"{sum(wall):,.1f}"})
    return pd.DataFrame(rows)


def _design_table(data: ReportData) -> pd.DataFrame:
    out = data.outcomes
    rows = []
    for c in [*data.load_report.param_columns, "scenario", "seed"]:
        if c in out.columns and (c not in [r["parameter"] for r in rows]):
            vals = sorted({str(v) for v in out[c].tolist()}, key=_natural)
            shown = ", ".join(vals[:20]) + (f", ... ({len(vals)} values)" if len(vals) > 20 else "")
            rows.append({"parameter": c, "values": shown})
    return pd.DataFrame(rows)


def _natural(text: str) -> tuple[int, float, str]:
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def _design_sentence(data: ReportData) -> str:
    d, lang = data.design, data.lang
    if d is None:
        return ""
    n_groups = data.outcomes[d.by].drop_duplicates().shape[0] if d.by else 1
    words = {
        "scenarios": tr(lang, f"{n_groups} scenarios x {d.n_seeds} seeds", f"{n_groups} scénarios x {d.n_seeds} graines"),
        "panels": tr(lang, f"{n_groups} scenarios at each level of {', '.join(d.panels)}, x {d.n_seeds} seeds",
                     f"{n_groups} scénarios à chaque niveau de {', '.join(d.panels)}, x {d.n_seeds} graines"),
        "grid": tr(lang, f"a sweep over {' x '.join(d.by)} ({n_groups} cells) x {d.n_seeds} seeds",
                   f"un balayage de {' x '.join(d.by)} ({n_groups} cases) x {d.n_seeds} graines"),
        "groups": tr(lang, f"{n_groups} groups of {', '.join(d.by)} x {d.n_seeds} seeds",
                     f"{n_groups} groupes de {', '.join(d.by)} x {d.n_seeds} graines"),
        "single": tr(lang, f"one group x {d.n_seeds} seeds", f"un groupe x {d.n_seeds} graines"),
    }  # fmt: skip
    text = words.get(d.kind, "")
    if d.param_sets:
        k = data.outcomes[d.param_sets].drop_duplicates().shape[0]
        text += tr(lang, f" x {k} parameter sets", f" x {k} jeux de paramètres")
    return text


def render(data: ReportData) -> str:
    """The HTML text of the report."""
    rep, lang = data.load_report, data.lang
    e = html.escape
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = [("summary", tr(lang, "Summary", "Synthèse")), ("caveats", tr(lang, "How to read it", "Comment le lire")),
           ("figures", tr(lang, "Figures", "Figures")),
           *([("robustness", tr(lang, "How sure", "Quelle certitude"))] if data.robust is not None else []),
           ("territory", tr(lang, "Territories", "Territoires")),
           ("tables", tr(lang, "Tables", "Tableaux")), ("load", tr(lang, "Runs", "Simulations")),
           ("provenance", tr(lang, "Provenance", "Provenance"))]  # fmt: skip
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(data.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(data.title)}</h1>",
        f'<p class="note">{e(_design_sentence(data))}. '
        + tr(lang, f"Generated {now} by <code>python -m analysis report</code> from ",
             f"Produit le {now} par <code>python -m analysis report</code> à partir de ")
        + f"{e(str(rep.root))}.</p>",
        "<nav>" + "".join(f'<a href="#{k}">{e(v)}</a>' for k, v in nav) + "</nav>",
    ]  # fmt: skip
    for note in data.notes:
        parts.append(f'<p class="note">{e(note)}</p>')
    if data.outcomes.empty:
        parts.append(f'<h2 id="load">{tr(lang, "Runs loaded", "Simulations chargées")}</h2>')
        parts.append(f"<p>{len(rep.complete)} of {rep.n_found} runs loaded.</p></body></html>")
        return "\n".join(parts)
    parts.append(_executive_summary(data))
    parts.append(_caveats(data))
    parts.append(f'<h2 id="figures">{tr(lang, "Figures", "Figures")}</h2>')
    if not data.figures:
        parts.append(f'<p class="note">{tr(lang, "No figure.", "Pas de figure.")}</p>')
    for caption, uri in data.figures:
        parts.append(f'<figure><img src="{uri}" alt="{e(caption)}"><figcaption>{e(caption)}</figcaption></figure>')
    parts.append(_robustness_html(data))
    parts.append(_territory_html(data))
    parts.append(f'<h2 id="tables">{tr(lang, "Detailed tables", "Tableaux détaillés")}</h2>')
    if data.funding is not None and not data.funding.empty:
        parts.append(f"<h3>{tr(lang, 'What each scenario funds', 'Ce que finance chaque scénario')}</h3>")
        parts.append(_funding_html(data))
    level = f"{data.level:.0%}"
    how = tr(lang, "Student t interval over seeds", "intervalle de Student sur les graines")
    if data.method != "t":
        how = tr(lang, "percentile bootstrap interval", "intervalle bootstrap (percentiles)")
    mets = [m for m in data.metrics if m in set(data.summary["metric"])] if not data.summary.empty else []
    for fam in ("adoption", "fracture", "cost"):
        fam_mets = [m for m in mets if reg.get(m).family == fam]
        if not fam_mets:
            continue
        fam_title = reg.FAMILY_TITLES[fam][1 if lang == "fr" else 0]
        parts.append(
            f"<h3>{e(fam_title)}{_colon(lang)}{tr(lang, 'levels at the end of the run', 'niveaux en fin de simulation')}</h3>"
        )
        parts.append(f'<p class="note">{tr(lang, f"Mean over runs, {level} {how} below each value.", f"Moyenne sur les simulations, {how} à {level} sous chaque valeur.")}</p>')  # fmt: skip
        parts.append(_metric_table(data, data.summary, fam_mets, "level", "summary.csv"))
        if data.differences is not None and not data.differences.empty:
            parts.append(f"<h3>{e(fam_title)}{_colon(lang)}{tr(lang, 'differences against ', 'écarts à ')}{e(scenario_title(data.baseline, lang))}</h3>")  # fmt: skip
            parts.append(_metric_table(data, data.differences, fam_mets, "diff", "differences.csv"))
    parts.append(_download("summary.csv", data.summary, lang))
    if data.differences is not None:
        parts.append(_download("differences.csv", data.differences, lang))
    parts.append(f'<h3 id="ranking">{tr(lang, "Multi-criteria ranking", "Classement multicritère")}</h3>')
    parts.append(_ranking_table(data))
    parts.append(f'<h3 id="cost">{tr(lang, "Cost per point", "Coût par point")}</h3>')
    parts.append(_cost_table(data))
    if data.robust is not None and not data.robust.pairwise.empty:
        parts.append(f'<h3 id="pairwise">{tr(lang, "Probability of beating each other scenario", "Probabilité de battre chaque autre scénario")}</h3>')  # fmt: skip
        parts.append(_pairwise_html(data))
    parts.append(f'<h2 id="load">{tr(lang, "Runs loaded", "Simulations chargées")}</h2>')
    parts.append(
        tr(lang, f"<p>{len(rep.complete)} of {rep.n_found} runs loaded (file check: {e(rep.verify)}); "
           f"{len(rep.skipped)} skipped.</p>", f"<p>{len(rep.complete)} simulations chargées sur {rep.n_found} "
           f"(contrôle des fichiers : {e(rep.verify)}) ; {len(rep.skipped)} écartées.</p>")
    )  # fmt: skip
    if rep.skipped:
        parts.append(f"<h3>{tr(lang, 'Skipped runs', 'Simulations écartées')}</h3>")
        skipped = rep.to_frame()
        skipped = skipped[skipped["status"] != "complete"][["run_id", "status", "reason"]]
        parts.append(_plain_table(skipped, lang) + _download("skipped_runs.csv", skipped, lang))
    parts.append(f'<h3 id="design">{tr(lang, "Sweep design", "Plan d’expérience")}</h3>')
    grouping = ", ".join(data.by) if data.by else "(none: all runs together)"
    parts.append(f"<p>{tr(lang, 'Runs are grouped by', 'Simulations groupées par')} <b>{e(grouping)}</b>"
                 + (f"; {tr(lang, 'compared level by level of', 'comparées niveau par niveau de')} <b>{e(', '.join(data.design.panels))}</b>" if data.design and data.design.panels else "")
                 + f"; {tr(lang, 'seeds are replicates', 'les graines sont des répétitions')}.</p>")  # fmt: skip
    parts.append(_plain_table(_design_table(data), lang))
    parts.append(f'<h2 id="provenance">{tr(lang, "Provenance", "Provenance")}</h2>')
    if rep.complete:
        parts.append(_plain_table(_provenance(rep), lang))
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


# --------------------------------------------------------------------------- files


def build_report(folder: str | os.PathLike[str], out: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write the HTML report of the sweep under ``folder`` to ``out``; see :func:`collect` for options."""
    data = collect(folder, **kwargs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data), encoding="utf-8")
    return out


CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """A headless-capable Chromium: $REPORT_CHROMIUM, $DASHBOARD_CHROMIUM, then Debian's ``chromium``."""
    for candidate in (os.environ.get("REPORT_CHROMIUM"), os.environ.get("DASHBOARD_CHROMIUM"), *CHROMIUM_CANDIDATES):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def html_to_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str], *, chromium: str | None = None,
                timeout: float = 180.0) -> Path:  # fmt: skip
    """Print an HTML file to an A4 PDF with headless Chromium (the page's ``@page`` rule sets A4)."""
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError(
            "no Chromium found for --pdf: install Debian's chromium (apt-get install chromium) or set REPORT_CHROMIUM "
            "to its path; or open the HTML file in a browser and print it to PDF (A4)"
        )
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--no-pdf-header-footer",
               f"--print-to-pdf={pdf_path}", html_path.as_uri()]  # fmt: skip
        if pdf_path.exists():
            pdf_path.unlink()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise RuntimeError(f"Chromium did not write {pdf_path} (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return pdf_path


__all__ = ["ReportData", "build_report", "collect", "find_chromium", "fmt", "fmt_interval", "html_to_pdf", "render"]
