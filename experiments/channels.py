"""Where a lever's effect on maturity comes from: the same comparison with one channel switched off.

    python -m experiments.channels --scenario equal_budget_mutualisation --seeds 5
    python -m experiments.channels --scenario massive_targeted_training --seeds 5

Maturity grows by ``speed * absorptive * drive * use_gate * boost - erosion``
(sim/processes/maturity.py). IT capacity (own staff, pools, lever hires) enters three times: in the
absorptive capacity (``absorptive_floor + (1 - floor) * capacity``), in the drive (weight
``maturity_weights[1]``) and in the erosion (``* (1 - capacity)``); staff skills enter once, through
the share of staff who use the tools (``use_gate``). Each variant below switches channels off
(for the scenario and its baseline alike) and reports the paired difference scenario - baseline at
the horizon, mean and sd over seeds, on the default parameters:

- ``all``: the model as it is;
- ``no_absorptive_capacity``: ``organisation.absorptive_floor=1`` (capacity no longer scales absorption);
- ``no_capacity_drive``: ``organisation.maturity_weights=[0.5,0,0.5]`` (capacity out of the drive);
- ``no_erosion``: ``organisation.maturity_erosion=0``;
- ``drive_only``: absorption and erosion switched off together (capacity only in the drive);
- ``no_use_gate``: ``organisation.use_gate_floor=1`` (staff use no longer gates maturity);
- ``no_scale_economies``: ``mutualisation.scale_exponent=0`` (a pool's staff give no more than their FTE);
- ``no_critical_size``: ``organisation.below_critical_factor=1`` (no cut for IT teams below the
  critical size, own or pooled);
- ``no_fixed_need_saving``: ``mutualisation.coordination_cost=1`` (each member adds a whole fixed
  need to its pool's: pooling no longer pays the fixed costs of an IT function once);
- ``subsidy_only``: ``mutualisation.coverage=0`` (the lever pushes no collectivité into a pool and
  spends its budget on the pools' staff; for mutualisation scenarios).

Figures go in docs/SCENARIOS.md ("Where the large effects come from").
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from experiments.crn import final_values

OUTCOMES = ("maturity_mean", "services_online_mean", "gap_size", "staff_use_share")
VARIANTS = {
    "all": [],
    "no_absorptive_capacity": ["organisation.absorptive_floor=1.0"],
    "no_capacity_drive": ["organisation.maturity_weights=[0.5,0.0,0.5]"],
    "no_erosion": ["organisation.maturity_erosion=0.0"],
    "drive_only": ["organisation.absorptive_floor=1.0", "organisation.maturity_erosion=0.0"],
    "no_use_gate": ["organisation.use_gate_floor=1.0"],
    "no_scale_economies": ["mutualisation.scale_exponent=0.0"],
    "no_critical_size": ["organisation.below_critical_factor=1.0"],
    "no_fixed_need_saving": ["mutualisation.coordination_cost=1.0"],
    "subsidy_only": ["mutualisation.coverage=0.0"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.channels", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="equal_budget_mutualisation")
    parser.add_argument("--baseline", default="business_as_usual")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--set", dest="extra", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    common = ["territory.seed=0", "simulation.progress=false", "simulation.figures=false", *args.extra]
    rows = []
    for variant in args.variants:
        for s in range(args.seeds):
            ov = common + VARIANTS[variant] + [f"seed={s}"]
            base = final_values(ov + [f"scenario={args.baseline}"])
            scen = final_values(ov + [f"scenario={args.scenario}"])
            for m in OUTCOMES:
                rows.append({"variant": variant, "seed": s, "outcome": m, "difference": scen[m] - base[m]})
        print(f"{variant} done", file=sys.stderr)
    df = pd.DataFrame(rows)
    table = df.groupby(["variant", "outcome"], sort=False)["difference"].agg(["mean", "std"]).unstack("outcome")
    pd.set_option("display.width", 200)
    print(f"Difference {args.scenario} - {args.baseline} at the horizon, {args.seeds} seeds, default parameters:")
    print(table.round(4).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
