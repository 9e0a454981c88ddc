"""A saved regression baseline of key outcomes, for a few configurations.

    python -m sim.regression            # compare the current code with the saved baseline
    python -m sim.regression --update   # regenerate it (deliberately: read its diff in review)

The test suite (tests/test_regression.py) fails when any key outcome of these configurations
moves by more than a relative 1e-6 (runs are bit-identical for a seed; the tolerance only
absorbs platform differences in the last bits). A change of the model's results must therefore
come with a regenerated baseline, whose diff shows reviewers what moved and by how much.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

BASELINE = Path(__file__).resolve().parent.parent / "tests" / "regression_baseline.json"
REL_TOL = 1e-6

#: Configurations (Hydra overrides on top of the small, short defaults below).
CONFIGURATIONS = {
    "business_as_usual": ["scenario=business_as_usual"],
    "combined": ["scenario=combined"],
    "stressed_mutualisation_epci": [
        "scenario=mutualisation_first",
        "mutualisation=epci",
        "stress=[lockdown,cyber_attack,budget_cut]",
    ],
}
COMMON = [
    "territory=small",
    "territory.seed=3",
    "seed=7",
    "simulation.years=3",
    "simulation.progress=false",
    "simulation.figures=false",
]
#: Overall outcomes recorded at the last step.
OUTCOMES = (
    "maturity_mean",
    "maturity_mean_pop",
    "maturity_gini",
    "maturity_theil_between_band",
    "gap_size",
    "gap_rural_urban",
    "services_online_mean",
    "open_data_share",
    "pooled_share",
    "strategy_share",
    "sponsorship_mean",
    "staff_count",
    "staff_proficient_share",
    "staff_illectronism_share",
    "it_fte_per_1000_staff",
    "inhabitants_illectronism_share",
    "inhabitants_excluded_share",
    "online_procedures_share",
)


def key_outcomes(name: str) -> dict:
    """Key outcomes of one configuration: final overall metrics, money over the policy period,
    counters."""
    from sim.api import compose_config
    from sim.model import TransitionModel
    from sim.state import LEVER_SPEND, OWN_SPEND

    model = TransitionModel(compose_config(COMMON + CONFIGURATIONS[name]))
    model.run()
    last = {r[4]: r[5] for r in model.records if r[0] == model.step_index and r[2] == "all"}
    out = {m: last[m] for m in OUTCOMES}
    policy = [r for r in model.records if r[0] > 0 and r[2] == "all"]
    for key in OWN_SPEND + LEVER_SPEND:
        out[f"spend_{key}_eur_total"] = sum(r[5] for r in policy if r[4] == f"spend_{key}_eur")
    out.update({f"counter_{k}": float(v) for k, v in sorted(model.counters.items())})
    return out


def compute() -> dict:
    return {name: key_outcomes(name) for name in CONFIGURATIONS}


def differences(saved: dict, current: dict, rel_tol: float = REL_TOL) -> list[str]:
    """What moved (beyond the tolerance), appeared or disappeared."""
    out = []
    for name in sorted(set(saved) | set(current)):
        a, b = saved.get(name), current.get(name)
        if a is None or b is None:
            out.append(f"{name}: configuration {'added' if a is None else 'removed'}")
            continue
        for key in sorted(set(a) | set(b)):
            x, y = a.get(key), b.get(key)
            if x is None or y is None:
                out.append(f"{name}.{key}: {'new' if x is None else 'gone'}")
            elif not (math.isclose(x, y, rel_tol=rel_tol, abs_tol=1e-12) or (math.isnan(x) and math.isnan(y))):
                rel = (y - x) / abs(x) if x else math.inf
                out.append(f"{name}.{key}: {x:.10g} -> {y:.10g} ({rel:+.2%})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.regression", description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help=f"regenerate {BASELINE.name}")
    args = parser.parse_args(argv)
    current = compute()
    if args.update:
        BASELINE.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {BASELINE} ({sum(len(v) for v in current.values())} values)")
        return 0
    diffs = differences(json.loads(BASELINE.read_text(encoding="utf-8")), current)
    for line in diffs:
        print(line)
    print("no difference" if not diffs else f"{len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
