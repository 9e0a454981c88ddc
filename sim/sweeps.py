"""Sweeps: composing, validating, running and reporting the jobs of a Hydra multirun.

The Hydra plugins of ``hydra_plugins/sim_sweeps`` (the ``sim`` sweeper and the ``sim``,
``sim_slurm`` and ``sim_submitit_local`` launchers) are thin shells around this module
(docs/SWEEPS.md):

- :class:`JobComposer` composes each job's configuration like Hydra's config loader, but once
  per distinct choice of config groups (scenario, territory...): the other overrides are then
  applied to a copy, which takes milliseconds instead of the ~0.15 s of a full composition;
- :func:`validate_jobs` checks every job of a sweep before the first one runs;
- :func:`run_jobs` runs a batch of jobs in one process (a worker, an array task or the
  launching process), each into its own directory as Hydra's ``run_job`` does, without its deep
  copies (:func:`run_job_lean`);
- :func:`run_in_workers` runs batches in worker processes started from a forkserver;
- :func:`summarize` turns the jobs' returns into the summary table and the exit status;
- :func:`watch_parent` makes a worker exit when the process that launched it dies.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import pickle
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hydra.core.utils import JobReturn, JobStatus
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

log = logging.getLogger("sim")

#: Environment variable set by the sweeper for the processes it starts: "<host>:<pid>" of the
#: launching process. A job running in another process of the same host (a joblib or
#: submitit-local worker) exits when that process dies (:func:`watch_parent`).
PARENT_ENV = "SIM_SWEEP_PARENT"
#: Exit status of a worker whose launching process died.
EXIT_ORPHANED = 75


class JobFailed(RuntimeError):
    """A job of a sweep failed; the message is the cause in one line (error.json has the rest)."""


class SweepRefused(RuntimeError):
    """Some jobs of a sweep have invalid values: nothing was run."""


class SweepFailed(RuntimeError):
    """Some jobs of a sweep failed: the message is the summary table."""


# ------------------------------------------------------------------------------ composing
class JobComposer:
    """Compose the configurations of a sweep's jobs as Hydra's ``load_sweep_config`` does.

    Hydra composes each job from scratch (defaults list, YAML files, merges): about 0.15 s. A
    job's configuration depends on its config-group choices (``scenario=...``) through the
    defaults list and on its other overrides (``seed=3``, ``training.budget_eur_per_staff=50``)
    applied afterwards, in order (Hydra's ``Overrides.config_overrides``). This class composes
    once per distinct set of group overrides and applies the others to a copy, with Hydra's own
    function, then sets the job's ``hydra.overrides.task`` and ``hydra.job.override_dirname``
    the way Hydra does. Jobs with overrides of ``hydra.*`` are composed by Hydra directly.
    """

    def __init__(self, config_loader, master_config: DictConfig):
        from hydra.core.override_parser.overrides_parser import OverridesParser

        self.loader = config_loader
        self.master = master_config
        self.parser = OverridesParser.create(config_loader=config_loader)
        self._bases: dict[tuple[str, ...], bytes] = {}
        self._tasks: dict[tuple[str, ...], bytes] = {}
        self._repo = None

    def _repository(self):
        if self._repo is None:
            hydra_overrides = list(OmegaConf.to_container(self.master.hydra.overrides.hydra))
            _, self._repo = self.loader._parse_overrides_and_create_caching_repo(
                self.master.hydra.job.config_name, hydra_overrides
            )
        return self._repo

    def compose_task(self, overrides: Sequence[str]) -> DictConfig:
        """The job's configuration without its ``hydra`` node (what the task function gets):
        cheaper than :meth:`compose`, for validating every job of a sweep."""
        from hydra._internal.config_loader_impl import ConfigLoaderImpl

        split = self._split(overrides)
        if split is None:
            return task_config(self.full(overrides))
        key, values = split
        if key not in self._tasks:
            self._tasks[key] = _dumps(task_config(self._base(key)))
        cfg = pickle.loads(self._tasks[key])
        if values:
            ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        return cfg

    def _split(self, overrides: Sequence[str]):
        """(group overrides, other overrides), or None if Hydra must compose the job itself."""
        parsed = self.parser.parse_overrides(list(overrides))
        repo = self._repository()
        groups, values = [], []
        for o in parsed:
            if o.is_sweep_override() or o.is_hydra_override():
                return None
            if isinstance(o.value(), dict) or not repo.group_exists(o.key_or_group):
                values.append(o)
            else:
                groups.append(o.input_line)
        return tuple(groups), values

    def _base(self, key: tuple[str, ...]) -> DictConfig:
        """A fresh copy of the composition of these group overrides (composed once, kept
        pickled: unpickling copies an OmegaConf config 3 times faster than deepcopy)."""
        if key not in self._bases:
            self._bases[key] = _dumps(self.full(list(key)))
        return pickle.loads(self._bases[key])

    def full(self, overrides: Sequence[str]) -> DictConfig:
        return self.loader.load_sweep_config(self.master, list(overrides))

    def compose(self, overrides: Sequence[str]) -> DictConfig:
        from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname

        split = self._split(overrides)
        if split is None:
            return self.full(overrides)
        key, values = split
        cfg = self._base(key)
        if values:
            ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        parsed = self.parser.parse_overrides(list(overrides))
        job = cfg.hydra.job
        cfg.hydra.overrides.task = [o.input_line for o in parsed]
        job.override_dirname = get_overrides_dirname(
            overrides=parsed,
            kv_sep=job.config.override_dirname.kv_sep,
            item_sep=job.config.override_dirname.item_sep,
            exclude_keys=job.config.override_dirname.exclude_keys,
        )
        OmegaConf.copy_cache(from_config=self.master, to_config=cfg)
        return cfg


_COMPOSERS: dict[str, JobComposer] = {}


def composer_for(token: str, config_loader, master_config: DictConfig) -> JobComposer:
    """One composer per sweep and process (its cache of compositions lives as long)."""
    if token not in _COMPOSERS:
        _COMPOSERS.clear()
        _COMPOSERS[token] = JobComposer(config_loader, master_config)
    return _COMPOSERS[token]


def task_config(job_cfg: DictConfig) -> DictConfig:
    """The job's configuration without the ``hydra`` node (what the task function receives)."""
    cfg = copy.deepcopy(job_cfg)
    with read_write(cfg), open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg


# ------------------------------------------------------------------------------ validating
def _problems(exc: BaseException) -> list[str]:
    from sim.config import ConfigError

    text = str(exc)
    if isinstance(exc, ConfigError):
        return [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- ")] or [text]
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return [f"{type(exc).__name__}: {first}"]


def _seed_line(override: str) -> bool:
    return override.split("=", 1)[0].lstrip("+") == "seed"


def validate_jobs(composer: JobComposer, jobs: Sequence[Sequence[str]], progress_every: float = 10.0) -> str | None:
    """Compose and validate every job; return None if all are valid, else a message that lists
    each distinct problem once with the number of jobs it concerns and one of them.

    The seed is checked apart (no rule relates it to another parameter): the jobs that differ
    only by their seed are checked once, and each seed value once. A sweep over 30 seeds costs
    as many checks as one over a single seed, plus 30 quick ones.
    """
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from sim.config import ConfigError, to_config

    by_rest: dict[tuple[str, ...], list[int]] = {}
    by_seed: dict[str, list[int]] = {}
    for i, overrides in enumerate(jobs):
        by_rest.setdefault(tuple(o for o in overrides if not _seed_line(o)), []).append(i)
        for o in overrides:
            if _seed_line(o):
                by_seed.setdefault(o, []).append(i)
    checks = [(list(rest), idx) for rest, idx in by_rest.items()]
    checks += [([seed], idx) for seed, idx in by_seed.items()]  # each seed on the defaults

    problems: dict[str, set[int]] = {}
    t0 = last = time.perf_counter()
    for n, (overrides, idx) in enumerate(checks):
        try:
            to_config(composer.compose_task(overrides))
        except (ConfigError, HydraException, OmegaConfBaseException, ValueError, TypeError, KeyError) as exc:
            for p in _problems(exc):
                problems.setdefault(p, set()).update(idx)
        now = time.perf_counter()
        if now - last > progress_every:
            last = now
            log.info("checked %d of %d job configurations (%.0f s)", n + 1, len(checks), now - t0)
    log.debug("validated %d jobs (%d checks) in %.2f s", len(jobs), len(checks), time.perf_counter() - t0)
    if not problems:
        return None
    bad = set().union(*problems.values())
    lines = [f"the sweep was not started: {len(bad)} of {len(jobs)} jobs have invalid values"]
    for problem, idx in problems.items():
        lines.append(f"  - {problem}")
        lines.append(f"      {len(idx)} job(s), e.g. {','.join(jobs[min(idx)]) or '(no override)'}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ running
def _slim(ret: JobReturn) -> JobReturn:
    """A job's return without its configurations (sent back between processes)."""
    value = ret._return_value
    if ret.status == JobStatus.FAILED and not isinstance(value, JobFailed):
        value = JobFailed(f"{type(value).__name__}: {value}")
    return JobReturn(
        overrides=list(ret.overrides or []),
        working_dir=ret.working_dir,
        task_name=ret.task_name,
        status=ret.status,
        _return_value=value,
    )


def failed_return(overrides: Sequence[str], message: str) -> JobReturn:
    return JobReturn(overrides=list(overrides), status=JobStatus.FAILED, _return_value=JobFailed(message))


def run_job_lean(hydra_context, task_function, config: DictConfig, task_cfg: DictConfig) -> JobReturn:
    """Hydra's ``run_job`` (hydra/core/utils.py, Hydra 1.3) for a job of a sweep, without its
    two deep copies: ``config`` and ``task_cfg`` (the same configuration without its ``hydra``
    node, :meth:`JobComposer.compose_task`) are fresh objects made for this job. Same output
    directory, ``.hydra/`` files, job log, environment, callbacks and return; ``hydra.job.chdir``
    is honoured."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import JobRuntime, _flush_loggers, _save_config, configure_log, env_override

    callbacks = hydra_context.callbacks
    old_cwd = os.getcwd()
    orig_hydra_cfg = HydraConfig.instance().cfg
    HydraConfig.instance().set_config(config)  # for the evaluation of the output directory
    output_dir = os.path.join(str(OmegaConf.select(config, "hydra.sweep.dir")), str(config.hydra.sweep.subdir))
    with read_write(config.hydra.runtime), open_dict(config.hydra.runtime):
        config.hydra.runtime.output_dir = os.path.abspath(output_dir)
    HydraConfig.instance().set_config(config)
    chdir = False
    try:
        hydra_cfg = HydraConfig.instance().cfg  # a copy of config's hydra node, made for this job
        ret = JobReturn(cfg=task_cfg, hydra_cfg=hydra_cfg)
        ret.overrides = OmegaConf.to_container(config.hydra.overrides.task)
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        chdir = bool(hydra_cfg.hydra.job.chdir)
        if chdir:
            os.chdir(output_dir)
            ret.working_dir = output_dir
        else:
            ret.working_dir = os.getcwd()
        configure_log(config.hydra.job_logging, config.hydra.verbose)
        if config.hydra.output_subdir is not None:
            hydra_output = Path(config.hydra.runtime.output_dir) / Path(config.hydra.output_subdir)
            _save_config(task_cfg, "config.yaml", hydra_output)
            _save_config(hydra_cfg, "hydra.yaml", hydra_output)
            _save_config(config.hydra.overrides.task, "overrides.yaml", hydra_output)
        with env_override(hydra_cfg.hydra.job.env_set):
            callbacks.on_job_start(config=config, task_function=task_function)
            try:
                ret.return_value = task_function(task_cfg)
                ret.status = JobStatus.COMPLETED
            except Exception as e:  # noqa: BLE001 (as in Hydra: the failure is the job's return)
                ret.return_value = e
                ret.status = JobStatus.FAILED
        ret.task_name = JobRuntime.instance().get("name")
        _flush_loggers()
        callbacks.on_job_end(config=config, job_return=ret)
        return ret
    finally:
        HydraConfig.instance().cfg = orig_hydra_cfg
        if chdir:
            os.chdir(old_cwd)


def run_jobs(
    hydra_context,
    master_config: DictConfig,
    task_function,
    jobs: Sequence[tuple[int, Sequence[str]]],
    token: str,
    on_done: Callable[[JobReturn], None] | None = None,
) -> list[JobReturn]:
    """Run jobs one after the other in this process, each like Hydra's ``run_job`` does (its
    own directory, ``.hydra/`` files and log; :func:`run_job_lean`), with compositions cached
    for the sweep."""
    from hydra.core.utils import setup_globals

    from sim.run import freed_on_exit

    setup_globals()
    composer = composer_for(token, hydra_context.config_loader, master_config)
    out: list[JobReturn] = []
    for idx, overrides in jobs:
        with freed_on_exit():  # the job's configurations and run, collected when it ends
            ret = _run_one(hydra_context, master_config, task_function, composer, idx, overrides)
        out.append(ret)
        if on_done is not None:
            on_done(ret)
    return out


def _run_one(hydra_context, master_config, task_function, composer, idx, overrides) -> JobReturn:
    from hydra.core.utils import configure_log

    try:
        cfg, task_cfg = composer.compose(overrides), composer.compose_task(overrides)
    except Exception as exc:  # validated up front: only if the configs changed meanwhile
        log.exception("composition of job %d failed", idx)
        return failed_return(overrides, f"composition failed: {type(exc).__name__}: {exc}")
    with open_dict(cfg):
        cfg.hydra.job.id = f"{cfg.hydra.job.name}_{idx}"
        cfg.hydra.job.num = idx
    ret = _slim(run_job_lean(hydra_context, task_function, cfg, task_cfg))
    configure_log(master_config.hydra.hydra_logging, master_config.hydra.verbose)
    return ret


class ProgressLog:
    """A line every 10 % of a sweep's jobs (and at least every 30 s): done, failed, ETA."""

    def __init__(self, total: int, every_s: float = 30.0):
        self.total, self.every_s = total, every_s
        self.done = self.failed = 0
        self.t0 = self.last = time.perf_counter()
        self.next_frac = 0.1

    def __call__(self, ret: JobReturn) -> None:
        self.done += 1
        self.failed += ret.status != JobStatus.COMPLETED
        now = time.perf_counter()
        if self.done / self.total >= self.next_frac or now - self.last > self.every_s or self.done == self.total:
            while self.done / self.total >= self.next_frac:
                self.next_frac += 0.1
            self.last = now
            elapsed = now - self.t0
            eta = elapsed / self.done * (self.total - self.done)
            log.info(
                "jobs done: %d/%d (%d failed), elapsed %.0f s, eta %.0f s",
                self.done,
                self.total,
                self.failed,
                elapsed,
                eta,
            )


def auto_batch_size(n_jobs: int, slots: int, per_slot: int = 1) -> int:
    """Jobs per batch so that ``slots`` workers get about ``per_slot`` batches each."""
    return max(1, math.ceil(n_jobs / max(1, slots * per_slot)))


def batches(job_overrides: Sequence[Sequence[str]], initial_job_idx: int, size: int) -> list[list[tuple[int, list]]]:
    jobs = [(initial_job_idx + i, list(o)) for i, o in enumerate(job_overrides)]
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


# ------------------------------------------------------------------------------ reporting
@dataclass
class Summary:
    total: int = 0
    complete: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def line(self) -> str:
        done = self.complete + self.skipped
        return (
            f"{self.total} jobs: {done} complete ({self.skipped} skipped: already complete), {len(self.failed)} failed"
        )

    def table(self, sweep_dir: Path | str, limit: int = 50) -> str:
        """The summary line and a table of the failed jobs: status, job directory, error."""
        lines = [self.line(), "", "  status  job (directory in the sweep)", "          error", "  ------  ---"]
        for job, err in self.failed[:limit]:
            lines += [f"  failed  {job}", f"          {err}"]
        if len(self.failed) > limit:
            lines.append(f"  ... and {len(self.failed) - limit} more")
        lines += [
            "",
            f"Each failed job's directory in {sweep_dir} holds error.json (the error and its traceback).",
            "Fix the cause and relaunch the same command: complete runs are skipped, failed ones redone.",
        ]
        return "\n".join(lines)


def summarize(returns: Sequence[JobReturn], exclude_keys: Sequence[str] = ()) -> Summary:
    s = Summary(total=len(returns))
    for r in returns:
        if r.status == JobStatus.COMPLETED:
            value = r._return_value
            if isinstance(value, dict) and value.get("status") == "skipped":
                s.skipped += 1
            else:
                s.complete += 1
            continue
        from sim.config import job_dir_name

        kept = sorted(o for o in (r.overrides or []) if o.split("=", 1)[0].lstrip("+~") not in exclude_keys)
        err = " ".join(str(r._return_value).split())
        s.failed.append((job_dir_name(",".join(kept)), err[:300]))
    return s


# ------------------------------------------------------------------------------ workers
_watching: list[int] = []


def _alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie, dead but not yet reaped, is not running)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        pass  # no /proc (macOS): ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch_parent(pid: int, interval: float = 0.5) -> None:
    """Exit this process (status 75) as soon as process ``pid``, which launched it, is gone or
    this process's own parent changes: a worker never outlives its sweep. Idempotent."""
    if _watching or pid == os.getpid():
        return
    _watching.append(pid)
    ppid = os.getppid()

    def loop():
        while True:
            time.sleep(interval)
            if os.getppid() != ppid or not _alive(pid):
                os._exit(EXIT_ORPHANED)

    threading.Thread(target=loop, name="sim-parent-watchdog", daemon=True).start()


def parent_stamp() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def watch_sweep_parent_from_env(workers_only: bool = False) -> None:
    """In a job run by another process of the same host than the sweep's (joblib, submitit
    local), start :func:`watch_parent`. Not under SLURM: an array goes on when the session
    that submitted it ends. ``workers_only``: only in a multiprocessing worker (a joblib worker
    importing the task function, before its first job), not in a process's main process."""
    if workers_only:
        import multiprocessing

        if multiprocessing.current_process().name == "MainProcess":
            return
    stamp = os.environ.get(PARENT_ENV, "")
    host, _, pid = stamp.rpartition(":")
    if not pid.isdigit() or host != socket.gethostname() or "SLURM_JOB_ID" in os.environ:
        return
    if int(pid) != os.getpid():
        watch_parent(int(pid))


# ------------------------------------------------------------------------------ local workers
_PAYLOADS: dict[str, tuple] = {}

#: Modules a new worker process imports before its first job (forkserver start: imported once,
#: in the server, and shared by every worker it forks).
PRELOAD = ("sim.cli", "sim.model", "sim.io", "sim.store", "pyarrow.parquet")


def _dumps(obj) -> bytes:
    try:
        import cloudpickle
    except ImportError:  # joblib (a dependency) vendors it
        from joblib.externals import cloudpickle
    return cloudpickle.dumps(obj)


def _worker_init(parent_pid: int, ready=None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the launching process's business
    watch_parent(parent_pid)
    if ready is not None:
        ready.release()


@contextlib.contextmanager
def _deferred_ctrl_c():
    """Hold a Ctrl-C (SIGINT) received inside the block and raise it as KeyboardInterrupt at its
    end (in the main thread only; elsewhere, nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _wait_started(executor, ready, timeout: float = 120.0) -> None:
    """Wait until every worker the executor has launched has run its initializer.

    A worker unpickles the executor's queues (and their semaphores) when it starts; if the
    launching process were interrupted meanwhile, it would remove them first and the worker would
    print a traceback (FileNotFoundError in ``SemLock._rebuild``). Called while Ctrl-C is
    deferred (:func:`_deferred_ctrl_c`); a worker that dies on start ends the wait (the executor
    reports it as broken), and so does ``timeout``.
    """
    procs = list(getattr(executor, "_processes", {}).values())
    end = time.monotonic() + timeout
    started = 0
    while started < len(procs) and time.monotonic() < end:
        if ready.acquire(timeout=0.1):
            started += 1
        elif not all(p.is_alive() for p in procs):
            return


def _worker_run(token: str, payload: bytes, batch: list[tuple[int, list[str]]]) -> list[JobReturn]:
    if token not in _PAYLOADS:
        from hydra.core.singleton import Singleton

        _PAYLOADS.clear()
        _PAYLOADS[token] = pickle.loads(payload)
        Singleton.set_state(_PAYLOADS[token][3])
    hydra_context, master, task_function, _ = _PAYLOADS[token]
    return run_jobs(hydra_context, master, task_function, batch, token)


def _context(start_method: str):
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    method = start_method if start_method in methods else ("forkserver" if "forkserver" in methods else "spawn")
    ctx = mp.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def _terminate(executor) -> None:
    for p in list(getattr(executor, "_processes", {}).values()):
        try:
            p.terminate()
        except (OSError, AttributeError):
            pass
    executor.shutdown(wait=False, cancel_futures=True)


def run_in_workers(
    hydra_context,
    master_config: DictConfig,
    task_function,
    job_batches: list[list[tuple[int, list[str]]]],
    workers: int,
    token: str,
    start_method: str = "forkserver",
    on_done: Callable[[JobReturn], None] | None = None,
) -> list[JobReturn]:
    """Run batches of jobs in ``workers`` worker processes (each runs batch after batch).

    Workers ignore Ctrl-C and exit when this process dies (:func:`watch_parent`); on Ctrl-C
    (KeyboardInterrupt here) they are terminated. A worker that dies (killed, out of memory)
    fails the jobs not yet reported; their relaunch resumes the sweep.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from hydra.core.singleton import Singleton

    payload = _dumps((hydra_context, master_config, task_function, Singleton.get_state()))
    log.debug("payload of a batch: %d bytes", len(payload))
    # The helper processes (forkserver, resource tracker) and the workers start with Ctrl-C
    # ignored, which they keep: a Ctrl-C while they import would print their tracebacks. This
    # process handles Ctrl-C (and terminates them).
    # With forkserver, workers are forked from the server and keep its setting: only its start
    # needs the window (the first submit waits for its imports, which Ctrl-C may interrupt).
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctx = _context(start_method)
        forked = ctx.get_start_method() == "forkserver"
        if forked:
            from multiprocessing import forkserver

            forkserver.ensure_running()
        ready = ctx.Semaphore(0)
        executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(), ready)
        )
        if not forked:
            futures = {executor.submit(_worker_run, token, payload, batch): batch for batch in job_batches}
    finally:
        signal.signal(signal.SIGINT, previous)
    results: dict[int, JobReturn] = {}
    try:
        # The workers' start: a Ctrl-C meanwhile is acted on once they have started (the first
        # submit waits for the server's imports; a worker still starting when its queues are
        # removed prints a traceback).
        with _deferred_ctrl_c():
            if forked:
                futures = {executor.submit(_worker_run, token, payload, batch): batch for batch in job_batches}
            _wait_started(executor, ready)
        for fut in as_completed(futures):
            batch = futures[fut]
            try:
                rets = fut.result()
            except Exception as exc:  # BrokenProcessPool: the worker died
                log.exception("a batch of %d jobs failed in its worker", len(batch))
                why = f"worker failed: {type(exc).__name__}: {exc}"
                rets = [failed_return(o, why) for _, o in batch]
            for (idx, _), ret in zip(batch, rets, strict=True):
                results[idx] = ret
                if on_done is not None:
                    on_done(ret)
    except BaseException:
        _terminate(executor)
        raise
    executor.shutdown(wait=True)
    return [results[idx] for idx in sorted(results)]
