"""Command line: ``python -m analysis <command>`` (load, compare, plot, report, sensitivity, discover, calibrate,
robustness)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.discover import add_discover_parser, cmd_discover
from analysis.load import VERIFY_MODES, LoadReport

log = logging.getLogger("analysis")

EXIT_OK, EXIT_NO_RUN, EXIT_SKIPPED = 0, 1, 3

FOLDER_HELP = (
    "a run folder (holding manifest.json or error.json) or any folder holding run folders at any depth, "
    "such as a Hydra multirun folder multirun/DATE/TIME/"
)
VERIFY_HELP = (
    "how to check the files each manifest lists: sha256 (read every byte), size (non-empty, whole Parquet "
    "files), none (trust the manifest); auto = sha256 up to 500 runs, size above (default: %(default)s)"
)


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def _add_common(p: argparse.ArgumentParser, *, verify: bool = True) -> None:
    if verify:
        p.add_argument("--verify", choices=VERIFY_MODES, default="auto", help=VERIFY_HELP)
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress bars on stderr (default: only on a terminal)",
    )


def _add_grouping(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--by",
        nargs="+",
        metavar="COLUMN",
        help="columns whose values define the groups compared (default: the swept columns that "
        "vary, e.g. scenario); seeds are the replicates within a group",
    )
    p.add_argument(
        "--metrics",
        nargs="+",
        metavar="METRIC",
        help="metrics to use (default: adoption, fracture and cost metrics present)",
    )
    p.add_argument("--level", type=float, default=0.95, help="confidence level of the intervals")


def _add_comparison(p: argparse.ArgumentParser, baseline_help: str) -> None:
    p.add_argument("--baseline", help=baseline_help)
    _add_grouping(p)
    p.add_argument("--bootstrap", action="store_true", help="percentile bootstrap intervals instead of t")
    p.add_argument(
        "--cost-metric",
        default="cum_spend_total_eur",
        help="the cost to rank on and to divide by the fracture reduced: cum_ + a spend metric, e.g. "
        "cum_spend_levers_eur for the policy levers only",
    )


def _add_figure_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind", choices=("violin", "box", "ecdf"), default="violin", help="distribution plot type")
    p.add_argument(
        "--heatmap",
        nargs=3,
        metavar=("X", "Y", "METRIC"),
        help="heatmap of the end-of-run mean of METRIC over two swept columns (default: found "
        "automatically for a sweep over two numeric parameters)",
    )


def _parse_weights(items: Sequence[str] | None) -> dict[str, float] | None:
    if not items:
        return None
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(
                f"--weights takes NAME=NUMBER items (a metric or adoption/fracture/cost), not {item!r}"
            ) from None
        if not sep:
            raise ValueError(f"--weights takes NAME=NUMBER items, not {item!r}")
    return out


def _add_decision_options(p: argparse.ArgumentParser) -> None:
    """Options of the decision-support outputs (report and compare)."""
    p.add_argument(
        "--lang", choices=("en", "fr"), default="en", help="language of the report and of the printed tables"
    )
    p.add_argument(
        "--weights",
        nargs="+",
        metavar="NAME=W",
        help="weights of the multi-criteria ranking: a family (adoption, fracture, cost; 1 each by default, shared by "
        "its criteria) or a metric, e.g. --weights fracture=2 cost=0 inhabitants_excluded_share=3",
    )
    p.add_argument(
        "--panels",
        nargs="+",
        metavar="COLUMN",
        help="swept columns compared level by level (default: the other varying columns, e.g. "
        "equal_budget_eur_per_staff in the equal-budget experiment)",
    )
    p.add_argument(
        "--param-sets",
        nargs="+",
        metavar="COLUMN",
        help="swept columns that name parameter sets of an ensemble (default: columns such as ensemble.member, or "
        "uncertain parameters of the model); runs are paired on seed and parameter set",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        formatter_class=_Formatter,
        description=(
            "Analyse simulation outputs (see docs/OUTPUTS.md and docs/ANALYSIS.md).\n\n"
            "Only complete runs are used: a run whose manifest is missing, not 'complete', or whose files\n"
            "do not match the manifest is skipped and listed with the reason."
        ),
        epilog=(
            "examples:\n"
            "  python -m analysis load multirun/2026-11-23/17-45-00 -o sweep.parquet\n"
            "  python -m analysis compare multirun/2026-11-23/17-45-00 --baseline baseline -o results/\n"
            "  python -m analysis plot multirun/2026-11-23/17-45-00 -o figures/\n"
            "  python -m analysis report multirun/2026-11-23/17-45-00 -o report.html\n"
            "  python -m analysis sensitivity morris --param training.budget_eur_per_staff=0:500 \\\n"
            "      --param territory.n_communes=40:120:int --seeds 3 -o sa/\n"
            "  python -m analysis calibrate --out calibration/v2\n"
            "  python -m analysis robustness multirun/ensemble_comparison --baseline business_as_usual -o robust/\n"
            "  python -m analysis discover multirun/lhs --beats mediation --over business_as_usual \\\n"
            "      --metric inhabitants_excluded_share -o discovery/\n\n"
            "Run 'python -m analysis COMMAND --help' for the options of a command."
        ),
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log messages (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # load ----------------------------------------------------------------------------------
    p = sub.add_parser(
        "load",
        formatter_class=_Formatter,
        help="load a sweep into one tidy table (Parquet or CSV) and print the load report",
        description=(
            "Load the timeseries.parquet of every complete run under FOLDER into one tidy table:\n"
            "one row per run x step x stratum x metric, with columns run_id (run folder relative to FOLDER),\n"
            "the swept parameters (keys of the Hydra overrides, typed), scenario, seed, then step, year,\n"
            "stratum_kind, stratum, metric, value. Prints the load report (runs loaded and skipped, why)."
        ),
        epilog=(
            "examples:\n"
            "  python -m analysis load multirun/ -o sweep.parquet\n"
            "  python -m analysis load multirun/ -o end.csv --last-step-only --metrics maturity_mean maturity_gini\n"
            "  python -m analysis load multirun/ --skipped-csv skipped.csv --strict   # exit 3 if a run is bad\n"
        ),
    )
    p.add_argument("folder", type=Path, help=FOLDER_HELP)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="write the tidy table here: .parquet or .csv (without it, only the report is printed)",
    )
    p.add_argument("--metrics", nargs="+", metavar="METRIC", help="keep only these metrics")
    p.add_argument("--steps", nargs="+", type=int, metavar="STEP", help="keep only these steps (0 = initial state)")
    p.add_argument("--last-step-only", action="store_true", help="keep only each run's last step")
    p.add_argument(
        "--stratum-kinds",
        nargs="+",
        metavar="KIND",
        help="keep only these stratum kinds (all, kind, pop_band, rurality, category, job_family)",
    )
    p.add_argument(
        "--collectivites",
        type=Path,
        metavar="FILE",
        help="also write the end-of-run collectivité tables, with run columns, to FILE (.parquet/.csv)",
    )
    p.add_argument("--skipped-csv", type=Path, metavar="FILE", help="write the list of runs and reasons to FILE")
    p.add_argument("--strict", action="store_true", help=f"exit with status {EXIT_SKIPPED} if any run was skipped")
    _add_common(p)

    # compare -------------------------------------------------------------------------------
    p = sub.add_parser(
        "compare",
        formatter_class=_Formatter,
        help="means and intervals over seeds, differences against a baseline, rankings, cost per point",
        description=(
            "Compare groups of runs (scenarios by default) on their end-of-run outcomes:\n"
            "  summary      mean over seeds with a t (or bootstrap) interval, per group and metric\n"
            "  differences  group minus baseline, paired by seed when the seeds match, else Welch\n"
            "  ranking      on adoption (higher is better), fracture (lower is better) and cost\n"
            "  cost         extra euros per percentage point of fracture reduced versus the baseline\n"
            "Cost is cum_spend_total_eur (or --cost-metric), the sum of spend_total_eur over the steps of a run.\n"
            "INPUT is a sweep folder, or a tidy .parquet/.csv written by 'load' (with all steps)."
        ),
        epilog=(
            "examples:\n"
            "  python -m analysis compare multirun/ --baseline baseline\n"
            "  python -m analysis compare sweep.parquet --baseline baseline --bootstrap -o results/\n"
            "  python -m analysis compare multirun/ --by training.budget_eur_per_staff --baseline 0\n"
        ),
    )
    p.add_argument("input", type=Path, help=FOLDER_HELP + "; or a tidy table written by 'load'")
    _add_comparison(p, "value of the grouping column to compare against (e.g. business_as_usual)")
    _add_decision_options(p)
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    p.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        help="write outcomes.csv, summary.csv, differences.csv, ranking.csv, cost_effectiveness.csv",
    )
    _add_common(p)

    # plot ----------------------------------------------------------------------------------
    p = sub.add_parser(
        "plot",
        formatter_class=_Formatter,
        help="draw the standard figures of a sweep (PNG and SVG)",
        description=(
            "Draw, for each metric, its time series (mean over seeds with a 95 % band per group) and the\n"
            "distribution of its end-of-run value across seeds; plus cumulative spending, the adoption\n"
            "against fracture trade-off, maturity by population band, the distribution of collectivité\n"
            "maturity, and a heatmap for a 2D sweep. Each figure is written as PNG and SVG (NAME.png, NAME.svg)."
        ),
        epilog=(
            "examples:\n"
            "  python -m analysis plot multirun/ -o figures/\n"
            "  python -m analysis plot multirun/ -o figures/ --kind ecdf --metrics maturity_mean\n"
            "  python -m analysis plot multirun/ -o figures/ \\\n"
            "      --heatmap training.budget_eur_per_staff mutualisation.coverage maturity_gini\n"
        ),
    )
    p.add_argument("input", type=Path, help=FOLDER_HELP + "; or a tidy table written by 'load'")
    p.add_argument("-o", "--output-dir", type=Path, default=Path("figures"), help="folder for the figures")
    _add_grouping(p)
    _add_figure_options(p)
    p.add_argument("--baseline", help="also draw the differences against this group, paired by seed")
    p.add_argument("--lang", choices=("en", "fr"), default="en", help="language of the labels")
    _add_common(p)

    # report --------------------------------------------------------------------------------
    p = sub.add_parser(
        "report",
        formatter_class=_Formatter,
        help="write a self-contained HTML report of a sweep",
        description=(
            "Write one HTML file, openable in any browser without Python or network: the runs loaded\n"
            "and skipped (with reasons), the sweep design, end-of-run means with intervals, differences\n"
            "against the baseline, rankings, cost per point of fracture reduced, and every figure of\n"
            "'plot' embedded as an image. Tables can be downloaded from the page as CSV."
        ),
        epilog=(
            "examples:\n"
            "  python -m analysis report multirun/ -o report.html\n"
            "  python -m analysis report multirun/ -o report.html --baseline status_quo --title 'Scenarios 2026'\n"
        ),
    )
    p.add_argument("folder", type=Path, help=FOLDER_HELP)
    p.add_argument("-o", "--output", type=Path, default=Path("report.html"), help="the HTML file to write")
    _add_comparison(p, "group to compare against (default: a group named baseline or business_as_usual, if any)")
    p.add_argument("--title", help="report title")
    _add_figure_options(p)
    p.add_argument("--no-figures", action="store_true", help="tables only (faster)")
    _add_decision_options(p)
    p.add_argument("--pdf", nargs="?", const=True, metavar="FILE",
                   help="also print the report to an A4 PDF with headless Chromium (default name: the HTML file's, .pdf)")  # fmt: skip
    p.add_argument(
        "--no-maps", action="store_true", help="no maps or territorial aggregates (no collectivité tables read)"
    )
    _add_common(p)

    # sensitivity ---------------------------------------------------------------------------
    p = sub.add_parser(
        "sensitivity",
        formatter_class=_Formatter,
        help="global sensitivity analysis of the simulator (Morris screening or Sobol indices)",
        description=(
            "Sample parameters (Hydra override keys) within bounds, run the simulator at each point for\n"
            "several seeds through sim.api (compose_config + run), average the end-of-run outcomes over\n"
            "the seeds, and compute SALib indices:\n"
            "  morris  mu* (influence) and sigma (interactions); cheap screening of many parameters\n"
            "  sobol   S1 (first-order) and ST (total) variance shares; costlier, for a few parameters\n"
            "Writes METHOD_indices.csv/.parquet, METHOD_evaluations.parquet (every run's outputs),\n"
            "METHOD_problem.yaml and METHOD_indices.png/.svg in the output folder.\n\n"
            "Cost: morris runs trajectories x (parameters + 1) points, sobol N x (parameters + 2)\n"
            "(N x (2 parameters + 2) with --second-order); each point is run once per seed."
        ),
        epilog=(
            "problem file (YAML), an alternative to --param/--seeds/--override/--metrics:\n"
            "  parameters:\n"
            "    training.budget_eur_per_staff: [0, 500]\n"
            "    territory.n_communes: {low: 40, high: 120, type: int}\n"
            "  seeds: 3\n"
            "  overrides: [simulation.years=2]\n"
            "  metrics: [maturity_mean, maturity_gini, cum_spend_total_eur]\n\n"
            "examples:\n"
            "  python -m analysis sensitivity morris --problem sa.yaml --trajectories 20 --jobs 2 -o sa_morris/\n"
            "  python -m analysis sensitivity sobol --param training.budget_eur_per_staff=0:500 \\\n"
            "      --param mutualisation.coverage=0:1 --override simulation.years=3 -n 128 --seeds 2 -o sa_sobol/\n"
            "  python -m analysis sensitivity sobol --model analysis.sensitivity:Ishigami --metrics y \\\n"
            "      --param x1=-3.1416:3.1416 --param x2=-3.1416:3.1416 --param x3=-3.1416:3.1416 -n 256\n"
        ),
    )
    p.add_argument("method", choices=("morris", "sobol"), help="morris screening or sobol indices")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=LOW:HIGH[:int]",
        help="a parameter to vary (repeatable); ':int' rounds its values",
    )
    p.add_argument("--problem", type=Path, metavar="FILE", help="YAML problem file (see below)")
    p.add_argument(
        "--seeds",
        default=None,
        help="seeds per point: a count K (seeds 0..K-1) or a list '4,9,12' (default: file's or 3)",
    )
    p.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a fixed Hydra override for every run (repeatable), e.g. simulation.years=2",
    )
    p.add_argument(
        "--metrics",
        nargs="+",
        metavar="METRIC",
        help="outputs to analyse (default: file's, or maturity_mean maturity_gini "
        "inhabitants_excluded_share cum_spend_total_eur)",
    )
    p.add_argument(
        "--model",
        default="sim",
        help="'sim' (the simulator through sim.api) or module:callable taking a list of override "
        "strings and returning {metric: value}",
    )
    p.add_argument("--trajectories", type=int, default=10, help="morris: number of trajectories")
    p.add_argument("--levels", type=int, default=4, help="morris: grid levels")
    p.add_argument("-n", "--n-base", type=int, default=64, help="sobol: base sample size (a power of 2)")
    p.add_argument("--second-order", action="store_true", help="sobol: also second-order indices")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the SALib sample and bootstrap")
    p.add_argument("--jobs", type=int, default=1, help="worker processes for the model runs (1 = sequential)")
    p.add_argument("-o", "--output-dir", type=Path, default=Path("sensitivity"), help="output folder")
    _add_common(p, verify=False)

    # calibrate -----------------------------------------------------------------------------
    p = sub.add_parser(
        "calibrate",
        formatter_class=_Formatter,
        help="calibrate the uncertain parameters on observed targets (history matching, GP emulators)",
        description=(
            "History matching over successive waves (docs/CALIBRATION.md):\n"
            "  1. a space-filling design (Latin hypercube) over the prior box of the uncertain parameters\n"
            "     (every parameter declared with a prior in sim/config.py, or --params);\n"
            "  2. the design's points x --seeds runs through the Hydra launchers, one sweep per wave\n"
            "     (python -m sim -m ensemble.path=<design> ensemble.member=... seed=...);\n"
            "  3. a Gaussian-process emulator per target (scikit-learn) on the mean over seeds;\n"
            "  4. implausibility I = |z - E[f(x)]| / sqrt(V_obs + V_md + V_seed + V_emu) per target;\n"
            "     a parameter set is ruled out when the largest I (or the second largest) exceeds the cut-off;\n"
            "  5. the next wave samples the space not yet ruled out.\n"
            "Targets are those tagged 'calibration' in sim/data/targets.yaml (python -m sim.targets lists\n"
            "them); a target the model cannot measure (metric not recorded, date before the start) is\n"
            "refused with the reason. Validation targets are never fitted: their fit is reported.\n\n"
            "Writes into --out: calibration.json (settings), wave_<k>/ (design, runs, outputs, emulator\n"
            "leave-one-out checks, summary), ensemble.parquet + ensemble.json (the calibrated parameter\n"
            "sets, farthest-point ordered, with targets, waves and code version), targets_fit.csv,\n"
            "plausible_sample.parquet and figures/. Relaunching the same command resumes: designs are\n"
            "kept, complete runs are skipped, later waves are added (--waves may grow)."
        ),
        epilog=(
            "examples:\n"
            "  python -m analysis calibrate --out calibration/v2\n"
            "  python -m analysis calibrate --out calibration/v2 --dry-run        # check targets, show the plan\n"
            "  python -m analysis calibrate --out calibration/main --set simulation.start_year=2018 \\\n"
            "      --drop-unavailable --points 250 --seeds 2 --waves 3 --jobs 2\n"
            "  python -m analysis calibrate --out calibration/v2 --launcher slurm \\\n"
            "      --hydra-arg hydra.launcher.partition=cpu --hydra-arg hydra.launcher.array_parallelism=100\n"
            "  python -m analysis calibrate --list-targets --set simulation.start_year=2018\n\n"
            "then run an experiment on the ensemble:\n"
            "  python -m sim -m experiment=ensemble_comparison ensemble.path=calibration/v2/ensemble.parquet\n"
            "  python -m analysis robustness multirun/ensemble_comparison --baseline business_as_usual\n"
        ),
    )
    p.add_argument("--out", type=Path, default=Path("calibration/latest"), help="folder of the calibration")
    p.add_argument("--waves", type=int, default=3, help="number of waves")
    p.add_argument("--points", type=int, default=250, help="design points per wave")
    p.add_argument("--seeds", type=int, default=2, help="seeds per design point (runs per wave = points x seeds)")
    p.add_argument(
        "--targets", nargs="+", metavar="ID", help="calibration targets to use (default: all tagged calibration)"
    )
    p.add_argument(
        "--targets-file", type=Path, metavar="YAML", help="another target registry (default: sim/data/targets.yaml)"
    )
    p.add_argument("--params", nargs="+", metavar="PATH", help="parameters to calibrate (default: all with a prior)")
    p.add_argument(
        "--exclude-params", nargs="+", default=[], metavar="PATH", help="parameters to leave at their default"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a fixed Hydra override for every run (repeatable), e.g. simulation.start_year=2018 territory=small",
    )
    p.add_argument("--cutoff", type=float, default=3.0, help="implausibility cut-off")
    p.add_argument(
        "--criterion",
        choices=("max", "second-max"),
        default="max",
        help="combine targets by the largest or second largest implausibility",
    )
    p.add_argument(
        "--drop-unavailable",
        action="store_true",
        help="calibrate on the targets the model can measure, listing and recording the others as dropped "
        "(default: refuse)",
    )
    p.add_argument(
        "--launcher",
        default="sim",
        help="Hydra launcher of the sweeps: sim (the project's, with --jobs worker processes), basic, joblib "
        "(with --jobs), slurm, submitit_local, or the name of "
        "any launcher config (hydra/launcher=NAME)",
    )
    p.add_argument("--jobs", type=int, default=2, help="sim and joblib launchers: parallel worker processes")
    p.add_argument(
        "--hydra-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra Hydra argument for the sweeps (repeatable), e.g. hydra.launcher.partition=cpu",
    )
    p.add_argument("--pool", type=int, default=2**15, help="candidate points drawn to sample the plausible space")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the designs and of the emulator fits")
    p.add_argument("--max-failed", type=float, default=0.1, help="largest share of failed runs a wave may have")
    p.add_argument(
        "--abc",
        type=int,
        default=0,
        metavar="N",
        help="after the waves, ABC-SMC (pyabc, extra 'abc') on the space left, with the emulators as "
        "simulator and N particles; writes abc_posterior.parquet (0 = no)",
    )
    p.add_argument("--dry-run", action="store_true", help="check the targets and show the sweep command; run nothing")
    p.add_argument("--list-targets", action="store_true", help="list the targets and which ones the model can measure")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="print the progress of each wave's sweep on stderr",
    )

    # robustness ----------------------------------------------------------------------------
    p = sub.add_parser(
        "robustness",
        formatter_class=_Formatter,
        help="compare scenarios under parameter uncertainty (runs of an ensemble experiment)",
        description=(
            "For runs that cross scenarios x parameter sets of a calibrated ensemble (ensemble.member) x\n"
            "seeds (conf/experiment/ensemble_comparison.yaml), paired by (parameter set, seed):\n"
            "  versus_baseline  probability that each scenario beats the baseline (share of parameter sets\n"
            "                   whose mean over seeds is better; and per run pair), the expected difference\n"
            "                   with its interval, the parameter range of the difference, and the split of\n"
            "                   its variance between parameter uncertainty and seed noise\n"
            "  pairwise         probability that each scenario beats each other one\n"
            "  regret           per parameter set, the gap to the best scenario; mean and largest\n"
            "  ranking          rank by expected value, probability of being best, range of ranks over\n"
            "                   parameter sets, robust or not, and the scenarios it flips with\n"
            "With --sensitivity: Sobol indices of each difference against the baseline over the uncertain\n"
            "parameters (GP emulator of the per-parameter-set differences; SALib).\n"
            "Directions (higher or lower is better) come from the outcome registry when present, else from\n"
            "the adoption/fracture/cost lists of analysis.compare; --direction sets them."
        ),
        epilog=(
            "examples:\n"
            "  python -m sim -m experiment=ensemble_comparison ensemble.path=calibration/v2/ensemble.parquet\n"
            "  python -m analysis robustness multirun/ensemble_comparison --baseline business_as_usual -o robust/\n"
            "  python -m analysis robustness multirun/ensemble_comparison --baseline business_as_usual \\\n"
            "      --metrics maturity_mean inhabitants_excluded_share --sensitivity -o robust/\n"
        ),
    )
    p.add_argument("input", type=Path, help=FOLDER_HELP)
    p.add_argument("--baseline", default="business_as_usual", help="the reference scenario")
    p.add_argument(
        "--metrics",
        nargs="+",
        metavar="METRIC",
        default=[
            "maturity_mean",
            "staff_illectronism_share",
            "inhabitants_excluded_share",
            "gap_size",
            "cum_spend_levers_eur",
        ],
        help="end-of-run outcomes to compare (cum_ + a spend metric for costs)",
    )
    p.add_argument("--direction", nargs="+", default=[], metavar="METRIC=higher|lower", help="direction of a metric")
    p.add_argument("--member-column", default="ensemble.member", help="the column naming the parameter set")
    p.add_argument("--level", type=float, default=0.95, help="level of the intervals")
    p.add_argument("--robust-share", type=float, default=0.9, help="share of parameter sets for a robust rank")
    p.add_argument("--sensitivity", action="store_true", help="Sobol indices of the differences against the baseline")
    p.add_argument("--n-sobol", type=int, default=1024, help="base sample of the Sobol indices (power of 2)")
    p.add_argument(
        "--sensitivity-params",
        nargs="+",
        metavar="PATH",
        help="parameters of the sensitivity (default: those of the ensemble); fewer parameters need fewer parameter sets",
    )
    p.add_argument("-o", "--output-dir", type=Path, help="write the tables (CSV) and figures here")
    _add_common(p)
    add_discover_parser(sub)
    return parser


# --------------------------------------------------------------------------- helpers


def _print_report(rep: LoadReport) -> None:
    print(rep.summary(max_listed=50))


def _read_tidy(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise SystemExit(f"error: {path}: expected a folder, a .parquet or a .csv file")


def _write_table(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        raise SystemExit(f"error: {path}: the output must end in .parquet or .csv")


def _input(args: argparse.Namespace) -> tuple[pd.DataFrame, LoadReport | None]:
    from analysis.load import load

    if args.input.is_file() and args.input.suffix in (".parquet", ".csv"):
        return _read_tidy(args.input), None
    df, rep = load(args.input, verify=args.verify, progress=args.progress)
    _print_report(rep)
    return df, rep


def _baseline_value(raw: str | None, outcomes: pd.DataFrame, by: list[str]) -> Any:
    """The --baseline text typed like the grouping column (so '0' matches a numeric 0)."""
    if raw is None or len(by) != 1:
        return raw
    for v in outcomes[by[0]].dropna().unique():
        if str(v) == raw:
            return v
    from analysis.load import parse_value

    return parse_value(raw)


def _show(title: str, df: pd.DataFrame) -> None:
    print(f"\n== {title} ==")
    with pd.option_context(
        "display.width",
        200,
        "display.max_columns",
        50,
        "display.max_rows",
        500,
        "display.float_format",
        "{:.6g}".format,
    ):
        print(df.to_string(index=False) if not df.empty else "(empty)")


# --------------------------------------------------------------------------- commands


def cmd_load(args: argparse.Namespace) -> int:
    from analysis.load import load, load_collectivites

    df, rep = load(
        args.folder,
        metrics=args.metrics,
        steps=args.steps,
        last_step_only=args.last_step_only,
        stratum_kinds=args.stratum_kinds,
        verify=args.verify,
        progress=args.progress,
    )
    _print_report(rep)
    if args.output:
        _write_table(df, args.output)
        print(f"Wrote {len(df)} rows x {df.shape[1]} columns to {args.output}")
    if args.collectivites:
        coll, _ = load_collectivites(args.folder, report=rep, progress=args.progress)
        _write_table(coll, args.collectivites)
        print(f"Wrote {len(coll)} collectivité rows to {args.collectivites}")
    if args.skipped_csv:
        _write_table(rep.to_frame(), args.skipped_csv)
    if not rep.complete:
        return EXIT_NO_RUN
    return EXIT_SKIPPED if args.strict and rep.skipped else EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from analysis.compare import (
        compare_design,
        cost_effectiveness,
        describe_design,
        rank_scenarios,
        run_outcomes,
        summarize_design,
    )

    df, _ = _input(args)
    if df.empty:
        print("No complete run: nothing to compare.")
        return EXIT_NO_RUN
    outcomes = run_outcomes(df)
    guess = describe_design(outcomes, by=args.by, panels=args.panels, param_sets=args.param_sets)
    by = guess.by
    baseline = _baseline_value(args.baseline, outcomes, by) if args.baseline is not None else guess.baseline
    design = describe_design(outcomes, by=by, baseline=baseline, panels=args.panels, param_sets=args.param_sets)
    for note in design.notes:
        print(note)
    method = "bootstrap" if args.bootstrap else "t"
    tables: dict[str, pd.DataFrame] = {"outcomes": outcomes}
    tables["summary"] = summarize_design(outcomes, design, args.metrics, level=args.level)
    _show(f"Mean over seeds with {args.level:.0%} interval", tables["summary"])
    if baseline is not None:
        tables["differences"] = compare_design(outcomes, design, args.metrics, level=args.level, method=method)
        where = f", level by level of {', '.join(design.panels)}" if design.panels else ""
        _show(f"Differences against {baseline}{where}, paired on {', '.join(design.pair_on)}", tables["differences"])
    if not design.panels:
        tables["ranking"] = rank_scenarios(outcomes, by, baseline=baseline, cost=args.cost_metric)
        _show("Ranking (1 = best)", tables["ranking"])
    tables.update(_decision_tables(args, outcomes, design))
    if baseline is not None and not design.panels:
        try:
            tables["cost_effectiveness"] = cost_effectiveness(
                outcomes, baseline, by, level=args.level, cost=args.cost_metric
            )
        except KeyError as exc:
            print(f"\nNo cost per point: {exc.args[0]}")
    if args.output_dir:
        for name, table in tables.items():
            _write_table(table, args.output_dir / f"{name}.csv")
        print(f"\nWrote {', '.join(f'{n}.csv' for n in tables)} to {args.output_dir}")
    return EXIT_OK


def cmd_plot(args: argparse.Namespace) -> int:
    from analysis.load import load_collectivites
    from analysis.plots import save, standard_figures

    df, rep = _input(args)
    if df.empty:
        print("No complete run: nothing to plot.")
        return EXIT_NO_RUN
    coll = None
    if rep is not None and rep.complete:
        coll, _ = load_collectivites(
            args.input, report=rep, columns=["maturity", "kind", "pop_band"], progress=args.progress
        )
    written = []
    for stem, _caption, fig in standard_figures(
        df,
        coll,
        by=args.by,
        metrics=args.metrics,
        heatmap=tuple(args.heatmap) if args.heatmap else None,
        kind=args.kind,
        level=args.level,
        **_plot_decision_options(args, df),
    ):
        written += save(fig, args.output_dir / stem)
    print(f"Wrote {len(written)} files ({len(written) // 2} figures, PNG and SVG) to {args.output_dir}")
    return EXIT_OK


def _plot_decision_options(args: argparse.Namespace, df: pd.DataFrame) -> dict:
    """Baseline (typed like its column) and language of the figures."""
    from analysis.compare import default_by, run_outcomes

    out = {"lang": args.lang}
    if args.baseline is not None:
        outcomes = run_outcomes(df, ["maturity_mean"]) if "metric" in df else df
        by = args.by or default_by(outcomes)
        out["baseline"] = _baseline_value(args.baseline, outcomes, by)
    return out


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.report import collect, render

    data = collect(
        args.folder,
        baseline=args.baseline,
        by=args.by,
        metrics=args.metrics,
        level=args.level,
        method="bootstrap" if args.bootstrap else "t",
        verify=args.verify,
        heatmap=tuple(args.heatmap) if args.heatmap else None,
        title=args.title,
        figures=not args.no_figures,
        kind=args.kind,
        cost_metric=args.cost_metric,
        progress=args.progress,
        lang=args.lang,
        weights=_parse_weights(args.weights),
        panels=args.panels,
        param_sets=args.param_sets,
        maps=not args.no_maps,
    )
    _print_report(data.load_report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(data), encoding="utf-8")
    print(f"Wrote {args.output} ({len(data.figures) + len(data.map_figures)} figures)")
    if args.pdf:
        _write_pdf(args.output, args.pdf)
    return EXIT_OK if data.load_report.complete else EXIT_NO_RUN


def _write_pdf(html_path: Path, target: Any) -> Path:
    from analysis.report import html_to_pdf

    pdf = html_path.with_suffix(".pdf") if target is True else Path(target)
    html_to_pdf(html_path, pdf)
    print(f"Wrote {pdf} (A4)")
    return pdf


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from analysis import sensitivity as sa

    problem = sa.make_problem(args.param, args.problem, args.seeds, args.override, args.metrics)
    model = sa.resolve_model(args.model, problem.metrics)
    print(
        f"{args.method}: {len(problem.parameters)} parameters ({', '.join(problem.names)}), "
        f"{len(problem.seeds)} seeds per point, outputs: {', '.join(problem.metrics)}"
    )
    if args.method == "morris":
        result = sa.morris(
            problem,
            model=model,
            trajectories=args.trajectories,
            num_levels=args.levels,
            jobs=args.jobs,
            seed=args.sample_seed,
            progress=args.progress,
        )
    else:
        result = sa.sobol(
            problem,
            model=model,
            n=args.n_base,
            second_order=args.second_order,
            jobs=args.jobs,
            seed=args.sample_seed,
            progress=args.progress,
        )
    _show(f"{args.method} indices ({result.settings['n_evaluations']} model runs)", result.indices)
    paths = result.save(args.output_dir)
    print(f"\nWrote {', '.join(p.name for p in paths)} to {args.output_dir}")
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    from analysis import calibrate as cal
    from sim import targets as tg

    if args.list_targets:
        registry = tg.load_targets(args.targets_file)
        start, years = cal.horizon(list(registry.values()), args.set)
        ts, colls = tg.probe_run([*args.set, f"simulation.years={years}"])
        status = tg.availability(registry.values(), ts, colls)
        print(tg.table(registry.values(), status))
        n = sum(v is None for v in status.values())
        print(f"\n{n} of {len(status)} targets measurable (runs from {start}, {years} years).")
        return EXIT_OK
    params = cal.choose_params(args.params, args.exclude_params)
    opts = cal.RunOptions(
        launcher=args.launcher,
        jobs=args.jobs,
        hydra_args=list(args.hydra_arg),
        progress=args.progress,
        dry_run=args.dry_run,
        max_failed_share=args.max_failed,
    )
    result = cal.calibrate(
        args.out,
        opts,
        target_ids=args.targets,
        targets_file=str(args.targets_file) if args.targets_file else None,
        params=params,
        points=args.points,
        seeds=args.seeds,
        waves=args.waves,
        cutoff=args.cutoff,
        criterion=args.criterion,
        overrides=args.set,
        drop_unavailable=args.drop_unavailable,
        pool=args.pool,
        sample_seed=args.sample_seed,
        abc=args.abc,
    )
    if result:
        print(f"Ensemble: {result['ensemble']} ({result['members']} members, version {result['version']})")
    return EXIT_OK


def cmd_robustness(args: argparse.Namespace) -> int:
    from analysis import robustness as rb
    from analysis.compare import run_outcomes
    from analysis.load import load

    df, rep = load(args.input, verify=args.verify, progress=args.progress)
    _print_report(rep)
    if df.empty:
        print("No complete run: nothing to compare.")
        return EXIT_NO_RUN
    outcomes = run_outcomes(df)
    directions = rb.parse_directions(args.direction)
    result = rb.robustness(
        outcomes,
        baseline=args.baseline,
        metrics=args.metrics,
        directions=directions,
        member=args.member_column,
        level=args.level,
        robust_share=args.robust_share,
    )
    titles = {
        "versus_baseline": f"Against {args.baseline}: P(better), expected difference, parameter vs seed spread",
        "pairwise": "P(row scenario beats column scenario), over parameter sets",
        "regret": "Regret (gap to the best scenario under each parameter set)",
        "ranking": "Ranking under parameter uncertainty",
    }
    tables = result.tables()
    for name, table in tables.items():
        if name == "pairwise" and not table.empty:
            for metric, g in table.groupby("metric", sort=False):
                _show(
                    f"{titles[name]}: {metric}",
                    g.pivot(index="scenario", columns="versus", values="p_beats").reset_index(),
                )
        else:
            _show(titles[name], table)
    if args.sensitivity:
        params = rb.member_parameters(rep, args.sensitivity_params, member=args.member_column)
        rows = []
        for row in result.versus_baseline.itertuples():
            d = rb.paired_differences(outcomes, row.metric, row.scenario, row.baseline, args.member_column)
            g = d.groupby("member")["value"]
            try:
                table, loo = rb.difference_sensitivity(
                    params.astype(float), g.mean(), noise_var=g.var(ddof=1) / g.count(), n=args.n_sobol
                )
            except ValueError as exc:
                print(f"No sensitivity for {row.scenario} / {row.metric}: {exc}")
                continue
            rows.append(table.assign(metric=row.metric, scenario=row.scenario, emulator_r2=loo["r2"]))
        if rows:
            tables["sensitivity"] = pd.concat(rows, ignore_index=True)
            _show("Sensitivity of the differences (Sobol indices on a GP emulator)", tables["sensitivity"])
    if args.output_dir:
        for name, table in tables.items():
            _write_table(table, args.output_dir / f"{name}.csv")
        figs = rb.plot_differences(result, outcomes, args.output_dir / "figures", args.member_column)
        if "sensitivity" in tables:
            rb.plot_sensitivity(tables["sensitivity"], args.output_dir / "figures" / "sensitivity.png")
            figs.append(args.output_dir / "figures" / "sensitivity.png")
        print(f"\nWrote {', '.join(f'{n}.csv' for n in tables)} and {len(figs)} figures to {args.output_dir}")
    return EXIT_OK


def _decision_tables(args: argparse.Namespace, outcomes: pd.DataFrame, design: Any) -> dict:
    """The multi-criteria ranking and the cost per point of every criterion, printed with the labels and
    formats of the outcome registry (sim/outcomes.py)."""
    from analysis.compare import multi_criteria
    from analysis.i18n import scenario_title
    from sim import outcomes as reg

    lang = args.lang
    keys = design.keys
    tables: dict[str, pd.DataFrame] = {}
    if not design.by:
        return tables
    ranking, criteria = multi_criteria(outcomes, design, weights=_parse_weights(args.weights), cost=args.cost_metric,
                                       level=args.level)  # fmt: skip
    tables["multi_criteria_ranking"], tables["criteria"] = ranking, criteria
    view = ranking[
        [*keys, "rank", "score", *(c for c in ("adoption_score", "fracture_score", "cost_score") if c in ranking)]
    ].copy()
    if "scenario" in view:
        view["scenario"] = [scenario_title(v, lang) for v in view["scenario"]]
    _show("Multi-criteria ranking (score 0-1, 1 = best on every criterion)", view.round(3))
    if "eur_per_point" in criteria:
        per = criteria[criteria["improvement"].notna() & (criteria["metric"] != args.cost_metric)].copy()
        if "scenario" in per:
            per["scenario"] = [scenario_title(v, lang) for v in per["scenario"]]
        per["difference"] = [reg.format_diff(m, d, lang) + " " + reg.format_interval(m, lo, hi, lang, diff=True)
                             for m, d, lo, hi in zip(per["metric"], per["diff"], per["ci_low"], per["ci_high"], strict=True)]  # fmt: skip
        per["metric"] = [reg.label(m, lang) for m in per["metric"]]
        per["cost per point"] = [reg.euros(v, lang) if pd.notna(v) else "" for v in per["eur_per_point"]]
        per["better in"] = [f"{p:.0%} of {int(n)} {b}" if pd.notna(p) else "" for p, n, b in
                            zip(per.get("prob_better", []), per.get("prob_n", []), per.get("prob_basis", []), strict=True)]  # fmt: skip
        _show("Cost per point of every criterion", per[[*keys, "metric", "difference", "cost per point", "better in"]])
    return tables


COMMANDS = {
    "load": cmd_load,
    "compare": cmd_compare,
    "plot": cmd_plot,
    "report": cmd_report,
    "sensitivity": cmd_sensitivity,
    "calibrate": cmd_calibrate,
    "robustness": cmd_robustness,
    "discover": lambda args: cmd_discover(args),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)
    if args.verbose == 0:
        # skipped runs are printed in the load report; do not repeat them as warnings
        logging.getLogger("analysis.load").setLevel(logging.ERROR)
    from analysis.calibrate import CalibrationError
    from analysis.sensitivity import ModelError
    from sim.config import ConfigError
    from sim.targets import TargetError

    try:
        return COMMANDS[args.command](args)
    except (
        FileNotFoundError,
        KeyError,
        ValueError,
        RuntimeError,
        ModelError,
        CalibrationError,
        ConfigError,
        TargetError,
    ) as exc:
        if args.verbose:
            raise
        print(f"error: {exc} (run with -v for the traceback)", file=sys.stderr)
        return 2
