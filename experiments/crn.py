"""How much narrower paired differences become with common random numbers.

    python -m experiments.crn --seeds 10 --scenario mutualisation_first
    python -m experiments.crn --seeds 10 --scenario mediation --communes 500 --years 6

Runs a scenario and business as usual over seeds under four designs and reports, for a few
outcomes at the horizon, the mean and the standard deviation over seeds of the difference
scenario - baseline:

- ``crn``: one territory for all runs (``territory.seed=0``) and the same dynamics seed for the
  two arms of a pair: every process and lever draws from its own stream, so the arms share their
  draws as far as their states agree (what the ready-made experiments do);
- ``territory_only``: one territory, but the two arms of a pair get different dynamics seeds;
- ``seed_only``: the same dynamics seed, but each seed draws its own territory (as v1 did);
- ``independent``: a territory per seed and different dynamics seeds for the two arms.

The ratio of standard deviations says how many times fewer replicates the paired design needs
for the same precision (its square). Figures go in docs/SCENARIOS.md.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

OUTCOMES = (
    "maturity_mean",
    "maturity_mean_pop",
    "gap_size",
    "staff_illectronism_share",
    "inhabitants_excluded_share",
)


def final_values(overrides: list[str]) -> dict:
    from sim.api import compose_config
    from sim.run import run_simulation

    ts = run_simulation(compose_config(overrides)).timeseries
    last = ts[(ts.stratum_kind == "all") & (ts.step == ts.step.max())]
    return dict(zip(last.metric, last.value, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.crn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--scenario", default="mutualisation_first")
    parser.add_argument("--communes", type=int, default=1000)
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args(argv)
    common = [
        f"territory.n_communes={args.communes}",
        f"simulation.years={args.years}",
        "simulation.progress=false",
        "simulation.figures=false",
    ]
    designs = {
        "crn": lambda s: (["territory.seed=0", f"seed={s}"], ["territory.seed=0", f"seed={s}"]),
        "territory_only": lambda s: (["territory.seed=0", f"seed={s}"], ["territory.seed=0", f"seed={s + 1000}"]),
        "seed_only": lambda s: ([f"territory.seed={s}", f"seed={s}"], [f"territory.seed={s}", f"seed={s}"]),
        "independent": lambda s: ([f"territory.seed={s}", f"seed={s}"], [f"territory.seed={s}", f"seed={s + 1000}"]),
    }
    rows = []
    for design, pairs in designs.items():
        for s in range(args.seeds):
            base_ov, scen_ov = pairs(s)
            base = final_values(common + base_ov + ["scenario=business_as_usual"])
            scen = final_values(common + scen_ov + [f"scenario={args.scenario}"])
            for m in OUTCOMES:
                rows.append({"design": design, "seed": s, "outcome": m, "difference": scen[m] - base[m]})
            print(f"{design} seed {s} done", file=sys.stderr)
    df = pd.DataFrame(rows)
    table = df.groupby(["outcome", "design"])["difference"].agg(["mean", "std"]).unstack("design")
    sd = table["std"]
    ratio = (sd["independent"] / sd["crn"]).rename("sd independent / sd crn")
    pd.set_option("display.width", 200)
    print(f"Difference {args.scenario} - business_as_usual at the horizon, {args.seeds} seeds:")
    print(table.round(4).to_string())
    print(ratio.round(1).to_string())
    print(
        f"replicates needed for the same precision, independent vs crn: {np.round((ratio**2).median(), 0):.0f}x (median)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
