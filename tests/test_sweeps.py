"""Sweeps: robust to failing jobs, resumable, with the basic, joblib and submitit launchers.

The command-line tests run ``python -m sim -m`` in a subprocess (like tests/test_cli.py) on the
small territory for one year; relaunching never redoes or loses a complete run.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from sim import io
from sim.api import compose_config
from sim.config import job_dir_name, to_config
from sim.run import SUPERSEDED, config_dict, run_simulation
from tests.conftest import small_config

TINY = ("territory=small", "territory.n_communes=40", "simulation=short", "simulation.years=1")


def sim(*args, cwd, env=None, timeout=300):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def job(sweep: Path, seed: int) -> Path:
    """Directory of the job of ``seed`` in a sweep over TINY: named after its overrides."""
    name = ",".join(sorted([f"seed={seed}", *TINY]))
    return sweep / job_dir_name(name)


def mtimes(d: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in d.iterdir() if p.is_file() and p.suffix in (".parquet", ".json")}


# ------------------------------------------------------------------------- job directories
def test_job_directory_names_are_stable_safe_and_short():
    assert job_dir_name("scenario=mediation,seed=3") == "scenario=mediation,seed=3"
    assert job_dir_name("") == "defaults"
    odd = job_dir_name("territory.departements=[35,56],out=a/b")
    assert "/" not in odd and odd != job_dir_name("territory.departements=[35,56],out=a_b")
    long_a, long_b = "x=" + "1" * 300, "x=" + "1" * 299 + "2"
    assert len(job_dir_name(long_a)) <= 120 and job_dir_name(long_a) != job_dir_name(long_b)
    assert job_dir_name(long_a) == job_dir_name(long_a)


# ------------------------------------------------------------------------- one directory
def test_a_different_configuration_never_overwrites_a_complete_run(tmp_path):
    out = tmp_path / "job"
    first = run_simulation(small_config(40, 1, seed=0), out)
    before = {name: io.sha256(out / name) for name in first.manifest["files"]}
    second = run_simulation(small_config(40, 1, seed=1), out)  # same directory, other config
    assert io.is_complete(out, second.manifest["config_hash"])
    kept = list((out / SUPERSEDED).iterdir())
    assert len(kept) == 1 and io.is_complete(kept[0], first.manifest["config_hash"])
    assert {name: io.sha256(kept[0] / name) for name in before} == before  # moved, unchanged
    again = run_simulation(small_config(40, 1, seed=1), out)  # same config: skipped
    assert again.skipped and len(list((out / SUPERSEDED).iterdir())) == 1


def test_incomplete_leftovers_and_errors_are_replaced(tmp_path):
    out = tmp_path / "job"
    out.mkdir()
    (out / "timeseries.parquet").write_bytes(b"half-written")  # an interrupted run
    (out / io.ERROR).write_text('{"status": "failed"}')
    result = run_simulation(small_config(40, 1, seed=0), out)
    assert io.is_complete(out, result.manifest["config_hash"])
    assert not (out / io.ERROR).exists() and not (out / SUPERSEDED).exists()


# ------------------------------------------------------------------------- whole sweeps
def test_failed_jobs_do_not_stop_the_sweep_and_a_relaunch_redoes_only_them(tmp_path):
    sweep = tmp_path / "sweep"
    common = ("-m", *TINY, f"hydra.sweep.dir={sweep}")
    # First launch with joblib (2 workers); the run of seed 1 fails.
    first = sim(
        *common,
        "seed=0,1",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        cwd=tmp_path,
        env={"SIM_INJECT_FAILURE": "1"},
    )
    assert first.returncode == 0, first.stderr
    assert io.is_complete(job(sweep, 0)) and not (job(sweep, 0) / io.ERROR).exists()
    error = json.loads((job(sweep, 1) / io.ERROR).read_text())
    assert error["status"] == "failed" and "InjectedFailure" in error["error"] and "seed=1" in error["overrides"]
    assert not (job(sweep, 1) / io.MANIFEST).exists()
    done = mtimes(job(sweep, 0))

    # Relaunch with the basic launcher, the failure gone and the seeds in another order (other
    # job numbers): complete jobs are skipped, untouched; the failed one is redone.
    again = sim(*common, "seed=1,0", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert mtimes(job(sweep, 0)) == done
    assert io.is_complete(job(sweep, 1)) and not (job(sweep, 1) / io.ERROR).exists()
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == sorted(job(sweep, s).name for s in (0, 1))


def test_invalid_job_records_its_error_and_the_others_complete(tmp_path):
    sweep = tmp_path / "sweep"
    proc = sim("-m", *TINY, "seed=0", "training.budget_eur_per_staff=0,-5", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    bad = sweep / job_dir_name(",".join(sorted(["seed=0", "training.budget_eur_per_staff=-5", *TINY])))
    good = sweep / job_dir_name(",".join(sorted(["seed=0", "training.budget_eur_per_staff=0", *TINY])))
    assert "below its minimum" in json.loads((bad / io.ERROR).read_text())["error"]
    assert io.is_complete(good)


def test_the_task_function_and_a_composed_config_pickle(tmp_path):
    # What the joblib and submitit launchers do before running a job in another process (the
    # submitit_local test below runs it there): cloudpickle the task function and its config.
    import sim.cli

    cloudpickle = pytest.importorskip("cloudpickle")  # comes with submitit (the [slurm] extra)
    cfg = compose_config([*TINY, "seed=4"])
    task, loaded = pickle.loads(cloudpickle.dumps((sim.cli.main.__wrapped__, cfg)))
    assert callable(task) and task.__name__ == "main"
    assert loaded == cfg
    result = run_simulation(to_config(loaded), tmp_path / "out")
    assert io.is_complete(tmp_path / "out", io.config_hash(config_dict(to_config(cfg))))
    assert result.manifest["seed"] == 4


def test_submitit_local_launcher_runs_pickled_jobs_in_fresh_processes(tmp_path):
    # The submitit launcher pickles the task and runs each job in a new process, as on a SLURM
    # node; submitit_local does so on this machine (tests/test_slurm.py runs real SLURM).
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the [slurm] extra")
    sweep = tmp_path / "sweep"
    proc = sim(
        "-m",
        *TINY,
        "seed=3",
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=5",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert io.read_manifest(job(sweep, 3))["seed"] == 3 and io.is_complete(job(sweep, 3))
    assert any(p.name.endswith("_result.pkl") for p in (sweep / ".submitit").rglob("*"))  # went through submitit
