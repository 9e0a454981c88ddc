"""Figures of a run (sim.figures): drawn in this process or in a child process started during
the run (national runs), the same files either way; the child's failures reach the caller."""

from __future__ import annotations

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
        def __init__(self):
            started.append(True)
            super().__init__()

    monkeypatch.setattr(figures, "FigureProcess", Spy)
    monkeypatch.setattr(figures, "draw_in_child", lambda n_staff, n_steps: True)
    result = run_simulation(small_config(40, 1, seed=1), tmp_path / "job", figures=True)
    assert started == [True]
    drawn = {name: digest for name, digest in result.manifest["files"].items() if name.startswith("figures/")}
    assert sorted(drawn) == sorted(f.path for f in FIGURES)
    for name, digest in drawn.items():
        assert store.sha256(tmp_path / "job" / name) == digest
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
        assert run_figures.child is not None
        partial.write_bytes(b"half a PNG")
        raise KeyboardInterrupt
    assert run_figures.child._proc.poll() is not None
    assert not partial.exists()
