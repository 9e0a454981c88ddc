"""Benchmark of sweeps: throughput of the launchers, where a run's time goes, memory over a sweep.

    python -m benchmarks.sweeps                      # 100 runs per launcher, about 10 minutes
    python -m benchmarks.sweeps --runs 20 --repeats 1 --memory-jobs 10   # a quick check
    make bench                                       # benchmarks.bench, then this

Each measurement is a real ``python -m sim -m`` sweep in a fresh process (its own session), into
a fresh sweep directory (nothing skipped), of ``--runs`` runs of the default territory
(``--communes`` communes, ``--years`` years, one seed each), as a user would launch it:

- ``basic``: Hydra's basic launcher (``hydra/launcher=basic``), jobs one after the other;
- ``sim``: the project's launcher in the launching process (the default);
- ``joblib-N``: Hydra's joblib launcher with N workers;
- ``sim-N``: the project's launcher with N worker processes, one job at a time per worker;
- ``sim-N-bB``: the same, B jobs per batch.

The launchers are interleaved (one round runs each once; ``--repeats`` rounds), so that the
ratios compare runs made under similar load; medians are reported. Besides the wall time, the
CPU time of all the sweep's processes (launching process, workers, helpers) is read from /proc
while it runs: runs per CPU-minute is the throughput per core, much less sensitive to other jobs
on the machine than wall times (docs/PERFORMANCE.md).

Where the time goes (``sim`` launcher): a sweep's wall time is a start-up plus a cost per run;
sweeps of one run give the start-up, of which a fresh interpreter importing what a job needs
gives the imports; the runs' manifests give each run's build, simulation, tables and writing
times, and the rest of the per-run cost is Hydra's ``run_job``, composition, lock and checks.

Memory: the peak resident memory (``ru_maxrss``) of the launching process after sweeps of 1 and
of ``--memory-jobs`` jobs in that process (``sim`` launcher), every job the same run in its own
directory: it must not grow with the number of jobs.

Results are printed and written to ``bench-results/sweeps-<UTC time>.{md,csv}`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.results import keyed, write_results

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench-results"


def launchers(workers: int, batch: int) -> dict[str, tuple[list[str], int]]:
    """name -> (launcher overrides, cores used)."""
    return {
        "basic": (["hydra/launcher=basic"], 1),
        "sim": (["hydra/launcher=sim"], 1),
        f"joblib-{workers}": (["hydra/launcher=joblib", f"hydra.launcher.n_jobs={workers}"], workers),
        f"sim-{workers}": ([f"hydra.launcher.n_jobs={workers}", "hydra.launcher.batch_size=1"], workers),
        f"sim-{workers}-b{batch}": (
            [f"hydra.launcher.n_jobs={workers}", f"hydra.launcher.batch_size={batch}"],
            workers,
        ),
    }


def sweep(overrides: list[str], runs: int, args, workdir: Path, identical: bool = False) -> dict:
    """One sweep in a fresh process: wall time, peak RSS of the launching process, exit.
    ``identical``: the same run (seed ``--first-seed``) ``runs`` times, in different job
    directories (through a parameter the default scenario ignores), to measure memory."""
    sweep_dir = Path(tempfile.mkdtemp(prefix="sweep-", dir=workdir))
    if identical:
        points = [f"seed={args.first_seed}", f"equal_budget_eur_per_staff=range(0,{runs})"]
    else:
        points = [f"seed=range({args.first_seed},{args.first_seed + runs})"]
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        f"territory.n_communes={args.communes}",
        f"simulation.years={args.years}",
        *points,
        f"hydra.sweep.dir={sweep_dir}",
        *overrides,
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    cpu: dict[int, float] = {}
    with open(sweep_dir / "bench.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            _poll_cpu(proc.pid, cpu)
            time.sleep(0.1)
    wall = time.perf_counter() - t0
    end = time.monotonic() + 10
    while _poll_cpu(proc.pid, cpu) and time.monotonic() < end:  # helpers still exiting
        time.sleep(0.1)
    if status != 0:
        raise RuntimeError(f"sweep failed ({' '.join(cmd)}): see {sweep_dir / 'bench.log'}")
    manifests = [json.loads(p.read_text()) for p in sweep_dir.glob("*/manifest.json")]
    if len(manifests) != runs:
        raise RuntimeError(f"{len(manifests)} of {runs} runs complete in {sweep_dir}")
    timings = {k: statistics.mean(m["timings"][k] for m in manifests) for k in manifests[0]["timings"]}
    cpu[proc.pid] = max(cpu.get(proc.pid, 0.0), usage.ru_utime + usage.ru_stime)
    return {
        "wall_s": wall,
        "cpu_s": sum(cpu.values()),
        "processes": len(cpu),
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "timings": timings,
        "dir": str(sweep_dir),
    }


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _poll_cpu(pgid: int, cpu: dict[int, float]) -> int:
    """Record the CPU time (user + system) of every live process of the process group ``pgid``
    (the sweep, its workers, helpers: the launching process starts a new session); returns how
    many are alive. A process's last 0.1 s before it exits can be missed."""
    alive = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) != pgid or fields[0] == "Z":
            continue
        alive += 1
        pid = int(stat.parent.name)
        cpu[pid] = max(cpu.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / _TICK)
    return alive


def import_time(repeats: int = 3, bytecode: bool = True) -> float:
    """Seconds for a fresh interpreter to import what a job needs (median). ``bytecode=False``:
    as if nothing had been compiled at install (an empty bytecode cache elsewhere, not written
    to: what every process paid before ``make venv`` compiled it, with PYTHONDONTWRITEBYTECODE)."""
    code = "import sim.cli, sim.model, sim.io, pyarrow.parquet"
    out = []
    for _ in range(repeats):
        env = dict(os.environ)
        if not bytecode:
            env.update(PYTHONPYCACHEPREFIX=tempfile.mkdtemp(prefix="no-pyc-"), PYTHONDONTWRITEBYTECODE="1")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


TEARDOWN = """
import gc, json, statistics, sys, time
from sim.config import Config, SimulationConfig, TerritoryConfig
from sim.model import TransitionModel
cfg = Config(territory=TerritoryConfig(n_communes={communes}),
             simulation=SimulationConfig(years={years}, progress=False, figures=False))
out = []
for seed in range(3):
    cfg.seed = seed
    gc.collect()
    gc.freeze()
    model = TransitionModel(cfg)
    model.run()
    t0 = time.perf_counter()
    del model
    gc.collect()
    out.append(time.perf_counter() - t0)
    gc.unfreeze()
print(json.dumps(statistics.median(out)))
"""


def teardown_time(args) -> float:
    """Seconds to free a finished model (its agents), as sim.run does after each run (median
    of 3 runs in one process)."""
    code = TEARDOWN.format(communes=args.communes, years=args.years)
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def machine() -> dict:
    from importlib.metadata import version

    cpu = "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "numpy": version("numpy"),
        "mesa": version("mesa"),
        "hydra": version("hydra-core"),
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=100, help="runs per sweep")
    p.add_argument("--communes", type=int, default=1000, help="communes of the synthetic territory")
    p.add_argument("--years", type=int, default=10, help="simulated years per run")
    p.add_argument("--workers", type=int, default=2, help="worker processes of the parallel launchers")
    p.add_argument("--batch", type=int, default=10, help="jobs per batch of the batched launcher")
    p.add_argument("--repeats", type=int, default=1, help="rounds of all launchers (medians reported)")
    p.add_argument("--only", default="", help="comma-separated launcher names to run (default: all)")
    p.add_argument("--memory-jobs", type=int, default=30, help="jobs of the longer in-process sweep (memory)")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)

    info = machine()
    print("machine:", json.dumps(info), flush=True)
    table = launchers(args.workers, args.batch)
    if args.only:
        table = {k: v for k, v in table.items() if k in args.only.split(",")}
    results: dict[str, list[dict]] = {name: [] for name in table}
    with tempfile.TemporaryDirectory(prefix="bench-sweeps-") as tmp:
        work = Path(tmp)
        imports = import_time()
        imports_no_pyc = import_time(bytecode=False)
        teardown = teardown_time(args)
        print(f"freeing a finished model: {teardown:.3f} s", flush=True)
        print(
            f"imports of a job's modules in a fresh interpreter: {imports:.2f} s "
            f"({imports_no_pyc:.2f} s without compiled bytecode)",
            flush=True,
        )
        one: list[float] = []
        for r in range(args.repeats):
            # A sweep of one run: the fixed cost of a sweep (start-up), for the split below.
            one.append(sweep(["hydra/launcher=sim"], 1, args, work)["wall_s"])
            for name, (overrides, _) in table.items():
                res = sweep(overrides, args.runs, args, work)
                results[name].append(res)
                print(
                    f"  round {r + 1}/{args.repeats} {name}: {res['wall_s']:.1f} s for {args.runs} runs, "
                    f"peak {res['peak_rss_mb']:.0f} MB (launching process)",
                    flush=True,
                )
        memory = {}
        for jobs in (1, args.memory_jobs):
            memory[jobs] = sweep(["hydra/launcher=sim"], jobs, args, work, identical=True)["peak_rss_mb"]
            print(f"  memory: {jobs} job(s) in one process: peak {memory[jobs]:.0f} MB", flush=True)
        wall_one = statistics.median(one)

    info["load_average_at_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = []
    for name, runs in results.items():
        wall = statistics.median(r["wall_s"] for r in runs)
        cores = table[name][1]
        cpu = statistics.median(r["cpu_s"] for r in runs)
        rows.append(
            {
                "launcher": name,
                "overrides": " ".join(table[name][0]),
                "cores": cores,
                "wall_s": wall,
                "wall_max_s": max(r["wall_s"] for r in runs),
                "s_per_run": wall / args.runs,
                "runs_per_core_minute": args.runs / (wall * cores) * 60,
                "cpu_s": cpu,
                "cpu_s_per_run": cpu / args.runs,
                "runs_per_cpu_minute": args.runs / cpu * 60,
                "repeats": len(runs),
                "timings": runs[0]["timings"],
            }
        )
    md = markdown(info, rows, memory, (imports, imports_no_pyc, teardown), wall_one, args)
    triples = [("machine", k, v) for k, v in info.items()]
    for row in rows:
        triples += keyed(f"launcher:{row['launcher']}", row)
    triples += [("memory", f"peak_rss_mb_{jobs}_jobs", mb) for jobs, mb in memory.items()]
    write_results(args.out, "sweeps", md, triples)
    return 0


def markdown(info: dict, rows: list[dict], memory: dict, import_s: tuple, wall_one: float, args) -> str:
    imports, imports_no_pyc, teardown = import_s
    by = {r["launcher"]: r for r in rows}
    lines = [
        (
            f"Machine: {info['cpu']}, {info['cores']} cores; {info['python']} ({info['python_executable']}), "
            f"numpy {info['numpy']}, Mesa {info['mesa']}, Hydra {info['hydra']}; "
            f"PYTHONDONTWRITEBYTECODE={info['PYTHONDONTWRITEBYTECODE'] or '(unset)'}; "
            f"load average at start {info['load_average_at_start']}, at end {info['load_average_at_end']} "
            "(above the number of cores, other jobs shared the machine: figures are noisy)."
        ),
        (
            f"Command: `python -m benchmarks.sweeps --runs {args.runs} --communes {args.communes} --years {args.years} "
            f"--workers {args.workers} --batch {args.batch} --repeats {args.repeats} --memory-jobs {args.memory_jobs}`"
        ),
        "",
        (
            f"Sweeps of {args.runs} runs ({args.communes:,} communes, {args.years} years, one seed each), one fresh "
            f"`python -m sim -m` process each, launchers interleaved; median of {args.repeats} round(s)."
        ),
        "",
        (
            "| launcher | overrides | cores | wall (s), median / max | wall vs basic | CPU (s), all its processes "
            "| CPU s per run | runs per CPU-minute | CPU / cores (s) | CPU / cores vs basic |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    basic = by.get("basic")
    for r in rows:
        best = r["cpu_s"] / r["cores"]
        vs_wall = f"{basic['wall_s'] / r['wall_s']:.2f}x" if basic else ""
        vs_best = f"{basic['cpu_s'] / best:.2f}x" if basic else ""
        lines.append(
            f"| {r['launcher']} | `{r['overrides']}` | {r['cores']} | {r['wall_s']:.1f} / {r['wall_max_s']:.1f} | "
            f"{vs_wall} | {r['cpu_s']:.1f} | {r['cpu_s_per_run']:.3f} | {r['runs_per_cpu_minute']:.0f} | "
            f"{best:.1f} | {vs_best} |"
        )
    lines += [
        "",
        (
            "Wall times depend on the load: on a shared machine the workers wait for a core. The CPU time of "
            "all the sweep's processes (the launching process, its workers and helpers, read from /proc) "
            "depends on it much less: runs per CPU-minute is the throughput per core, and CPU / cores the wall "
            "time the sweep would take with its cores free (a lower bound: the start-up in the launching "
            "process is not parallel)."
        ),
    ]
    ref = by.get("sim")
    if ref is not None and args.runs > 1:
        # wall(N) = start-up + N x per-job: the one-run sweeps give the start-up.
        per_job = (ref["wall_s"] - wall_one) / (args.runs - 1)
        startup = wall_one - per_job
        t = ref["timings"]
        model = t.get("build_s", 0) + t.get("run_s", 0) + t.get("tables_s", 0)
        lines += [
            "",
            (
                f"Where the time goes, `sim` launcher: a sweep of N runs takes start-up + N x per-run; the start-up "
                f"is measured by sweeps of one run ({wall_one:.2f} s, median), the per-run part is "
                f"({ref['wall_s']:.1f} - {wall_one:.2f}) / {args.runs - 1}; the model and I/O parts are the means "
                "of the runs' manifests (`timings`)."
            ),
            "",
            "| part | s | share of its total |",
            "|---|---:|---:|",
            (
                f"| start-up: imports (a fresh interpreter importing what a job needs) | {imports:.2f} | "
                f"{imports / startup:.0%} |"
            ),
            (
                f"| start-up: Hydra (plugins, composition), validation of the sweep, exit | {startup - imports:.2f} | "
                f"{(startup - imports) / startup:.0%} |"
            ),
            f"| **start-up, once per sweep** | **{startup:.2f}** | |",
        ]
        extra = (
            f"(without compiled bytecode, each process would import in {imports_no_pyc:.2f} s instead of "
            f"{imports:.2f} s.)"
        )
        for label, value in (
            ("per run: model, build", t.get("build_s", 0)),
            ("per run: model, simulation", t.get("run_s", 0)),
            ("per run: model, output tables", t.get("tables_s", 0)),
            ("per run: I/O (Parquet, checksums, manifest)", t.get("write_s", 0)),
            ("per run: model, teardown (freeing its agents; measured apart)", teardown),
            (
                "per run: Hydra's run_job, composition, lock and checks (the rest)",
                per_job - model - t.get("write_s", 0) - teardown,
            ),
        ):
            lines.append(f"| {label} | {value:.3f} | {value / per_job:.0%} |")
        lines.append(f"| **per run** | **{per_job:.3f}** | |")
        lines += ["", "Imports " + extra]
    if memory:
        first, last = min(memory), max(memory)
        lines += [
            "",
            (
                f"Peak resident memory of the launching process (`sim` launcher, jobs in that process), the same "
                f"run (seed {args.first_seed}) {first} time and {last} times: "
                f"{memory[first]:.0f} MB and {memory[last]:.0f} MB."
            ),
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
