"""Command line: ``python -m sim [overrides]`` runs one configuration with Hydra.

Hydra composes ``conf/config.yaml`` with the overrides, rejects unknown keys and wrong types
(structured configs); :func:`sim.config.to_config` then checks ranges and choices before any
simulation runs. ``-m`` sweeps over parameters, scenarios and seeds; a job that fails records
``error.json`` in its directory and the sweep goes on; a job whose complete outputs already
exist for the same configuration and seed is skipped.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.api import CONF_DIR
from sim.config import ConfigError, register_configs, to_config
from sim.run import record_failure, run_simulation

log = logging.getLogger("sim")
register_configs()


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> float | None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    multirun = hc.mode == RunMode.MULTIRUN
    try:
        config = to_config(cfg)
    except ConfigError as exc:
        if multirun:
            log.error("%s", exc)
            record_failure(out_dir, exc, overrides)
            return None
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    try:
        result = run_simulation(config, out_dir, overrides=overrides)
    except Exception as exc:
        log.exception("run failed (overrides: %s)", overrides)
        record_failure(out_dir, exc, overrides)
        if multirun:
            return None
        raise
    final = result.timeseries.query("stratum_kind == 'all' and metric == 'maturity_mean'")["value"].iloc[-1]
    log.info("outputs written to %s", out_dir)
    if not multirun:
        print(f"Outputs written to {out_dir}")
        for name in sorted(result.manifest.get("files", {})):
            print(f"  {out_dir / name}")
    return float(final)


if __name__ == "__main__":
    main()
