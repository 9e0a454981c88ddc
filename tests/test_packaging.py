"""Packaging: the wheel's package list covers the source tree and ships conf/ (the full check,
building and installing the wheel and running it elsewhere, is scripts/check-wheel.sh, run by
CI), and the Hydra plugins are found by Hydra."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_of_the_tree_is_in_the_wheel():
    tree = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("sim", "analysis", "hydra_plugins")
        for p in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    listed = set(_setuptools()["packages"])
    assert tree | {"sim.conf"} == listed


def test_conf_ships_inside_the_package():
    st = _setuptools()
    assert st["package-dir"] == {"sim.conf": "conf"}
    assert st["package-data"]["sim.conf"] == ["**/*.yaml"]
    assert st["package-data"]["sim"] == ["data/*.yaml"]  # calibration targets (sim/data/)
    assert (ROOT / "conf" / "config.yaml").is_file() and not (ROOT / "sim" / "conf").exists()


def test_hydra_finds_the_project_plugins():
    from hydra.core.plugins import Plugins
    from hydra.plugins.launcher import Launcher
    from hydra.plugins.sweeper import Sweeper

    import sim.cli  # noqa: F401 (puts the plugins of a source checkout on the path)

    names = {f"{c.__module__}.{c.__name__}" for c in Plugins.instance().discover(Sweeper)}
    names |= {f"{c.__module__}.{c.__name__}" for c in Plugins.instance().discover(Launcher)}
    assert "hydra_plugins.sim_sweeps.sweeper.SimSweeper" in names
    assert "hydra_plugins.sim_sweeps.launcher.SimLauncher" in names
