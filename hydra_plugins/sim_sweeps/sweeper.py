"""The ``sim`` sweeper: Hydra's basic sweeper that validates, reports and fails honestly."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

log = logging.getLogger("sim")


class SimSweeper(BasicSweeper):
    """Hydra's basic sweeper (same syntax, ``params``, ``max_batch_size``) that

    - composes and validates every job (ranges, choices, unknown keys, cross-parameter checks)
      before making the sweep directory: an invalid value stops the sweep at once, naming the
      key and the allowed values (:class:`sim.sweeps.SweepRefused`);
    - lets every job run whatever the others do, then logs a summary and, if any job failed,
      raises :class:`sim.sweeps.SweepFailed` with the table of failed jobs (the command line
      prints it and exits with status 1).
    """

    def __init__(self, max_batch_size: int | None = None, params: dict[str, str] | None = None, validate: bool = True):
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.validate = validate

    def setup(self, *, hydra_context, task_function, config) -> None:
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        joblib_cfg = getattr(self.launcher, "joblib", None)  # Hydra's joblib launcher
        if isinstance(joblib_cfg, dict) and "initializer" not in joblib_cfg:
            from sim.sweeps import watch_parent

            # Passed on by joblib to loky's executor: each worker exits when this process dies,
            # even before its first job (joblib's workers would otherwise wait for work).
            joblib_cfg["initializer"] = watch_parent
            joblib_cfg["initargs"] = (os.getpid(),)

    def sweep(self, arguments: list[str]) -> Any:
        from sim import sweeps

        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides([*self._parse_config(), *arguments])
        self.overrides = self.split_arguments(overrides, self.max_batch_size)
        jobs = [job for batch in self.overrides for job in batch]
        if self.validate:
            composer = sweeps.composer_for(str(id(self.config)), self.hydra_context.config_loader, self.config)
            problems = sweeps.validate_jobs(composer, jobs)
            if problems:
                raise sweeps.SweepRefused(problems)

        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        os.environ[sweeps.PARENT_ENV] = sweeps.parent_stamp()

        returns = []
        initial_job_idx = 0
        while not self.is_done():
            batch = self.get_job_batch()
            returns.append(self.launcher.launch(batch, initial_job_idx=initial_job_idx))
            initial_job_idx += len(batch)

        exclude = list(self.config.hydra.job.config.override_dirname.exclude_keys or [])
        summary = sweeps.summarize([r for batch in returns for r in batch], exclude_keys=exclude)
        log.info("%s (%s)", summary.line(), sweep_dir)
        if not summary.ok:
            raise sweeps.SweepFailed(summary.table(sweep_dir))
        return returns
