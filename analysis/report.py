"""A self-contained HTML report of a sweep: one file, no external CSS, JS, fonts or images.

Sections: load report (runs loaded and skipped, with reasons), sweep design, end-of-run
summary (mean and interval over seeds), differences against the baseline, ranking,
cost per point of fracture reduced, figures (PNG embedded as base64), provenance.
Tables can also be downloaded from the page as CSV (``data:`` links, no network).
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.compare import (
    ADOPTION_METRICS,
    COST_METRIC,
    FRACTURE_METRICS,
    HEADLINE_FRACTURE,
    compare_to_baseline,
    cost_effectiveness,
    default_by,
    rank_scenarios,
    run_outcomes,
    summarize,
)
from analysis.load import LoadReport, load, load_collectivites, run_table, scan

#: Collectivité tables read for the report's figure, at most (spread over the groups).
MAX_COLLECTIVITE_RUNS = 200
REPORT_STRATA = ("all", "pop_band", "rurality", "kind")

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:2px solid #ddd}
h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right;white-space:nowrap}
.note{color:#555;font-size:.9rem}.bad{color:#a00}
figure{margin:1.2rem 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9rem;color:#444}
nav a{margin-right:.8rem}.wrap{overflow-x:auto}
"""


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
    cost: pd.DataFrame | None
    figures: list[tuple[str, str]] = field(default_factory=list)  # (caption, data URI)
    notes: list[str] = field(default_factory=list)
    cost_metric: str = COST_METRIC


# --------------------------------------------------------------------------- formatting


def fmt(value: Any, metric: str = "") -> str:
    """A number for a table: euros with thousands separators and no decimals, else 4 significant digits."""
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


_NUMBER = re.compile(r"^[-+]?[\d,]*\.?\d+(?:e[-+]?\d+)?(?: \[.*\])?$|^\d+ / \d+$")


def _html_table(df: pd.DataFrame) -> str:
    """A plain HTML table; number cells (and "mean [low, high]" cells) are right-aligned."""
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for v in rec:
            text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            cls = ' class="num"' if _NUMBER.match(text) else ""
            cells.append(f"<td{cls}>{e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _table(df: pd.DataFrame, csv_name: str | None = None, raw: pd.DataFrame | None = None) -> str:
    if df is None or df.empty:
        return '<p class="note">(empty)</p>'
    body = _html_table(df)
    link = ""
    if csv_name:
        data = base64.b64encode((raw if raw is not None else df).to_csv(index=False).encode()).decode()
        link = (
            f'<p class="note"><a download="{html.escape(csv_name)}" '
            f'href="data:text/csv;base64,{data}">download {html.escape(csv_name)}</a></p>'
        )
    return f'<div class="wrap">{body}</div>{link}'


def _png_data_uri(fig: Any, dpi: int = 110) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _group_text(row: pd.Series, by: Sequence[str]) -> str:
    if len(by) == 1:
        return str(row[by[0]])
    return ", ".join(f"{c}={row[c]}" for c in by)


# --------------------------------------------------------------------------- data


#: Group names taken as the baseline when none is given, in this order.
BASELINE_NAMES = ("baseline", "business_as_usual")


def _auto_baseline(outcomes: pd.DataFrame, by: list[str]) -> Any:
    if len(by) == 1:
        values = set(outcomes[by[0]].astype(str))
        for name in BASELINE_NAMES:
            if name in values:
                return name
    return None


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
) -> ReportData:
    """Load the sweep under ``folder`` and compute every table and figure of the report."""
    rep = scan(folder, verify=verify, progress=progress)
    df, rep = load(folder, report=rep, stratum_kinds=REPORT_STRATA, progress=progress)
    notes: list[str] = []
    title = title or f"Sweep report: {Path(folder).resolve().name}"
    if df.empty:
        notes.append("No complete run: nothing to summarise.")
        empty = pd.DataFrame()
        return ReportData(
            title, rep, [], baseline, level, method, empty, empty, None, None, None, [], notes, cost_metric
        )
    outcomes = run_outcomes(df)
    by_cols = [by] if isinstance(by, str) else list(by) if by is not None else default_by(outcomes)
    if baseline is None:
        baseline = _auto_baseline(outcomes, by_cols)
    wanted = list(metrics) if metrics else [*ADOPTION_METRICS, *FRACTURE_METRICS, cost_metric]
    mets = [m for m in wanted if m in outcomes.columns]
    missing = [m for m in wanted if m not in outcomes.columns]
    if missing:
        notes.append("Metrics not in the data (left out): " + ", ".join(missing) + ".")
    summary = summarize(outcomes, by_cols, mets, level=level, method=method)
    differences = ranking = cost = None
    if baseline is not None and by_cols:
        try:
            differences = compare_to_baseline(outcomes, baseline, by_cols, mets, level=level, method=method)
            ranking = rank_scenarios(outcomes, by_cols, baseline=baseline, cost=cost_metric)
            if cost_metric in outcomes.columns and any(m in outcomes.columns for m in FRACTURE_METRICS):
                cost = cost_effectiveness(outcomes, baseline, by_cols, level=level, cost=cost_metric)
        except KeyError as exc:
            notes.append(f"No comparison against the baseline: {exc.args[0]}")
    else:
        if by_cols:
            ranking = rank_scenarios(outcomes, by_cols, cost=cost_metric)
        notes.append(
            "No baseline given (and no group named " + " or ".join(BASELINE_NAMES) + "): differences "
            "and cost per point are not computed. Pass --baseline NAME."
        )
    figs: list[tuple[str, str]] = []
    if figures:
        from analysis.plots import standard_figures

        coll = None
        if rep.complete:
            sub = _collectivite_runs(rep, by_cols, max_collectivite_runs)
            try:
                coll, _ = load_collectivites(
                    folder, report=sub, columns=["maturity", "kind", "pop_band"], progress=progress
                )
            except Exception as exc:  # noqa: BLE001 - the report goes on without this figure
                notes.append(f"Collectivité tables not read: {exc}")
            if coll is not None and len(sub.complete) < len(rep.complete):
                notes.append(f"The collectivité figure uses {len(sub.complete)} of {len(rep.complete)} runs.")
        for _stem, caption, fig in standard_figures(
            df, coll, by=by_cols, metrics=metrics, heatmap=heatmap, kind=kind, level=level
        ):
            figs.append((caption, _png_data_uri(fig)))
    return ReportData(
        title,
        rep,
        by_cols,
        baseline,
        level,
        method,
        outcomes,
        summary,
        differences,
        ranking,
        cost,
        figs,
        notes,
        cost_metric,
    )


# --------------------------------------------------------------------------- rendering


def _summary_wide(data: ReportData) -> pd.DataFrame:
    """One row per metric, one column per group: "mean [low, high]"; first row: number of runs."""
    s = data.summary
    if s.empty:
        return s
    groups: dict[str, dict[str, str]] = {}
    for _, r in s.iterrows():
        g = _group_text(r, data.by) if data.by else "all runs"
        col = groups.setdefault(g, {"runs": str(r["n"])})
        col[r["metric"]] = fmt_interval(r["mean"], r["ci_low"], r["ci_high"], r["metric"])
    metrics = ["runs", *dict.fromkeys(s["metric"])]
    return pd.DataFrame({"metric": metrics, **{g: [col.get(m, "") for m in metrics] for g, col in groups.items()}})


def _differences_view(d: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": [_group_text(r, by) for _, r in d.iterrows()],
            "metric": d["metric"],
            "baseline mean": [fmt(v, m) for v, m in zip(d["mean_baseline"], d["metric"], strict=True)],
            "group mean": [fmt(v, m) for v, m in zip(d["mean"], d["metric"], strict=True)],
            "difference [interval]": [
                fmt_interval(a, b, c, m)
                for a, b, c, m in zip(d["diff"], d["ci_low"], d["ci_high"], d["metric"], strict=True)
            ],
            "test": d["test"],
            "runs (group / baseline)": [f"{a} / {b}" for a, b in zip(d["n"], d["n_baseline"], strict=True)],
            "p-value": [fmt(v) for v in d["p_value"]],
        }
    )


def _plain_view(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = [fmt(v, c) for v in out[c]]
    return out


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


def _design(data: ReportData) -> pd.DataFrame:
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


def render(data: ReportData) -> str:
    """The HTML text of the report."""
    rep = data.load_report
    e = html.escape
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(data.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(data.title)}</h1>",
        f'<p class="note">Folder: {e(str(rep.root))}. Generated {now} by <code>python -m analysis report</code>.</p>',
        (
            '<nav><a href="#load">Runs</a><a href="#design">Design</a><a href="#summary">Summary</a>'
            '<a href="#baseline">Against baseline</a><a href="#ranking">Ranking</a><a href="#cost">Cost</a>'
            '<a href="#figures">Figures</a><a href="#provenance">Provenance</a></nav>'
        ),
        '<h2 id="load">Runs loaded</h2>',
        (
            f"<p>{len(rep.complete)} of {rep.n_found} runs loaded (file check: {e(rep.verify)}); "
            f"{len(rep.skipped)} skipped.</p>"
        ),
    ]
    for note in data.notes:
        parts.append(f'<p class="note">{e(note)}</p>')
    if rep.skipped:
        parts.append('<h3>Skipped runs</h3><p class="note">These runs are left out of every table and figure.</p>')
        skipped = rep.to_frame()
        skipped = skipped[skipped["status"] != "complete"][["run_id", "status", "reason"]]
        parts.append(_table(skipped, "skipped_runs.csv"))
    parts.append('<h2 id="design">Sweep design</h2>')
    grouping = ", ".join(data.by) if data.by else "(none: all runs together)"
    parts.append(f"<p>Runs are grouped by <b>{e(grouping)}</b>; seeds are replicates.</p>")
    if not data.outcomes.empty:
        parts.append(_table(_design(data)))
    level = f"{data.level:.0%}"
    how = "Student t interval over seeds" if data.method == "t" else "percentile bootstrap interval"
    parts.append('<h2 id="summary">End-of-run summary</h2>')
    parts.append(
        f'<p class="note">Mean over runs at the last step, with the {level} {how}. '
        f"{e(data.cost_metric)} is the cost of a run (sum over its steps of "
        f"{e(data.cost_metric.removeprefix('cum_'))}), in euros.</p>"
    )
    parts.append(_table(_summary_wide(data), "summary.csv", data.summary))
    parts.append('<h2 id="baseline">Differences against the baseline</h2>')
    if data.differences is not None and not data.differences.empty:
        parts.append(
            f'<p class="note">Group minus baseline <b>{e(str(data.baseline))}</b>, with the {level} '
            "interval: paired by seed when both hold the same seeds, else Welch.</p>"
        )
        parts.append(_table(_differences_view(data.differences, data.by), "differences.csv", data.differences))
    else:
        parts.append('<p class="note">Not computed (no baseline).</p>')
    parts.append('<h2 id="ranking">Ranking</h2>')
    if data.ranking is not None and not data.ranking.empty:
        parts.append(
            '<p class="note">Rank 1 is best. Adoption (higher is better): '
            + e(", ".join(ADOPTION_METRICS))
            + ". Fracture (lower is better; gaps by absolute value): "
            + e(", ".join(FRACTURE_METRICS))
            + ". Cost: "
            + e(data.cost_metric)
            + ". A family's rank ranks the mean of its metrics' ranks. "
            + f"fracture_reduction_pp and eur_per_pp use {HEADLINE_FRACTURE} (points = value x 100).</p>"
        )
        parts.append(_table(_plain_view(data.ranking), "ranking.csv", data.ranking))
    else:
        parts.append('<p class="note">Not computed.</p>')
    parts.append('<h2 id="cost">Cost per point of fracture reduced</h2>')
    if data.cost is not None and not data.cost.empty:
        parts.append(
            '<p class="note">Extra cost over the baseline (euros) divided by the fracture reduction in '
            "points (value x 100: percentage points for a 0-1 share). Blank when the group does not "
            "reduce the fracture. The reduction's interval is paired by seed when possible.</p>"
        )
        parts.append(_table(_plain_view(data.cost), "cost_effectiveness.csv", data.cost))
    else:
        parts.append('<p class="note">Not computed (needs a baseline and spend_total_eur).</p>')
    parts.append('<h2 id="figures">Figures</h2>')
    if not data.figures:
        parts.append('<p class="note">No figure.</p>')
    for caption, uri in data.figures:
        parts.append(f'<figure><img src="{uri}" alt="{e(caption)}"><figcaption>{e(caption)}</figcaption></figure>')
    parts.append('<h2 id="provenance">Provenance</h2>')
    if rep.complete:
        parts.append(_table(_provenance(rep)))
    parts.append("</body></html>")
    return "\n".join(parts)


def build_report(folder: str | os.PathLike[str], out: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write the HTML report of the sweep under ``folder`` to ``out``; see :func:`collect` for options."""
    data = collect(folder, **kwargs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data), encoding="utf-8")
    return out
