"""CPU time of each process of a step, for France by default (docs/PERFORMANCE.md, "Where the
time goes now").

    python -m benchmarks.profile_steps                  # France, 8 steps
    python -m benchmarks.profile_steps --steps 52 territory=synthetic

Builds the model in this process, then runs ``--steps`` steps timing every process, the
refreshes of the staff aggregates (with the compactions that follow a process removing staff)
and the metrics with ``time.process_time`` (CPU time of this process: less sensitive to other
jobs than wall time, not insensitive). Prints the median per step of each, largest first.
Remaining arguments are Hydra overrides.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np

from sim import model as model_module
from sim.api import compose_config
from sim.model import TransitionModel


class _Timed:
    """A process whose ``step`` adds its CPU time to ``times[name]``."""

    def __init__(self, process, times):
        self.process, self.times = process, times
        self.name, self.reads, self.writes = process.name, process.reads, process.writes
        self.changes_staff = process.changes_staff

    def step(self, model) -> None:
        start = time.process_time()
        self.process.step(model)
        self.times[self.name].append(time.process_time() - start)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8, help="steps to run and time (default 8)")
    args, overrides = parser.parse_known_args(argv)
    if not any(o.startswith("territory=") for o in overrides):
        overrides = ["territory=france", *overrides]
    cfg = compose_config([*overrides, "simulation.progress=false"])
    start = time.process_time()
    model = TransitionModel(cfg)
    print(f"build: {time.process_time() - start:.2f} s CPU")
    times: dict[str, list[float]] = defaultdict(list)
    model.processes = tuple(_Timed(p, times) for p in model.processes)
    for name in ("refresh_staff_aggregates", "compact_staff"):
        original = getattr(model, name)

        def timed(*a, _original=original, _name=name, **k):
            begin = time.process_time()
            result = _original(*a, **k)
            times[_name].append(time.process_time() - begin)
            return result

        setattr(model, name, timed)
    collect = model_module.metrics.collect

    def timed_collect(*a, **k):
        begin = time.process_time()
        collect(*a, **k)
        times["metrics"].append(time.process_time() - begin)

    model_module.metrics.collect = timed_collect
    try:
        start = time.process_time()
        for _ in range(args.steps):
            model.step()
        total = time.process_time() - start
    finally:
        model_module.metrics.collect = collect
    print(f"{args.steps} steps: {total:.2f} s CPU, {1000 * total / max(args.steps, 1):.0f} ms a step")
    # Per step: the sum over the step of each (a refresh or a compaction may run several times).
    per_step = {name: 1000 * sum(v) / args.steps for name, v in times.items()}
    median = {name: 1000 * float(np.median(v)) for name, v in times.items()}
    for name in sorted(per_step, key=per_step.get, reverse=True):
        print(
            f"  {name:26s} {per_step[name]:7.1f} ms a step (median of one call {median[name]:.1f}, n={len(times[name])})"
        )


if __name__ == "__main__":
    main()
