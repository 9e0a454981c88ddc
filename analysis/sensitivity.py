"""Global sensitivity analysis with SALib: Morris screening and Sobol indices.

Parameters are named by their Hydra override keys (``training.budget_eur_per_staff``)
and given bounds; each sample point is evaluated for ``k`` seeds (the override
``seed=<s>`` is added) and the outputs are averaged over the seeds before SALib
analyses them.

The model is a parameter: any callable ``model(overrides: list[str]) -> {metric: value}``.
The default, :class:`SimModel`, composes the Hydra config with ``sim.api.compose_config``,
runs it with ``sim.api.run(cfg, out_dir=None)`` and returns end-of-run outcomes of
``result.timeseries`` (as :func:`analysis.compare.run_outcomes` computes them, so
``cum_spend_total_eur`` is available).  Evaluations run one after the other, or in
``jobs`` worker processes (the model must then be picklable: a module-level function or
an instance of a module-level class, such as the analytic :class:`Ishigami` and
:class:`Linear` models used to check the pipeline).

Problem files (YAML)::

    parameters:
      training.budget_eur_per_staff: [0, 500]          # float in [0, 500]
      territory.n_communes: {low: 40, high: 120, type: int}
    seeds: 3                                            # or a list: [0, 7, 9]
    overrides: [simulation.years=2]                     # fixed for every evaluation
    metrics: [maturity_mean, maturity_gini, cum_spend_total_eur]
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from analysis.overrides import parse_overrides

if TYPE_CHECKING:  # pandas, SALib and tqdm are imported when used: worker processes start faster
    import pandas as pd

ModelFn = Callable[[list[str]], Mapping[str, float]]

DEFAULT_METRICS: tuple[str, ...] = (
    "maturity_mean",
    "maturity_gini",
    "inhabitants_excluded_share",
    "cum_spend_total_eur",
)
KINDS = ("float", "int")


# --------------------------------------------------------------------------- problem


@dataclass(frozen=True)
class Parameter:
    """One input of the analysis: a Hydra override key and its range."""

    name: str
    low: float
    high: float
    kind: str = "float"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: type must be one of {KINDS}, not {self.kind!r}")
        if not self.low < self.high:
            raise ValueError(f"{self.name}: lower bound {self.low} must be below upper bound {self.high}")
        if "=" in self.name or not self.name:
            raise ValueError(f"bad parameter name {self.name!r}")

    def value(self, x: float) -> float | int:
        return round(x) if self.kind == "int" else float(x)

    def override(self, x: float) -> str:
        v = self.value(x)
        return f"{self.name}={v if isinstance(v, int) else repr(float(v))}"


@dataclass
class Problem:
    """Parameters, seeds per sample point, fixed overrides and output metrics."""

    parameters: list[Parameter]
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    overrides: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=lambda: list(DEFAULT_METRICS))

    def __post_init__(self) -> None:
        if not self.parameters:
            raise ValueError("no parameter to analyse: give --param NAME=LOW:HIGH or a problem file")
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"parameter named twice: {names}")
        if not self.seeds:
            raise ValueError("at least one seed is needed")
        fixed = parse_overrides(self.overrides)
        clash = [n for n in [*names, "seed"] if n in fixed]
        if clash:
            raise ValueError(f"fixed overrides set analysed parameters or the seed: {clash}")
        if not self.metrics:
            raise ValueError("at least one output metric is needed")

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def salib(self) -> dict[str, Any]:
        return {
            "num_vars": len(self.parameters),
            "names": self.names,
            "bounds": [[p.low, p.high] for p in self.parameters],
        }

    def overrides_for(self, x: Sequence[float], seed: int) -> list[str]:
        return [*self.overrides, *(p.override(v) for p, v in zip(self.parameters, x, strict=True)), f"seed={seed}"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameters": {p.name: {"low": p.low, "high": p.high, "type": p.kind} for p in self.parameters},
            "seeds": list(self.seeds),
            "overrides": list(self.overrides),
            "metrics": list(self.metrics),
        }


def parse_param(text: str) -> Parameter:
    """``name=low:high`` or ``name=low:high:int`` -> :class:`Parameter`."""
    name, sep, rng = text.partition("=")
    parts = rng.split(":")
    if not sep or len(parts) not in (2, 3):
        raise ValueError(f"parameter must look like name=low:high or name=low:high:int, not {text!r}")
    kind = parts[2].strip() if len(parts) == 3 else "float"
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise ValueError(f"bounds of {text!r} must be numbers") from exc
    return Parameter(name.strip(), low, high, kind)


def _param_from_yaml(name: str, spec: Any) -> Parameter:
    if isinstance(spec, (list, tuple)) and len(spec) in (2, 3):
        return Parameter(name, float(spec[0]), float(spec[1]), str(spec[2]) if len(spec) == 3 else "float")
    if isinstance(spec, Mapping):
        return Parameter(name, float(spec["low"]), float(spec["high"]), str(spec.get("type", "float")))
    raise ValueError(f"parameter {name}: give [low, high] or {{low, high, type}}, not {spec!r}")


def parse_seeds(spec: int | str | Sequence[int]) -> list[int]:
    """``3`` -> [0, 1, 2]; ``"4,9"`` -> [4, 9]; a list stays."""
    if isinstance(spec, str):
        spec = spec.strip()
        if "," in spec:
            return [int(s) for s in spec.split(",") if s.strip()]
        spec = int(spec)
    if isinstance(spec, int):
        if spec < 1:
            raise ValueError("the number of seeds must be at least 1")
        return list(range(spec))
    return [int(s) for s in spec]


def make_problem(
    params: Sequence[str | Parameter] = (),
    file: str | os.PathLike[str] | None = None,
    seeds: int | str | Sequence[int] | None = None,
    overrides: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> Problem:
    """A problem from a YAML file and/or command-line values (those win over the file's)."""
    spec: dict[str, Any] = {}
    if file is not None:
        loaded = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{file}: expected a mapping with a 'parameters' key")
        spec = loaded
    by_name: dict[str, Parameter] = {n: _param_from_yaml(n, s) for n, s in (spec.get("parameters") or {}).items()}
    for p in params:
        q = p if isinstance(p, Parameter) else parse_param(p)
        by_name[q.name] = q
    return Problem(
        parameters=list(by_name.values()),
        seeds=parse_seeds(seeds if seeds is not None else spec.get("seeds", 3)),
        overrides=[*(spec.get("overrides") or []), *(overrides or [])],
        metrics=list(metrics or spec.get("metrics") or DEFAULT_METRICS),
    )


# --------------------------------------------------------------------------- models


def outcomes_of_timeseries(ts: pd.DataFrame, metrics: Sequence[str] | None = None) -> dict[str, float]:
    """End-of-run outcomes (and ``cum_spend_*`` totals) of one run's timeseries table."""
    from analysis.compare import run_outcomes

    df = ts.assign(run_id="run", seed=0)
    df.attrs["param_columns"] = []
    row = run_outcomes(df, metrics)
    if row.empty:
        return {}
    rec = row.iloc[0]
    return {c: float(rec[c]) for c in row.columns if c not in ("run_id", "seed")}


class SimModel:
    """The simulator through ``sim.api``: overrides -> end-of-run outcomes."""

    def __init__(self, metrics: Sequence[str] | None = None) -> None:
        self.metrics = list(metrics) if metrics is not None else None

    def __call__(self, overrides: list[str]) -> dict[str, float]:
        from sim.api import compose_config, run

        cfg = compose_config(overrides=list(overrides))
        result = run(cfg, out_dir=None)
        return outcomes_of_timeseries(result.timeseries, self.metrics)


def _x(overrides: Sequence[str], name: str) -> float:
    values = parse_overrides(overrides)
    if name not in values:
        raise KeyError(f"the model needs the override {name}=...")
    return float(values[name])


class Ishigami:
    """Ishigami test function y = sin x1 + a sin^2 x2 + b x3^4 sin x1 (inputs in [-pi, pi]).

    Parameters are looked up by ``names``; ``noise`` adds seed-dependent noise of that
    standard deviation (so averaging over seeds matters).  Analytic first-order Sobol
    indices for a=7, b=0.1: S1 = 0.314, S2 = 0.442, S3 = 0.
    """

    def __init__(
        self,
        names: Sequence[str] = ("x1", "x2", "x3"),
        a: float = 7.0,
        b: float = 0.1,
        noise: float = 0.0,
        metric: str = "y",
    ) -> None:
        self.names, self.a, self.b, self.noise, self.metric = list(names), a, b, noise, metric

    def __call__(self, overrides: list[str]) -> dict[str, float]:
        x1, x2, x3 = (_x(overrides, n) for n in self.names)
        y = math.sin(x1) + self.a * math.sin(x2) ** 2 + self.b * x3**4 * math.sin(x1)
        return {self.metric: y + _noise(overrides, self.noise)}


class Linear:
    """y = sum of coefficient x value over ``coefficients`` (+ seed noise); other parameters are dummies."""

    def __init__(self, coefficients: Mapping[str, float] | None = None, noise: float = 0.0, metric: str = "y") -> None:
        self.coefficients = dict(coefficients or {"a": 1.0})
        self.noise, self.metric = noise, metric

    def __call__(self, overrides: list[str]) -> dict[str, float]:
        y = sum(c * _x(overrides, n) for n, c in self.coefficients.items())
        return {self.metric: y + _noise(overrides, self.noise)}


def _noise(overrides: Sequence[str], sd: float) -> float:
    if not sd:
        return 0.0
    seed = int(parse_overrides(overrides).get("seed", 0))
    return float(np.random.default_rng(seed).normal(0.0, sd))


def resolve_model(spec: str | ModelFn | None, metrics: Sequence[str] | None = None) -> ModelFn:
    """``None``/``"sim"`` -> :class:`SimModel`; ``"module:attr"`` -> that callable (a class is instantiated)."""
    if spec is None or spec == "sim":
        return SimModel(metrics)
    if callable(spec):
        return spec
    module, sep, attr = str(spec).partition(":")
    if not sep:
        raise ValueError(f"model must be 'sim' or 'module:callable', not {spec!r}")
    obj = getattr(importlib.import_module(module), attr)
    return obj() if isinstance(obj, type) else obj


# --------------------------------------------------------------------------- evaluation


def evaluate(
    problem: Problem,
    X: np.ndarray,
    model: ModelFn,
    *,
    jobs: int = 1,
    progress: bool | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Run the model at every point x seed; return (mean over seeds per point x metric, raw table).

    The raw table has one row per evaluation: ``point``, the parameter values used,
    ``seed`` and each metric.
    """
    import pandas as pd

    from analysis._progress import progress_bar

    tasks = [(i, s, problem.overrides_for(x, s)) for i, x in enumerate(X) for s in problem.seeds]
    overrides = [t[2] for t in tasks]
    bar = progress_bar(None, total=len(tasks), desc="model evaluations", enable=progress)
    results: list[Mapping[str, float]] = []
    try:
        if jobs <= 1:
            for ov in overrides:
                results.append(_checked(_call(model, ov), ov, problem.metrics))
                bar.update(1)
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
                chunk = max(1, len(tasks) // (jobs * 8))
                calls = pool.map(_call, [model] * len(overrides), overrides, chunksize=chunk)
                for ov, res in zip(overrides, calls, strict=True):
                    results.append(_checked(res, ov, problem.metrics))
                    bar.update(1)
    finally:
        bar.close()
    raw = pd.DataFrame(
        {
            "point": [t[0] for t in tasks],
            **{p.name: [p.value(X[t[0], j]) for t in tasks] for j, p in enumerate(problem.parameters)},
            "seed": [t[1] for t in tasks],
            **{m: [float(r[m]) for r in results] for m in problem.metrics},
        }
    )
    Y = raw.groupby("point", sort=True)[problem.metrics].mean().to_numpy(dtype=float)
    return Y, raw


class ModelError(RuntimeError):
    """The model failed, or returned no value for a requested metric, at some overrides."""


def _call(model: ModelFn, overrides: list[str]) -> Mapping[str, float]:
    try:
        return dict(model(overrides))
    except Exception as exc:
        raise ModelError(f"the model failed for overrides {overrides}: {type(exc).__name__}: {exc}") from exc


def _checked(result: Mapping[str, float], overrides: list[str], metrics: Sequence[str]) -> Mapping[str, float]:
    missing = [m for m in metrics if m not in result]
    if missing:
        raise ModelError(f"model output lacks {missing} (has {sorted(result)}) for overrides {overrides}")
    return result


# --------------------------------------------------------------------------- analyses


@dataclass
class SensitivityResult:
    """Indices (tidy: one row per metric x parameter), the design and the raw evaluations."""

    method: str
    problem: Problem
    X: np.ndarray
    raw: pd.DataFrame
    indices: pd.DataFrame
    second_order: pd.DataFrame | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def save(self, out_dir: str | os.PathLike[str], figure: bool = True) -> list[Path]:
        """Write indices (CSV and Parquet), evaluations, problem (YAML) and the figure (PNG, SVG)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{self.method}_indices"
        paths = [
            out / f"{stem}.csv",
            out / f"{stem}.parquet",
            out / f"{self.method}_evaluations.parquet",
            out / f"{self.method}_problem.yaml",
        ]
        self.indices.to_csv(paths[0], index=False)
        self.indices.to_parquet(paths[1], index=False)
        self.raw.to_parquet(paths[2], index=False)
        paths[3].write_text(
            yaml.safe_dump({**self.problem.to_dict(), "method": self.method, **self.settings}, sort_keys=False),
            encoding="utf-8",
        )
        if self.second_order is not None:
            p = out / "sobol_second_order.csv"
            self.second_order.to_csv(p, index=False)
            paths.append(p)
        if figure:
            from analysis.plots import save

            paths += save(plot_indices(self), out / stem)
        return paths


def _constant(y: np.ndarray) -> bool:
    return bool(np.all(np.isclose(y, y[0], rtol=0, atol=1e-15)))


def morris(
    problem: Problem,
    *,
    model: ModelFn | None = None,
    trajectories: int = 10,
    num_levels: int = 4,
    jobs: int = 1,
    seed: int = 0,
    conf_level: float = 0.95,
    progress: bool | None = None,
) -> SensitivityResult:
    """Morris elementary-effects screening: ``trajectories`` x (parameters + 1) points, each for every seed.

    Indices per metric and parameter: ``mu``, ``mu_star`` (mean absolute elementary
    effect: the influence), ``sigma`` (interactions / non-linearity), ``mu_star_conf``.
    """
    import pandas as pd
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    model = model if model is not None else SimModel(problem.metrics)
    sal = problem.salib()
    X = morris_sample.sample(sal, trajectories, num_levels=num_levels, seed=seed)
    Y, raw = evaluate(problem, X, model, jobs=jobs, progress=progress)
    rows = []
    for j, metric in enumerate(problem.metrics):
        y = Y[:, j]
        if _constant(y):
            res = {k: np.zeros(len(problem.names)) for k in ("mu", "mu_star", "sigma", "mu_star_conf")}
        else:
            res = morris_analyze.analyze(
                sal, X, y, num_levels=num_levels, conf_level=conf_level, seed=seed, print_to_console=False
            )
        for i, name in enumerate(problem.names):
            rows.append(
                (
                    metric,
                    name,
                    float(res["mu"][i]),
                    float(res["mu_star"][i]),
                    float(res["sigma"][i]),
                    float(res["mu_star_conf"][i]),
                )
            )
    indices = pd.DataFrame(rows, columns=["metric", "parameter", "mu", "mu_star", "sigma", "mu_star_conf"])
    settings = {
        "trajectories": trajectories,
        "num_levels": num_levels,
        "sample_seed": seed,
        "n_points": len(X),
        "n_evaluations": len(raw),
    }
    return SensitivityResult("morris", problem, X, raw, indices, None, settings)


def sobol(
    problem: Problem,
    *,
    model: ModelFn | None = None,
    n: int = 64,
    second_order: bool = False,
    jobs: int = 1,
    seed: int = 0,
    conf_level: float = 0.95,
    progress: bool | None = None,
) -> SensitivityResult:
    """Sobol indices from a Saltelli/Sobol' sample of ``n`` base points (a power of 2).

    ``n x (parameters + 2)`` points (``n x (2 parameters + 2)`` with ``second_order``),
    each for every seed.  Indices: ``S1`` (first order), ``ST`` (total), with
    ``S1_conf``/``ST_conf`` (bootstrap half-widths at ``conf_level``).
    """
    import pandas as pd
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if n < 2 or n & (n - 1):
        raise ValueError(f"n must be a power of 2 (Sobol' sequence), not {n}")
    model = model if model is not None else SimModel(problem.metrics)
    sal = problem.salib()
    X = sobol_sample.sample(sal, n, calc_second_order=second_order, seed=seed)
    Y, raw = evaluate(problem, X, model, jobs=jobs, progress=progress)
    rows, rows2 = [], []
    k = len(problem.names)
    for j, metric in enumerate(problem.metrics):
        y = Y[:, j]
        if _constant(y):
            nan = np.full(k, np.nan)
            res: dict[str, Any] = {
                "S1": nan,
                "S1_conf": nan,
                "ST": nan,
                "ST_conf": nan,
                "S2": np.full((k, k), np.nan),
                "S2_conf": np.full((k, k), np.nan),
            }
            warnings.warn(f"{metric} does not vary over the sample: its Sobol indices are undefined", stacklevel=2)
        else:
            res = sobol_analyze.analyze(
                sal, y, calc_second_order=second_order, conf_level=conf_level, seed=seed, print_to_console=False
            )
        for i, name in enumerate(problem.names):
            rows.append(
                (
                    metric,
                    name,
                    float(res["S1"][i]),
                    float(res["S1_conf"][i]),
                    float(res["ST"][i]),
                    float(res["ST_conf"][i]),
                )
            )
        if second_order:
            for a in range(k):
                for b in range(a + 1, k):
                    rows2.append(
                        (
                            metric,
                            problem.names[a],
                            problem.names[b],
                            float(res["S2"][a, b]),
                            float(res["S2_conf"][a, b]),
                        )
                    )
    indices = pd.DataFrame(rows, columns=["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"])
    s2 = (
        pd.DataFrame(rows2, columns=["metric", "parameter_1", "parameter_2", "S2", "S2_conf"]) if second_order else None
    )
    settings = {
        "n": n,
        "second_order": second_order,
        "sample_seed": seed,
        "n_points": len(X),
        "n_evaluations": len(raw),
    }
    return SensitivityResult("sobol", problem, X, raw, indices, s2, settings)


# --------------------------------------------------------------------------- figure


def plot_indices(result: SensitivityResult) -> Any:
    """Bars per parameter for each metric: Morris mu* and sigma, or Sobol S1 and ST, with intervals."""
    import matplotlib.pyplot as plt

    from analysis.plots import label

    idx = result.indices
    metrics = list(dict.fromkeys(idx["metric"]))
    ncols = min(2, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    n_par = len(result.problem.names)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(6.2 * ncols, 0.45 * n_par * nrows + 1.6 * nrows), layout="constrained", squeeze=False
    )
    if result.method == "morris":
        bars = [("mu_star", "mu_star_conf", "mu* (mean absolute effect)"), ("sigma", None, "sigma (interactions)")]
        xlabel = "Elementary effect (units of the output)"
    else:
        bars = [("S1", "S1_conf", "S1 (first order)"), ("ST", "ST_conf", "ST (total)")]
        xlabel = "Share of output variance (0 to 1)"
    colors = ["#0072B2", "#E69F00"]
    for ax, metric in zip(axes.flat, metrics, strict=False):
        sub = idx[idx["metric"] == metric].set_index("parameter").reindex(result.problem.names)
        ypos = np.arange(n_par)
        h = 0.38
        for b, ((col, conf, lab), color) in enumerate(zip(bars, colors, strict=True)):
            err = np.nan_to_num(sub[conf].to_numpy(float)) if conf else None
            ax.barh(ypos + (b - 0.5) * h, sub[col].to_numpy(float), h, xerr=err, color=color, label=lab, capsize=3)
        ax.set_yticks(ypos, result.problem.names)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.set_title(label(metric), fontsize=10)
        ax.grid(alpha=0.3, axis="x")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    seeds = len(result.problem.seeds)
    name = "Morris screening" if result.method == "morris" else "Sobol indices"
    fig.suptitle(f"{name}: {result.settings.get('n_points')} points x {seeds} seeds", fontsize=11)
    return fig
