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

FORMATS = ("png", "svg")
DPI = 150

SHARE = "share, 0 to 1"
METRIC_LABELS: dict[str, str] = {
    "maturity_mean": "Mean digital maturity (index)",
    "maturity_p10": "Digital maturity, 10th percentile (index)",
    "maturity_p50": "Digital maturity, median (index)",
    "maturity_p90": "Digital maturity, 90th percentile (index)",
    "maturity": "Digital maturity (index)",
    "services_online_mean": "Services online per collectivité (mean count)",
    "open_data_share": f"Collectivités publishing open data ({SHARE})",
    "pooled_share": f"Collectivités in a pooling structure ({SHARE})",
    "staff_proficient_share": f"Staff proficient with digital tools ({SHARE})",
    "staff_illectronism_share": f"Staff in illectronism ({SHARE})",
    "staff_use_share": f"Staff using digital tools ({SHARE})",
    "staff_following_share": f"Staff keeping up with digital change ({SHARE})",
    "staff_overwhelmed_share": f"Staff overwhelmed by digital change ({SHARE})",
    "staff_count": "Staff (number of agents)",
    "staff_mean_skill": "Mean digital skill of staff (index)",
    "required_skill": "Digital skill required of staff (index)",
    "inhabitants_illectronism_share": f"Inhabitants in illectronism ({SHARE})",
    "spend_levers_eur": "Spending on policy levers (euros per step)",
    "eservice_use_share": f"Inhabitants using online services ({SHARE})",
    "maturity_gini": "Gini index of maturity (0 equal, 1 unequal)",
    "maturity_theil": "Theil index of maturity (0 equal)",
    "gap_size": "Maturity gap, largest minus smallest population band (index)",
    "gap_rural_urban": "Maturity gap, urban minus rural (index)",
    "inhabitants_excluded_share": f"Inhabitants digitally excluded ({SHARE})",
    "spend_total_eur": "Total spending (euros per step)",
}
_SPEND = re.compile(r"^spend_(\w+)_eur$")


def label(metric: str) -> str:
    """Plain-word axis label with unit for a metric or column name."""
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
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


def group_labels(frame: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    """One text label per row: the scenario name, or ``key=value, ...`` for several columns."""
    if not by:
        return pd.Series(["all runs"] * len(frame), index=frame.index, dtype=object)
    if len(by) == 1:
        return frame[by[0]].astype(object).astype(str)
    parts = [frame[c].astype(object).astype(str).radd(f"{c}=") for c in by]
    out = parts[0]
    for p in parts[1:]:
        out = out + ", " + p
    return out


def _legend_title(by: Sequence[str]) -> str:
    return ", ".join(by) if by else ""


def _new(figsize: tuple[float, float] = (7.5, 4.5)) -> tuple[Figure, Any]:
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _palette(n: int) -> list[Any]:
    return sns.color_palette("colorblind", n_colors=max(n, 1))


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
    sub["group"] = group_labels(sub, by_cols)
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
    ax.set_xlabel("Year" if use_year else "Step (simulation step)")
    ax.set_ylabel(label(name))
    where = "" if stratum_kind == "all" else f" ({stratum_kind.replace('_', ' ')}: {stratum})"
    ax.set_title(f"{label(name)}{where}\nmean over seeds with {level:.0%} interval", fontsize=10)
    ax.legend(title=_legend_title(by_cols), fontsize=8, title_fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def as_outcomes_like(df: pd.DataFrame) -> pd.DataFrame:
    """The run rows of a tidy table, enough to pick default grouping columns."""
    cols = ["run_id", *design_columns(df), "seed"]
    out = df[[c for c in cols if c in df.columns]].drop_duplicates("run_id")
    out.attrs["param_columns"] = design_columns(df)
    return out


def _distribution(data: pd.DataFrame, value: str, group: pd.Series, kind: str, title: str, xlabel: str) -> Figure:
    frame = pd.DataFrame({"group": group.to_numpy(), value: data[value].to_numpy(dtype=float)})
    order = list(dict.fromkeys(sorted(frame["group"])))
    fig, ax = _new()
    palette = dict(zip(order, _palette(len(order)), strict=False))
    if kind == "ecdf":
        sns.ecdfplot(frame, x=value, hue="group", hue_order=order, palette=palette, ax=ax)
        ax.set_xlabel(label(value))
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
        ax.set_ylabel(label(value))
        ax.tick_params(axis="x", labelrotation=20 if len(order) > 3 else 0)
    else:
        raise ValueError(f"kind must be violin, box or ecdf, not {kind!r}")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    return fig


def outcome_distribution_figure(
    data: pd.DataFrame, metric: str, by: str | Sequence[str] | None = None, kind: str = "violin"
) -> Figure:
    """End-of-run ``metric`` across seeds, per group (``kind``: violin, box or ecdf)."""
    out = as_outcomes(data)
    by_cols = _by(out, by)
    title = f"{label(metric)} at the end of the run\ndistribution across seeds ({kind})"
    return _distribution(out, metric, group_labels(out, by_cols), kind, title, "runs")


def collectivite_distribution_figure(
    coll: pd.DataFrame, column: str = "maturity", by: str | Sequence[str] | None = None, kind: str = "violin"
) -> Figure:
    """End-of-run ``column`` of the collectivités (all runs pooled), per group."""
    by_cols = _by(as_outcomes_like(coll), by)
    title = f"{label(column)} at the end of the run\ndistribution across collectivités and seeds ({kind})"
    return _distribution(coll, column, group_labels(coll, by_cols), kind, title, "collectivités")


def heatmap_figure(data: pd.DataFrame, x: str, y: str, metric: str) -> Figure:
    """Mean end-of-run ``metric`` over seeds for each (x, y) of a 2D sweep."""
    out = as_outcomes(data)
    for c in (x, y, metric):
        if c not in out.columns:
            raise KeyError(f"{c!r} is not a column of the outcomes")
    grid = out.groupby([y, x], dropna=False)[metric].mean().unstack(x).sort_index(ascending=False)
    fig, ax = _new((6.5, 4.8))
    sns.heatmap(grid, annot=True, fmt=".3g", cmap="viridis", cbar_kws={"label": label(metric)}, ax=ax)
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    ax.set_title(f"{label(metric)} at the end of the run\nmean over seeds", fontsize=10)
    return fig


def tradeoff_figure(
    data: pd.DataFrame,
    adoption: str = "maturity_mean",
    fracture: str = "maturity_gini",
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
) -> Figure:
    """Adoption (up is better) against fracture (left is better) per group, with intervals."""
    out = as_outcomes(data)
    by_cols = _by(out, by)
    s = summarize(out, by_cols, [adoption, fracture], level=level)
    s["group"] = group_labels(s, by_cols)
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
    ax.set_xlabel(label(fracture) + " - lower is better")
    ax.set_ylabel(label(adoption) + " - higher is better")
    ax.set_title(
        f"Adoption against fracture at the end of the run\nmean over seeds with {level:.0%} intervals", fontsize=10
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
) -> Figure:
    """End-of-run ``metric`` per population band (territorial fracture), bars per group with intervals."""
    last = df.groupby("run_id", observed=True)["step"].transform("max")
    sub = df[(df["step"] == last) & (df["metric"] == metric) & (df["stratum_kind"] == stratum_kind)]
    if sub.empty:
        raise ValueError(f"no {metric} by {stratum_kind} in the data")
    by_cols = _by(as_outcomes_like(df), by)
    sub = sub.assign(group=group_labels(sub, by_cols), stratum=sub["stratum"].astype(str))
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
    ax.set_xlabel("Population band (inhabitants)" if stratum_kind == "pop_band" else kind_name.capitalize())
    ax.set_ylabel(label(metric))
    ax.set_title(
        f"{label(metric)} by {kind_name} at the end of the run\nmean over seeds with {level:.0%} interval", fontsize=10
    )
    ax.legend(title=_legend_title(by_cols), fontsize=8, title_fontsize=8)
    ax.grid(alpha=0.3, axis="y")
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
) -> Iterator[tuple[str, str, Figure]]:
    """Yield ``(file stem, caption, figure)`` for the standard set of a sweep.

    Time series and end-of-run distributions of ``metrics`` (default: adoption, fracture
    and cost metrics present), cumulative cost, the adoption/fracture trade-off, maturity
    by population band, collectivité maturity (when ``coll`` is given) and a heatmap
    (``heatmap=(x, y, metric)``, or found automatically for a 2D numeric sweep).
    """
    present = set(df["metric"].astype(str).unique())
    wanted = list(metrics) if metrics is not None else [*ADOPTION_METRICS, *FRACTURE_METRICS]
    mets = [m for m in wanted if m in present]
    out = as_outcomes(df)
    by_cols = _by(out, by)
    for m in mets:
        yield (
            f"timeseries_{m}",
            f"{label(m)}: mean over seeds with {level:.0%} band",
            timeseries_figure(df, m, by_cols, level=level),
        )
    if "spend_total_eur" in present:
        yield (
            "timeseries_cum_spend_total_eur",
            "Cumulative spending to date",
            timeseries_figure(df, "spend_total_eur", by_cols, cumulative=True, level=level),
        )
    for m in [*mets, COST_METRIC]:
        if m in out.columns:
            yield (
                f"distribution_{m}",
                f"{label(m)} at the end: distribution across seeds",
                outcome_distribution_figure(out, m, by_cols, kind),
            )
    if "maturity_mean" in out.columns and "maturity_gini" in out.columns:
        yield (
            "tradeoff_maturity_mean_vs_maturity_gini",
            "Adoption against fracture",
            tradeoff_figure(out, "maturity_mean", "maturity_gini", by_cols, level),
        )
    if ((df["stratum_kind"] == "pop_band") & (df["metric"] == "maturity_mean")).any():
        yield (
            "maturity_by_pop_band",
            "Maturity by population band (territorial fracture)",
            maturity_by_band_figure(df, by_cols, level=level),
        )
    if coll is not None and len(coll) and "maturity" in coll.columns:
        yield (
            "collectivites_maturity",
            "Maturity of collectivités at the end",
            collectivite_distribution_figure(coll, "maturity", by_cols, kind),
        )
    hm = heatmap
    if hm is None:
        xy = find_2d_sweep(out)
        if xy is not None and "maturity_mean" in out.columns:
            hm = (xy[0], xy[1], "maturity_mean")
    if hm is not None:
        yield f"heatmap_{hm[2]}", f"{label(hm[2])} over {hm[0]} and {hm[1]}", heatmap_figure(out, *hm)


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
