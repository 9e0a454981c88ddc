"""One run: validate the configuration, build the model, simulate, write the outputs.

:func:`run_simulation` is a plain function of a configuration and an output directory, used by
the Hydra command line (:mod:`sim.cli`), the Python API (:mod:`sim.api`), the sweeps and the
tests alike. Failures are recorded in ``error.json`` by the caller that asks for it.

Relaunching into the same directory is safe: a run whose complete outputs are there for the
same configuration and seed is skipped; a complete run of a different configuration is moved
to ``superseded/`` before the new one is written (never overwritten); incomplete leftovers of
an interrupted run and the ``error.json`` of a failed one are replaced.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import io
from sim.config import Config, to_config
from sim.model import TransitionModel

log = logging.getLogger("sim")


@dataclass
class RunResult:
    timeseries: pd.DataFrame
    collectivites: pd.DataFrame
    staff_summary: pd.DataFrame
    manifest: dict
    model: TransitionModel | None = None
    skipped: bool = False


class Progress:
    """Progress on stderr: a bar on a terminal, a log line every 10 % otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.start = time.perf_counter()
        self.last_decile = -1

    def __call__(self, step: int, n_steps: int, model) -> None:
        if not self.enabled:
            return
        frac = step / n_steps
        elapsed = time.perf_counter() - self.start
        eta = elapsed / max(frac, 1e-9) * (1 - frac)
        msg = f"step {step}/{n_steps} (year {model.year:.2f}) elapsed {elapsed:.1f}s, eta {eta:.1f}s"
        if self.tty:
            bar = "#" * int(30 * frac)
            sys.stderr.write(f"\r[{bar:<30}] {msg}")
            if step == n_steps:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif int(frac * 10) > self.last_decile:
            self.last_decile = int(frac * 10)
            log.info(msg)


def config_dict(cfg: Config) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


#: Subdirectory of a run directory where the files of an earlier, different run are kept.
SUPERSEDED = "superseded"

#: Environment variable for fault injection in tests of sweep robustness: a comma-separated
#: list of seeds whose runs raise an error (e.g. ``SIM_INJECT_FAILURE=1,4``). Unset in normal use.
INJECT_FAILURE_ENV = "SIM_INJECT_FAILURE"


class InjectedFailure(RuntimeError):
    """Raised for the seeds listed in ``SIM_INJECT_FAILURE`` (tests of sweep robustness)."""


def _inject_failure(seed: int) -> None:
    listed = os.environ.get(INJECT_FAILURE_ENV, "")
    if listed and str(seed) in {s.strip() for s in listed.split(",")}:
        raise InjectedFailure(f"failure injected for seed {seed} ({INJECT_FAILURE_ENV}={listed})")


def set_aside_different_run(out_dir: Path, expected_hash: str) -> Path | None:
    """Move the files of a complete run made with another configuration out of the way.

    A relaunch must never overwrite a complete run of a *different* configuration (e.g. after
    a change of defaults, or two sweeps sharing a directory). Its manifest and every file it
    lists are moved, with their names, to ``superseded/<created>_<hash12>/`` inside the run
    directory, where they stay a complete, checkable run. Returns that directory, or None
    when there was nothing to move (no complete manifest, or the same configuration).
    """
    out = Path(out_dir)
    old = io.read_manifest(out)
    if not old or old.get("status") != "complete" or old.get("config_hash") == expected_hash:
        return None
    stamp = str(old.get("created_utc", "unknown")).replace(":", "").replace("+0000", "Z")
    dest = out / SUPERSEDED / f"{stamp}_{str(old.get('config_hash', ''))[:12]}"
    n = 1
    while dest.exists():
        dest = dest.with_name(f"{dest.name.split('~')[0]}~{n}")
        n += 1
    for name in [*old.get("files", {}), io.MANIFEST]:  # the manifest last: moved only if all moved
        src = out / name
        if src.exists():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(src, dest / name)
    log.warning(
        "%s held a complete run of another configuration (hash %s): moved to %s",
        out,
        str(old.get("config_hash"))[:12],
        dest,
    )
    return dest


def run_simulation(
    cfg: Config,
    out_dir: Path | None = None,
    *,
    overrides: list[str] = (),
    keep_model: bool = False,
    skip_complete: bool = True,
) -> RunResult:
    """Run one configuration; write its outputs into ``out_dir`` when given."""
    cfg = to_config(cfg)
    cdict = config_dict(cfg)
    if out_dir is not None and skip_complete and io.is_complete(out_dir, io.config_hash(cdict)):
        log.info("complete outputs already in %s (same config and seed): skipped", out_dir)
        out = Path(out_dir)
        return RunResult(
            pd.read_parquet(out / "timeseries.parquet"),
            pd.read_parquet(out / "collectivites.parquet"),
            pd.read_parquet(out / "staff_summary.parquet"),
            io.read_manifest(out),
            skipped=True,
        )
    if out_dir is not None:
        set_aside_different_run(Path(out_dir), io.config_hash(cdict))
    _inject_failure(cfg.seed)
    t0 = time.perf_counter()
    model = TransitionModel(cfg)
    log.info(
        "built %s territory: %d collectivités, %d staff agents in %.1fs",
        cfg.territory.kind,
        model.colls.n,
        len(model.staff.active_rows()),
        time.perf_counter() - t0,
    )
    model.run(progress=Progress(cfg.simulation.progress))
    ts = io.timeseries_table(model)
    colls = io.collectivites_table(model)
    staff = io.staff_summary_table(model)
    manifest = {"config": cdict, "seed": cfg.seed, "config_hash": io.config_hash(cdict)}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        err = out / io.ERROR
        if err.exists():
            err.unlink()
        files = ["timeseries.parquet", "collectivites.parquet", "staff_summary.parquet"]
        io.write_parquet(ts, out / files[0])
        io.write_parquet(colls, out / files[1])
        io.write_parquet(staff, out / files[2])
        if cfg.simulation.staff_table:
            io.write_parquet(io.staff_table(model, cfg.simulation.staff_sample), out / "staff.parquet")
            files.append("staff.parquet")
        if cfg.simulation.figures:
            from sim.figures import write_figures

            files += write_figures(ts, colls, out, title=f"({cfg.scenario_name})")
        manifest = io.write_manifest(
            out,
            config=cdict,
            overrides=list(overrides),
            seed=cfg.seed,
            wall_time_s=time.perf_counter() - t0,
            n_steps=model.n_steps,
            files=files,
        )
    return RunResult(ts, colls, staff, manifest, model if keep_model else None)


def record_failure(out_dir: Path, exc: BaseException, overrides: list[str] = ()) -> None:
    """Write error.json for a failed run (never raises)."""
    try:
        io.write_json(
            {
                "status": "failed",
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(),
                "overrides": list(overrides),
            },
            Path(out_dir) / io.ERROR,
        )
    except Exception:
        log.exception("could not record the failure in %s", out_dir)
