"""Sweeps that tell the truth: every job validated before the first runs, failures reported in a
summary table with a non-zero exit, resumable, locked job directories, no orphan workers, short
messages, with the project's launcher (one process or workers, in batches), Hydra's basic and
joblib launchers and the batched submitit launcher.

The command-line tests run ``python -m sim -m`` in a subprocess (like tests/test_command_line.py) on the
small territory for one year.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim import store
from sim.api import CONF_DIR, compose_config
from sim.config import job_dir_name, to_config
from sim.run import config_dict, run_simulation

TINY = ("territory=small", "territory.n_communes=40", "simulation=short", "simulation.years=1")


def sim(*args, cwd, env=None, timeout=300):
    full_env = {**os.environ, **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def job(sweep: Path, seed: int, *extra: str) -> Path:
    """Directory of the job of ``seed`` in a sweep over TINY: named after its overrides."""
    return sweep / job_dir_name(",".join(sorted([f"seed={seed}", *TINY, *extra])))


def mtimes(d: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in d.iterdir() if p.is_file() and p.suffix in (".parquet", ".json")}


# ------------------------------------------------------------------------- job directories
def test_job_directory_names_are_stable_safe_and_short():
    assert job_dir_name("scenario=mediation,seed=3") == "scenario=mediation,seed=3"
    assert job_dir_name("") == "defaults"
    odd = job_dir_name("territory.departements=[35,56],out=a/b")
    assert "/" not in odd and odd != job_dir_name("territory.departements=[35,56],out=a_b")
    long_a, long_b = "x=" + "1" * 300, "x=" + "1" * 299 + "2"
    assert len(job_dir_name(long_a)) <= 120 and job_dir_name(long_a) != job_dir_name(long_b)
    assert job_dir_name(long_a) == job_dir_name(long_a)


# ------------------------------------------------------------------------- composition
OVERRIDE_SETS = [
    [],
    ["seed=3"],
    ["scenario=mediation", "seed=2", "training.budget_eur_per_staff=50"],
    ["territory=small", "training=tutoring", "training.cost_eur.tutoring=900", "mediation.budget_eur_per_staff=10"],
    ["stress=[lockdown,cyber_attack]", "drivers.lockdown_year=2023.5", "seed=1"],
    ["scenario=equal_budget_training", "equal_budget_eur_per_staff=250", "experiment=scenario_comparison"],
    ["territory.departements=[35,56]", "training.targeting=furthest", "+hydra.job.env_set.X=1"],
]


@pytest.mark.parametrize("overrides", OVERRIDE_SETS, ids=lambda o: ",".join(o) or "defaults")
def test_the_fast_composition_gives_what_hydra_composes(overrides):
    # JobComposer composes once per choice of config groups and applies the other overrides to
    # a copy; every job must get exactly the configuration Hydra's own composition gives it.
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from sim.config import register_configs
    from sim.sweeps import JobComposer, task_config

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", ["hydra.sweep.dir=/tmp/x"], RunMode.MULTIRUN)
        composer = JobComposer(loader, master)
        composer.compose(["scenario=mediation", "seed=9"])  # warm the cache with another job
        ours, hydras = composer.compose(overrides), loader.load_sweep_config(master, list(overrides))
        for cfg in (ours, hydras):
            cfg.hydra.runtime.cwd = ""  # the only field that depends on when it was composed
        assert OmegaConf.to_container(ours) == OmegaConf.to_container(hydras)
        assert OmegaConf.to_container(composer.compose_task(overrides)) == OmegaConf.to_container(task_config(hydras))


def test_the_lean_run_job_does_what_hydras_run_job_does(tmp_path):
    # run_job_lean skips two deep copies of Hydra's run_job: same directory, .hydra files,
    # task configuration and return.
    from hydra import initialize_config_dir
    from hydra._internal.callbacks import Callbacks
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.utils import run_job, setup_globals
    from hydra.types import HydraContext, RunMode
    from omegaconf import OmegaConf

    from sim.config import register_configs
    from sim.sweeps import JobComposer, run_job_lean

    register_configs()
    seen, outcomes = [], []

    def task(cfg):
        seen.append(OmegaConf.to_container(cfg))
        return {"n": len(seen)}

    overrides = ["scenario=mediation", "seed=3", "training.budget_eur_per_staff=20"]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        setup_globals()
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", [f"hydra.sweep.dir={tmp_path}"], RunMode.MULTIRUN)
        ctx = HydraContext(config_loader=loader, callbacks=Callbacks(master))
        composer = JobComposer(loader, master)
        for lean in (False, True):
            if lean:
                ret = run_job_lean(ctx, task, composer.compose(overrides), composer.compose_task(overrides))
            else:
                cfg = loader.load_sweep_config(master, overrides)
                ret = run_job(task, cfg, "hydra.sweep.dir", "hydra.sweep.subdir", hydra_context=ctx)
            files = {
                p.name: p.read_text() for p in (tmp_path / job_dir_name(",".join(sorted(overrides)))).glob(".hydra/*")
            }
            outcomes.append((ret.status, ret.return_value["n"] > 0, ret.overrides, ret.working_dir, files))
    assert len(outcomes[0][4]) == 3 and outcomes[0] == outcomes[1]
    assert seen[0] == seen[1]


# ------------------------------------------------------------------------- validation up front
def test_an_invalid_value_stops_the_sweep_before_anything_runs(tmp_path):
    sweep = tmp_path / "sweep"
    proc = sim(
        "-m",
        *TINY,
        "seed=0,-1",
        "training.budget_eur_per_staff=0,-5",
        "training.targeting=universal,best",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    err = proc.stderr
    assert "7 of 8 jobs have invalid values" in err  # all but seed=0, budget 0, universal
    assert "seed=-1 is below its minimum 0" in err
    assert "training.budget_eur_per_staff=-5.0 is below its minimum 0.0" in err
    assert "training.targeting='best' is not allowed; allowed values: universal, furthest, most_impacted" in err
    assert "Traceback" not in err and len(err.splitlines()) < 12
    assert not sweep.exists()  # no sweep directory, no job directory


def test_an_unknown_key_or_option_in_a_sweep_is_a_short_error(tmp_path):
    for bad in ("territory.n_comunes=40,50", "scenario=mediation,nope"):
        proc = sim("-m", *TINY, bad, f"hydra.sweep.dir={tmp_path / 'sweep'}", cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and ("n_comunes" in proc.stderr or "nope" in proc.stderr)
        assert not (tmp_path / "sweep").exists()


# ------------------------------------------------------------------------- failures and resumption
@pytest.mark.slow
@pytest.mark.parametrize(
    "launcher",
    [
        ("hydra.launcher.n_jobs=2", "hydra.launcher.batch_size=2"),  # the project's, in workers
        ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2"),
        ("hydra/launcher=basic",),
    ],
    ids=["sim-workers", "joblib", "basic"],
)
def test_failed_jobs_are_summarized_with_a_non_zero_exit_and_a_relaunch_redoes_only_them(tmp_path, launcher):
    sweep = tmp_path / "sweep"
    common = ("-m", *TINY, f"hydra.sweep.dir={sweep}")
    first = sim(*common, "seed=0,1,2", *launcher, cwd=tmp_path, env={"SIM_INJECT_FAILURE": "1"})
    assert first.returncode == 1, first.stderr
    err = first.stderr
    assert "3 jobs: 2 complete (0 skipped: already complete), 1 failed" in err
    table = err[err.index("status  job") :]
    assert f"failed  {job(sweep, 1).name}" in table and "InjectedFailure: failure injected for seed 1" in table
    assert job(sweep, 0).name not in table
    assert "Traceback" not in err
    assert store.is_complete(job(sweep, 0)) and store.is_complete(job(sweep, 2))
    error = json.loads((job(sweep, 1) / store.ERROR).read_text())
    assert "InjectedFailure" in error["error"] and "seed=1" in error["overrides"] and "Traceback" in error["traceback"]
    assert not (job(sweep, 1) / store.MANIFEST).exists()
    done = mtimes(job(sweep, 0))

    # Relaunch, the failure gone and the seeds in another order (other job numbers): complete
    # jobs are skipped, untouched; the failed one is redone.
    again = sim(*common, "seed=2,1,0", *launcher, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "3 jobs: 3 complete (2 skipped: already complete), 0 failed" in again.stdout
    assert mtimes(job(sweep, 0)) == done
    assert store.is_complete(job(sweep, 1)) and not (job(sweep, 1) / store.ERROR).exists()
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == sorted(job(sweep, s).name for s in (0, 1, 2))


def test_a_job_directory_locked_by_another_sweep_is_reported_not_written(tmp_path):
    sweep = tmp_path / "sweep"
    with store.job_lock(job(sweep, 1)):
        proc = sim("-m", *TINY, "seed=0,1", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
        assert proc.returncode == 1
        assert "locked:" in proc.stderr and f"pid {os.getpid()}" in proc.stderr
        names = {p.name for p in job(sweep, 1).iterdir()}
        assert not names & {store.ERROR, store.MANIFEST, "timeseries.parquet"}
    assert store.is_complete(job(sweep, 0))


def test_sweeps_write_no_figures_unless_asked(tmp_path):
    sweep = tmp_path / "sweep"
    proc = sim("-m", *TINY, "seed=0", "simulation.figures=true,false", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with_figs = store.read_manifest(job(sweep, 0, "simulation.figures=True"))
    without = store.read_manifest(job(sweep, 0, "simulation.figures=False"))
    assert any(f.startswith("figures/") for f in with_figs["files"])
    assert not any(f.startswith("figures/") for f in without["files"])
    plain = tmp_path / "plain"
    assert sim("-m", *TINY, "seed=0", f"hydra.sweep.dir={plain}", cwd=tmp_path).returncode == 0
    manifest = store.read_manifest(job(plain, 0))
    assert not any(f.startswith("figures/") for f in manifest["files"])
    assert manifest["config"]["simulation"]["figures"] is False  # recorded as done


def test_the_batched_submitit_launcher_runs_several_jobs_per_task(tmp_path):
    # submitit_local runs each array task in a new process, as SLURM does on a node
    # (tests/test_slurm.py runs real SLURM): 3 jobs in tasks of 2.
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the [slurm] extra")
    sweep = tmp_path / "sweep"
    proc = sim(
        "-m",
        *TINY,
        "seed=3,4,5",
        "hydra/launcher=sim_submitit_local",
        "hydra.launcher.batch_size=2",
        "hydra.launcher.timeout_min=5",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
        env={"SIM_INJECT_FAILURE": "4"},
    )
    assert proc.returncode == 1, proc.stderr
    assert "2 complete" in proc.stderr and "failure injected for seed 4" in proc.stderr
    assert "3 jobs in 2 array tasks of up to 2 jobs" in proc.stdout
    assert store.is_complete(job(sweep, 3)) and store.is_complete(job(sweep, 5))
    assert (job(sweep, 4) / store.ERROR).exists()
    tasks = {p.parent.name for p in (sweep / ".submitit").rglob("*_result.pkl")}
    assert len(tasks) == 2  # two array tasks ran the three jobs


def test_the_task_function_and_a_composed_config_pickle(tmp_path):
    # What joblib and submitit do before running a job in another process: cloudpickle the task
    # function and its config (submitit_local above runs it there).
    import sim.cli

    cloudpickle = pytest.importorskip("cloudpickle")
    cfg = compose_config([*TINY, "seed=4"])
    task, loaded = pickle.loads(cloudpickle.dumps((sim.cli.task, cfg)))
    assert task is sim.cli.task and loaded == cfg
    result = run_simulation(to_config(loaded), tmp_path / "out")
    assert store.is_complete(tmp_path / "out", store.config_hash(config_dict(to_config(cfg))))
    assert result.manifest["seed"] == 4


# ------------------------------------------------------------------------- workers and signals
def _group(pgid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


def _gone(pgid: int, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not _group(pgid):
            return True
        time.sleep(0.2)
    return False


#: Long enough to be still running when the tests below stop it, once its first run is complete:
#: 24 runs of about 0.6 s each on 2 workers (10 runs, stopped after a fixed wait, once ended
#: under the load of the parallel tests before the Ctrl-C came).
LONG_RUNS = 24
LONG = ("-m", "simulation.years=10", f"seed=range(0,{LONG_RUNS})")


def _start_long_sweep(tmp_path, *launcher):
    """A sweep of :data:`LONG_RUNS` default-territory runs in 2 workers, started in its own
    process group; returns once its workers run and a first run is complete."""
    env = {**os.environ}
    env.pop("HYDRA_FULL_ERROR", None)
    # Output to files, not pipes: a worker left behind would hold a pipe open forever.
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *LONG, f"hydra.sweep.dir={tmp_path / 's'}", *launcher],
        cwd=tmp_path,
        env=env,
        stdout=open(tmp_path / "stdout", "w"),  # noqa: SIM115 (closed with the process)
        stderr=open(tmp_path / "stderr", "w"),  # noqa: SIM115
        start_new_session=True,
    )
    end = time.monotonic() + 60
    # Until the workers run (the parent and its workers) and a first run is complete.
    while time.monotonic() < end and proc.poll() is None:
        if len(_group(proc.pid)) >= 3 and list((tmp_path / "s").glob("*/manifest.json")):
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the sweep ended before it could be stopped"
    return proc


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize(
    "launcher",
    [("hydra.launcher.n_jobs=2",), ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")],
    ids=["sim-workers", "joblib"],
)
def test_killing_the_launching_process_leaves_no_worker_behind(tmp_path, launcher):
    proc = _start_long_sweep(tmp_path, *launcher)
    assert len(_group(proc.pid)) >= 3, "the workers did not start"
    proc.kill()
    proc.wait()
    assert _gone(proc.pid), f"left behind: {_group(proc.pid)}"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_stops_a_sweep_with_a_short_message(tmp_path):
    proc = _start_long_sweep(tmp_path, "hydra.launcher.n_jobs=2")
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    proc.wait(timeout=60)
    err = (tmp_path / "stderr").read_text()
    assert proc.returncode == 130
    assert "interrupted" in err and "relaunch the same command" in err and "Traceback" not in err
    assert _gone(proc.pid)
    # Relaunched, the sweep completes; temporary files of the runs killed mid-write are gone.
    again = sim(*LONG, f"hydra.sweep.dir={tmp_path / 's'}", "hydra.launcher.n_jobs=2", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(list((tmp_path / "s").glob("*/manifest.json"))) == LONG_RUNS
    assert not list((tmp_path / "s").rglob("*.tmp"))


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_jobs(tmp_path):
    # 25 identical jobs in one process (the default launcher): the objects a job makes (its
    # configurations, model, agents, tables) are freed when it ends, so the live objects after
    # the 25th job are about those after the 5th (a finished job used to leave ~4,500 behind
    # until a rare full collection).
    code = f"""
import gc, json, sys
import sim.cli, sim.sweeps as sw
counts, progress = {{}}, sw.ProgressLog.__call__
def count(self, ret):
    progress(self, ret)
    if self.done in (5, 25):
        counts[self.done] = len(gc.get_objects())
sw.ProgressLog.__call__ = count
sys.argv = ["sim", "-m", "seed=0", {", ".join(repr(o) for o in TINY)},
            "equal_budget_eur_per_staff=range(0,25)", "hydra.sweep.dir={tmp_path / "s"}"]
try:
    sim.cli.main()
finally:
    print(json.dumps(counts))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (counts["25"] - counts["5"]) / 20 < 300, counts
