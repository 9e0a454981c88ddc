"""Scenario discovery: under which conditions does a scenario beat another, or an outcome cross a
threshold? ``python -m analysis discover``.

On any sweep whose runs vary parameters (uncertain parameters of the model, lever values, an
ensemble...), each case is classified as *of interest* or not:

* ``--beats A --over B --metric M``: the run of scenario A minus the run of scenario B **with the same
  seed and the same values of every input** (same territory, same conditions) is better on M (by at
  least ``--margin``, in the metric's units; direction from the outcome registry);
* ``--threshold 'M<0.05'`` (``<``, ``<=``, ``>``, ``>=``): the run's end-of-run M crosses the threshold,
  optionally for one ``--scenario`` only.

PRIM (the Patient Rule Induction Method of ``ema-workbench``'s analysis modules, which work on data
produced elsewhere) then finds boxes of the inputs where the cases of interest concentrate: for each
box its *coverage* (share of all cases of interest that fall in the box), *density* (share of the
cases in the box that are of interest), *mass* (share of all cases in the box) and its limits with
quasi-p-values; the box kept on the peeling trajectory is the one of highest coverage among those of
density at least ``--density``. Feature scoring (extra trees) ranks the inputs by how much they
explain the cases of interest. Tables (CSV) and figures (PNG and SVG) go to the output folder.

Needs the optional extra ``discovery`` (``pip install 'digital-transition-sim[discovery]'``).
"""

from __future__ import annotations

import argparse
import logging
import operator
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import outcomes as reg

log = logging.getLogger(__name__)

OPERATORS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_THRESHOLD = re.compile(r"^\s*([\w.]+)\s*(<=|>=|<|>)\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*$")
EXTRA_HINT = "scenario discovery needs ema-workbench: pip install 'digital-transition-sim[discovery]'"


def _ema():
    """ema-workbench's analysis modules (imported on first use: the package is slow to import)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "ipyparallel not installed": not needed here
            from ema_workbench.analysis import feature_scoring, prim
            from ema_workbench.analysis import scenario_discovery_util as sdutil
    except ImportError as exc:
        raise ImportError(EXTRA_HINT) from exc
    logging.getLogger("EMA").setLevel(logging.WARNING)
    return prim, feature_scoring, sdutil


# --------------------------------------------------------------------------- cases


def input_columns(outcomes: pd.DataFrame, exclude: Sequence[str] = ("scenario", "seed", "run_id")) -> list[str]:
    """Swept columns that vary (the conditions to discover), without scenario and seed."""
    from analysis.compare import design_columns

    return [c for c in design_columns(outcomes) if c not in exclude and outcomes[c].nunique(dropna=False) > 1]


def beats_cases(
    outcomes: pd.DataFrame,
    scenario: str,
    over: str,
    metric: str,
    *,
    inputs: Sequence[str] | None = None,
    margin: float = 0.0,
    column: str = "scenario",
) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """(x, y, gain): one case per seed and input values where both scenarios ran; ``gain`` is the
    difference in the better direction (absolute value for signed gaps), ``y`` is ``gain > margin``."""
    if metric not in outcomes.columns:
        raise KeyError(
            f"metric {metric!r} not in the runs; metrics: {sorted(c for c in outcomes.columns if c[0].islower())[:40]}"
        )
    names = set(outcomes[column].astype(str))
    for s in (scenario, over):
        if s not in names:
            raise KeyError(f"{column} {s!r} not in the runs: {sorted(names)}")
    inputs = list(inputs) if inputs is not None else input_columns(outcomes, (column, "seed", "run_id"))
    if not inputs:
        raise ValueError("no varied input: scenario discovery needs a sweep over parameters (e.g. a Latin hypercube)")
    keys = ["seed", *inputs]
    o = reg.get(metric)
    if o.direction == reg.NEUTRAL:
        raise ValueError(f"{metric} has no better direction in the registry: use --threshold instead")
    a = outcomes[outcomes[column].astype(str) == scenario][[*keys, metric]]
    b = outcomes[outcomes[column].astype(str) == over][[*keys, metric]]
    joined = a.merge(b, on=keys, suffixes=("", "_over"))
    if joined.empty:
        raise ValueError(f"no run of {scenario} has a run of {over} with the same seed and inputs ({', '.join(keys)})")
    va, vb = joined[metric].astype(float), joined[metric + "_over"].astype(float)
    if o.absolute:
        va, vb = va.abs(), vb.abs()
    gain = (va - vb) * o.direction
    return joined[inputs].reset_index(drop=True), (gain > margin).to_numpy(), gain.reset_index(drop=True)


def threshold_cases(
    outcomes: pd.DataFrame,
    rule: str,
    *,
    scenario: str | None = None,
    inputs: Sequence[str] | None = None,
    column: str = "scenario",
) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """(x, y, value): one case per run (of ``scenario`` when given); ``y`` is the rule, e.g. ``M<0.05``."""
    m = _THRESHOLD.match(rule)
    if not m:
        raise ValueError(f"threshold must look like 'metric<0.05' (<, <=, >, >=), not {rule!r}")
    metric, op, value = m.group(1), m.group(2), float(m.group(3))
    if metric not in outcomes.columns:
        raise KeyError(f"metric {metric!r} not in the runs")
    sub = outcomes
    if scenario is not None:
        sub = outcomes[outcomes[column].astype(str) == scenario]
        if sub.empty:
            raise KeyError(f"{column} {scenario!r} not in the runs")
    excl = ("seed", "run_id", column) if scenario is not None else ("seed", "run_id")
    inputs = list(inputs) if inputs is not None else input_columns(sub, excl)
    if not inputs:
        raise ValueError("no varied input: scenario discovery needs a sweep over parameters")
    values = sub[metric].astype(float)
    return sub[inputs].reset_index(drop=True), OPERATORS[op](values, value).to_numpy(), values.reset_index(drop=True)


# --------------------------------------------------------------------------- PRIM and feature scores


@dataclass
class Box:
    """One PRIM box: its statistics, its limits on the restricted inputs, its peeling trajectory."""

    index: int
    coverage: float
    density: float
    mass: float
    res_dim: int
    n: int
    k: int
    limits: pd.DataFrame  # input, low, high (or values for a categorical input), qp_low, qp_high
    trajectory: pd.DataFrame
    chosen: int  # position on the trajectory


@dataclass
class Discovery:
    question: str
    x: pd.DataFrame
    y: np.ndarray
    boxes: list[Box] = field(default_factory=list)
    scores: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def n_cases(self) -> int:
        return len(self.y)

    @property
    def n_interest(self) -> int:
        return int(np.sum(self.y))

    def box_table(self) -> pd.DataFrame:
        rows = []
        for b in self.boxes:
            for _, lim in b.limits.iterrows():
                rows.append({"box": b.index, "coverage": b.coverage, "density": b.density, "mass": b.mass,
                             "res_dim": b.res_dim, "cases": b.n, "of_interest": b.k, **lim.to_dict()})  # fmt: skip
            if b.limits.empty:
                rows.append({"box": b.index, "coverage": b.coverage, "density": b.density, "mass": b.mass,
                             "res_dim": 0, "cases": b.n, "of_interest": b.k})  # fmt: skip
        return pd.DataFrame(rows)

    def summary(self, lang: str = "en") -> str:
        lines = [
            self.question,
            f"{self.n_interest} of {self.n_cases} cases of interest ({self.n_interest / max(self.n_cases, 1):.0%}).",
        ]
        for b in self.boxes:
            conds = "; ".join(_limit_text(r) for _, r in b.limits.iterrows()) or "(no restriction)"
            lines.append(
                f"Box {b.index}: coverage {b.coverage:.0%}, density {b.density:.0%}, mass {b.mass:.0%} "
                f"({b.k} of {b.n} cases in the box are of interest): {conds}"
            )
        if self.scores is not None and not self.scores.empty:
            top = ", ".join(f"{r.input} {r.score:.2f}" for r in self.scores.head(5).itertuples())
            lines.append(f"Feature scores (extra trees, higher explains more): {top}")
        lines += self.notes
        return "\n".join(lines)


def _limit_text(r: pd.Series) -> str:
    if isinstance(r.get("values"), str) and r["values"]:
        return f"{r['input']} in {{{r['values']}}}"
    return f"{r['input']} in [{r['low']:.4g}, {r['high']:.4g}]"


def _prepare_x(x: pd.DataFrame) -> pd.DataFrame:
    """Inputs as PRIM wants them: floats, ints or categories; a column named 'scenario' would be dropped
    by ema-workbench, so it is renamed."""
    out = x.rename(columns={"scenario": "scenario_name"}).copy()
    for c in out.columns:
        if pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].astype(str)
        elif pd.api.types.is_integer_dtype(out[c]):
            out[c] = out[c].astype(np.int64)
        elif pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].astype(float)
        else:
            out[c] = out[c].astype(str).astype("category")
    return out


def prim_boxes(
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    n_boxes: int = 1,
    density: float = 0.8,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> list[Box]:
    """Up to ``n_boxes`` PRIM boxes (each found on the cases left outside the previous ones)."""
    prim, _, sdutil = _ema()
    xp = _prepare_x(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # ema-workbench 3.0 uses pandas' deprecated inplace=
        warnings.simplefilter("ignore", DeprecationWarning)
        return _prim_boxes(prim, sdutil, xp, y, n_boxes, density, peel_alpha, mass_min)


def _prim_boxes(prim, sdutil, xp, y, n_boxes, density, peel_alpha, mass_min) -> list[Box]:
    p = prim.Prim(xp, np.asarray(y, dtype=int), peel_alpha=peel_alpha, mass_min=mass_min)
    boxes = []
    for i in range(n_boxes):
        if int(np.sum(np.asarray(y)[p.yi_remaining] if hasattr(p, "yi_remaining") else y)) == 0:
            break
        box = p.find_box()
        if box is None:
            break
        traj = box.peeling_trajectory.reset_index(drop=True)
        ok = traj[traj["density"] >= density]
        chosen = int(ok["coverage"].idxmax()) if len(ok) else int(traj["density"].idxmax())
        box.select(chosen)
        lims = box.box_lims[chosen]
        restricted = list(sdutil._determine_restricted_dims(lims, p.box_init))
        qp = box.p_values[chosen]
        rows = []
        for dim in restricted:
            col = lims[dim]
            q = qp.get(dim, [np.nan, np.nan])
            q = [np.nan if v is None or v == -1 else v for v in q]
            name = "scenario" if dim == "scenario_name" else dim
            if isinstance(col.iloc[0], (set, frozenset)):
                rows.append({"input": name, "low": np.nan, "high": np.nan,
                             "values": ", ".join(sorted(map(str, col.iloc[0]))), "qp_low": q[0], "qp_high": q[-1]})  # fmt: skip
            else:
                rows.append({"input": name, "low": float(col.iloc[0]), "high": float(col.iloc[1]), "values": "",
                             "qp_low": q[0], "qp_high": q[-1]})  # fmt: skip
        r = traj.iloc[chosen]
        boxes.append(Box(i + 1, float(r["coverage"]), float(r["density"]), float(r["mass"]), int(r["res_dim"]),
                         int(r["n"]), int(r["k"]), pd.DataFrame(rows), traj, chosen))  # fmt: skip
    return boxes


def feature_scores(x: pd.DataFrame, y: np.ndarray, *, seed: int = 0, trees: int = 200) -> pd.DataFrame:
    """Extra-trees feature scores of the inputs for the cases of interest (sum to 1): ``input, score``."""
    _, fs, _ = _ema()
    xp = _prepare_x(x)
    y = np.asarray(y, dtype=int)
    if len(np.unique(y)) < 2:
        return pd.DataFrame({"input": list(x.columns), "score": np.nan})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores, _ = fs.get_ex_feature_scores(xp, y, mode=fs.RuleInductionType.CLASSIFICATION, nr_trees=trees,
                                             random_state=seed)  # fmt: skip
    out = scores.reset_index()
    out.columns = ["input", "score"]
    out["input"] = out["input"].replace({"scenario_name": "scenario"})
    return out.sort_values("score", ascending=False).reset_index(drop=True)


def discover(
    x: pd.DataFrame, y: np.ndarray, question: str = "", *, n_boxes: int = 1, density: float = 0.8,
    peel_alpha: float = 0.05, mass_min: float = 0.05, seed: int = 0,
) -> Discovery:  # fmt: skip
    """PRIM boxes and feature scores for cases ``y`` over inputs ``x``."""
    y = np.asarray(y, dtype=bool)
    d = Discovery(question, x, y)
    if d.n_interest == 0:
        d.notes.append("No case of interest: nothing to discover (the condition never holds).")
    elif d.n_interest == d.n_cases:
        d.notes.append("Every case is of interest: the condition holds everywhere in the sweep.")
    else:
        d.boxes = prim_boxes(x, y, n_boxes=n_boxes, density=density, peel_alpha=peel_alpha, mass_min=mass_min)
    d.scores = feature_scores(x, y, seed=seed)
    return d


# --------------------------------------------------------------------------- figures


def tradeoff_figure(box: Box):
    """Coverage against density along the peeling trajectory, coloured by the number of restricted inputs;
    the kept box circled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = box.trajectory
    fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
    ax.scatter([box.coverage], [box.density], s=160, facecolors="none", edgecolors="crimson", lw=2, label="kept box")
    fig.colorbar(sc, ax=ax, label="restricted inputs")
    ax.set_xlabel("Coverage (share of the cases of interest in the box)")
    ax.set_ylabel("Density (share of the box's cases of interest)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"PRIM box {box.index}: peeling trajectory", fontsize=10)
    return fig


def limits_figure(box: Box, x: pd.DataFrame):
    """The kept box's limits on each restricted input, against the input's whole range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lims = box.limits[box.limits["values"].fillna("") == ""] if not box.limits.empty else box.limits
    n = max(len(lims), 1)
    fig, ax = plt.subplots(figsize=(6.5, 0.55 * n + 1.4), layout="constrained")
    for i, (_, r) in enumerate(lims.iterrows()):
        col = x[r["input"]].astype(float)
        lo, hi = float(col.min()), float(col.max())
        span = (hi - lo) or 1.0
        ax.plot([0, 1], [i, i], color="0.8", lw=6, solid_capstyle="butt")
        ax.plot([(r["low"] - lo) / span, (r["high"] - lo) / span], [i, i], color="crimson", lw=6, solid_capstyle="butt")
        ax.text(1.02, i, f"[{r['low']:.3g}, {r['high']:.3g}] of [{lo:.3g}, {hi:.3g}]", va="center", fontsize=8)
    ax.set_yticks(range(len(lims)), list(lims["input"]))
    ax.set_xlim(0, 1.45)
    ax.set_xticks([0, 0.5, 1], ["min", "", "max"])
    ax.set_title(f"PRIM box {box.index}: coverage {box.coverage:.0%}, density {box.density:.0%}", fontsize=10)
    return fig


def scores_figure(scores: pd.DataFrame):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = scores.dropna().sort_values("score")
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * max(len(s), 1) + 1.2), layout="constrained")
    ax.barh(s["input"], s["score"], color="#4c72b0")
    ax.set_xlabel("Feature score (extra trees; sums to 1)")
    ax.set_title("Which inputs explain the cases of interest", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    return fig


def save_outputs(d: Discovery, out_dir: Path) -> list[Path]:
    from analysis.plots import save

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    cases = d.x.copy()
    cases["of_interest"] = d.y
    for name, table in (("cases", cases), ("boxes", d.box_table()), ("feature_scores", d.scores)):
        if table is not None:
            path = out_dir / f"{name}.csv"
            table.to_csv(path, index=False)
            paths.append(path)
    for b in d.boxes:
        b.trajectory.to_csv(out_dir / f"box{b.index}_trajectory.csv", index=False)
        paths.append(out_dir / f"box{b.index}_trajectory.csv")
        paths += save(tradeoff_figure(b), out_dir / f"box{b.index}_tradeoff")
        if not b.limits.empty:
            paths += save(limits_figure(b, d.x), out_dir / f"box{b.index}_limits")
    if d.scores is not None and d.scores["score"].notna().any():
        paths += save(scores_figure(d.scores), out_dir / "feature_scores")
    (out_dir / "summary.txt").write_text(d.summary() + "\n", encoding="utf-8")
    paths.append(out_dir / "summary.txt")
    return paths


# --------------------------------------------------------------------------- command line


def add_discover_parser(sub: Any) -> None:
    p = sub.add_parser(
        "discover",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="scenario discovery: the conditions (PRIM boxes, feature scores) under which a scenario beats another "
        "or an outcome crosses a threshold",
        description=__doc__.split("\n\n", 1)[1],
        epilog=(
            "examples:\n"
            "  python -m analysis discover multirun/lhs --beats mediation --over business_as_usual \\\n"
            "      --metric inhabitants_excluded_share -o discovery/\n"
            "  python -m analysis discover multirun/lhs --threshold 'maturity_gini<0.2' --scenario combined\n"
            "  python -m analysis discover sweep.parquet --beats mutualisation_first --over business_as_usual \\\n"
            "      --metric gap_size --inputs behaviour.training_effect mutualisation.scale_exponent --density 0.7\n"
        ),
    )
    p.add_argument("input", type=Path, help="a sweep folder, or a tidy .parquet/.csv written by 'load'")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--beats", metavar="SCENARIO", help="cases where this scenario does better than --over")
    what.add_argument(
        "--threshold", metavar="RULE", help="cases where an outcome crosses a threshold, e.g. 'gap_size<0.1'"
    )
    p.add_argument("--over", metavar="SCENARIO", default="business_as_usual", help="the scenario compared with --beats")
    p.add_argument("--metric", help="with --beats: the outcome compared (direction from the outcome registry)")
    p.add_argument("--margin", type=float, default=0.0, help="with --beats: the gain must exceed this (metric units)")
    p.add_argument("--scenario", help="with --threshold: only the runs of this scenario")
    p.add_argument("--inputs", nargs="+", metavar="COLUMN", help="the conditions (default: every varied swept column)")
    p.add_argument("--density", type=float, default=0.8, help="keep the box of highest coverage with this density")
    p.add_argument("--boxes", type=int, default=1, help="number of boxes to find")
    p.add_argument("--peel-alpha", type=float, default=0.05, help="share of cases peeled at each PRIM step")
    p.add_argument("--mass-min", type=float, default=0.05, help="smallest share of cases a box may hold")
    p.add_argument("-o", "--output-dir", type=Path, default=Path("discovery"), help="folder for tables and figures")
    p.add_argument("--verify", default="auto", help="file check of the runs (see 'load')")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bars")


def cmd_discover(args: argparse.Namespace) -> int:
    from analysis.compare import run_outcomes
    from analysis.load import load

    if args.input.is_file():
        df = pd.read_parquet(args.input) if args.input.suffix == ".parquet" else pd.read_csv(args.input)
    else:
        df, rep = load(args.input, verify=args.verify, stratum_kinds=["all"], progress=args.progress)
        print(rep.summary(max_listed=20))
    if df.empty:
        print("No complete run: nothing to discover.")
        return 1
    outcomes = run_outcomes(df)
    if args.beats:
        if not args.metric:
            raise ValueError("--beats needs --metric (the outcome compared)")
        x, y, _ = beats_cases(outcomes, args.beats, args.over, args.metric, inputs=args.inputs, margin=args.margin)
        question = (f"When does {args.beats} do better than {args.over} on {reg.label(args.metric)} ({args.metric})"
                    + (f" by more than {args.margin:g}" if args.margin else "") + "? Cases: runs paired on seed and inputs.")  # fmt: skip
    else:
        x, y, _ = threshold_cases(outcomes, args.threshold, scenario=args.scenario, inputs=args.inputs)
        question = f"When is {args.threshold}" + (f" for {args.scenario}" if args.scenario else "") + "?"
    d = discover(x, y, question, n_boxes=args.boxes, density=args.density, peel_alpha=args.peel_alpha,
                 mass_min=args.mass_min)  # fmt: skip
    print("\n" + d.summary())
    paths = save_outputs(d, args.output_dir)
    print(f"\nWrote {len(paths)} files to {args.output_dir}")
    return 0


__all__ = ["Box", "Discovery", "beats_cases", "discover", "feature_scores", "prim_boxes", "threshold_cases"]
