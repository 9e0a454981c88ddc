"""One run: validate the configuration, build the model, simulate, write the outputs.

:func:`run_simulation` is a plain function of a configuration and an output directory, used by
the Hydra command line (:mod:`sim.cli`), the Python API (:mod:`sim.api`), the sweeps and the
tests alike.

Writing into a run directory follows the rules of :mod:`sim.store` (docs/SWEEPS.md): the run
holds the directory's lock from the first look to the manifest; a complete run of the same
configuration, seed and model code is skipped; any other earlier run (another configuration,
another model code, damaged files) is moved to ``superseded/`` before anything is written;
temporary files of a killed run are removed; a failure writes ``error.json``, a success removes
it before the manifest, which is written last. A refused configuration touches nothing.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import os
import socket
import sys
import time
import traceback
import uuid
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sim import store
from sim.config import Config, to_config
from sim.figures import RunFigures
from sim.store import SUPERSEDED, JobLocked

log = logging.getLogger("sim")

OUTPUT_TABLES = ("timeseries.parquet", "collectivites.parquet", "staff_summary.parquet")


class RunResult:
    """The outcome of a run: its tables (read from its directory on first use when the run
    was skipped), its manifest, the model if asked for (``keep_model=True``)."""

    def __init__(self, manifest: dict, *, tables=None, directory=None, model=None, skipped: bool = False):
        self.manifest = manifest
        self.model = model
        self.skipped = skipped
        self.directory = Path(directory) if directory is not None else None
        self._tables = dict(tables or {})

    def _table(self, name: str):
        if name not in self._tables:
            import pandas as pd

            if self.directory is None:
                raise ValueError(f"no {name} table: the run kept no tables and wrote no directory")
            self._tables[name] = pd.read_parquet(self.directory / f"{name}.parquet")
        return self._tables[name]

    @property
    def timeseries(self):
        return self._table("timeseries")

    @property
    def collectivites(self):
        return self._table("collectivites")

    @property
    def staff_summary(self):
        return self._table("staff_summary")

    def __repr__(self) -> str:
        where = f" in {self.directory}" if self.directory else ""
        return f"RunResult(seed={self.manifest.get('seed')}{where}{', skipped' if self.skipped else ''})"


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


#: Environment variable for fault injection in tests of sweep robustness: a comma-separated
#: list of seeds whose runs raise an error (e.g. ``SIM_INJECT_FAILURE=1,4``). Unset in normal use.
INJECT_FAILURE_ENV = "SIM_INJECT_FAILURE"


class InjectedFailure(RuntimeError):
    """Raised for the seeds listed in ``SIM_INJECT_FAILURE`` (tests of sweep robustness)."""


def _inject_failure(seed: int) -> None:
    listed = os.environ.get(INJECT_FAILURE_ENV, "")
    if listed and str(seed) in {s.strip() for s in listed.split(",")}:
        raise InjectedFailure(f"failure injected for seed {seed} ({INJECT_FAILURE_ENV}={listed})")


def set_aside_different_run(out_dir: Path, expected_hash: str, code_hash: str | None = None) -> Path | None:
    """Move an earlier run that is not a complete run of ``expected_hash`` (and of the model
    code ``code_hash``, by default the current one) to ``superseded/``; return where it went."""
    from sim.provenance import code_hash as current_code

    state, old = store.run_state(Path(out_dir), expected_hash, code_hash or current_code())
    if state != "other":
        return None
    return store.set_aside(Path(out_dir), old.get("_reason", ""))


_freeing: list[bool] = []
#: Allocations between two collections of the youngest generation during a run (Python's default
#: is 2,000): a default-territory run then spends about 0.08 s in the garbage collector instead
#: of 0.13-0.16 s, and the garbage a run makes between two collections stays bounded.
YOUNG_THRESHOLD = 20_000


@contextmanager
def freed_on_exit():
    """Free what a run made when it ends. The model and its agents refer to each other, so
    only the garbage collector frees them, at its next full collection: a sweep would hold
    several finished models (issue 12). A full collection looks at every object of the process
    (about 0.1 s with numpy, pandas, Mesa and Hydra imported), so the objects that exist before
    the run are set aside for it (``gc.freeze``) and put back after (``gc.unfreeze``): the
    collection looks only at what the run made. Nested uses collect once, at the outermost exit
    (a sweep's job wraps its configuration objects and its run). During the run, the youngest
    generation is collected less often (:data:`YOUNG_THRESHOLD`)."""
    if _freeing:  # nested (a sweep's job around its run): the outermost one collects
        yield
        return
    _freeing.append(True)
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.collect()
        gc.unfreeze()
        _freeing.pop()


def _simulate(cfg: Config, writing: bool, timings: dict, run_figures: RunFigures | None = None):
    """Build and run the model, then make its tables. ``run_figures``
    (:class:`sim.figures.RunFigures`) is told when the model is built and when the tables the
    figures need exist (before the staff summary, the slowest to make)."""
    from sim import io
    from sim.model import TransitionModel

    t0 = time.perf_counter()
    model = TransitionModel(cfg)
    timings["build_s"] = time.perf_counter() - t0
    if run_figures is not None:
        run_figures.model_built(model)
    log.info(
        "built %s territory: %d collectivités, %d staff agents in %.1fs",
        cfg.territory.kind,
        model.colls.n,
        len(model.staff.active_rows()),
        timings["build_s"],
    )
    t1 = time.perf_counter()
    model.run(progress=Progress(cfg.simulation.progress))
    timings["run_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    tables = {"timeseries": io.timeseries_table(model), "collectivites": io.collectivites_table(model)}
    if run_figures is not None:
        run_figures.tables_ready(tables["timeseries"], tables["collectivites"])
    tables["staff_summary"] = io.staff_summary_table(model)
    if writing and cfg.simulation.staff_table:
        tables["staff"] = io.staff_table(model, cfg.simulation.staff_sample)
    timings["tables_s"] = time.perf_counter() - t2
    return model, tables


def run_simulation(
    cfg: Config,
    out_dir: Path | None = None,
    *,
    overrides: list[str] = (),
    keep_model: bool = False,
    skip_complete: bool = True,
    figures: bool | None = None,
    record_errors: bool = True,
) -> RunResult:
    """Run one configuration; write its outputs into ``out_dir`` when given.

    ``figures`` overrides ``simulation.figures`` (the command line turns figures off in sweeps).
    With ``out_dir``: raises :class:`sim.store.JobLocked` at once if another process is writing
    it, skips a complete run of the same configuration and model code (``skip_complete``), and
    on failure records ``error.json`` there (``record_errors``) before raising.
    """
    t_start = time.perf_counter()
    cfg = to_config(cfg)  # a refused configuration raises here, before anything is touched
    cdict = config_dict(cfg)
    chash = store.config_hash(cdict)
    timings: dict[str, float] = {}
    if out_dir is None:
        _inject_failure(cfg.seed)
        with freed_on_exit():
            model, tables = _simulate(cfg, False, timings)
            manifest = {"config": cdict, "seed": cfg.seed, "config_hash": chash, "timings": timings}
            result = RunResult(manifest, tables=tables, model=model if keep_model else None)
            del model
        return result

    from sim.provenance import provenance

    out = Path(out_dir)
    prov = provenance()
    run_id = uuid.uuid4().hex
    with freed_on_exit():
        with store.job_lock(out) as lock_fd:
            store.clean_stale_tmp(out)
            state, old = store.run_state(out, chash, prov["code_hash"])
            if state == "complete" and skip_complete:
                log.info("complete outputs already in %s (same configuration, seed and model code): skipped", out)
                store.remove_error(out)
                return RunResult(old, directory=out, skipped=True)
            try:
                if state != "absent":
                    store.set_aside(out, (old or {}).get("_reason", "a run being redone"))
                _inject_failure(cfg.seed)
                want_figures = cfg.simulation.figures if figures is None else figures
                run_figures = RunFigures(out, f"({cfg.scenario_name})", lock_fd) if want_figures else None
                with run_figures or nullcontext():
                    model, tables = _simulate(cfg, True, timings, run_figures)
                    t_write = time.perf_counter()
                    files = {
                        name: store.write_parquet(tables[name.removesuffix(".parquet")], out / name)
                        for name in OUTPUT_TABLES
                    }
                    if "staff" in tables:
                        files["staff.parquet"] = store.write_parquet(tables["staff"], out / "staff.parquet")
                    if run_figures is not None:
                        files.update(run_figures.finish(tables["timeseries"], tables["collectivites"]))
                store.remove_error(out)
                timings["write_s"] = time.perf_counter() - t_write
                manifest = store.write_manifest(
                    out,
                    {
                        "run_id": run_id,
                        "seed": cfg.seed,
                        "config": cdict,
                        "config_hash": chash,
                        "overrides": list(overrides),
                        "wall_time_s": round(time.perf_counter() - t_start, 3),
                        "timings": {k: round(v, 4) for k, v in timings.items()},
                        "n_steps": model.n_steps,
                        "host": socket.gethostname(),
                        "files": files,
                        **prov,
                    },
                )
            except Exception as exc:
                if record_errors:
                    _record(out, exc, overrides, run_id)
                raise
        result = RunResult(manifest, tables=tables, directory=out, model=model if keep_model else None)
        del model
    return result


def _error_payload(exc: BaseException, overrides, run_id: str | None = None) -> dict:
    from sim.provenance import code_hash, git_info

    return {
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": "".join(traceback.format_exception(exc)),
        "overrides": list(overrides),
        "run_id": run_id or uuid.uuid4().hex,
        "host": socket.gethostname(),
        "code_hash": code_hash(),
        "git_commit": git_info()["git_commit"],
    }


def _record(out: Path, exc: BaseException, overrides, run_id: str | None = None) -> None:
    try:
        store.record_error(out, _error_payload(exc, overrides, run_id))
    except Exception:
        log.exception("could not record the failure in %s", out)


def record_failure(out_dir: Path, exc: BaseException, overrides: list[str] = ()) -> bool:
    """Write error.json for a run that failed before it could take its directory's lock (never
    raises). Returns False, writing nothing, if another process holds the lock."""
    try:
        with store.job_lock(Path(out_dir)):
            _record(Path(out_dir), exc, overrides)
        return True
    except JobLocked:
        return False
    except Exception:
        log.exception("could not record the failure in %s", out_dir)
        return False


__all__ = [
    "INJECT_FAILURE_ENV",
    "SUPERSEDED",
    "InjectedFailure",
    "JobLocked",
    "RunResult",
    "config_dict",
    "record_failure",
    "run_simulation",
    "set_aside_different_run",
]
