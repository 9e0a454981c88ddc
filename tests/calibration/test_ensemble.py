"""Runs draw their uncertain parameters from a saved ensemble, before validation, and record them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sim.api import compose_config, run
from sim.config import ConfigError, to_config
from sim.ensemble import load_ensemble, manifest_path, write_ensemble


@pytest.fixture
def ensemble(tmp_path):
    table = pd.DataFrame({"staff.training_effect": [0.1, 0.3], "territory.n_communes": [40.0, 50.0], "wave": [1, 2]})
    path = tmp_path / "ens.parquet"
    man = write_ensemble(table, path, {"note": "test"})
    return path, man


def test_write_and_load_keep_values_members_and_version(ensemble):
    path, man = ensemble
    ens = load_ensemble(path)
    assert len(ens) == 2 and ens.version == man["version"]
    assert ens.values(1) == {"staff.training_effect": 0.3, "territory.n_communes": 50.0}
    assert list(ens.meta.columns) == ["member", "wave"]
    saved = json.loads(manifest_path(path).read_text())
    assert saved["n_members"] == 2 and saved["parameters"] == ["staff.training_effect", "territory.n_communes"]


def test_member_values_replace_the_configuration_and_are_recorded(ensemble, tmp_path):
    path, man = ensemble
    cfg = compose_config(
        [
            f"ensemble.path={path}",
            "ensemble.member=1",
            "simulation.years=1",
            "simulation.progress=false",
            "simulation.figures=false",
        ]
    )
    result = run(cfg, out_dir=tmp_path / "run")
    assert result.model is None
    recorded = json.loads((tmp_path / "run" / "manifest.json").read_text())["config"]
    assert recorded["staff"]["training_effect"] == 0.3
    assert recorded["territory"]["n_communes"] == 50 and isinstance(recorded["territory"]["n_communes"], int)
    assert recorded["ensemble"] == {"path": str(path), "member": 1, "version": man["version"]}
    other = to_config(compose_config([f"ensemble.path={path}", "ensemble.member=0"]))
    assert other.staff.training_effect == 0.1 and other.territory.n_communes == 40


def test_bad_ensembles_and_members_are_refused(ensemble, tmp_path):
    path, _ = ensemble
    with pytest.raises(ConfigError, match="out of range"):
        to_config(compose_config([f"ensemble.path={path}", "ensemble.member=2"]))
    with pytest.raises(ConfigError, match="no such file"):
        to_config(compose_config([f"ensemble.path={tmp_path / 'none.parquet'}"]))
    with pytest.raises(ConfigError, match="file changed"):
        to_config(compose_config([f"ensemble.path={path}", "ensemble.version=other"]))
    with pytest.raises(ConfigError, match="not a parameter"):
        write_ensemble(pd.DataFrame({"staff.no_such_thing": [1.0]}), tmp_path / "bad.parquet")
    # a value outside its range fails validation like any other value
    write_ensemble(pd.DataFrame({"staff.training_effect": [2.0]}), tmp_path / "out.parquet")
    with pytest.raises(ConfigError, match="above its maximum"):
        to_config(compose_config([f"ensemble.path={tmp_path / 'out.parquet'}"]))
    # a file changed after its manifest was written is refused
    pd.DataFrame({"member": [0], "staff.training_effect": [0.2]}).to_parquet(path)
    with pytest.raises(ConfigError, match="does not match its manifest"):
        to_config(compose_config([f"ensemble.path={path}"]))


def test_no_ensemble_leaves_the_configuration_alone():
    a = to_config(compose_config([]))
    assert a.ensemble.path == "" and a.ensemble.version == ""
    assert a.staff.training_effect == 0.15
