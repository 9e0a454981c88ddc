"""Fixtures of the analysis tests: a generated sweep with known values (see fake_runs.py)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # fake_runs is a helper module beside the tests
    sys.path.insert(0, str(HERE))

import fake_runs


@pytest.fixture(scope="session")
def sweep_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 scenarios x 5 seeds of good runs + truncated, tampered, failed and incomplete runs (read-only)."""
    root = tmp_path_factory.mktemp("sweep")
    fake_runs.make_sweep(root)
    return root


@pytest.fixture(scope="session")
def loaded(sweep_root: Path):
    """(tidy table, load report) of the sweep; do not modify."""
    from analysis.load import load

    logging.getLogger("analysis.load").setLevel(logging.ERROR)
    return load(sweep_root)


@pytest.fixture(scope="session")
def outcomes(loaded):
    from analysis.compare import run_outcomes

    return run_outcomes(loaded[0])


@pytest.fixture(scope="session")
def grid_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 x 2 sweep over training.budget_eur_per_agent and mediation.coverage, 2 seeds (read-only)."""
    return fake_runs.make_grid_sweep(tmp_path_factory.mktemp("grid"))
