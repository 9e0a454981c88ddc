"""The page's inputs (sidebar) and the comparison panel.

Inputs: scenario, territory (the synthetic one by size, or French départements), horizon, seed, and
one field per policy lever of :data:`sim.config.LEVERS` (and the pooling choices). Picking a scenario
fills the lever fields with the scenario's values: they are shown and can be edited. A field changed
since the run or the comparison on screen is flagged (orange, with the value in use), and a banner
lists what is not applied yet, until Reset (the run) or Compare (the comparison) uses it.

Comparison: :mod:`sim.dashboard.compare` runs the scenario and business as usual for a few seeds; the
panel shows a table of the headline outcomes at the end (both means, the difference and its range over
the seeds, in how many seeds the scenario does better), the two series with their range, the paired
difference seed by seed, the map of the difference by commune, and download buttons.
"""

from __future__ import annotations

import math

import solara

from sim import outcomes as reg
from sim.dashboard import compare as cmpmod
from sim.dashboard.model import (
    AS_SCENARIO,
    CHOICE_LEVERS,
    HORIZONS,
    TERRITORIES,
    TERRITORY_SIZES,
    TEXT_LEVERS,
    list_scenarios,
    scenario_values,
)

TERRITORY_LABELS = {"synthetic": "synthetic", "france": "france (départements)"}
#: Inputs of the run (not of the levers) and their labels, in the order of the sidebar.
BASE_FIELDS = {
    "scenario_name": "Scenario",
    "territory": "Territory",
    "n_communes": "Communes (territory size)",
    "departements": "Départements (codes)",
    "years": "Years simulated",
    "seed": "Seed (whole number >= 0)",
}


def field_labels() -> dict[str, str]:
    labels = dict(BASE_FIELDS)
    labels.update({kwarg: label for kwarg, _key, label, _values in CHOICE_LEVERS})
    labels.update({lever.kwarg: lever.label for lever in TEXT_LEVERS})
    return labels


def _norm(value) -> str:
    text = str(value if value is not None else "").strip().replace(",", ".")
    try:
        v = float(text)
        return repr(v) if math.isfinite(v) else text
    except ValueError:
        return text


def _relevant(inputs: dict) -> set[str]:
    """Fields that matter for these inputs (the territory's size or départements, not both)."""
    keys = set(field_labels())
    keys.discard("departements" if inputs.get("territory", "synthetic") != "france" else "n_communes")
    return keys


def changed_fields(current: dict, applied: dict | None) -> dict[str, tuple[str, str]]:
    """{field: (value in use, value in the field)} for the fields that differ (numbers compared as numbers)."""
    if applied is None:
        return {}
    out = {}
    for key in _relevant(current):
        a, b = applied.get(key, ""), current.get(key, "")
        if key in {lever.kwarg for lever in TEXT_LEVERS}:
            # a blank field in use means "the scenario's value"
            preset = scenario_values(str(applied.get("scenario_name", "")))
            a = a if str(a).strip() else preset.get(key, "")
            b = b if str(b).strip() else scenario_values(str(current.get("scenario_name", ""))).get(key, "")
        if key in {kwarg for kwarg, *_ in CHOICE_LEVERS}:
            preset = scenario_values(str(applied.get("scenario_name", "")))
            a = preset.get(key, a) if a in (None, "", AS_SCENARIO) else a
            b = (
                scenario_values(str(current.get("scenario_name", ""))).get(key, b)
                if b in (None, "", AS_SCENARIO)
                else b
            )
        if _norm(a) != _norm(b):
            out[key] = (str(a), str(b))
    if "scenario_name" in out:
        # a new scenario brings its own lever values: flag only the levers edited beyond them
        preset = scenario_values(str(current.get("scenario_name", "")))
        lever_keys = {lever.kwarg for lever in TEXT_LEVERS} | {kwarg for kwarg, *_ in CHOICE_LEVERS}
        for key in lever_keys & set(out):
            value = current.get(key, "")
            if value in (None, "", AS_SCENARIO) or _norm(value) == _norm(preset.get(key, "")):
                del out[key]
    return out


@solara.component
def _Banner(for_run: dict, for_cmp: dict, labels: dict):
    """What was changed and not applied yet (nothing when everything is applied)."""
    if not (for_run or for_cmp):
        return
    order = list(labels)
    lines = []
    if for_run:
        lines.append("Changed since the last Reset: " + ", ".join(labels[k] for k in sorted(for_run, key=order.index)))
    if for_cmp:
        lines.append(
            "Changed since the last comparison: " + ", ".join(labels[k] for k in sorted(for_cmp, key=order.index))
        )
    solara.Warning(" · ".join(lines) + ". Press Reset or Compare to use them.", classes=["dash-not-applied"])


@solara.component
def InputsCard(inputs: solara.Reactive, run_inputs: dict | None, compared_inputs: dict | None):
    """Every input; lever fields prefilled from the scenario; changed-but-not-applied fields flagged."""
    values = inputs.value
    for_run = changed_fields(values, run_inputs)
    for_cmp = changed_fields(values, compared_inputs)
    labels = field_labels()

    def set_field(key):
        def set_(value):
            new = {**inputs.value, key: value}
            if key == "scenario_name":  # show (and let edit) the scenario's lever values
                new.update(scenario_values(str(value)))
            inputs.set(new)

        return set_

    def flag(key) -> dict:
        if key in for_run or key in for_cmp:
            used = (for_run.get(key) or for_cmp.get(key))[0]
            return {"classes": ["dash-changed"], "style": {"background": "#fff4e5"}, "used": used}
        return {"classes": [], "style": None, "used": None}

    with solara.Card("Inputs", classes=["dash-inputs"]):
        # The banner sits in a column that is always there: the fields below keep their places in the
        # widget tree when it appears (a shift would hand a field's typed text to its neighbour).
        with solara.Column(classes=["dash-banner"], style={"gap": "0"}):
            _Banner(for_run, for_cmp, labels)
        f = flag("scenario_name")
        solara.Select("Scenario", values=list_scenarios(), value=values["scenario_name"],
                      on_value=set_field("scenario_name"), classes=f["classes"], style=f["style"])  # fmt: skip
        f = flag("territory")
        solara.Select("Territory", values=list(TERRITORIES), value=values["territory"], on_value=set_field("territory"),
                      classes=f["classes"], style=f["style"])  # fmt: skip
        if values["territory"] == "france":
            f = flag("departements")
            solara.InputText(labels["departements"], value=str(values["departements"]), on_value=set_field("departements"),
                             classes=f["classes"], style=f["style"], message=_used(f, "e.g. 35, 56"))  # fmt: skip
        else:
            f = flag("n_communes")
            solara.Select(labels["n_communes"], values=list(TERRITORY_SIZES), value=values["n_communes"],
                          on_value=set_field("n_communes"), classes=f["classes"], style=f["style"])  # fmt: skip
        f = flag("years")
        solara.Select(labels["years"], values=list(HORIZONS), value=values["years"], on_value=set_field("years"),
                      classes=f["classes"], style=f["style"])  # fmt: skip
        f = flag("seed")
        solara.InputText(labels["seed"], value=str(values["seed"]), on_value=set_field("seed"), classes=f["classes"],
                         style=f["style"], message=_used(f))  # fmt: skip
        solara.v.Html(tag="div", style_="font-size: 0.85em; font-weight: bold; margin-top: 8px",
                      children=[f"Levers of {values['scenario_name']} (editable)"])  # fmt: skip
        for kwarg, _key, label, allowed in CHOICE_LEVERS:
            f = flag(kwarg)
            value = values.get(kwarg, AS_SCENARIO)
            solara.Select(label, values=[AS_SCENARIO, *allowed], value=value, on_value=set_field(kwarg),
                          classes=f["classes"], style=f["style"])  # fmt: skip
        for lever in TEXT_LEVERS:
            f = flag(lever.kwarg)
            solara.InputText(lever.label, value=str(values.get(lever.kwarg, "")), on_value=set_field(lever.kwarg),
                             classes=[*f["classes"], f"dash-lever-{lever.kwarg}"], style=f["style"],
                             message=_used(f))  # fmt: skip


def _used(f: dict, default: str | None = None) -> str | None:
    return f"in use: {f['used'] or 'as in scenario'} (not applied yet)" if f["used"] is not None else default


# --------------------------------------------------------------------------- comparison panel


def _td(text: str, css: str = "", bold: bool = False):
    return solara.v.Html(tag="td", class_=css, style_="padding: 2px 6px" + ("; font-weight: bold" if bold else ""),
                         children=[text])  # fmt: skip


@solara.component
def ComparisonPanel(comparison, lang: str = "en"):
    """The comparison on screen: table, figures, downloads (or how to get one)."""
    if comparison is None:
        solara.Info(
            "Press 'Compare with business as usual' in the sidebar: the scenario and its levers, and business as "
            "usual, run on the same territory for the chosen number of seeds (same seed = same territory).",
            classes=["dash-compare-empty"],
        )
    else:
        ComparisonView(comparison, lang)


def _largest_effect(cmp, lang: str) -> tuple[str, str]:
    """(metric, map column) where the scenario moves the outcome most, in points: what to show first."""
    table = cmp.end_table(lang)
    if table.empty:
        return cmpmod.COMPARE_METRICS[0], "maturity"
    points = table.apply(lambda r: abs(r["diff"]) * reg.get(r["metric"]).points_per_unit, axis=1)
    metric = str(table.loc[points.idxmax(), "metric"])
    maps = {m: c for c, m in cmpmod.MAP_COLUMNS.items()}
    col = max(maps, key=lambda m: float(points[table["metric"] == m].max()) if (table["metric"] == m).any() else -1)
    return metric, maps[col]


@solara.component
def ComparisonView(cmp, lang: str = "en"):
    first = solara.use_memo(lambda: _largest_effect(cmp, lang), [id(cmp)])
    metric = solara.use_reactive(first[0])
    column = solara.use_reactive(first[1])
    base = cmpmod.scenario_title(cmpmod.BASELINE, lang)
    name = cmpmod.scenario_title(cmp.scenario, lang)
    where = (f"France, départements {cmp.inputs.get('departements')}" if cmp.inputs.get("territory") == "france"
             else f"{int(float(cmp.inputs.get('n_communes'))):,} communes (synthetic)")  # fmt: skip
    solara.v.Html(tag="div", class_="dash-compare-title", style_="font-size: 1.05em; margin-bottom: 4px", children=[
        (f"{name} against {base} · {where} · {cmp.inputs.get('years')} years · seeds {', '.join(map(str, cmp.seeds))}"
        f" · {cmp.seconds:.1f} s")])  # fmt: skip
    table = cmp.end_table(lang)
    head = solara.v.Html(tag="tr", children=[_td(h, bold=True) for h in (
        "outcome (end of run)", base, name, "difference [range over seeds]", "better in")])  # fmt: skip
    rows = [head]
    for _, r in table.iterrows():
        m = r["metric"]
        diff = (
            reg.format_diff(m, r["diff"], lang)
            + " "
            + reg.format_interval(m, r["diff_min"], r["diff_max"], lang, diff=True)
        )
        rows.append(solara.v.Html(tag="tr", children=[
            _td(r["label"]), _td(reg.format_value(m, r["baseline"], lang), f"dash-cmp-base-{m}"),
            _td(reg.format_value(m, r["scenario"], lang), f"dash-cmp-scn-{m}"), _td(diff, f"dash-cmp-diff-{m}"),
            _td(f"{int(r['better_in'])} of {int(r['seeds'])} seeds", f"dash-cmp-better-{m}")]))  # fmt: skip
    solara.v.Html(tag="table", class_="dash-compare-table", style_="font-size: 0.85em; border-collapse: collapse",
                  children=rows)  # fmt: skip
    labels = {reg.label(m, lang): m for m in cmpmod.COMPARE_METRICS}
    with solara.Row(style={"align-items": "center", "margin-top": "8px"}):
        solara.Select("Outcome shown", values=list(labels), value=reg.label(metric.value, lang),
                      on_value=lambda v: metric.set(labels[v]))  # fmt: skip
        maps = {reg.label(m, lang): c for c, m in cmpmod.MAP_COLUMNS.items()}
        solara.Select("Map of the difference", values=list(maps), value=reg.label(cmpmod.MAP_COLUMNS[column.value], lang),
                      on_value=lambda v: column.set(maps[v]))  # fmt: skip
    bands = solara.use_memo(
        lambda: cmpmod.png(cmpmod.bands_figure(cmp, metric.value, lang)), [id(cmp), metric.value, lang]
    )
    diff = solara.use_memo(lambda: cmpmod.png(cmpmod.difference_figure(cmp, metric.value, lang)),
                           [id(cmp), metric.value, lang])  # fmt: skip
    mapped = solara.use_memo(
        lambda: cmpmod.png(cmpmod.map_figure(cmp, column.value, lang)), [id(cmp), column.value, lang]
    )
    with solara.Row(style={"flex-wrap": "wrap"}):
        with solara.Column(classes=["dash-cmp-bands"]):
            solara.Image(bands, format="png", classes=[f"dash-cmp-{metric.value}"])
        with solara.Column(classes=["dash-cmp-diff"]):
            solara.Image(diff, format="png")
        with solara.Column(classes=["dash-cmp-map"]):
            solara.Image(mapped, format="png")
    levels = ["pop_band", "departement"] if cmp.inputs.get("territory") == "france" else ["pop_band"]
    for level in levels:
        TerritoryTable(cmp, level, lang)
    stem = f"{cmp.scenario}_vs_{cmpmod.BASELINE}"
    with solara.Row(classes=["dash-export"], style={"flex-wrap": "wrap"}):
        solara.FileDownload(
            lambda: cmpmod.export_bytes(cmp, "parquet"), filename=f"{stem}.parquet", label="Runs (Parquet)"
        )
        solara.FileDownload(lambda: cmpmod.export_bytes(cmp, "csv"), filename=f"{stem}.csv", label="Runs (CSV)")
        solara.FileDownload(lambda: cmpmod.export_bytes(cmp, "collectivites.csv"), filename=f"{stem}_collectivites.csv",
                            label="Collectivités (CSV)")  # fmt: skip
        solara.FileDownload(lambda: cmpmod.export_bytes(cmp, "figures.zip", lang), filename=f"{stem}_figures.zip",
                            label="Figures (ZIP)")  # fmt: skip


@solara.component
def TerritoryTable(cmp, level: str, lang: str = "en"):
    """Aggregates by population band (or département): both scenarios and the paired difference."""
    table = solara.use_memo(lambda: cmpmod.territorial_table(cmp, level), [id(cmp), level])
    name = "population band" if level == "pop_band" else "département"
    head = solara.v.Html(tag="tr", children=[_td(h, bold=True) for h in (
        name, "maturity (baseline)", "maturity (scenario)", "difference",
        "excluded (baseline)", "excluded (scenario)", "difference")])  # fmt: skip
    rows = [head]
    for _, r in table.iterrows():
        rows.append(solara.v.Html(tag="tr", children=[
            _td(str(r[level])),
            _td(reg.format_value("maturity_mean", r["maturity_baseline"], lang)),
            _td(reg.format_value("maturity_mean", r["maturity_scenario"], lang)),
            _td(reg.format_diff("maturity_mean", r["maturity_diff"], lang)),
            _td(reg.format_value("inhabitants_excluded_share", r["inhabitants_excluded_baseline"], lang)),
            _td(reg.format_value("inhabitants_excluded_share", r["inhabitants_excluded_scenario"], lang)),
            _td(reg.format_diff("inhabitants_excluded_share", r["inhabitants_excluded_diff"], lang),
                f"dash-terr-{level}-excluded"),
        ]))  # fmt: skip
    solara.v.Html(tag="div", style_="font-size: 0.9em; font-weight: bold; margin-top: 10px",
                  children=[f"By {name} (communes; means over the seeds; differences paired by seed)"])  # fmt: skip
    solara.v.Html(tag="table", class_=f"dash-territory-{level}", style_="font-size: 0.85em; border-collapse: collapse",
                  children=rows)  # fmt: skip
