"""python -m analysis: help texts, and each command end to end on the generated sweep."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import fake_runs as fr
import pandas as pd
import pytest

import analysis
from analysis.cli import EXIT_NO_RUN, EXIT_SKIPPED, main

PACKAGE_PARENT = str(Path(analysis.__file__).resolve().parent.parent)


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([PACKAGE_PARENT, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_top_level_help_in_a_subprocess(tmp_path):
    res = run_module("--help", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    for word in ("load", "compare", "plot", "report", "sensitivity", "examples:"):
        assert word in res.stdout


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["load"], ["tidy table", "--last-step-only", "--verify", "sha256", "examples:"]),
        (["compare"], ["--baseline", "Welch", "paired", "--bootstrap", "cum_spend_total_eur"]),
        (["plot"], ["PNG", "SVG", "--heatmap", "population band"]),
        (["report"], ["HTML", "without Python", "--baseline"]),
        (["sensitivity"], ["morris", "sobol", "--param", "--jobs", "--seeds", "sim.api", "problem file"]),
    ],
)
def test_every_command_explains_itself(command, words, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for word in words:
        assert word in out


def test_load_end_to_end_in_a_subprocess(sweep_root, tmp_path):
    out = tmp_path / "sweep.parquet"
    res = run_module(
        "load", str(sweep_root), "-o", str(out), "--strict", "--skipped-csv", str(tmp_path / "runs.csv"), cwd=tmp_path
    )
    assert res.returncode == EXIT_SKIPPED, res.stderr  # --strict: some runs were skipped
    assert "Loaded 15 of 19 runs" in res.stdout
    assert "[failed] run failed: ValueError: budget must be >= 0" in res.stdout
    df = pd.read_parquet(out)
    assert df["run_id"].nunique() == 15 and len(df) == 1200
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert (runs["status"] != "complete").sum() == 4


def test_load_filters_to_csv(sweep_root, tmp_path, capsys):
    out = tmp_path / "end.csv"
    code = main(
        [
            "load",
            str(sweep_root),
            "-o",
            str(out),
            "--last-step-only",
            "--metrics",
            "maturity_mean",
            "--stratum-kinds",
            "all",
            "--collectivites",
            str(tmp_path / "coll.parquet"),
        ]
    )
    assert code == 0
    df = pd.read_csv(out)
    assert len(df) == 15 and set(df["step"]) == {fr.N_STEPS}
    assert len(pd.read_parquet(tmp_path / "coll.parquet")) == 15 * len(fr.COLLECTIVITES)
    assert "Wrote 15 rows" in capsys.readouterr().out


def test_load_of_an_empty_folder_fails(tmp_path):
    assert main(["load", str(tmp_path)]) == EXIT_NO_RUN


def test_compare_writes_tables(sweep_root, tmp_path, capsys):
    code = main(["compare", str(sweep_root), "--baseline", "baseline", "-o", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Differences against baseline" in printed and "Cost per point" in printed
    for name in ("outcomes", "summary", "differences", "ranking", "cost_effectiveness"):
        assert (tmp_path / f"{name}.csv").exists()
    ranking = pd.read_csv(tmp_path / "ranking.csv").set_index("scenario")
    assert ranking.loc["training_first", "eur_per_pp"] == pytest.approx(8000 / 6)
    diff = pd.read_csv(tmp_path / "differences.csv")
    row = diff[(diff["scenario"] == "training_first") & (diff["metric"] == "maturity_mean")].iloc[0]
    assert row["diff"] == pytest.approx(0.06) and row["test"] == "paired t"


def test_compare_from_a_loaded_table_matches_the_folder(sweep_root, tmp_path):
    tidy = tmp_path / "sweep.parquet"
    assert main(["load", str(sweep_root), "-o", str(tidy)]) == 0
    assert main(["compare", str(tidy), "--baseline", "baseline", "-o", str(tmp_path / "a")]) == 0
    assert main(["compare", str(sweep_root), "--baseline", "baseline", "-o", str(tmp_path / "b")]) == 0
    for name in ("summary", "differences", "ranking"):
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / "a" / f"{name}.csv"), pd.read_csv(tmp_path / "b" / f"{name}.csv")
        )


def test_compare_with_a_numeric_baseline(grid_root, capsys):
    assert (
        main(
            [
                "compare",
                str(grid_root),
                "--by",
                "training.budget_eur_per_agent",
                "--baseline",
                "0",
                "--metrics",
                "maturity_mean",
            ]
        )
        == 0
    )
    assert "Differences against 0" in capsys.readouterr().out


def test_plot_and_report_commands(grid_root, tmp_path):
    assert (
        main(["plot", str(grid_root), "-o", str(tmp_path / "figs"), "--metrics", "maturity_mean", "--kind", "box"]) == 0
    )
    names = {p.name for p in (tmp_path / "figs").iterdir()}
    assert {"heatmap_maturity_mean.png", "heatmap_maturity_mean.svg", "collectivites_maturity.svg"} <= names
    out = tmp_path / "r" / "report.html"
    assert (
        main(
            [
                "report",
                str(grid_root),
                "-o",
                str(out),
                "--metrics",
                "maturity_mean",
                "--no-figures",
                "--by",
                "training.budget_eur_per_agent",
                "--baseline",
                "0",
            ]
        )
        == 0
    )
    page = out.read_text(encoding="utf-8")
    assert "differences against 0" in page and "Mean digital maturity" in page
    assert "0.200" in page or "+0.200" in page  # budget 200 minus 0: +0.2 of maturity (an index: 3 decimals)


def test_report_in_french_with_weights(sweep_root, tmp_path):
    out = tmp_path / "rapport.html"
    args = [
        "report",
        str(sweep_root),
        "-o",
        str(out),
        "--lang",
        "fr",
        "--no-figures",
        "--weights",
        "fracture=2",
        "cost=0",
    ]
    assert main(args) == 0
    page = out.read_text(encoding="utf-8")
    assert "Synthèse" in page and "fractures 2 (partagé entre 5 critères)" in page
    assert main(["report", str(sweep_root), "-o", str(out), "--weights", "beauty=1"]) == 2


def test_compare_prints_people_tables(sweep_root, capsys):
    assert main(["compare", str(sweep_root), "--baseline", "baseline"]) == 0
    text = capsys.readouterr().out
    assert "Multi-criteria ranking" in text and "Cost per point of every criterion" in text
    assert "Inhabitants excluded from e-services" in text and "\u22127.0\u00a0pp" in text


def test_sensitivity_command_with_an_analytic_model(tmp_path, capsys):
    code = main(
        [
            "sensitivity",
            "morris",
            "--model",
            "analysis.sensitivity:Linear",
            "--metrics",
            "y",
            "--param",
            "a=0:1",
            "--param",
            "dummy=0:1",
            "--seeds",
            "2",
            "--trajectories",
            "4",
            "-o",
            str(tmp_path),
        ]
    )
    assert code == 0
    idx = pd.read_csv(tmp_path / "morris_indices.csv").set_index("parameter")
    assert idx.loc["a", "mu_star"] == pytest.approx(1.0) and idx.loc["dummy", "mu_star"] == pytest.approx(0.0)
    assert (tmp_path / "morris_indices.png").exists()
    assert "morris indices (24 model runs)" in capsys.readouterr().out


def test_bad_input_gives_an_error_message_not_a_traceback(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "missing")]) == 2
    assert "error:" in capsys.readouterr().err
    assert (
        main(
            [
                "sensitivity",
                "sobol",
                "--model",
                "analysis.sensitivity:Linear",
                "--param",
                "a=0:1",
                "-n",
                "6",
                "--metrics",
                "y",
                "-o",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "power of 2" in capsys.readouterr().err


def test_another_cost_metric(sweep_root, tmp_path):
    assert (
        main(
            [
                "compare",
                str(sweep_root),
                "--baseline",
                "baseline",
                "--cost-metric",
                "cum_spend_training_eur",
                "-o",
                str(tmp_path),
            ]
        )
        == 0
    )
    ranking = pd.read_csv(tmp_path / "ranking.csv").set_index("scenario")
    # training spending is half the total: 6000 - 2000 euros more for 6 Gini points
    assert ranking.loc["training_first", "cum_spend_training_eur"] == pytest.approx(6000.0)
    assert ranking.loc["training_first", "eur_per_pp"] == pytest.approx(4000 / 6)


def test_compare_an_equal_budget_experiment_level_by_level(tmp_path, capsys):
    root = fr.make_equal_budget_sweep(tmp_path / "eb")
    assert main(["compare", str(root), "-o", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "counted once" in printed and "level by level of equal_budget_eur_per_staff" in printed
    diff = pd.read_csv(tmp_path / "out" / "differences.csv")
    assert len(diff[diff["metric"] == "maturity_mean"]) == 9 and (diff["n_baseline"] == 3).all()
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    base = summary[(summary["scenario"] == "business_as_usual") & (summary["metric"] == "maturity_mean")]
    assert len(base) == 1 and base["n"].iloc[0] == 3  # one baseline, its 3 seeds once


def test_plot_draws_the_differences_against_a_baseline_in_french(sweep_root, tmp_path):
    out = tmp_path / "figs"
    assert main(["plot", str(sweep_root), "-o", str(out), "--baseline", "baseline", "--lang", "fr",
                 "--metrics", "maturity_mean", "inhabitants_excluded_share"]) == 0  # fmt: skip
    names = {p.name for p in out.iterdir()}
    assert {"differences.svg", "difference_timeseries_maturity_mean.png"} <= names
    assert "Écart à Baseline" in (out / "differences.svg").read_text(encoding="utf-8")
