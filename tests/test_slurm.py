"""Opt-in integration test: a sweep on a real SLURM cluster through conf/hydra/launcher/slurm.yaml.

Runs only with ``SIM_SLURM_TEST=1`` and SLURM's ``sbatch`` and ``sinfo`` on the PATH, e.g. on the
one-node cluster of scripts/slurm-local.sh::

    sudo scripts/slurm-local.sh start
    SLURM_CONF=/tmp/slurm-local/slurm.conf SIM_SLURM_TEST=1 python -m pytest -m integration tests/test_slurm.py

The partition is ``$SIM_SLURM_PARTITION`` (default ``debug``, the one of slurm-local.sh). The
sweep directory must be on a file system the compute nodes share: ``$SIM_SLURM_DIR`` (default
pytest's temporary directory, right for a one-node cluster).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sim import io
from sim.config import job_dir_name

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("SIM_SLURM_TEST") != "1" or not shutil.which("sbatch") or not shutil.which("sinfo"),
        reason="SLURM integration test: set SIM_SLURM_TEST=1 with sbatch available (scripts/slurm-local.sh)",
    ),
]

TINY = ("territory=small", "territory.n_communes=40", "simulation=short", "simulation.years=1")


def test_sweep_on_slurm_records_failures_and_resumes(tmp_path):
    base = Path(os.environ["SIM_SLURM_DIR"]) / uuid.uuid4().hex if os.environ.get("SIM_SLURM_DIR") else tmp_path
    sweep = base / "sweep"
    partition = os.environ.get("SIM_SLURM_PARTITION", "debug")
    args = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        *TINY,
        "seed=0,1",
        "hydra/launcher=slurm",
        f"hydra.launcher.partition={partition}",
        "hydra.launcher.mem_gb=1",
        "hydra.launcher.timeout_min=10",
        "hydra.launcher.batch_size=2",  # both jobs in one array task
        f"hydra.sweep.dir={sweep}",
    ]

    def job(seed):
        return sweep / job_dir_name(",".join(sorted([f"seed={seed}", *TINY])))

    # sbatch exports the submitting environment to the jobs: seed 1 fails on the node.
    env = {**os.environ, "SIM_INJECT_FAILURE": "1"}
    first = subprocess.run(args, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env)
    assert first.returncode == 1, first.stderr  # a failed job: summary and non-zero exit
    assert "2 jobs: 1 complete" in first.stderr and "failure injected for seed 1" in first.stderr
    assert io.is_complete(job(0))
    assert "InjectedFailure" in json.loads((job(1) / io.ERROR).read_text())["error"]
    assert list((sweep / ".submitit").iterdir())  # the jobs went through sbatch
    done = (job(0) / "timeseries.parquet").stat().st_mtime_ns

    env.pop("SIM_INJECT_FAILURE")
    again = subprocess.run(args, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env)
    assert again.returncode == 0, again.stderr
    assert (job(0) / "timeseries.parquet").stat().st_mtime_ns == done  # skipped
    assert io.is_complete(job(1)) and not (job(1) / io.ERROR).exists()  # redone
