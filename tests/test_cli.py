"""End-to-end tests of the command line (python -m sim) on a small territory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def sim(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )


def test_single_run_writes_tables_figures_and_manifest(tmp_path):
    out = tmp_path / "run"
    proc = sim("territory=small", "simulation.years=2", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"Outputs written to {out}" in proc.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 0
    assert manifest["config"]["territory"]["n_communes"] == 60
    for name in manifest["files"]:
        assert (out / name).stat().st_size > 0
    assert any(f.endswith(".png") for f in manifest["files"])
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns) == ["step", "year", "stratum_kind", "stratum", "metric", "value"]
    assert ts["step"].max() == 8


def test_bad_value_fails_before_running_with_a_clear_message(tmp_path):
    proc = sim(
        "territory=small", "training.budget_eur_per_staff=-1", "hydra.run.dir=" + str(tmp_path / "bad"), cwd=tmp_path
    )
    assert proc.returncode != 0
    assert "training.budget_eur_per_staff=-1.0 is below its minimum 0.0" in proc.stderr
    assert not (tmp_path / "bad" / "timeseries.parquet").exists()


def test_multirun_over_seeds_and_skip_of_complete_runs(tmp_path):
    sweep = tmp_path / "sweep"
    args = ("-m", "territory=small", "simulation=short", "seed=0,1", f"hydra.sweep.dir={sweep}")
    proc = sim(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    seeds = sorted(json.loads(p.read_text())["seed"] for p in sweep.glob("*/manifest.json"))
    assert seeds == [0, 1]
    job0 = sweep / "seed=0,simulation=short,territory=small"  # named after the job's overrides
    first = (job0 / "timeseries.parquet").stat().st_mtime_ns
    again = sim(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (job0 / "timeseries.parquet").stat().st_mtime_ns == first  # skipped, not redone
