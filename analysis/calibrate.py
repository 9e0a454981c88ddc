"""Calibration by history matching with Gaussian-process emulators, wave after wave.

``python -m analysis calibrate`` (see ``--help`` and docs/CALIBRATION.md) rules out, wave after
wave, the parameter values under which the model cannot reproduce the observed targets
(:mod:`sim.targets`, those tagged ``calibration``), and writes an ensemble of the parameter sets
that remain (:mod:`sim.ensemble`).

Method (Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015):

1. Wave 1 runs a space-filling design (scrambled Latin hypercube, ``scipy.stats.qmc``) over the
   prior box of the uncertain parameters (``sim.config.uncertain_params()``), each point for
   ``seeds`` seeds, through the Hydra launchers: one sweep per wave whose jobs are the design
   points (members of the wave's design, saved as an ensemble) x the seeds.
2. A GP emulator per target (:mod:`analysis.emulator`) is fitted to the mean over seeds of each
   point, with the known variance of that mean as noise.
3. The implausibility of a parameter set x for target i is
   ``I_i(x) = |z_i - E[f_i(x)]| / sqrt(V_obs + V_md + V_seed + V_emu(x))``: observation variance
   (the target's sd²), model discrepancy (its ``discrepancy_sd``²), seed variance (how much one
   run varies around the mean: the observed world is one run) and emulator variance. For a target
   given as a range the numerator is the distance to the range (0 inside). x is ruled out when
   the largest I_i (``--criterion max``) or the second largest (``second-max``) exceeds the
   cut-off (``--cutoff``, 3 by Pukelsheim's three-sigma rule).
4. The next wave samples the space not yet ruled out (by every earlier wave's emulators) and
   chooses a space-filling subset of it (greedy maximin); its emulators are fitted on the runs
   that lie in that space. The share of the prior box still plausible is estimated after each
   wave on a large scrambled Sobol sample.
5. The ensemble is the set of run points whose *simulated* means (not emulated) pass the cut-off,
   ordered so that any first K members are spread over it (farthest-point order).

Everything is on disk under ``--out``; relaunching the same command resumes: designs are reused,
the sweeps skip complete runs, emulators are refitted from the saved outputs (deterministic).
"""

from __future__ import annotations

import json
import math
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.emulator import GPEmulator, loo_summary
from sim.targets import Target, TargetError, load_targets, select

CRITERIA = ("max", "second-max")
SETTINGS = "calibration.json"
LAUNCHERS = ("sim", "basic", "joblib", "slurm", "submitit_local")


class CalibrationError(RuntimeError):
    """The calibration cannot go on (the message says why and what to do)."""


class NoPlausibleSpace(CalibrationError):
    """Every sampled parameter set is ruled out."""


# --------------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class Param:
    """A calibrated input: dotted path and prior bounds."""

    path: str
    lo: float
    hi: float
    integer: bool = False


def default_params() -> list[Param]:
    """Every parameter declared with a prior in sim/config.py."""
    from sim.config import uncertain_params

    return [Param(p.path, p.lo, p.hi, p.integer) for p in uncertain_params()]


def choose_params(include: Sequence[str] | None = None, exclude: Sequence[str] = ()) -> list[Param]:
    params = default_params()
    known = {p.path for p in params}
    for name in [*(include or []), *exclude]:
        if name not in known:
            raise CalibrationError(
                f"{name} has no prior in sim/config.py (parameters with a prior: {', '.join(sorted(known))})"
            )
    if include:
        params = [p for p in params if p.path in include]
    params = [p for p in params if p.path not in set(exclude)]
    if not params:
        raise CalibrationError("no parameter left to calibrate")
    return params


def _bounds(params: Sequence[Param]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([p.lo for p in params]), np.array([p.hi for p in params])


def to_natural(u: np.ndarray, params: Sequence[Param]) -> np.ndarray:
    """Unit-cube points to parameter values (integers rounded)."""
    lo, hi = _bounds(params)
    x = lo + np.asarray(u, dtype=float) * (hi - lo)
    for j, p in enumerate(params):
        if p.integer:
            x[:, j] = np.round(x[:, j])
    return x


def to_unit(x: np.ndarray, params: Sequence[Param]) -> np.ndarray:
    lo, hi = _bounds(params)
    return (np.asarray(x, dtype=float) - lo) / (hi - lo)


def maximin_order(u: np.ndarray, n: int | None = None, rng: np.random.Generator | None = None) -> np.ndarray:
    """Indices of ``n`` rows of ``u`` chosen greedily to be far apart (farthest-point order):
    every prefix of the result is spread over the set."""
    u = np.asarray(u, dtype=float)
    m = len(u)
    n = m if n is None else min(n, m)
    if n == 0:
        return np.zeros(0, dtype=int)
    del rng  # deterministic: starts from the point nearest the centre
    centre = u.mean(axis=0)
    first = int(np.argmin(((u - centre) ** 2).sum(axis=1)))
    chosen = [first]
    dist = ((u - u[first]) ** 2).sum(axis=1)
    for _ in range(n - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, ((u - u[nxt]) ** 2).sum(axis=1))
    return np.array(chosen)


# --------------------------------------------------------------------------------- history matching
def combine(imp: np.ndarray, criterion: str = "max") -> np.ndarray:
    """Combine per-target implausibilities (n x T) into one per point (largest or second largest)."""
    imp = np.asarray(imp, dtype=float)
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, not {criterion!r}")
    if imp.shape[1] == 0:
        return np.zeros(len(imp))
    if criterion == "max" or imp.shape[1] < 2:
        return imp.max(axis=1)
    return np.sort(imp, axis=1)[:, -2]


@dataclass
class WaveFit:
    """The emulators of one wave and what they were fitted on."""

    index: int
    emulators: dict[str, GPEmulator]
    seed_var: dict[str, float]
    n_train: int
    loo: dict[str, pd.DataFrame] = field(default_factory=dict)


class HistoryMatching:
    """History matching of ``targets`` over ``params`` (the core, independent of how runs are made).

    Feed it the simulated means of each wave (:meth:`fit_wave`); ask it which parameter sets
    are still plausible (:meth:`plausible`) and for the next design (:meth:`sample`).
    """

    def __init__(
        self,
        params: Sequence[Param],
        targets: Sequence[Target],
        *,
        cutoff: float = 3.0,
        criterion: str = "max",
        seed: int = 0,
    ) -> None:
        if criterion not in CRITERIA:
            raise ValueError(f"criterion must be one of {CRITERIA}, not {criterion!r}")
        if not targets:
            raise CalibrationError("no calibration target")
        self.params = list(params)
        self.targets = list(targets)
        self.cutoff = float(cutoff)
        self.criterion = criterion
        self.seed = seed
        #: Extra random starts of the emulators' hyperparameter search (fewer in many dimensions:
        #: each start costs a full optimisation).
        self.n_restarts = 1 if len(self.params) <= 15 else 0
        self.waves: list[WaveFit] = []

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.targets]

    def fixed_var(self, t: Target) -> float:
        """Observation and model-discrepancy variance of a target."""
        return t.obs_var + t.discrepancy_sd**2

    # ------------------------------------------------------------------ implausibility
    def implausibility(self, x: np.ndarray, wave: WaveFit) -> np.ndarray:
        """Per-target implausibility (n x T) of parameter sets ``x`` under one wave's emulators."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        out = np.zeros((len(x), len(self.targets)))
        for j, t in enumerate(self.targets):
            mean, var = wave.emulators[t.id].predict(x)
            out[:, j] = t.distance(mean) / np.sqrt(self.fixed_var(t) + wave.seed_var[t.id] + var)
        return out

    def simulated_implausibility(self, means: np.ndarray, mean_var: np.ndarray, seed_var: Mapping[str, float]):
        """Per-target implausibility (n x T) of simulated means (no emulator: its variance is the
        variance of the mean over the point's seeds)."""
        out = np.zeros_like(np.asarray(means, dtype=float))
        for j, t in enumerate(self.targets):
            v = self.fixed_var(t) + seed_var[t.id] + np.nan_to_num(mean_var[:, j])
            out[:, j] = t.distance(means[:, j]) / np.sqrt(v)
        return out

    def max_implausibility(self, x: np.ndarray, upto: int | None = None) -> np.ndarray:
        """Combined implausibility of ``x`` under each wave (up to ``upto``), the largest over waves."""
        waves = self.waves if upto is None else self.waves[:upto]
        x = np.atleast_2d(np.asarray(x, dtype=float))
        worst = np.zeros(len(x))
        for w in waves:
            worst = np.maximum(worst, combine(self.implausibility(x, w), self.criterion))
        return worst

    def plausible(self, x: np.ndarray, upto: int | None = None) -> np.ndarray:
        """True for the parameter sets that no wave (up to ``upto``) rules out."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        keep = np.ones(len(x), dtype=bool)
        for w in self.waves if upto is None else self.waves[:upto]:
            idx = np.flatnonzero(keep)
            if len(idx) == 0:
                break
            keep[idx] = combine(self.implausibility(x[idx], w), self.criterion) <= self.cutoff
        return keep

    # ------------------------------------------------------------------ emulators
    def fit_wave(
        self,
        x: np.ndarray,
        means: np.ndarray,
        mean_var: np.ndarray | None = None,
        seed_var: Mapping[str, float] | None = None,
    ) -> WaveFit:
        """Fit the next wave's emulators to simulated means (n x T) at ``x`` (n x d).

        ``mean_var`` is the variance of each mean over its seeds (n x T; None with one seed);
        ``seed_var`` the variance of one run around the mean per target (estimated from the
        emulator's white noise when None).
        """
        x = np.atleast_2d(np.asarray(x, dtype=float))
        means = np.asarray(means, dtype=float)
        lo, hi = _bounds(self.params)
        emus, sv, loo = {}, {}, {}
        for j, t in enumerate(self.targets):
            nv = None if mean_var is None else mean_var[:, j]
            emu = GPEmulator(lo, hi, random_state=self.seed, n_restarts=self.n_restarts).fit(x, means[:, j], nv)
            emus[t.id] = emu
            sv[t.id] = float(seed_var[t.id]) if seed_var is not None and t.id in seed_var else emu.noise_level
            loo[t.id] = emu.loo()
        wave = WaveFit(len(self.waves) + 1, emus, sv, len(x), loo)
        self.waves.append(wave)
        return wave

    # ------------------------------------------------------------------ designs
    def first_design(self, n: int) -> np.ndarray:
        """A scrambled Latin hypercube of ``n`` points over the prior box."""
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(self.params), seed=self.seed).random(n)
        return to_natural(u, self.params)

    def plausible_share(self, n: int = 2**14, upto: int | None = None) -> float:
        """Share of the prior box no wave rules out (scrambled Sobol sample of ``n`` points)."""
        from scipy.stats import qmc

        u = qmc.Sobol(d=len(self.params), scramble=True, seed=self.seed + 7).random(n)
        return float(self.plausible(to_natural(u, self.params), upto).mean())

    def sample(self, n: int, pool: int = 2**15, max_rounds: int = 30) -> tuple[np.ndarray, dict]:
        """``n`` space-filling parameter sets that no wave rules out, and sampling statistics.

        Draws a scrambled Sobol pool over the prior box and keeps the plausible points; when
        fewer than ``2 n`` survive, adds points near the survivors (Gaussian steps, rejection)
        until there are enough. Raises NoPlausibleSpace when nothing survives.
        """
        from scipy.stats import qmc

        rng = np.random.default_rng(self.seed + 1000 * len(self.waves))
        d = len(self.params)
        u = qmc.Sobol(d=d, scramble=True, seed=rng).random(pool)
        keep = self.plausible(to_natural(u, self.params))
        share = float(keep.mean())
        kept = u[keep]
        rounds = 0
        base = kept
        if len(base) == 0:
            worst = self.max_implausibility(to_natural(u, self.params))
            base = u[np.argsort(worst)[: max(10, n // 10)]]
        while len(kept) < 2 * n and rounds < max_rounds:
            rounds += 1
            sd = np.maximum(base.std(axis=0), 0.02) * (0.5 if len(base) > 1 else 1.0)
            cand = (
                base[rng.integers(len(base), size=max(pool // 4, 4 * n))]
                + rng.normal(0, 1, (max(pool // 4, 4 * n), d)) * sd
            )
            cand = np.clip(cand, 0.0, 1.0)
            ok = self.plausible(to_natural(cand, self.params))
            if ok.any():
                kept = np.vstack([kept, cand[ok]])
                base = kept
        if len(kept) == 0:
            raise NoPlausibleSpace(
                "every parameter set sampled is ruled out: the model cannot match the calibration targets "
                "within their observation and discrepancy variances (each wave_<k>/summary.json lists, per "
                "target, the simulated range and the share of run points it rules out); widen priors or "
                "discrepancies, check the targets, or leave out those the model cannot reach (--targets)"
            )
        order = maximin_order(kept, n, rng)
        stats = {
            "pool": pool,
            "plausible_in_pool": int(keep.sum()),
            "share": share,
            "rounds": rounds,
            "kept": len(kept),
        }
        return to_natural(kept[order], self.params), stats


# --------------------------------------------------------------------------------- settings
@dataclass
class Settings:
    """What defines a calibration (saved as calibration.json; a relaunch must match it)."""

    targets: list[str]
    params: list[dict]
    points: int = 250
    seeds: int = 2
    waves: int = 3
    cutoff: float = 3.0
    criterion: str = "max"
    overrides: list[str] = field(default_factory=list)
    years: int | None = None
    targets_file: str | None = None
    dropped: dict[str, str] = field(default_factory=dict)
    validation: list[str] = field(default_factory=list)
    pool: int = 2**15
    sample_seed: int = 0

    @property
    def param_list(self) -> list[Param]:
        return [Param(**p) for p in self.params]

    def comparable(self) -> dict:
        d = asdict(self)
        d.pop("waves")  # adding waves to a finished calibration is allowed
        return d


def _check_settings(new: Settings, path: Path) -> Settings:
    if not path.exists():
        return new
    old = Settings(**json.loads(path.read_text(encoding="utf-8")))
    a, b = old.comparable(), new.comparable()
    diff = [f"  {k}: {a[k]!r} (saved) vs {b[k]!r} (now)" for k in a if a[k] != b[k]]
    if diff:
        raise CalibrationError(
            f"{path} was written by a calibration with other settings; use another --out, or the same settings:\n"
            + "\n".join(diff)
        )
    return new


# --------------------------------------------------------------------------------- runs
def _overrides_keys(overrides: Sequence[str]) -> list[str]:
    return [o.split("=", 1)[0].lstrip("+~") for o in overrides]


def job_name(member: int, seed: int) -> str:
    from sim.config import job_dir_name

    return job_dir_name(f"ensemble.member={member},seed={seed}")


def sweep_command(
    design: Path,
    n_points: int,
    seeds: int,
    runs_dir: Path,
    overrides: Sequence[str],
    years: int,
    launcher: str = "sim",
    jobs: int = 2,
    hydra_args: Sequence[str] = (),
) -> list[str]:
    """The ``python -m sim -m`` command of one wave: design members x seeds."""
    fixed = ["simulation.progress=false", "simulation.figures=false", f"simulation.years={years}", *overrides]
    keys = ["experiment", "ensemble.path", *_overrides_keys(fixed)]
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        f"ensemble.path={design.resolve()}",
        f"ensemble.member=range(0,{n_points})",
        f"seed=range(0,{seeds})",
        *fixed,
        f"hydra.sweep.dir={runs_dir.resolve()}",
        "hydra.job.config.override_dirname.exclude_keys=[" + ",".join(dict.fromkeys(keys)) + "]",
    ]
    if launcher in ("sim", "joblib"):  # the project's launcher (batched workers) or joblib's
        cmd += [f"hydra/launcher={launcher}", f"hydra.launcher.n_jobs={jobs}"]
    elif launcher != "basic":  # slurm, submitit_local, or any launcher config of conf/hydra/launcher/
        if not launcher or "=" in launcher or " " in launcher:
            raise CalibrationError(f"bad launcher name {launcher!r} (e.g. {', '.join(LAUNCHERS)})")
        cmd += [f"hydra/launcher={launcher}"]
    return cmd + list(hydra_args)


def run_states(runs_dir: Path, names: Sequence[str]) -> dict[str, str]:
    """'complete', 'failed' or 'missing' for each expected job directory."""
    out = {}
    for name in names:
        d = runs_dir / name
        if (d / "manifest.json").is_file():
            try:
                ok = json.loads((d / "manifest.json").read_text()).get("status") == "complete"
            except (OSError, ValueError):
                ok = False
            out[name] = "complete" if ok else "failed"
        elif (d / "error.json").is_file():
            out[name] = "failed"
        else:
            out[name] = "missing"
    return out


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def launch_sweep(cmd: list[str], runs_dir: Path, names: Sequence[str], log: Path, label: str, progress: bool = True):
    """Run a wave's sweep, printing progress (runs done, failed, rate, ETA) until it ends.

    The sweep runs in its own process group: interrupting the calibration (Ctrl-C, SIGTERM) stops
    the sweep and its workers too; relaunching resumes it.
    """
    import signal

    runs_dir.mkdir(parents=True, exist_ok=True)
    before = run_states(runs_dir, names)
    done0 = sum(v == "complete" for v in before.values())
    t0 = time.perf_counter()
    step = max(1, len(names) // 50)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"\n# {time.strftime('%Y-%m-%d %H:%M:%S')}: {shlex.join(cmd)}\n")
        fh.flush()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        stop = threading.Event()

        def monitor() -> None:
            shown, last_t = -1, 0.0
            while not stop.wait(3.0):
                st = run_states(runs_dir, names)
                done = sum(v == "complete" for v in st.values())
                failed = sum(v == "failed" for v in st.values())
                el = time.perf_counter() - t0
                if progress and done + failed != shown and (done + failed - shown >= step or el - last_t >= 30):
                    shown, last_t = done + failed, el
                    new = done - done0
                    rate = new / el if el > 0 else 0.0
                    left = len(names) - done - failed
                    eta = f", about {left / rate:.0f} s left" if rate > 0 and left else ""
                    _say(f"{label}: {done}/{len(names)} runs complete, {failed} failed, {el:.0f} s{eta}")

        def on_term(signum, frame):
            raise KeyboardInterrupt

        th = threading.Thread(target=monitor, daemon=True)
        th.start()
        previous = (
            signal.signal(signal.SIGTERM, on_term) if threading.current_thread() is threading.main_thread() else None
        )
        try:
            rc = proc.wait()
        except KeyboardInterrupt:
            _say(f"{label}: interrupted; stopping the sweep (relaunch the same command to resume)")
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            proc.wait()
            raise
        finally:
            stop.set()
            th.join()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    if rc != 0:
        raise CalibrationError(f"{label}: the sweep exited with status {rc}; see {log}")
    return time.perf_counter() - t0


# --------------------------------------------------------------------------------- outputs
def collect_outputs(runs_dir: Path, targets: Sequence[Target], progress: bool | None = None) -> pd.DataFrame:
    """One row per complete run: member, seed and each target's value (NaN when not measurable)."""
    from analysis.load import load, load_collectivites
    from sim.targets import NEEDS_COLLECTIVITES, measure_runs

    metrics = sorted({t.metric for t in targets if t.metric} | {"staff_count", "staff_per_1000_inh"})
    tidy, rep = load(runs_dir, metrics=metrics, verify="size", progress=progress)
    if tidy.empty:
        return pd.DataFrame(columns=["member", "seed", *[t.id for t in targets]])
    colls = None
    if any(t.function in NEEDS_COLLECTIVITES for t in targets):
        colls, _ = load_collectivites(runs_dir, report=rep, columns=["kind", "population"], progress=progress)
    values = measure_runs(targets, tidy, colls)
    runs = tidy[["run_id", "ensemble.member", "seed"]].drop_duplicates("run_id")
    runs = runs.assign(run_id=runs["run_id"].astype(str)).set_index("run_id")
    out = runs.join(values).rename(columns={"ensemble.member": "member"}).reset_index()
    return out.sort_values(["member", "seed"]).reset_index(drop=True)


def point_means(outputs: pd.DataFrame, ids: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Mean over seeds per member, the variance of that mean, and the pooled variance of one run."""
    g = outputs.groupby("member")[list(ids)]
    means = g.mean()
    n = g.count()
    var = g.var(ddof=1)
    mean_var = var / n
    seed_var = {}
    for t in ids:
        ok = n[t] >= 2
        dof = (n[t][ok] - 1).sum()
        seed_var[t] = float(((n[t][ok] - 1) * var[t][ok]).sum() / dof) if dof > 0 else float("nan")
    return means, mean_var, seed_var


# --------------------------------------------------------------------------------- the command
@dataclass
class RunOptions:
    """How runs are made (may change between relaunches)."""

    launcher: str = "sim"
    jobs: int = 2
    hydra_args: list[str] = field(default_factory=list)
    progress: bool = True
    dry_run: bool = False
    max_failed_share: float = 0.1


def _composed(overrides: Sequence[str]):
    from sim.api import compose_config
    from sim.config import to_config

    return to_config(compose_config(list(overrides)))


def horizon(targets: Sequence[Target], overrides: Sequence[str]) -> tuple[int, int]:
    """(start year, years needed) so that the runs reach every target's date."""
    cfg = _composed(overrides)
    start = cfg.simulation.start_year
    latest = max(t.when for t in targets)
    return start, max(1, math.ceil(latest - start - 1e-9))


def plan(
    out: Path,
    *,
    target_ids: Sequence[str] | None = None,
    targets_file: str | None = None,
    params: Sequence[Param] | None = None,
    points: int = 250,
    seeds: int = 2,
    waves: int = 3,
    cutoff: float = 3.0,
    criterion: str = "max",
    overrides: Sequence[str] = (),
    drop_unavailable: bool = False,
    pool: int = 2**15,
    sample_seed: int = 0,
    probe: bool = True,
) -> tuple[Settings, dict[str, Target], dict[str, str | None]]:
    """Check the targets against the model (a probe run) and build the settings.

    Calibration targets the model cannot measure are refused with the reason, unless
    ``drop_unavailable`` (then they are listed and recorded as dropped).
    """
    from sim.targets import availability, probe_run

    if points < 3 or seeds < 1 or waves < 1:
        raise CalibrationError("need at least 3 points, 1 seed and 1 wave")
    if criterion not in CRITERIA:
        raise CalibrationError(f"criterion must be one of {CRITERIA}")
    try:
        registry = load_targets(targets_file)
        chosen = select(registry, target_ids, use="calibration")
    except TargetError as exc:
        raise CalibrationError(str(exc)) from exc
    if not chosen:
        raise CalibrationError("no target tagged 'calibration' in the registry")
    validation = [t for t in registry.values() if t.use == "validation"]
    params = list(params) if params is not None else default_params()
    overrides = list(overrides)
    bad = [o for o in overrides if o.split("=", 1)[0] in {p.path for p in params} | {"seed", "ensemble.path"}]
    if bad:
        raise CalibrationError(f"--set cannot fix calibrated parameters, the seed or the ensemble: {bad}")
    start, years = horizon([*chosen, *validation], overrides)
    status: dict[str, str | None] = {}
    if probe:
        ts, colls = probe_run([*overrides, f"simulation.years={years}"])
        status = availability([*chosen, *validation], ts, colls)
    missing = {t.id: status[t.id] for t in chosen if status.get(t.id)}
    if missing and not drop_unavailable:
        lines = "\n".join(f"  - {k}: {v}" for k, v in missing.items())
        raise CalibrationError(
            f"the model cannot measure {len(missing)} calibration target(s) (runs from {start}, {years} years):\n"
            f"{lines}\nChoose targets with --targets, start the runs earlier (e.g. --set simulation.start_year=2018) "
            "when a date is before the start, or pass --drop-unavailable to calibrate on the others (they are "
            "listed and recorded as dropped)."
        )
    used = [t for t in chosen if t.id not in missing]
    if not used:
        raise CalibrationError("no calibration target left that the model can measure")
    settings = Settings(
        targets=[t.id for t in used],
        params=[asdict(p) for p in params],
        points=points,
        seeds=seeds,
        waves=waves,
        cutoff=cutoff,
        criterion=criterion,
        overrides=overrides,
        years=years,
        targets_file=str(Path(targets_file).resolve()) if targets_file else None,
        dropped=missing,
        validation=[t.id for t in validation if not status.get(t.id)],
        pool=pool,
        sample_seed=sample_seed,
    )
    return settings, registry, status


class Calibration:
    """A calibration on disk under ``out`` (see the module docstring)."""

    def __init__(self, out: Path, settings: Settings, registry: Mapping[str, Target]):
        self.out = Path(out)
        self.s = settings
        self.registry = registry
        self.targets = [registry[i] for i in settings.targets]
        self.validation = [registry[i] for i in settings.validation]
        self.params = settings.param_list
        self.hm = HistoryMatching(
            self.params, self.targets, cutoff=settings.cutoff, criterion=settings.criterion, seed=settings.sample_seed
        )
        self.outputs: dict[int, pd.DataFrame] = {}
        self.designs: dict[int, pd.DataFrame] = {}
        self.summaries: list[dict] = []

    def wave_dir(self, k: int) -> Path:
        return self.out / f"wave_{k}"

    @property
    def columns(self) -> list[str]:
        return [p.path for p in self.params]

    # ------------------------------------------------------------------ one wave
    def design(self, k: int) -> pd.DataFrame:
        from sim.ensemble import write_ensemble

        path = self.wave_dir(k) / "design.parquet"
        if path.exists():
            d = pd.read_parquet(path)
            self.designs[k] = d
            return d
        if k == 1:
            x = self.hm.first_design(self.s.points)
            stats = {"share": 1.0}
        else:
            x, stats = self.hm.sample(self.s.points, pool=self.s.pool)
        table = pd.DataFrame(x, columns=self.columns)
        table["wave"] = k
        path.parent.mkdir(parents=True, exist_ok=True)
        write_ensemble(
            table,
            path,
            {"kind": "history-matching design", "wave": k, "sampling": stats, "settings": asdict(self.s)},
        )
        d = pd.read_parquet(path)
        self.designs[k] = d
        return d

    def run_wave(self, k: int, opts: RunOptions) -> float | None:
        design = self.designs[k]
        runs = self.wave_dir(k) / "runs"
        names = [job_name(m, s) for m in design["member"] for s in range(self.s.seeds)]
        states = run_states(runs, names)
        missing = [n for n, v in states.items() if v != "complete"]
        label = f"wave {k}"
        cmd = sweep_command(
            self.wave_dir(k) / "design.parquet",
            len(design),
            self.s.seeds,
            runs,
            self.s.overrides,
            self.s.years,
            opts.launcher,
            opts.jobs,
            opts.hydra_args,
        )
        if not missing:
            _say(f"{label}: all {len(names)} runs complete")
            return None
        if opts.dry_run:
            _say(f"{label}: would run {len(missing)} of {len(names)} runs:\n  {shlex.join(cmd)}")
            return None
        _say(f"{label}: {len(missing)} of {len(names)} runs to do ({len(design)} points x {self.s.seeds} seeds)")
        wall = launch_sweep(cmd, runs, names, self.wave_dir(k) / "sweep.log", label, opts.progress)
        states = run_states(runs, names)
        failed = [n for n, v in states.items() if v != "complete"]
        _say(f"{label}: sweep finished in {wall:.0f} s; {len(names) - len(failed)} complete, {len(failed)} not")
        timing = self.wave_dir(k) / "timing.json"
        times = json.loads(timing.read_text()) if timing.exists() else []
        times.append({"runs": len(missing), "wall_s": round(wall, 1), "launcher": opts.launcher, "jobs": opts.jobs})
        timing.write_text(json.dumps(times, indent=2))
        if len(failed) > opts.max_failed_share * len(names):
            shown = "\n".join(f"  {runs / n}" for n in failed[:10])
            raise CalibrationError(
                f"{label}: {len(failed)} of {len(names)} runs failed or are missing (error.json in their folders):\n"
                f"{shown}\nFix the cause and relaunch the same command: complete runs are kept."
            )
        return wall

    def load_outputs(self, k: int, opts: RunOptions) -> pd.DataFrame:
        path = self.wave_dir(k) / "outputs.parquet"
        runs = self.wave_dir(k) / "runs"
        n_expected = len(self.designs[k]) * self.s.seeds
        if path.exists():
            df = pd.read_parquet(path)
            if len(df) == sum(v == "complete" for v in run_states(runs, self._names(k)).values()):
                self.outputs[k] = df
                return df
        df = collect_outputs(runs, [*self.targets, *self.validation], progress=None)
        bad = df[self.hm.ids].isna().any(axis=1)
        if bad.any():
            cols = [c for c in self.hm.ids if df[c].isna().any()]
            raise CalibrationError(f"wave {k}: {int(bad.sum())} runs cannot measure {', '.join(cols)}")
        df.to_parquet(path, index=False)
        if len(df) < n_expected:
            _say(f"wave {k}: {n_expected - len(df)} runs missing or failed; calibrating on {len(df)}")
        self.outputs[k] = df
        return df

    def _names(self, k: int) -> list[str]:
        return [job_name(m, s) for m in self.designs[k]["member"] for s in range(self.s.seeds)]

    def points(self, upto: int) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame, dict[str, float], np.ndarray]:
        """Inputs, means, variances of means, seed variances and wave of every point of waves 1..upto."""
        xs, ms, vs, ws, pooled = [], [], [], [], []
        for k in range(1, upto + 1):
            design = self.designs[k].set_index("member")
            means, mean_var, _ = point_means(self.outputs[k], self.hm.ids)
            xs.append(design.loc[means.index, self.columns].to_numpy(dtype=float))
            ms.append(means)
            vs.append(mean_var)
            ws.append(np.full(len(means), k))
            pooled.append(self.outputs[k])
        _, _, seed_var = point_means(
            pd.concat([o.assign(member=o["member"] + 100000 * i) for i, o in enumerate(pooled)]), self.hm.ids
        )
        return np.vstack(xs), pd.concat(ms), pd.concat(vs), seed_var, np.concatenate(ws)

    def fit(self, k: int) -> WaveFit:
        x, means, mean_var, seed_var, _ = self.points(k)
        inside = self.hm.plausible(x, upto=k - 1)
        if inside.sum() < 5:
            raise NoPlausibleSpace(f"wave {k}: only {int(inside.sum())} run points lie in the space not ruled out")
        seeds_ok = {t: v for t, v in seed_var.items() if math.isfinite(v)}
        mv = mean_var.to_numpy() if self.s.seeds >= 2 else None
        args = (x[inside], means.to_numpy()[inside], None if mv is None else mv[inside], seeds_ok or None)
        wave = self._cached_fit(k, args)
        rows = []
        for t in self.targets:
            s = loo_summary(wave.loo[t.id])
            s.update(target=t.id, seed_sd=math.sqrt(wave.seed_var[t.id]))
            rows.append(s)
            wave.loo[t.id].to_csv(self.wave_dir(k) / f"loo_{t.id}.csv", index=False)
        pd.DataFrame(rows).to_csv(self.wave_dir(k) / "loo.csv", index=False)
        return wave

    def _cached_fit(self, k: int, args: tuple) -> WaveFit:
        """Fit wave k's emulators, or load them when the same data were fitted before (a relaunch
        then costs no refit; a cache from another version of the code or of scikit-learn is ignored)."""
        import hashlib
        import pickle

        import sklearn

        h = hashlib.sha256()
        for a in args[:3]:
            h.update(b"none" if a is None else np.ascontiguousarray(a, dtype=float).tobytes())
        h.update(
            json.dumps(
                [args[3], self.hm.ids, self.hm.n_restarts, self.hm.seed, sklearn.__version__], sort_keys=True
            ).encode()
        )
        h.update(Path(__file__).read_bytes())
        digest = h.hexdigest()
        path = self.wave_dir(k) / "emulators.pkl"
        if path.exists():
            try:
                with open(path, "rb") as fh:
                    saved = pickle.load(fh)
                if saved.get("digest") == digest:
                    wave = saved["wave"]
                    self.hm.waves.append(wave)
                    return wave
            except Exception as exc:  # noqa: BLE001 - an unreadable cache is refitted
                _say(f"wave {k}: emulator cache unreadable ({type(exc).__name__}); refitting")
        wave = self.hm.fit_wave(*args)
        tmp = path.with_suffix(".pkl.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump({"digest": digest, "wave": wave}, fh)
        os.replace(tmp, path)
        return wave

    # ------------------------------------------------------------------ all waves
    def run(self, opts: RunOptions) -> dict:
        self.out.mkdir(parents=True, exist_ok=True)
        _check_settings(self.s, self.out / SETTINGS)
        (self.out / SETTINGS).write_text(json.dumps(asdict(self.s), indent=2, ensure_ascii=False))
        for k in range(1, self.s.waves + 1):
            t0 = time.perf_counter()
            self.design(k)
            wall = self.run_wave(k, opts)
            if opts.dry_run:
                if k == 1:
                    _say("dry run: later waves depend on the results of wave 1")
                break
            self.load_outputs(k, opts)
            wave = self.fit(k)
            share = self.hm.plausible_share(upto=k)
            _, means, mean_var, _, _ = self.points(k)
            imp = self.hm.simulated_implausibility(means.to_numpy(), mean_var.to_numpy(), wave.seed_var)
            fit_ok = combine(imp, self.s.criterion) <= self.s.cutoff
            per_target = {
                t.id: {
                    "observed": t.observed_text(),
                    "simulated_min": float(np.nanmin(means[t.id])),
                    "simulated_max": float(np.nanmax(means[t.id])),
                    "share_of_points_ruled_out": float(np.mean(imp[:, j] > self.s.cutoff)),
                }
                for j, t in enumerate(self.targets)
            }
            summary = {
                "wave": k,
                "points": len(self.designs[k]),
                "runs": len(self.outputs[k]),
                "sweep_wall_s": None if wall is None else round(wall, 1),
                "emulator_training_points": wave.n_train,
                "plausible_share_after": share,
                "run_points_fitting_so_far": int(fit_ok.sum()),
                "seed_sd": {t: math.sqrt(v) for t, v in wave.seed_var.items()},
                "targets": per_target,
                "wall_s": round(time.perf_counter() - t0, 1),
            }
            (self.wave_dir(k) / "summary.json").write_text(json.dumps(summary, indent=2))
            self.summaries.append(summary)
            hard = {i: v for i, v in per_target.items() if v["share_of_points_ruled_out"] >= 0.9}
            for i, v in hard.items():
                _say(
                    f"wave {k}: target {i} rules out {v['share_of_points_ruled_out']:.0%} of the run points: observed "
                    f"{v['observed']}, simulated {v['simulated_min']:.4g} to {v['simulated_max']:.4g}"
                )
            _say(
                f"wave {k}: emulators fitted on {wave.n_train} points; {share:.2%} of the prior box still "
                f"plausible; {int(fit_ok.sum())} simulated points fit every target so far"
            )
        if opts.dry_run:
            return {}
        return self.finish()

    def finish(self) -> dict:
        from sim.ensemble import write_ensemble

        k = self.s.waves
        x, means, mean_var, _, wv = self.points(k)
        sv = self.hm.waves[-1].seed_var
        imp = self.hm.simulated_implausibility(means.to_numpy(), mean_var.to_numpy(), sv)
        comb = combine(imp, self.s.criterion)
        inside = self.hm.plausible(x, upto=k - 1) if k > 1 else np.ones(len(x), bool)
        ok = (comb <= self.s.cutoff) & inside
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            raise NoPlausibleSpace(
                "no simulated parameter set fits every calibration target within the cut-off: see "
                f"{self.out}/targets_fit.csv and the figures"
            )
        order = idx[maximin_order(to_unit(x[idx], self.params), None, np.random.default_rng(self.s.sample_seed))]
        table = pd.DataFrame(x[order], columns=self.columns)
        table["wave"] = wv[order]
        table["design_member"] = means.index.to_numpy()[order]
        table["max_implausibility"] = comb[order]
        for j, t in enumerate(self.targets):
            table[f"sim_{t.id}"] = means.to_numpy()[order, j]
        manifest = {
            "kind": "calibrated ensemble (history matching)",
            "targets": [t.to_dict() for t in self.targets],
            "targets_dropped": self.s.dropped,
            "validation_targets": self.s.validation,
            "parameters": [asdict(p) for p in self.params],
            "cutoff": self.s.cutoff,
            "criterion": self.s.criterion,
            "overrides": self.s.overrides,
            "waves": self.summaries
            or [json.loads((self.wave_dir(i) / "summary.json").read_text()) for i in range(1, k + 1)],
            "code_version": code_version(),
        }
        man = write_ensemble(table, self.out / "ensemble.parquet", manifest)
        fit = self.fit_table(order, means.index.to_numpy(), wv)
        fit.to_csv(self.out / "targets_fit.csv", index=False)
        self.plausible_samples(k).to_parquet(self.out / "plausible_sample.parquet", index=False)
        try:
            from analysis import calibration_plots

            calibration_plots.all_figures(self, self.out / "figures")
        except Exception as exc:  # noqa: BLE001 - figures must not lose the ensemble
            _say(f"figures not written: {type(exc).__name__}: {exc}")
        _say(
            f"ensemble of {len(table)} parameter sets written to {self.out / 'ensemble.parquet'} (version {man['version']})"
        )
        return {"ensemble": str(self.out / "ensemble.parquet"), "members": len(table), "version": man["version"]}

    def plausible_samples(self, k: int, n: int = 2**14) -> pd.DataFrame:
        """A Sobol sample of the prior box with, for each point, the wave that ruled it out (0 = none)."""
        from scipy.stats import qmc

        u = qmc.Sobol(d=len(self.params), scramble=True, seed=self.s.sample_seed + 7).random(n)
        x = to_natural(u, self.params)
        ruled = np.zeros(n, dtype=int)
        for i in range(1, k + 1):
            alive = ruled == 0
            keep = self.hm.plausible(x[alive], upto=i)
            idx = np.flatnonzero(alive)
            ruled[idx[~keep]] = i
        df = pd.DataFrame(x, columns=self.columns)
        df["ruled_out_by_wave"] = ruled
        return df

    def fit_table(self, members_order: np.ndarray, member_ids: np.ndarray, wv: np.ndarray) -> pd.DataFrame:
        """For every target (calibration and validation): observed, and the ensemble's simulated values."""
        rows = []
        allk = pd.concat([o.assign(wave=k) for k, o in self.outputs.items()])
        ens = pd.DataFrame({"member": member_ids[members_order], "wave": wv[members_order]})
        sub = allk.merge(ens, on=["member", "wave"])
        g = sub.groupby(["wave", "member"])
        sv = self.hm.waves[-1].seed_var
        for t in [*self.targets, *self.validation]:
            if t.id not in sub:
                continue
            m = g[t.id].mean().to_numpy()
            if t.id in sv:
                seed_var = sv[t.id]
            else:
                seed_var = float(sub.groupby(["wave", "member"])[t.id].var(ddof=1).mean())
                seed_var = 0.0 if not math.isfinite(seed_var) else seed_var
            imp = t.distance(m) / np.sqrt(t.obs_var + t.discrepancy_sd**2 + seed_var)
            rows.append(
                {
                    "target": t.id,
                    "use": t.use,
                    "observed": t.observed_text(),
                    "ensemble_mean": float(np.mean(m)),
                    "ensemble_p2.5": float(np.quantile(m, 0.025)),
                    "ensemble_p97.5": float(np.quantile(m, 0.975)),
                    "share_members_within_cutoff": float(np.mean(imp <= self.s.cutoff)),
                    "median_implausibility": float(np.median(imp)),
                }
            )
        return pd.DataFrame(rows)


def code_version() -> dict:
    """Git commit of the code (and whether the tree had changes), package version."""
    from sim.io import environment

    root = Path(__file__).resolve().parent.parent
    info = dict(environment())
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        info.update(git_commit=commit, git_dirty=bool(dirty))
    except (OSError, subprocess.CalledProcessError):
        info.update(git_commit=None, git_dirty=None)
    return info


def calibrate(out: Path, opts: RunOptions | None = None, *, abc: int = 0, **kwargs: Any) -> dict:
    """Plan (check targets) and run a calibration into ``out``; see :func:`plan` for the arguments.
    ``abc`` > 0 adds an ABC-SMC step of that population size (:func:`abc_smc`)."""
    opts = opts or RunOptions()
    settings, registry, _ = plan(Path(out), **kwargs)
    if settings.dropped:
        _say("targets dropped (the model cannot measure them):")
        for k, v in settings.dropped.items():
            _say(f"  - {k}: {v}")
    cal = Calibration(Path(out), settings, registry)
    result = cal.run(opts)
    if abc and result:
        _say(f"ABC-SMC on the emulators (population {abc})...")
        post = abc_smc(cal, population=abc, seed=settings.sample_seed)
        result["abc_posterior"] = str(Path(out) / "abc_posterior.parquet")
        _say(f"ABC-SMC: {len(post)} weighted particles written to {result['abc_posterior']}")
    return result


__all__ = [
    "CRITERIA",
    "Calibration",
    "CalibrationError",
    "HistoryMatching",
    "NoPlausibleSpace",
    "Param",
    "RunOptions",
    "Settings",
    "abc_smc",
    "calibrate",
    "choose_params",
    "combine",
    "maximin_order",
    "plan",
]


# --------------------------------------------------------------------------------- ABC-SMC (optional)
def abc_smc(
    cal: Calibration,
    *,
    population: int = 400,
    generations: int = 6,
    seed: int = 0,
    db: Path | None = None,
) -> pd.DataFrame:
    """ABC-SMC (pyabc, extra ``abc``) on the space left by history matching, with the last wave's
    emulators as the simulator: a parameter set's simulated targets are the emulated means plus
    noise of the emulator, seed and discrepancy variances. The prior is uniform on the bounding box
    of the plausible sample; the distance is the Euclidean norm of the targets' distances scaled by
    sqrt(V_obs + V_md). Returns the last population (parameters and weights); writes
    ``abc_posterior.parquet`` and pyabc's database ``abc.db`` into the calibration folder.
    """
    try:
        import pyabc
    except ImportError as exc:
        raise CalibrationError('ABC-SMC needs pyabc: pip install -e ".[abc]"') from exc
    import logging

    logging.getLogger("ABC").setLevel(logging.WARNING)
    sample = pd.read_parquet(cal.out / "plausible_sample.parquet")
    alive = sample[sample["ruled_out_by_wave"] == 0]
    if len(alive) < 2:
        raise NoPlausibleSpace("no plausible sample to bound the ABC prior")
    names = [f"p{j}" for j in range(len(cal.params))]
    lo = alive[cal.columns].min().to_numpy()
    hi = alive[cal.columns].max().to_numpy()
    hi = np.where(hi > lo, hi, lo + 1e-9)
    prior = pyabc.Distribution(**{n: pyabc.RV("uniform", a, b - a) for n, a, b in zip(names, lo, hi, strict=True)})
    wave = cal.hm.waves[-1]
    targets = cal.targets
    rng = np.random.default_rng(seed)

    def model(p):
        x = np.array([[p[n] for n in names]])
        out = {}
        for t in targets:
            m, v = wave.emulators[t.id].predict(x)
            sd = math.sqrt(float(v[0]) + wave.seed_var[t.id] + t.discrepancy_sd**2)
            out[t.id] = float(m[0]) + sd * rng.normal()
        return out

    scale = {t.id: math.sqrt(t.obs_var + t.discrepancy_sd**2) for t in targets}

    def distance(sim, obs):
        del obs
        return math.sqrt(sum((float(t.distance(sim[t.id])) / scale[t.id]) ** 2 for t in targets))

    abc = pyabc.ABCSMC(model, prior, distance, population_size=population, sampler=pyabc.sampler.SingleCoreSampler())
    db = db or cal.out / "abc.db"
    abc.new(f"sqlite:///{db}", {t.id: t.observed for t in targets})
    history = abc.run(max_nr_populations=generations)
    df, w = history.get_distribution()
    post = pd.DataFrame({c: df[n].to_numpy() for c, n in zip(cal.columns, names, strict=True)})
    post["weight"] = np.asarray(w, dtype=float)
    post.to_parquet(cal.out / "abc_posterior.parquet", index=False)
    return post
