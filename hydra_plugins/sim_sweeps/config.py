"""Structured configs of the plugins, registered in Hydra's ConfigStore at plugin discovery."""

from dataclasses import dataclass
from typing import Optional

from hydra.core.config_store import ConfigStore


@dataclass
class SimSweeperConf:
    _target_: str = "hydra_plugins.sim_sweeps.sweeper.SimSweeper"
    # Jobs handed to the launcher at a time (null: all); as in Hydra's basic sweeper.
    max_batch_size: Optional[int] = None  # noqa: UP045
    # Sweep parameters, as in Hydra's basic sweeper (experiments set them).
    params: Optional[dict[str, str]] = None  # noqa: UP045
    # Check every job's configuration before the first job runs.
    validate: bool = True


@dataclass
class SimLauncherConf:
    _target_: str = "hydra_plugins.sim_sweeps.launcher.SimLauncher"
    # Worker processes: 1 runs the jobs one after the other in the launching process; N runs
    # N at a time; -1 one per core.
    n_jobs: int = 1
    # Jobs a worker takes at a time (0: about four batches per worker). Workers are reused
    # and keep their compositions between batches, so small batches cost little.
    batch_size: int = 1
    # How workers start: forkserver (modules imported once, then forked), spawn or fork.
    start_method: str = "forkserver"


ConfigStore.instance().store(group="hydra/sweeper", name="sim", node=SimSweeperConf, provider="sim")
ConfigStore.instance().store(group="hydra/launcher", name="sim", node=SimLauncherConf, provider="sim")

try:
    from hydra_plugins.hydra_submitit_launcher.config import LocalQueueConf, SlurmQueueConf
except ImportError:  # the slurm extra is not installed
    pass
else:

    @dataclass
    class SimSlurmConf(SlurmQueueConf):
        _target_: str = "hydra_plugins.sim_sweeps.submitit.SimSlurmLauncher"
        # Jobs (sweep points) per array task, run one after the other in one process. 0: as
        # few array tasks as array_parallelism allows (ceil(jobs / array_parallelism)).
        # Set timeout_min for batch_size runs.
        batch_size: int = 0

    @dataclass
    class SimSubmititLocalConf(LocalQueueConf):
        _target_: str = "hydra_plugins.sim_sweeps.submitit.SimSubmititLocalLauncher"
        batch_size: int = 1

    ConfigStore.instance().store(group="hydra/launcher", name="sim_slurm", node=SimSlurmConf, provider="sim")
    ConfigStore.instance().store(
        group="hydra/launcher", name="sim_submitit_local", node=SimSubmititLocalConf, provider="sim"
    )
