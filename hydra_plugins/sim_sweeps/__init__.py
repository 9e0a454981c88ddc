"""Hydra plugins of the simulator (docs/SWEEPS.md), found by Hydra in its ``hydra_plugins``
namespace package:

- ``hydra/sweeper=sim`` (the default): Hydra's basic sweeper (same sweep syntax, ``params``
  and ``max_batch_size``) that validates every job before the first runs, and ends with a
  summary table and a non-zero exit status when a job failed;
- ``hydra/launcher=sim`` (the default): jobs one after the other in the launching process, or
  in ``n_jobs`` worker processes, each running batches of jobs;
- ``hydra/launcher=sim_slurm`` and ``sim_submitit_local`` (with the ``slurm`` extra): the
  submitit launchers, with ``batch_size`` jobs per array task.

The work is done in :mod:`sim.sweeps`; these modules only adapt it to Hydra's plugin API.
"""
