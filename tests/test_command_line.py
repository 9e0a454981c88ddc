"""End-to-end tests of the command line (python -m sim) on a small territory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from sim.api import CONF_DIR

ROOT = Path(__file__).resolve().parent.parent


def sim(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300, env=env
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


def test_help_explains_the_tool_its_config_groups_and_main_options(tmp_path):
    proc = sim("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "digital transition" in out and "Powered by Hydra" not in out
    for group in ("territory", "scenario", "training", "stress", "experiment", "hydra/launcher"):
        assert f"\n  {group} " in out, group
    for option in ("seed=0", "territory.n_communes=1000", "simulation.years=10", "hydra.sweep.dir=DIR"):
        assert option in out, option
    assert "mutualisation_first" in out and "business_as_usual*" in out  # options, the default marked


def test_a_refused_configuration_leaves_no_run_directory(tmp_path):
    proc = sim("territory=small", "training.targeting=best", "hydra.run.dir=outputs/refused", cwd=tmp_path)
    assert proc.returncode == 2
    assert "training.targeting='best' is not allowed; allowed values: universal, furthest, most_impacted" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "outputs").exists()


def test_a_yaml_syntax_error_is_a_short_message_naming_the_file(tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(CONF_DIR, conf)
    broken = conf / "territory" / "small.yaml"
    broken.write_text(broken.read_text() + "\nbad: [1, 2\n")
    proc = sim("--config-path", str(conf), "territory=small", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert proc.returncode == 2
    assert "YAML syntax error" in proc.stderr and str(broken) in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) < 10


def test_an_unwritable_output_directory_is_named_in_a_short_message(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    for mode, key in (("", "hydra.run.dir"), ("-m", "hydra.sweep.dir")):
        args = [a for a in (mode, "territory=small", "simulation=short", f"{key}={blocker / 'out'}") if a]
        proc = sim(*args, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert str(blocker / "out") in proc.stderr and "Not a directory" in proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.splitlines()) < 5


def test_a_run_records_its_provenance(tmp_path):
    out = tmp_path / "run"
    proc = sim("territory=small", "simulation=short", "simulation.figures=false", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    expected = head.stdout.strip() if head.returncode == 0 else "unknown"
    assert manifest["git_commit"] == expected
    assert len(manifest["code_hash"]) == 64 and manifest["python_version"]
