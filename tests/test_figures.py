"""Figures of a run (sim.figures): drawn in this process or in a child process started during
the run (national runs), the same files either way; the child's failures reach the caller, and
a run whose child fails or hangs draws its figures itself; the child keeps the run directory
locked while it lives and imports the parent's code, not a ``sim`` folder in the current
directory."""

from __future__ import annotations

import os
import signal
import time
from types import SimpleNamespace

import pytest

from sim import figures, store
from sim.figures import FIGURES, FigureProcess, write_figures
from sim.run import run_simulation
from tests.conftest import small_config


@pytest.fixture(scope="module")
def tables():
    result = run_simulation(small_config(40, 1, seed=3))
    return result.timeseries, result.collectivites


def test_the_figure_process_writes_the_same_files_as_drawing_here(tmp_path, tables):
    here: dict[str, str] = {}
    written = write_figures(*tables, tmp_path / "here", "(title)", here)
    assert written == [f.path for f in FIGURES] == list(here)
    with FigureProcess() as child:
        child.send(*tables, tmp_path / "child", "(title)")
        there = child.result()
    assert there == here  # same bytes
    for path, digest in there.items():
        assert store.sha256(tmp_path / "child" / path) == digest
    assert not list((tmp_path / "child").rglob("*.tmp"))


def test_a_failure_in_the_figure_process_reaches_the_caller_with_its_cause(tmp_path, tables):
    timeseries, collectivites = tables
    with FigureProcess() as child:
        child.send(timeseries.drop(columns="metric"), collectivites, tmp_path, "")
        with pytest.raises(RuntimeError, match=r"(?s)drawing the figures failed.*KeyError: 'metric'"):
            child.result()
    assert not list(tmp_path.rglob("*.png")) and not list(tmp_path.rglob("*.tmp"))


def test_a_figure_process_left_without_tables_is_stopped(tmp_path):
    with FigureProcess() as child:
        pass
    assert child._proc.poll() is not None  # not left running


def test_a_run_draws_in_the_child_when_asked_and_certifies_its_files(tmp_path, monkeypatch):
    started = []

    class Spy(FigureProcess):
        def __init__(self, *args):
            started.append(True)
            super().__init__(*args)

    monkeypatch.setattr(figures, "FigureProcess", Spy)
    result = _run_with_child(tmp_path, monkeypatch)
    assert started == [True]
    _certified_figures(result, tmp_path / "job")
    assert store.is_complete(tmp_path / "job")


def test_the_child_is_used_for_long_large_runs_with_a_free_cpu_and_the_plotting_packages_not_loaded(monkeypatch):
    import sys

    monkeypatch.setattr(figures.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.delitem(sys.modules, "matplotlib.pyplot", raising=False)
    big = figures.IN_CHILD_MIN_STAFF_STEPS // 50
    assert figures.draw_in_child(big, 50) and figures.draw_in_child(1_930_000, 50)
    assert not figures.draw_in_child(big - 1, 50)
    assert not figures.draw_in_child(big, 8)  # a short run of as many staff
    monkeypatch.setattr(figures.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert not figures.draw_in_child(big, 50)
    monkeypatch.setattr(figures.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", object())
    assert not figures.draw_in_child(big, 50)


def test_a_run_stopped_while_its_child_draws_leaves_no_temporary_file(tmp_path, monkeypatch):
    # The child killed mid-write (an error in the run, Ctrl-C) leaves the temporary file of the
    # figure it was writing; a run in-process would have removed it.
    monkeypatch.setattr(figures, "draw_in_child", lambda n_staff, n_steps: True)
    (tmp_path / "figures").mkdir()
    partial = tmp_path / "figures" / "adoption_overview.png.x1y2z3.tmp"  # as atomic_path names it
    with pytest.raises(KeyboardInterrupt), figures.RunFigures(tmp_path) as run_figures:
        run_figures.model_built(SimpleNamespace(staff=SimpleNamespace(n_active=1), n_history=0, n_steps=1))
        child = run_figures.child
        assert child is not None
        partial.write_bytes(b"half a PNG")
        raise KeyboardInterrupt
    assert child._proc.poll() is not None
    assert not partial.exists()


def _run_with_child(tmp_path, monkeypatch, **kwargs):
    monkeypatch.setattr(figures, "draw_in_child", lambda n_staff, n_steps: True)
    return run_simulation(small_config(40, 1, seed=1), tmp_path / "job", figures=True, **kwargs)


def _certified_figures(result, out):
    drawn = {name: digest for name, digest in result.manifest["files"].items() if name.startswith("figures/")}
    assert sorted(drawn) == sorted(f.path for f in FIGURES)
    assert all(store.sha256(out / name) == digest for name, digest in drawn.items())
    assert not list(out.rglob("*.tmp"))


def test_a_run_whose_child_fails_draws_its_figures_itself_and_says_why(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(figures, "_CHILD", "import sys; sys.exit('no display of any kind here')")
    with caplog.at_level("WARNING", logger="sim"):
        result = _run_with_child(tmp_path, monkeypatch)
    assert "no display of any kind here" in caplog.text and "drawing the figures here instead" in caplog.text
    _certified_figures(result, tmp_path / "job")


def test_a_run_whose_child_hangs_stops_it_and_draws_its_figures_itself(tmp_path, monkeypatch, caplog):
    started = []

    class Spy(FigureProcess):
        def __init__(self, *args):
            super().__init__(*args)
            started.append(self)

    monkeypatch.setattr(figures, "FigureProcess", Spy)
    monkeypatch.setattr(figures, "_CHILD", "import time; time.sleep(120)")
    monkeypatch.setattr(figures, "CHILD_TIMEOUT_S", 2.0)
    with caplog.at_level("WARNING", logger="sim"):
        result = _run_with_child(tmp_path, monkeypatch)
    assert "did not" in caplog.text and "within 2.0 s" in caplog.text
    assert started and started[0]._proc.poll() is not None  # stopped, not left sleeping
    _certified_figures(result, tmp_path / "job")


def test_an_error_after_the_tables_are_sent_stops_the_child_and_records_the_failure(tmp_path, monkeypatch):
    started = []

    class Spy(FigureProcess):
        def __init__(self, *args):
            super().__init__(*args)
            started.append(self)

    def full_disk(df, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(figures, "FigureProcess", Spy)
    monkeypatch.setattr(store, "write_parquet", full_disk)
    with pytest.raises(OSError, match="No space"):
        _run_with_child(tmp_path, monkeypatch)
    out = tmp_path / "job"
    assert started and started[0]._proc.poll() is not None
    assert (out / store.ERROR).exists() and not (out / store.MANIFEST).exists()
    assert not list(out.rglob("*.tmp"))


def test_the_child_keeps_the_run_directory_locked_after_its_parent_died(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "job"
    # A parent that takes the lock, starts a child (here one that only sleeps) and dies without
    # releasing anything, as on SIGKILL.
    parent = f"""
import os, sys
from sim import figures, store
figures._CHILD = "import time; time.sleep(60)"
with store.job_lock({str(out)!r}) as fd:
    child = figures.FigureProcess((fd,))
    print(child._proc.pid, flush=True)
    os._exit(0)
"""
    done = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, timeout=60, check=True)
    child_pid = int(done.stdout.split()[0])
    try:
        with pytest.raises(store.JobLocked), store.job_lock(out):
            pass
    finally:
        os.kill(child_pid, signal.SIGKILL)
    for _ in range(100):  # until the kernel has reaped it and released the lock
        try:
            with store.job_lock(out):
                break
        except store.JobLocked:
            time.sleep(0.05)
    else:
        pytest.fail("the lock was not released when the child died")


def test_the_child_imports_the_parents_code_not_a_sim_folder_in_the_current_directory(tmp_path, tables, monkeypatch):
    fake = tmp_path / "cwd" / "sim"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('the sim folder of the current directory')\n")
    monkeypatch.chdir(tmp_path / "cwd")
    with FigureProcess() as child:
        child.send(*tables, tmp_path / "out", "")
        assert sorted(child.result(60)) == sorted(f.path for f in FIGURES)


def test_a_child_killed_by_a_signal_mid_write_leaves_no_temporary_file(tmp_path, monkeypatch, caplog):
    figures_dir = tmp_path / "job" / "figures"
    # A child that dies as the out-of-memory killer would leave it: a figure half written.
    monkeypatch.setattr(
        figures,
        "_CHILD",
        f"import os, signal, pathlib; d = pathlib.Path({str(figures_dir)!r}); d.mkdir(parents=True, exist_ok=True);"
        " (d / 'adoption_overview.png.k3j2h1.tmp').write_bytes(b'half a PNG'); os.kill(os.getpid(), signal.SIGKILL)",
    )
    with caplog.at_level("WARNING", logger="sim"):
        result = _run_with_child(tmp_path, monkeypatch)
    assert "killed by SIGKILL" in caplog.text
    _certified_figures(result, tmp_path / "job")  # drawn here; no temporary file left
