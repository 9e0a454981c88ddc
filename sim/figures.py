"""Figures of a single run (the main job), written as PNG next to its tables."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from sim.io import atomic_path
from sim.state import POP_BANDS


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=120, bbox_inches="tight")
    plt.close(fig)


def write_figures(timeseries: pd.DataFrame, collectivites: pd.DataFrame, out_dir: Path, title: str = "") -> list[str]:
    """Write the run's figures; return their paths relative to ``out_dir``."""
    sns.set_theme(style="whitegrid", context="notebook")
    fig_dir = Path(out_dir) / "figures"
    written = []

    band = timeseries[(timeseries["stratum_kind"] == "pop_band") & (timeseries["metric"] == "maturity_mean")]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sns.lineplot(
        data=band,
        x="year",
        y="value",
        hue="stratum",
        hue_order=[b for b in POP_BANDS if b in set(band["stratum"])],
        ax=ax,
    )
    ax.set(
        xlabel="Year",
        ylabel="Mean digital maturity (0-1)",
        title=f"Territorial fracture: maturity of communes by population {title}".strip(),
    )
    ax.legend(title="Inhabitants")
    _save(fig, fig_dir / "maturity_by_population_band.png")
    written.append("figures/maturity_by_population_band.png")

    overall = timeseries[timeseries["stratum_kind"] == "all"]
    labels = {
        "maturity_mean": "Mean maturity of collectivités",
        "services_online_mean": "Services online (mean share)",
        "staff_proficient_share": "Staff up to date (share)",
        "staff_illectronism_share": "Staff in illectronism (share)",
        "eservice_use_share": "Inhabitants' e-service use (share)",
        "inhabitants_excluded_share": "Inhabitants excluded (share)",
        "pooled_share": "Communes in a pool (share)",
    }
    sel = overall[overall["metric"].isin(labels)].assign(indicator=lambda d: d["metric"].map(labels))
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    sns.lineplot(data=sel, x="year", y="value", hue="indicator", ax=ax)
    ax.set(xlabel="Year", ylabel="Share (0-1)", ylim=(0, 1), title="Adoption and fracture")
    ax.legend(title=None, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _save(fig, fig_dir / "adoption_overview.png")
    written.append("figures/adoption_overview.png")

    cat = timeseries[(timeseries["stratum_kind"] == "category") & (timeseries["metric"] == "staff_illectronism_share")]
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(data=cat, x="year", y="value", hue="stratum", hue_order=["A", "B", "C"], ax=ax)
    ax.set(xlabel="Year", ylabel="Share of staff in illectronism", title="Staff in illectronism by category")
    ax.legend(title="Category")
    _save(fig, fig_dir / "staff_illectronism_by_category.png")
    written.append("figures/staff_illectronism_by_category.png")

    communes = collectivites[collectivites["kind"] == "commune"]
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.boxplot(
        data=communes,
        x="pop_band",
        y="maturity",
        order=[b for b in POP_BANDS if b in set(communes["pop_band"])],
        hue="pooled",
        ax=ax,
    )
    ax.set(
        xlabel="Inhabitants", ylabel="Maturity at the end (0-1)", title="End-of-run maturity of communes, pooled or not"
    )
    _save(fig, fig_dir / "final_maturity_by_band.png")
    written.append("figures/final_maturity_by_band.png")
    return written
