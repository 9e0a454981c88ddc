"""Batched submitit launchers: ``sim_slurm`` (a SLURM job array) and ``sim_submitit_local``.

Each array task runs ``batch_size`` jobs (sweep points) one after the other in one process:
clusters schedule and account array tasks one by one, and a task of a few seconds is mostly
queueing and start-up. Every job still writes its own run directory with the same rules of
resumption and failure; a task killed at its time limit leaves the jobs it finished complete
and the rest to a relaunch. Adapted from hydra-submitit-launcher's ``BaseSubmititLauncher``
(MIT licence, Copyright (c) Facebook, Inc. and its affiliates).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, setup_globals
from omegaconf import OmegaConf

log = logging.getLogger("sim")

try:
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import BaseSubmititLauncher
except ImportError:  # the slurm extra is not installed: no submitit launchers
    BaseSubmititLauncher = None

if BaseSubmititLauncher is not None:

    class _Batched(BaseSubmititLauncher):
        def __init__(self, batch_size: int = 1, **params: Any) -> None:
            self.batch_size = batch_size
            super().__init__(**params)

        def __call__(self, jobs: list[tuple[int, list[str]]], token: str, singleton_state: dict) -> list[JobReturn]:
            """One array task: its batch of jobs, in this process."""
            from sim import sweeps

            Singleton.set_state(singleton_state)
            setup_globals()
            return sweeps.run_jobs(self.hydra_context, self.config, self.task_function, jobs, token)

        def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
            import submitit

            return submitit.helpers.DelayedSubmission(self, *args, **kwargs)

        def _executor(self):
            import submitit

            params = dict(self.params)
            init = {"folder": params["submitit_folder"]}
            init.update({f"{self._EXECUTOR}_{k}": v for k, v in params.items() if k in {"max_num_timeout"}})
            executor = submitit.AutoExecutor(cluster=self._EXECUTOR, **init)
            base = set(OmegaConf.structured(BaseQueueConf).keys())
            executor.update_parameters(
                **{
                    k if k in base else f"{self._EXECUTOR}_{k}": v
                    for k, v in params.items()
                    if k not in {"max_num_timeout", "submitit_folder"}
                }
            )
            return executor

        def _batch_size(self, n: int) -> int:
            if self.batch_size > 0:
                return self.batch_size
            from sim.sweeps import auto_batch_size

            return auto_batch_size(n, int(self.params.get("array_parallelism") or 1))

        def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
            from sim import sweeps

            assert self.config is not None
            n = len(job_overrides)
            size = self._batch_size(n)
            job_batches = sweeps.batches(job_overrides, initial_job_idx, size)
            sweep_dir = Path(str(self.config.hydra.sweep.dir))
            sweep_dir.mkdir(parents=True, exist_ok=True)
            if "mode" in self.config.hydra.sweep:
                os.chmod(sweep_dir, mode=int(str(self.config.hydra.sweep.mode), 8))
            log.info(
                "Submitit '%s': %d jobs in %d array tasks of up to %d jobs, sweep directory %s",
                self._EXECUTOR,
                n,
                len(job_batches),
                size,
                sweep_dir,
            )
            token, state = uuid.uuid4().hex, Singleton.get_state()
            executor = self._executor()
            tasks = executor.map_array(self, job_batches, [token] * len(job_batches), [state] * len(job_batches))
            progress = sweeps.ProgressLog(n)
            out: list[JobReturn] = []
            for task, batch in zip(tasks, job_batches, strict=True):
                try:
                    rets = task.results()[0]
                except Exception as exc:  # timeout, node failure, cancelled: the task's jobs
                    log.exception("array task %s failed", task.job_id)
                    why = f"array task {task.job_id} failed ({type(exc).__name__}: {str(exc)[:200]}); relaunch"
                    rets = [sweeps.failed_return(o, why) for _, o in batch]
                for ret in rets:
                    progress(ret)
                out.extend(rets)
            return out

    class SimSlurmLauncher(_Batched):
        _EXECUTOR = "slurm"

    class SimSubmititLocalLauncher(_Batched):
        _EXECUTOR = "local"
