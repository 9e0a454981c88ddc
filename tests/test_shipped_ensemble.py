"""The calibrated ensemble the repository ships (calibration/v2, docs/CALIBRATION.md) is usable by
the current model: intact, made over today's priors, and every member a valid configuration.

A failure here means the priors or parameter names changed since the calibration: rerun it
(``python -m analysis calibrate --out calibration/v2 --waves 3 --points 200 --seeds 2``) rather
than editing the file."""

from __future__ import annotations

import json
from operator import attrgetter
from pathlib import Path

import pytest

from sim.api import compose_config
from sim.config import to_config, uncertain_params
from sim.ensemble import load_ensemble

ROOT = Path(__file__).resolve().parent.parent
ENSEMBLE = ROOT / "calibration" / "v2" / "ensemble.parquet"


@pytest.fixture(scope="module")
def ensemble():
    return load_ensemble(ENSEMBLE)  # checks the sha256 of the file against its manifest


def test_the_ensemble_is_made_over_the_priors_declared_today(ensemble):
    declared = {p.path: (p.lo, p.hi) for p in uncertain_params()}
    used = {
        p["path"]: (p["lo"], p["hi"]) for p in json.loads((ENSEMBLE.parent / "calibration.json").read_text())["params"]
    }
    assert set(ensemble.params.columns) == set(used)
    changed = {k: (used.get(k), declared.get(k)) for k in set(used) | set(declared) if used.get(k) != declared.get(k)}
    assert not changed, f"priors changed since the calibration (used, declared now): {changed}"
    for path, (lo, hi) in used.items():
        values = ensemble.params[path]
        assert values.between(lo, hi).all(), f"{path} outside its prior [{lo}, {hi}]"
    assert len(ensemble) == ensemble.manifest["n_members"] > 100


@pytest.mark.parametrize("which", ["first", "last"])
def test_a_member_gives_a_valid_configuration_with_its_values(ensemble, which):
    member = 0 if which == "first" else len(ensemble) - 1
    cfg = to_config(compose_config([f"ensemble.path={ENSEMBLE}", f"ensemble.member={member}"]))
    for path, value in ensemble.values(member).items():
        assert attrgetter(path)(cfg) == pytest.approx(value)
    assert cfg.ensemble.version == ensemble.version
