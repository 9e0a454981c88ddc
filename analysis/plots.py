"""Figures of a sweep (seaborn on the Agg backend), each saved as PNG and SVG.

Every ``*_figure`` function returns a matplotlib Figure; :func:`save` writes it as
``<stem>.png`` and ``<stem>.svg`` and closes it; :func:`plot_all` draws the standard
set for a sweep.  Axis labels are plain words with units (:func:`label`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from analysis.compare import (
    ADOPTION_METRICS,
    COST_METRIC,
    CUMULATIVE_PREFIX,
    FRACTURE_METRICS,
    as_outcomes,
    default_by,
    design_columns,
    summarize,
    t_half_width,
)
from analysis.i18n import scenario_title, t
from sim import outcomes as outcome_registry

FORMATS = ("png", "svg")
DPI = 150

SHARE = "share, 0 to 1"
#: Columns of collectivites.parquet drawn by the figures and maps: (English, French) labels with units.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "maturity": ("Digital maturity (index 0-1)", "Maturité numérique (indice 0-1)"),
    "inhabitants_excluded": ("Inhabitants excluded from e-services (%)", "Habitants exclus des services en ligne (%)"),
    "inhabitants_illectronism": ("Inhabitants in illectronism (%)", "Habitants en illectronisme (%)"),
    "services_online": ("Services online (%)", "Services en ligne (%)"),
    "staff_illectronism_share": ("Staff in illectronism (%)", "Agents en illectronisme (%)"),
    "staff_proficient_share": ("Staff up to date (%)", "Agents à jour (%)"),
    "eservice_use": ("Transactions made online (%)", "Démarches faites en ligne (%)"),
}
#: Columns of collectivites.parquet that are shares (drawn as percentages).
SHARE_COLUMNS = {"inhabitants_excluded", "inhabitants_illectronism", "services_online", "eservice_use",
                 "staff_illectronism_share", "staff_proficient_share"}  # fmt: skip
_SPEND = re.compile(r"^spend_(\w+)_eur$")


def label(metric: str, lang: str = "en") -> str:
    """Plain-word axis label with unit for a metric (from the outcome registry, sim/outcomes.py), a
    collectivité column or a swept parameter."""
    if metric in COLUMN_LABELS:
        return COLUMN_LABELS[metric][1 if lang == "fr" else 0]
    o = outcome_registry.get(metric)
    if o.declared:
        return outcome_registry.label(metric, lang, unit=True)
    if metric.startswith(CUMULATIVE_PREFIX) and (m := _SPEND.match(metric[len(CUMULATIVE_PREFIX) :])):
        return f"Cumulative {m.group(1).replace('_', ' ')} spending (euros)"
    if m := _SPEND.match(metric):
        return f"{m.group(1).replace('_', ' ').capitalize()} spending (euros per step)"
    if metric.startswith("profile_share_"):
        return f"Collectivités with profile {metric[len('profile_share_') :]} ({SHARE})"
    if "." in metric:  # a Hydra key such as training.budget_eur_per_staff
        section, _, rest = metric.rpartition(".")
        return f"{section.replace('.', ' ').replace('_', ' ').capitalize()}: {_words(rest)}"
    return _words(metric).capitalize()


def _words(name: str) -> str:
    """``budget_eur_per_staff`` -> ``budget (euros per staff)``; ``x_share`` -> ``x (share, 0 to 1)``."""
    m = re.match(r"^(.*?)_eur(?:_per_(\w+))?$", name)
    if m:
        unit = "euros" + (f" per {m.group(2).replace('_', ' ')}" if m.group(2) else "")
        return f"{m.group(1).replace('_', ' ')} ({unit})"
    if name.endswith("_share"):
        return f"{name[:-6].replace('_', ' ')} ({SHARE})"
    if name.startswith("n_"):
        return "number of " + name[2:].replace("_", " ")
    return name.replace("_", " ")


def save(fig: Figure, stem: str | Path, formats: Sequence[str] = FORMATS, dpi: int = DPI) -> list[Path]:
    """Write ``fig`` as ``<stem>.<fmt>`` for each format, close it, return the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        # SVG text stays text (searchable, editable, smaller)
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata=_metadata(fmt))
        paths.append(path)
    plt.close(fig)
    return paths


def _metadata(fmt: str) -> dict[str, Any] | None:
    # no creation date: the same data give the same bytes
    return {"Date": None} if fmt == "svg" else {"Software": None} if fmt == "png" else None


def _by(data: pd.DataFrame, by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return default_by(data)
    return [by] if isinstance(by, str) else list(by)


def group_labels(frame: pd.DataFrame, by: Sequence[str], lang: str = "en") -> pd.Series:
    """One text label per row: the scenario's display name (analysis.i18n), or ``key=value, ...`` for
    several columns."""
    if not by:
        return pd.Series(["all runs"] * len(frame), index=frame.index, dtype=object)
    if len(by) == 1:
        values = frame[by[0]].astype(object)
        if by[0] == "scenario":
            return values.map(lambda v: scenario_title(v, lang)).astype(object)
        return values.astype(str)
    parts = [frame[c].astype(object).astype(str).radd(f"{c}=") for c in by]
    out = parts[0]
    for p in parts[1:]:
        out = out + ", " + p
    return out


def _legend_title(by: Sequence[str]) -> str:
    return "" if list(by) == ["scenario"] else ", ".join(by)


def _new(figsize: tuple[float, float] = (7.5, 4.5)) -> tuple[Figure, Any]:
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _palette(n: int) -> list[Any]:
    return sns.color_palette("colorblind", n_colors=max(n, 1))


def axis_format(ax: Any, metric: str, which: str = "y", lang: str = "en", diff: bool = False) -> None:
    """Ticks as people read them: shares as percentages (points for differences), euros with a unit."""
    o = outcome_registry.get(metric)
    axis = ax.yaxis if which == "y" else ax.xaxis
    if metric in SHARE_COLUMNS or o.fmt == "share":
        if diff:
            axis.set_major_formatter(lambda v, _: outcome_registry.format_points(v * 100, lang))
        else:
            axis.set_major_formatter(lambda v, _: outcome_registry.format_value("staff_illectronism_share", v, lang))
    elif o.fmt == "eur":
        axis.set_major_formatter(lambda v, _: outcome_registry.euros(v, lang))


# --------------------------------------------------------------------------- figures


def timeseries_figure(
    df: pd.DataFrame,
    metric: str,
    by: str | Sequence[str] | None = None,
    *,
    stratum_kind: str = "all",
    stratum: str = "all",
    cumulative: bool = False,
    level: float = 0.95,
    lang: str = "en",
) -> Figure:
    """Mean of ``metric`` over seeds against time, one line per group, with its ``level`` band.

    ``cumulative`` plots each run's running sum (spending to date) instead.
    """
    sub = df[(df["metric"] == metric) & (df["stratum_kind"] == stratum_kind) & (df["stratum"] == stratum)]
    if sub.empty:
        raise ValueError(f"no data for metric {metric!r} ({stratum_kind}={stratum})")
    by_cols = _by(as_outcomes_like(df), by)
    sub = sub[["run_id", *by_cols, "step", "year", "value"]].copy()
    if cumulative:
        sub = sub.sort_values(["run_id", "step"])
        sub["value"] = sub.groupby("run_id", observed=True)["value"].cumsum()
    sub["group"] = group_labels(sub, by_cols, lang)
    stats_ = (
        sub.groupby(["group", "step"], observed=True)
        .agg(year=("year", "mean"), n=("value", "count"), mean=("value", "mean"), sd=("value", "std"))
        .reset_index()
    )
    half = t_half_width(stats_["sd"].to_numpy(), stats_["n"].to_numpy(), level)
    stats_["low"], stats_["high"] = stats_["mean"] - half, stats_["mean"] + half
    use_year = stats_["year"].notna().all()
    x = "year" if use_year else "step"
    fig, ax = _new()
    groups = list(dict.fromkeys(stats_["group"]))
    for color, g in zip(_palette(len(groups)), groups, strict=False):
        s = stats_[stats_["group"] == g]
        ax.plot(s[x], s["mean"], color=color, label=g, lw=1.8)
        ax.fill_between(s[x], s["low"], s["high"], color=color, alpha=0.2, lw=0)
    name = (CUMULATIVE_PREFIX + metric) if cumulative else metric
    ax.set_xlabel(t("year", lang) if use_year else t("step", lang))
    ax.set_ylabel(label(name, lang))
    axis_format(ax, name, "y", lang)
    where = "" if stratum_kind == "all" else f" ({stratum_kind.replace('_', ' ')}: {stratum})"
    ax.set_title(f"{label(name, lang)}{where}\n{t('mean_band', lang, level=f'{level:.0%}')}", fontsize=10)
    ax.legend(title=_legend_title(by_cols), fontsize=8, title_fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def as_outcomes_like(df: pd.DataFrame) -> pd.DataFrame:
    """The run rows of a tidy table, enough to pick default grouping columns."""
    cols = ["run_id", *design_columns(df), "seed"]
    out = df[[c for c in cols if c in df.columns]].drop_duplicates("run_id")
    out.attrs["param_columns"] = design_columns(df)
    return out


def _distribution(
    data: pd.DataFrame, value: str, group: pd.Series, kind: str, title: str, xlabel: str, lang: str = "en"
) -> Figure:
    frame = pd.DataFrame({"group": group.to_numpy(), value: data[value].to_numpy(dtype=float)})
    order = list(dict.fromkeys(sorted(frame["group"])))
    fig, ax = _new()
    palette = dict(zip(order, _palette(len(order)), strict=False))
    if kind == "ecdf":
        sns.ecdfplot(frame, x=value, hue="group", hue_order=order, palette=palette, ax=ax)
        ax.set_xlabel(label(value, lang))
        axis_format(ax, value, "x", lang)
        ax.set_ylabel("Cumulative share of " + xlabel)
        if ax.get_legend() is not None:
            ax.get_legend().set_title("")
    elif kind in ("violin", "box"):
        plot = sns.violinplot if kind == "violin" else sns.boxplot
        extra = {"cut": 0, "inner": None} if kind == "violin" else {"showfliers": False}
        with warnings.catch_warnings():  # seaborn 0.13 passes boxplot's deprecated vert= to matplotlib >= 3.11
            warnings.simplefilter("ignore", matplotlib.MatplotlibDeprecationWarning)
            plot(frame, x="group", y=value, hue="group", order=order, palette=palette, legend=False, ax=ax, **extra)
        if len(frame) <= 400:
            sns.stripplot(frame, x="group", y=value, order=order, color="0.2", size=3, jitter=0.15, ax=ax)
        ax.set_xlabel("")
        ax.set_ylabel(label(value, lang))
        axis_format(ax, value, "y", lang)
        ax.tick_params(axis="x", labelrotation=20 if len(order) > 3 else 0)
    else:
        raise ValueError(f"kind must be violin, box or ecdf, not {kind!r}")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def outcome_distribution_figure(
    data: pd.DataFrame, metric: str, by: str | Sequence[str] | None = None, kind: str = "violin", lang: str = "en"
) -> Figure:
    """End-of-run ``metric`` across seeds, per group (``kind``: violin, box or ecdf)."""
    out = as_outcomes(data)
    by_cols = _by(out, by)
    title = f"{label(metric, lang)} {t('at_end', lang)}\n{t('dist_seeds', lang)} ({kind})"
    return _distribution(out, metric, group_labels(out, by_cols, lang), kind, title, "runs", lang)


def collectivite_distribution_figure(
    coll: pd.DataFrame,
    column: str = "maturity",
    by: str | Sequence[str] | None = None,
    kind: str = "violin",
    lang: str = "en",
) -> Figure:
    """End-of-run ``column`` of the collectivités (all runs pooled), per group."""
    by_cols = _by(as_outcomes_like(coll), by)
    title = f"{label(column, lang)} at the end of the run\ndistribution across collectivités and seeds ({kind})"
    return _distribution(coll, column, group_labels(coll, by_cols, lang), kind, title, "collectivités", lang)


def heatmap_figure(
    data: pd.DataFrame, x: str, y: str, metric: str, lang: str = "en", values: pd.DataFrame | None = None
) -> Figure:
    """Mean end-of-run ``metric`` over seeds for each (x, y) of a 2D sweep (cells formatted like the
    metric: percentages for shares)."""
    out = as_outcomes(data)
    for c in (x, y, metric):
        if c not in out.columns:
            raise KeyError(f"{c!r} is not a column of the outcomes")
    grid = out.groupby([y, x], dropna=False)[metric].mean().unstack(x).sort_index(ascending=False)
    fig, ax = _new((6.5, 4.8))
    o = outcome_registry.get(metric)
    annot = grid.map(lambda v: outcome_registry.format_value(metric, v, lang)) if o.declared else True
    sns.heatmap(
        grid,
        annot=annot,
        fmt="" if o.declared else ".3g",
        cmap="viridis" if o.direction >= 0 else "viridis_r",
        cbar_kws={"label": label(metric, lang)},
        ax=ax,
    )
    ax.set_xlabel(label(x, lang))
    ax.set_ylabel(label(y, lang))
    ax.set_title(f"{label(metric, lang)} {t('at_end', lang)}\nmean over seeds", fontsize=10)
    return fig


def tradeoff_figure(
    data: pd.DataFrame,
    adoption: str = "maturity_mean",
    fracture: str = "maturity_gini",
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
    lang: str = "en",
) -> Figure:
    """Adoption (up is better) against fracture (left is better) per group, with intervals."""
    out = as_outcomes(data)
    by_cols = _by(out, by)
    s = summarize(out, by_cols, [adoption, fracture], level=level)
    s["group"] = group_labels(s, by_cols, lang)
    a = s[s["metric"] == adoption].set_index("group")
    f = s[s["metric"] == fracture].set_index("group")
    fig, ax = _new((7, 5))
    groups = list(a.index)
    for color, g in zip(_palette(len(groups)), groups, strict=False):
        xe = np.array([[f.at[g, "mean"] - f.at[g, "ci_low"]], [f.at[g, "ci_high"] - f.at[g, "mean"]]])
        ye = np.array([[a.at[g, "mean"] - a.at[g, "ci_low"]], [a.at[g, "ci_high"] - a.at[g, "mean"]]])
        ax.errorbar(
            f.at[g, "mean"],
            a.at[g, "mean"],
            xerr=np.nan_to_num(xe),
            yerr=np.nan_to_num(ye),
            fmt="o",
            color=color,
            capsize=4,
            label=g,
            ms=7,
        )
        ax.annotate(g, (f.at[g, "mean"], a.at[g, "mean"]), textcoords="offset points", xytext=(6, 6), fontsize=8)
    ax.set_xlabel(label(fracture, lang) + " - " + t("lower_better", lang))
    ax.set_ylabel(label(adoption, lang) + " - " + t("higher_better", lang))
    axis_format(ax, fracture, "x", lang)
    axis_format(ax, adoption, "y", lang)
    ax.set_title(
        f"{t('tradeoff', lang)} {t('at_end', lang)}\n{t('mean_band', lang, level=f'{level:.0%}')}", fontsize=10
    )
    ax.legend(title=_legend_title(by_cols), fontsize=8, title_fontsize=8)
    ax.grid(alpha=0.3)
    return fig


_FIRST_NUMBER = re.compile(r"(\d[\d_ ]*(?:[.,]\d+)?)\s*([kKmM]?)")


def _band_key(band: str) -> tuple[int, float, str]:
    text = str(band).strip()
    m = _FIRST_NUMBER.search(text)
    if not m:
        return (1, 0.0, text)
    v = float(m.group(1).replace("_", "").replace(" ", "").replace(",", "."))
    v *= {"k": 1e3, "m": 1e6}.get(m.group(2).lower(), 1.0)
    if text.startswith("<"):
        v -= 0.5
    elif text.startswith(">") or text.endswith("+"):
        v += 0.5
    return (0, v, text)


def band_order(bands: Sequence[str]) -> list[str]:
    """Population bands from the smallest to the largest (by the first number in the label)."""
    return sorted(dict.fromkeys(str(b) for b in bands), key=_band_key)


def maturity_by_band_figure(
    df: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    metric: str = "maturity_mean",
    stratum_kind: str = "pop_band",
    level: float = 0.95,
    lang: str = "en",
) -> Figure:
    """End-of-run ``metric`` per population band (territorial fracture), bars per group with intervals."""
    last = df.groupby("run_id", observed=True)["step"].transform("max")
    sub = df[(df["step"] == last) & (df["metric"] == metric) & (df["stratum_kind"] == stratum_kind)]
    if sub.empty:
        raise ValueError(f"no {metric} by {stratum_kind} in the data")
    by_cols = _by(as_outcomes_like(df), by)
    sub = sub.assign(group=group_labels(sub, by_cols, lang), stratum=sub["stratum"].astype(str))
    st = sub.groupby(["group", "stratum"]).agg(n=("value", "count"), mean=("value", "mean"), sd=("value", "std"))
    st = st.reset_index()
    st["half"] = np.nan_to_num(t_half_width(st["sd"].to_numpy(), st["n"].to_numpy(), level))
    bands = band_order(st["stratum"].tolist())
    groups = list(dict.fromkeys(sorted(st["group"])))
    width = 0.8 / max(len(groups), 1)
    fig, ax = _new((max(6.5, 1.6 * len(bands) + 2), 4.5))
    xs = np.arange(len(bands))
    for i, (color, g) in enumerate(zip(_palette(len(groups)), groups, strict=False)):
        s = st[st["group"] == g].set_index("stratum").reindex(bands)
        ax.bar(
            xs + (i - (len(groups) - 1) / 2) * width, s["mean"], width, yerr=s["half"], color=color, capsize=3, label=g
        )
    ax.set_xticks(xs, bands)
    kind_name = {"pop_band": "population band"}.get(stratum_kind, stratum_kind.replace("_", " "))
    ax.set_xlabel(t("pop_band_axis", lang) if stratum_kind == "pop_band" else kind_name.capitalize())
    ax.set_ylabel(label(metric, lang))
    axis_format(ax, metric, "y", lang)
    ax.set_title(
        f"{label(metric, lang)} {t('by_band', lang) if stratum_kind == 'pop_band' else 'by ' + kind_name} "
        f"{t('at_end', lang)}\n{t('mean_band', lang, level=f'{level:.0%}')}",
        fontsize=10,
    )
    ax.legend(title=_legend_title(by_cols), fontsize=8, title_fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return fig


# --------------------------------------------------------------------------- differences


BETTER, WORSE, UNSURE = "#1a9850", "#d73027", "#8c8c8c"


def _diff_scale(metric: str) -> tuple[float, str, str]:
    """(factor, unit key, unit suffix) to draw a difference: percentage points for shares, millions
    of euros for money, index units otherwise."""
    o = outcome_registry.get(metric)
    if o.fmt == "share":
        return 100.0, "pp", ""
    if o.fmt == "eur":
        return 1e-6, "meur", ""
    return 1.0, "index_points", ""


def row_labels(frame: pd.DataFrame, by: Sequence[str], panels: Sequence[str], lang: str = "en") -> list[str]:
    """Labels of comparison rows: the group's display name, with the panel level when there is one."""
    groups = group_labels(frame, by, lang).tolist()
    if not panels:
        return groups
    levels = [", ".join(str(frame[c].iloc[i]) for c in panels) for i in range(len(frame))]
    return [f"{g} · {lv}" for g, lv in zip(groups, levels, strict=True)]


def difference_figure(
    diffs: pd.DataFrame,
    metrics: Sequence[str],
    *,
    by: Sequence[str] = ("scenario",),
    panels: Sequence[str] = (),
    baseline: Any = None,
    level: float = 0.95,
    lang: str = "en",
    ncols: int = 3,
) -> Figure:
    """Differences against the baseline with their intervals, one small panel per metric and one row per
    group: green when better and the interval excludes zero, red when worse, grey otherwise.

    ``diffs`` is a table of :func:`analysis.compare.compare_design` (or ``compare_to_baseline``):
    ``*panels, *by, metric, diff, ci_low, ci_high``.
    """
    mets = [m for m in metrics if m in set(diffs["metric"])]
    if not mets:
        raise ValueError("none of the metrics is in the differences table")
    first = diffs[diffs["metric"] == mets[0]]
    rows = row_labels(first, list(by), list(panels), lang)
    n = len(mets)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    height = max(2.0, 0.28 * len(rows) + 1.1)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.6 * ncols + 1.6, height * nrows), layout="constrained", sharey=True, squeeze=False
    )
    ypos = np.arange(len(rows))[::-1]
    for ax, m in zip(axes.flat, mets, strict=False):
        sub = diffs[diffs["metric"] == m]
        keyed = {tuple(r): i for i, r in enumerate(first[[*panels, *by]].astype(str).itertuples(index=False))}
        factor, unit, _ = _diff_scale(m)
        o = outcome_registry.get(m)
        for _, r in sub.iterrows():
            i = keyed.get(tuple(str(r[c]) for c in [*panels, *by]))
            if i is None:
                continue
            d, lo, hi = (float(r[c]) * factor for c in ("diff", "ci_low", "ci_high"))
            sure = np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0)
            gain = d * o.direction
            color = (BETTER if gain > 0 else WORSE) if sure and o.direction != 0 else UNSURE
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([lo, hi], [ypos[i], ypos[i]], color=color, lw=2.2, solid_capstyle="butt")
            ax.plot([d], [ypos[i]], "o", color=color, ms=5)
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_title(outcome_registry.label(m, lang), fontsize=9)
        ax.set_xlabel(t(unit, lang), fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3, axis="x")
        if o.direction:
            better = t("better", lang)
            ax.set_xlabel(f"{t(unit, lang)} ({better} →)" if o.direction > 0 else f"{t(unit, lang)} (← {better})",
                          fontsize=8)  # fmt: skip
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_yticks(ypos, rows)
    base = scenario_title(baseline, lang) if baseline is not None else "baseline"
    fig.suptitle(
        f"{t('diff_vs', lang, baseline=base)}\n{t('diff_paired_note', lang, level=f'{level:.0%}')}", fontsize=10
    )
    return fig


def paired_differences(
    df: pd.DataFrame, metric: str, by: Sequence[str], baseline: Any, pair_on: Sequence[str] = ("seed",)
) -> pd.DataFrame:
    """Per run of each group, ``metric`` minus the baseline run of the same seed (and parameter set) at
    every step: ``*by, run_id, step, year, diff``."""
    sub = df[(df["metric"] == metric) & (df["stratum_kind"] == "all") & (df["stratum"] == "all")]
    cols = ["run_id", *by, *pair_on, "step", "year", "value"]
    sub = sub[[c for c in dict.fromkeys(cols) if c in sub.columns]].copy()
    for c in by:
        sub[c] = sub[c].astype(object)
    is_base = sub[by[0]].astype(str) == str(baseline)
    base = sub[is_base].drop_duplicates([*pair_on, "step"])
    merged = sub[~is_base].merge(base[[*pair_on, "step", "value"]], on=[*pair_on, "step"], suffixes=("", "_base"))
    merged["diff"] = merged["value"] - merged["value_base"]
    return merged[[*by, "run_id", "step", "year", "diff"]]


def difference_timeseries_figure(
    df: pd.DataFrame,
    metric: str,
    *,
    by: Sequence[str] = ("scenario",),
    baseline: Any,
    pair_on: Sequence[str] = ("seed",),
    level: float = 0.95,
    lang: str = "en",
) -> Figure:
    """The paired difference against the baseline over time: mean over seeds with its ``level`` band,
    one line per group."""
    pairs = paired_differences(df, metric, list(by), baseline, list(pair_on))
    if pairs.empty:
        raise ValueError(f"no paired runs of {metric} against {baseline}")
    pairs["group"] = group_labels(pairs, list(by), lang)
    st = (
        pairs.groupby(["group", "step"])
        .agg(year=("year", "mean"), n=("diff", "count"), mean=("diff", "mean"), sd=("diff", "std"))
        .reset_index()
    )
    half = np.nan_to_num(t_half_width(st["sd"].to_numpy(), st["n"].to_numpy(), level))
    factor, unit, _ = _diff_scale(metric)
    fig, ax = _new((7.5, 4.2))
    groups = list(dict.fromkeys(st["group"]))
    for color, g in zip(_palette(len(groups)), groups, strict=False):
        s = st[st["group"] == g]
        ax.plot(s["year"], s["mean"] * factor, color=color, lw=1.8, label=g)
        ax.fill_between(s["year"], (s["mean"] - half[s.index]) * factor, (s["mean"] + half[s.index]) * factor,
                        color=color, alpha=0.2, lw=0)  # fmt: skip
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xlabel(t("year", lang))
    ax.set_ylabel(t(unit, lang))
    base = scenario_title(baseline, lang)
    ax.set_title(
        f"{outcome_registry.label(metric, lang)}: {t('diff_vs_lower', lang, baseline=base)}\n"
        f"{t('diff_paired_note', lang, level=f'{level:.0%}')}",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


# --------------------------------------------------------------------------- standard set


def find_2d_sweep(outcomes: pd.DataFrame) -> tuple[str, str] | None:
    """Two numeric swept columns that vary (the first two), or None."""
    design = design_columns(outcomes)
    numeric = [
        c
        for c in design
        if c != "scenario" and pd.api.types.is_numeric_dtype(outcomes[c]) and outcomes[c].nunique() > 1
    ]
    return (numeric[0], numeric[1]) if len(numeric) >= 2 else None


def standard_figures(
    df: pd.DataFrame,
    coll: pd.DataFrame | None = None,
    *,
    by: str | Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    heatmap: tuple[str, str, str] | None = None,
    kind: str = "violin",
    level: float = 0.95,
    baseline: Any = None,
    lang: str = "en",
) -> Iterator[tuple[str, str, Figure]]:
    """Yield ``(file stem, caption, figure)`` for the standard set of a sweep.

    Time series and end-of-run distributions of ``metrics`` (default: adoption, fracture
    and cost metrics present), cumulative cost, the adoption/fracture trade-off, maturity
    by population band, collectivité maturity (when ``coll`` is given), a heatmap
    (``heatmap=(x, y, metric)``, or found automatically for a 2D numeric sweep) and, with a
    ``baseline``, the differences against it (end of run and over time, paired by seed).
    """
    present = set(df["metric"].astype(str).unique())
    wanted = list(metrics) if metrics is not None else [*ADOPTION_METRICS, *FRACTURE_METRICS]
    mets = [m for m in wanted if m in present]
    out = as_outcomes(df)
    by_cols = _by(out, by)
    if baseline is not None and len(by_cols) == 1:
        from analysis.compare import absolute_gaps, compare_design, describe_design

        design = describe_design(out, by=by_cols, baseline=baseline)
        diffs = compare_design(
            absolute_gaps(out), design, [*mets, COST_METRIC] if COST_METRIC in out else mets, level=level
        )
        yield (
            "differences",
            t("diff_vs", lang, baseline=scenario_title(baseline, lang)),
            difference_figure(
                diffs, [*mets, COST_METRIC], by=by_cols, panels=design.panels, baseline=baseline, level=level, lang=lang
            ),
        )
        if not design.panels:
            for m in mets:
                yield (
                    f"difference_timeseries_{m}",
                    f"{label(m, lang)}: {t('diff_vs_lower', lang, baseline=scenario_title(baseline, lang))}",
                    difference_timeseries_figure(
                        df, m, by=by_cols, baseline=baseline, pair_on=design.pair_on, level=level, lang=lang
                    ),
                )
    for m in mets:
        yield (
            f"timeseries_{m}",
            f"{label(m, lang)}: {t('mean_band', lang, level=f'{level:.0%}')}",
            timeseries_figure(df, m, by_cols, level=level, lang=lang),
        )
    if "spend_total_eur" in present:
        yield (
            "timeseries_cum_spend_total_eur",
            label("cum_spend_total_eur", lang),
            timeseries_figure(df, "spend_total_eur", by_cols, cumulative=True, level=level, lang=lang),
        )
    for m in [*mets, COST_METRIC]:
        if m in out.columns:
            yield (
                f"distribution_{m}",
                f"{label(m, lang)} {t('at_end', lang)}: {t('dist_seeds', lang)}",
                outcome_distribution_figure(out, m, by_cols, kind, lang),
            )
    if "maturity_mean" in out.columns and "maturity_gini" in out.columns:
        yield (
            "tradeoff_maturity_mean_vs_maturity_gini",
            t("tradeoff", lang),
            tradeoff_figure(out, "maturity_mean", "maturity_gini", by_cols, level, lang),
        )
    if ((df["stratum_kind"] == "pop_band") & (df["metric"] == "maturity_mean")).any():
        yield (
            "maturity_by_pop_band",
            f"{label('maturity_mean', lang)} {t('by_band', lang)}",
            maturity_by_band_figure(df, by_cols, level=level, lang=lang),
        )
    if coll is not None and len(coll) and "maturity" in coll.columns:
        yield (
            "collectivites_maturity",
            f"{label('maturity', lang)} {t('at_end', lang)}",
            collectivite_distribution_figure(coll, "maturity", by_cols, kind, lang),
        )
    hm = heatmap
    if hm is None:
        xy = find_2d_sweep(out)
        if xy is not None and "maturity_mean" in out.columns:
            hm = (xy[0], xy[1], "maturity_mean")
    if hm is not None:
        yield f"heatmap_{hm[2]}", f"{label(hm[2], lang)} over {hm[0]} and {hm[1]}", heatmap_figure(out, *hm, lang=lang)


def plot_all(
    df: pd.DataFrame,
    out_dir: str | Path,
    coll: pd.DataFrame | None = None,
    **kwargs: Any,
) -> list[Path]:
    """Save every figure of :func:`standard_figures` in ``out_dir`` (PNG and SVG)."""
    out_dir = Path(out_dir)
    paths: list[Path] = []
    for stem, _caption, fig in standard_figures(df, coll, **kwargs):
        paths += save(fig, out_dir / stem)
    return paths
