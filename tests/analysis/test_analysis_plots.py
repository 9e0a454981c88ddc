"""analysis.plots: figures show the computed numbers, and are written as PNG and SVG."""

from __future__ import annotations

import fake_runs as fr
import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from scipy import stats

from analysis import plots
from analysis.compare import run_outcomes
from analysis.i18n import scenario_title
from analysis.load import load

T4 = stats.t.ppf(0.975, 4)


def test_backend_is_agg():
    assert matplotlib.get_backend().lower() == "agg"


def test_save_writes_png_and_svg(tmp_path, loaded):
    fig = plots.timeseries_figure(loaded[0], "maturity_mean")
    paths = plots.save(fig, tmp_path / "sub" / "ts")
    assert [p.name for p in paths] == ["ts.png", "ts.svg"]
    png, svg = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    text = svg.decode()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "Mean digital maturity (index 0-1)" in text and "Year" in text  # labels kept as text
    assert not plots.plt.get_fignums()  # closed


def test_timeseries_lines_are_the_means_with_t_bands(loaded):
    fig = plots.timeseries_figure(loaded[0], "maturity_mean", "scenario")
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {scenario_title(s) for s in fr.END}  # display names of the scenarios
    lines = {s: lines[scenario_title(s)] for s in fr.END}
    factors = 0.5 + 0.5 * np.arange(fr.N_STEPS + 1) / fr.N_STEPS
    base = np.array(fr.END["baseline"]["maturity_mean"])
    np.testing.assert_allclose(lines["baseline"].get_ydata(), base.mean() * factors)
    np.testing.assert_allclose(lines["baseline"].get_xdata(), fr.START_YEAR + np.arange(fr.N_STEPS + 1) / 4)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 3
    # the band of the last scenario drawn (training_first) at the last step spans mean +- t sd / sqrt(5)
    x = np.array(fr.END["training_first"]["maturity_mean"])
    half = T4 * x.std(ddof=1) / np.sqrt(5)
    ys = bands[-1].get_paths()[0].vertices[:, 1]
    assert ys.max() == pytest.approx(x.mean() + half) and ys.min() == pytest.approx(0.5 * x.mean() - 0.5 * half)
    assert "Mean digital maturity" in ax.get_ylabel()
    plots.plt.close(fig)


def test_cumulative_spending_series(loaded):
    fig = plots.timeseries_figure(loaded[0], "spend_total_eur", cumulative=True)
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    np.testing.assert_allclose(
        lines[scenario_title("mediation")].get_ydata(), np.mean(fr.SPEND["mediation"]) * np.arange(5)
    )
    assert fig.axes[0].get_ylabel() == "Total spending over the run (EUR)"
    plots.plt.close(fig)


@pytest.mark.parametrize("kind", ["violin", "box", "ecdf"])
def test_distributions_across_seeds_and_collectivites(kind, outcomes, sweep_root, loaded):
    fig = plots.outcome_distribution_figure(outcomes, "maturity_gini", kind=kind)
    ax = fig.axes[0]
    if kind == "ecdf":
        assert len(ax.get_lines()) == 3 and ax.get_xlabel().startswith("Inequality of maturity, Gini index")
    else:
        assert [t.get_text() for t in ax.get_xticklabels()] == sorted(scenario_title(s) for s in fr.END)
        assert ax.get_ylabel().startswith("Inequality of maturity, Gini index")
    plots.plt.close(fig)
    from analysis.load import load_collectivites

    coll, _ = load_collectivites(sweep_root, report=loaded[1], columns=["maturity"])
    fig = plots.collectivite_distribution_figure(coll, "maturity", kind=kind)
    assert "collectivités" in fig.axes[0].get_title()
    plots.plt.close(fig)


def test_unknown_distribution_kind(outcomes):
    with pytest.raises(ValueError, match="violin, box or ecdf"):
        plots.outcome_distribution_figure(outcomes, "maturity_mean", kind="pie")


def test_heatmap_cells_are_means_over_seeds(grid_root):
    out = run_outcomes(load(grid_root, metrics=["maturity_mean"])[0])
    fig = plots.heatmap_figure(out, "training.budget_eur_per_agent", "mediation.coverage", "maturity_mean")
    ax = fig.axes[0]
    texts = sorted(t.get_text() for t in ax.texts)
    expected = sorted(
        f"{np.mean([fr.grid_value(x, y, k) for k in (0, 1)]):.3f}" for x in (0, 100, 200) for y in (0.1, 0.2)
    )  # maturity is an index: three decimals
    assert texts == expected
    assert ax.get_xlabel() == "Training: budget (euros per agent)"
    plots.plt.close(fig)
    assert plots.find_2d_sweep(out) == ("training.budget_eur_per_agent", "mediation.coverage")


def test_tradeoff_points_and_error_bars(outcomes):
    fig = plots.tradeoff_figure(outcomes, "maturity_mean", "maturity_gini")
    ax = fig.axes[0]
    points = {c.get_label(): (c.lines[0].get_xdata()[0], c.lines[0].get_ydata()[0]) for c in ax.containers}
    assert points[scenario_title("training_first")] == pytest.approx((0.35, 0.37))
    assert points[scenario_title("baseline")] == pytest.approx((0.41, 0.31))
    assert "lower is better" in ax.get_xlabel() and "higher is better" in ax.get_ylabel()
    plots.plt.close(fig)


def test_maturity_by_population_band(loaded):
    fig = plots.maturity_by_band_figure(loaded[0])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == fr.POP_BANDS
    heights = [round(b.get_height(), 10) for b in ax.patches]
    expected = [
        round(np.mean(fr.END[s]["maturity_mean"]) + off, 10) for s in sorted(fr.END) for off in fr.POP_BAND_OFFSET
    ]
    assert heights == pytest.approx(expected)
    assert ax.get_xlabel() == "Population band (inhabitants)"
    plots.plt.close(fig)


@pytest.mark.parametrize(
    ("bands", "ordered"),
    [
        (["50k+", "<500", "2k-10k", "10k-50k", "500-2k"], ["<500", "500-2k", "2k-10k", "10k-50k", "50k+"]),
        ([">=10000", "<500", "2000-9999", "500-1999"], ["<500", "500-1999", "2000-9999", ">=10000"]),
    ],
)
def test_population_bands_sort_by_size(bands, ordered):
    assert plots.band_order(bands) == ordered


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("maturity_gini", "Inequality of maturity, Gini index (index 0-1)"),
        ("cum_spend_total_eur", "Total spending over the run (EUR)"),
        ("spend_mediation_eur", "Policy spending: digital mediation (EUR per step)"),
        ("cum_spend_training_eur", "Policy spending over the run: training (EUR)"),
        ("cum_spend_own_training_eur", "Own spending over the run: training (EUR)"),
        ("spend_own_training_eur", "Own spending: training (EUR per step)"),
        ("pooled_share", "Communes in a pool (%)"),
        ("spend_something_new_eur", "Something new spending (euros per step)"),
        ("maturity", "Digital maturity (index 0-1)"),
        ("territory.n_communes", "Territory: number of communes"),
        ("training.budget_eur_per_staff", "Training: budget (euros per staff)"),
    ],
)
def test_labels_are_plain_words_with_units(name, text):
    assert plots.label(name) == text


def test_plot_all_on_a_2d_sweep_includes_the_heatmap(tmp_path, grid_root):
    df, _ = load(grid_root, metrics=["maturity_mean", "spend_total_eur"])
    paths = plots.plot_all(df, tmp_path, metrics=["maturity_mean"])
    names = {p.name for p in paths}
    assert {
        "heatmap_maturity_mean.png",
        "heatmap_maturity_mean.svg",
        "timeseries_maturity_mean.svg",
        "timeseries_cum_spend_total_eur.png",
        "distribution_cum_spend_total_eur.png",
    } <= names
    assert all(p.stat().st_size > 5_000 for p in paths)


def test_french_labels_and_percent_ticks(loaded):
    fig = plots.timeseries_figure(loaded[0], "inhabitants_excluded_share", lang="fr")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Habitants exclus des services en ligne (%)" and ax.get_xlabel() == "Année"
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and all(t.endswith("\u00a0%") for t in ticks)  # shares drawn as percentages
    assert any("," in t for t in ticks)  # French decimal comma
    plots.plt.close(fig)


def test_difference_figure_shows_paired_intervals_and_colours(outcomes):
    from analysis.compare import absolute_gaps, compare_design, describe_design

    design = describe_design(outcomes)
    diffs = compare_design(absolute_gaps(outcomes), design, ["maturity_mean", "inhabitants_excluded_share"])
    fig = plots.difference_figure(diffs, ["maturity_mean", "inhabitants_excluded_share"], baseline="baseline")
    ax_mat, ax_exc = fig.axes[:2]
    assert [t.get_text() for t in ax_mat.get_yticklabels()] == [
        scenario_title("mediation"),
        scenario_title("training_first"),
    ]
    # maturity: training_first +0.06 [0.0512, 0.0688], better and sure: green; intervals drawn as segments
    segments = [ln for ln in ax_mat.get_lines() if len(ln.get_xdata()) == 2 and ln.get_xdata()[0] != ln.get_xdata()[1]]
    spans = sorted(tuple(np.round(ln.get_xdata(), 4)) for ln in segments)
    assert (0.0512, 0.0688) in spans
    colors = {matplotlib.colors.to_hex(ln.get_color()) for ln in segments}
    assert plots.BETTER in colors
    # exclusion in percentage points: mediation -7 pp
    points = [ln.get_xdata()[0] for ln in ax_exc.get_lines() if ln.get_marker() == "o"]
    assert -7.0 in np.round(points, 6)
    assert "percentage points" in ax_exc.get_xlabel()
    plots.plt.close(fig)


def test_difference_timeseries_is_the_paired_mean(loaded):
    fig = plots.difference_timeseries_figure(loaded[0], "maturity_mean", baseline="baseline")
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines() if not ln.get_label().startswith("_")}
    d = np.mean(np.array(fr.END["training_first"]["maturity_mean"]) - np.array(fr.END["baseline"]["maturity_mean"]))
    factors = 0.5 + 0.5 * np.arange(fr.N_STEPS + 1) / fr.N_STEPS
    np.testing.assert_allclose(lines[scenario_title("training_first")].get_ydata(), d * factors)
    plots.plt.close(fig)
