"""The ``sim`` launcher: jobs in this process or in worker processes, in batches."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from hydra.core.utils import JobReturn, configure_log, setup_globals
from hydra.plugins.launcher import Launcher

log = logging.getLogger("sim")


def workers_for(n_jobs: int, n: int) -> int:
    """Worker processes for ``n`` jobs: ``n_jobs``, or (joblib's rule) cores + 1 + n_jobs when
    negative (-1: every core); never more than the jobs."""
    cores = os.cpu_count() or 1
    w = n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)
    return max(1, min(w, n))


class SimLauncher(Launcher):
    """Runs a sweep's jobs one after the other in this process (``n_jobs=1``, like Hydra's basic
    launcher) or in ``n_jobs`` worker processes that each take ``batch_size`` jobs at a time.
    Either way a process composes each distinct choice of config groups once
    (:class:`sim.sweeps.JobComposer`) and every job goes through Hydra's ``run_job`` into its
    own directory (``.hydra/``, log file, the run's files)."""

    def __init__(self, n_jobs: int = 1, batch_size: int = 1, start_method: str = "forkserver"):
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.start_method = start_method
        self.config = self.task_function = self.hydra_context = None

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from sim import sweeps

        setup_globals()
        assert self.config is not None and self.hydra_context is not None and self.task_function is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        n = len(job_overrides)
        workers = workers_for(self.n_jobs, n)
        progress = sweeps.ProgressLog(n)
        if workers == 1:
            log.info("Launching %d jobs in this process, sweep directory %s", n, sweep_dir)
            jobs = [(initial_job_idx + i, list(o)) for i, o in enumerate(job_overrides)]
            token = str(id(self.config))  # the sweeper's composer (same process, same config)
            return sweeps.run_jobs(self.hydra_context, self.config, self.task_function, jobs, token, on_done=progress)
        size = self.batch_size if self.batch_size > 0 else sweeps.auto_batch_size(n, workers, per_slot=4)
        job_batches = sweeps.batches(job_overrides, initial_job_idx, size)
        log.info(
            "Launching %d jobs in %d worker processes (%d jobs per batch), sweep directory %s",
            n,
            workers,
            size,
            sweep_dir,
        )
        return sweeps.run_in_workers(
            self.hydra_context,
            self.config,
            self.task_function,
            job_batches,
            workers,
            token=uuid.uuid4().hex,
            start_method=self.start_method,
            on_done=progress,
        )
