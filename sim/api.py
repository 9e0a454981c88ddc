"""Python API: compose a configuration like the command line does, and run it.

from sim.api import compose_config, run
cfg = compose_config(["territory=small", "scenario=mediation", "seed=3"])
result = run(cfg)                  # in memory
result = run(cfg, out_dir="out")   # also writes the run's files
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from sim.config import Config, register_configs, to_config
from sim.run import RunResult, run_simulation


def _conf_dir() -> Path:
    """The Hydra configs: ``sim/conf`` in an installed wheel (conf/ is shipped as package data,
    pyproject.toml), ``conf/`` at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "conf", here.parent / "conf"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"no Hydra configs (config.yaml) in {here / 'conf'} or {here.parent / 'conf'}")


CONF_DIR = _conf_dir()


def _plugins_on_path() -> None:
    """Make the project's Hydra plugins (hydra_plugins/sim_sweeps, the default sweeper and
    launcher) findable from a source checkout. Hydra finds plugins by listing the
    ``hydra_plugins`` namespace package along ``sys.path``; an editable install made by a recent
    setuptools imports the project through an import hook that such a listing does not see.
    Installed from a wheel, the plugins are in site-packages and this does nothing."""
    root = Path(__file__).resolve().parent.parent
    if (root / "hydra_plugins" / "sim_sweeps").is_dir() and str(root) not in sys.path:
        sys.path.append(str(root))


_plugins_on_path()


def compose_config(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose ``conf/`` with Hydra's compose API (same overrides as the command line)."""
    register_configs()
    if GlobalHydra.instance().is_initialized():
        return compose(config_name=config_name, overrides=list(overrides))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides))


def run(
    cfg: DictConfig | Config,
    out_dir: str | Path | None = None,
    *,
    overrides: Sequence[str] = (),
    keep_model: bool = False,
) -> RunResult:
    """Validate and run one configuration; write its files into ``out_dir`` when given (with
    the rules of a run directory: lock, skip when complete, error.json; docs/SWEEPS.md)."""
    config = to_config(cfg)
    return run_simulation(
        config, Path(out_dir) if out_dir is not None else None, overrides=list(overrides), keep_model=keep_model
    )


__all__ = ["CONF_DIR", "RunResult", "compose_config", "run"]
