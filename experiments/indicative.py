"""Write the indicative results of docs/SCENARIOS.md from a comparison under parameter uncertainty.

    python -m sim -m experiment=ensemble_comparison ensemble.path=calibration/v2/ensemble.parquet \\
        'scenario=glob(*)' 'ensemble.member=range(0,50)' 'seed=range(0,2)' hydra.launcher.n_jobs=2
    python -m analysis robustness multirun/ensemble_comparison --baseline business_as_usual -o robust/ \\
        --metrics maturity_mean services_online_mean staff_proficient_share staff_illectronism_share \\
        inhabitants_excluded_share eservice_use_share gap_size maturity_gini maturity_theil_between_band \\
        cum_spend_levers_eur cum_spend_total_eur
    python -m experiments.indicative robust/ --sweep multirun/ensemble_comparison --metrics maturity_mean \\
        services_online_mean staff_proficient_share staff_illectronism_share inhabitants_excluded_share \\
        gap_size maturity_gini cum_spend_levers_eur

Reads ``versus_baseline.csv`` (written by ``python -m analysis robustness``) and replaces what lies
between ``<!-- BEGIN INDICATIVE -->`` and ``<!-- END INDICATIVE -->`` in docs/SCENARIOS.md by a
table: one row per scenario, one column per headline outcome of the registry (sim/outcomes.py), each
cell the mean difference from the baseline over the parameter sets, the 2.5-97.5 % range of the
per-set differences, and the share of parameter sets under which the scenario is better. The
provenance (ensemble file and version, members, seeds, years) comes from the runs' manifests.
Nothing is typed by hand: rerun the three commands after a change of the model or the ensemble.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

BEGIN, END = "<!-- BEGIN INDICATIVE -->", "<!-- END INDICATIVE -->"
DOC = Path(__file__).resolve().parent.parent / "docs" / "SCENARIOS.md"


def _cell(row: pd.Series, name: str) -> str:
    """Mean (range over parameter sets) · share better; 'none' when every set gives exactly the
    baseline's value; costs without a share better (spending more is what a lever does)."""
    from sim.outcomes import format_diff, get

    if row.get("p_tie", 0) == 1:
        return "none (identical runs)"
    text = (
        f"{format_diff(name, row['mean_diff'])} ({format_diff(name, row['param_lo'])} to "
        f"{format_diff(name, row['param_hi'])})"
    )
    return text if get(name).family == "cost" else f"{text} · {row['p_better']:.0%}"


def provenance(sweep: Path | None) -> str:
    """Ensemble, members, seeds, horizon and territory of the sweep's complete runs (from their
    manifests, read by :func:`analysis.load.scan`; the ensemble by :func:`analysis.report.ensemble_info`)."""
    if sweep is None:
        return ""
    from analysis.load import scan
    from analysis.report import ensemble_info

    configs = {
        r.run_id: (r.manifest or {}).get("config", {}) for r in scan(sweep, verify="size", progress=False).complete
    }
    if not configs:
        raise SystemExit(f"no complete run under {sweep}")
    ens = ensemble_info(configs)
    seeds = {c.get("seed") for c in configs.values()}
    years = sorted({c.get("simulation", {}).get("years") for c in configs.values()})
    places = sorted({_territory_text(c.get("territory", {})) for c in configs.values()})
    return (
        f"{len(configs)} runs: {len(ens['members'])} parameter sets of `{', '.join(ens['paths'])}` "
        f"(version {', '.join(ens['versions'])}) x {len(seeds)} seeds x the scenarios below, "
        f"{', '.join(map(str, years))} year{'' if years == [1] else 's'} of policy, {'; '.join(places)}."
    )


def _territory_text(t: dict) -> str:
    """The territory of a run's configuration in words (only what the configuration says)."""
    kind, communes, seed = t.get("kind"), t.get("n_communes"), t.get("seed")
    text = f"{kind} territory" if kind else "territory"
    if communes is not None and kind != "france":
        text += f" of {communes:,} communes"
    return text + (f" (`territory.seed: {seed}`)" if seed is not None else "")


def render(table: pd.DataFrame, metrics: list[str], note: str) -> str:
    from sim.outcomes import get, label

    baseline = table["baseline"].iloc[0]
    lines = [
        BEGIN,
        "<!-- written by python -m experiments.indicative: do not edit by hand -->",
        "",
        f"**Indicative results under parameter uncertainty** (difference from `{baseline}` at the "
        "horizon; in each cell: mean over parameter sets (2.5 to 97.5 % of the per-set differences) · "
        "share of parameter sets under which the scenario does better; costs without that share). " + note,
        "",
        "| scenario | " + " | ".join(f"{label(m)} ({'↑' if get(m).direction > 0 else '↓'})" for m in metrics) + " |",
        "|---|" + "---|" * len(metrics),
    ]
    for scenario, rows in table.groupby("scenario", sort=True):
        rows = rows.set_index("metric")
        cells = [_cell(rows.loc[m], m) if m in rows.index else "" for m in metrics]
        lines.append(f"| `{scenario}` | " + " | ".join(cells) + " |")
    share = table.loc[table["metric"].isin(metrics), "share_param"].median()
    lines += [
        "",
        (
            f"Parameter uncertainty is a median {share:.0%} of the variance of these differences "
            "(the rest is seed noise, all that a comparison at fixed parameters shows)."
        ),
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("robust", type=Path, help="output folder of python -m analysis robustness")
    p.add_argument("--sweep", type=Path, help="the sweep compared (for the provenance line)")
    p.add_argument("--doc", type=Path, default=DOC)
    p.add_argument(
        "--metrics",
        nargs="+",
        help="outcomes (default: the registry's headline outcomes, spending summed over the run)",
    )
    args = p.parse_args(argv)
    from sim.outcomes import metrics as declared

    path = args.robust / "versus_baseline.csv"
    if not path.exists():
        print(f"{path} not found: run python -m analysis robustness with --baseline first", file=sys.stderr)
        return 2
    table = pd.read_csv(path)
    present = set(table["metric"])
    # headline outcomes; a spending metric as its total over the run (cum_) when that is compared
    wanted = args.metrics or [
        n for m in declared(headline=True) for n in (m, f"cum_{m}") if n in present and (n == m or m not in present)
    ]
    if not wanted:
        print(f"none of the outcomes asked for is in {path}", file=sys.stderr)
        return 2
    text = args.doc.read_text()
    if BEGIN not in text or END not in text:
        print(f"{args.doc} lacks the markers {BEGIN} ... {END}", file=sys.stderr)
        return 2
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    args.doc.write_text(head + render(table, wanted, provenance(args.sweep)) + tail)
    print(f"{args.doc}: indicative results of {table['scenario'].nunique()} scenarios x {len(wanted)} outcomes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
