"""Crash safety of a run directory (sim.store, sim.run): atomic writes, the manifest written last
and certifying only its own run's bytes, the sha256 and code checks on relaunch, the lock,
error.json never beside a manifest, stale temporary files, paths confined to the directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import weakref
from pathlib import Path

import pandas as pd
import pytest

from sim import provenance, store
from sim.config import ConfigError
from sim.run import InjectedFailure, RunResult, config_dict, record_failure, run_simulation
from sim.store import ERROR, MANIFEST, SUPERSEDED, JobLocked
from tests.conftest import small_config


def run(out: Path, seed: int = 0, **kwargs) -> RunResult:
    return run_simulation(small_config(40, 1, seed=seed), out, **kwargs)


def tree(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------- writing
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "table.parquet"
    store.write_parquet(pd.DataFrame({"a": [1, 2]}), path)
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt), store.atomic_path(path) as tmp:
        tmp.write_bytes(b"half a table")
        raise KeyboardInterrupt
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["table.parquet"]


def test_the_manifest_is_written_last(tmp_path, monkeypatch):
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(store.os, "replace", lambda a, b: (replaced.append(Path(b).name), real_replace(a, b)))
    result = run(tmp_path / "job", figures=True)
    assert replaced[-1] == MANIFEST
    assert set(replaced[:-1]) == {Path(n).name for n in result.manifest["files"]}


def test_a_failure_while_writing_leaves_no_manifest_and_the_relaunch_redoes_the_run(tmp_path, monkeypatch):
    out = tmp_path / "job"
    real = store.write_parquet
    calls = []

    def flaky(df, path):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(path))
        return real(df, path)

    monkeypatch.setattr(store, "write_parquet", flaky)
    with pytest.raises(OSError, match="No space"):
        run(out)
    assert not (out / MANIFEST).exists() and (out / "timeseries.parquet").exists()
    assert "No space left" in json.loads((out / ERROR).read_text())["error"]
    monkeypatch.setattr(store, "write_parquet", real)
    again = run(out)
    assert not again.skipped and store.is_complete(out) and not (out / ERROR).exists()


def test_stale_temporary_files_of_a_killed_run_are_removed(tmp_path):
    out = tmp_path / "job"
    (out / "figures").mkdir(parents=True)
    stale = [out / "timeseries.parquet.k3j2h1.tmp", out / "figures" / "adoption.png.x8y7.tmp"]
    for p in stale:
        p.write_bytes(b"partial")
    run(out)
    assert not any(p.exists() for p in stale)
    assert not list(out.rglob("*.tmp"))


# ------------------------------------------------------------------------- what a manifest certifies
def test_the_manifest_certifies_the_bytes_this_run_wrote(tmp_path, monkeypatch):
    # Another writer replaces a table right after ours lands: the manifest holds the checksum
    # of our bytes, so the directory is not complete (and a relaunch redoes it).
    out = tmp_path / "job"
    real_replace = os.replace

    def then_overwritten(src, dst):
        real_replace(src, dst)
        if Path(dst).name == "collectivites.parquet":
            Path(dst).write_bytes(b"another process's data")

    monkeypatch.setattr(store.os, "replace", then_overwritten)
    result = run(out)
    assert result.manifest["files"]["collectivites.parquet"] != store.sha256(out / "collectivites.parquet")
    assert not store.is_complete(out)
    monkeypatch.setattr(store.os, "replace", real_replace)
    assert not run(out).skipped and store.is_complete(out)


def test_a_damaged_complete_run_is_redone_not_skipped(tmp_path):
    out = tmp_path / "job"
    first = run(out)
    table = out / "timeseries.parquet"
    table.write_bytes(table.read_bytes()[:-10] + b"0123456789")  # same size, other bytes
    again = run(out)
    assert not again.skipped and store.is_complete(out, again.manifest["config_hash"])
    kept = list((out / SUPERSEDED).iterdir())
    assert len(kept) == 1 and json.loads((kept[0] / MANIFEST).read_text())["run_id"] == first.manifest["run_id"]


def test_the_manifest_records_the_code_and_a_code_change_redoes_the_run(tmp_path, monkeypatch):
    out = tmp_path / "job"
    first = run(out)
    m = first.manifest
    assert m["code_hash"] == provenance.code_hash() and len(m["code_hash"]) == 64
    assert m["git_commit"] == provenance.UNKNOWN or len(m["git_commit"]) == 40
    assert run(out).skipped
    monkeypatch.setattr(provenance, "code_hash", lambda *a: "0" * 64)  # the model code changed
    again = run(out)
    assert not again.skipped and again.manifest["code_hash"] == "0" * 64
    (kept,) = (out / SUPERSEDED).iterdir()
    assert json.loads((kept / MANIFEST).read_text())["code_hash"] == m["code_hash"]
    assert store.is_complete(kept, m["config_hash"], m["code_hash"])


def test_the_code_hash_covers_model_code_not_comments_nor_the_interface(tmp_path):
    pkg = tmp_path / "sim"
    for f in provenance.model_files():
        dest = pkg / f.relative_to(provenance.PACKAGE_DIR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(f.read_text())
    (pkg / "cli.py").write_text("print('interface')\n")
    base = provenance.code_hash(pkg)
    assert base == provenance.code_hash(provenance.PACKAGE_DIR)  # same code, another place
    model = pkg / "model.py"
    text = model.read_text()
    model.write_text("# a new comment\n\n" + text.replace("\n", "\n\n", 3))
    (pkg / "cli.py").write_text("print('another interface')\n")
    provenance.code_hash.cache_clear()
    assert provenance.code_hash(pkg) == base
    model.write_text(text + "\nX = 1\n")
    provenance.code_hash.cache_clear()
    assert provenance.code_hash(pkg) != base
    assert provenance.git_info(pkg)["git_commit"] == provenance.UNKNOWN  # not a git checkout


# ------------------------------------------------------------------------- the lock
def test_a_locked_directory_is_refused_at_once_and_left_untouched(tmp_path):
    out = tmp_path / "job"
    with store.job_lock(out):
        with pytest.raises(JobLocked, match=rf"pid {os.getpid()}"):
            run(out)
        assert sorted(p.name for p in out.iterdir()) == [store.LOCK]  # no table, no error.json
    assert not (out / store.LOCK).exists()
    run(out)
    assert store.is_complete(out)


def test_the_lock_holds_across_processes_and_dies_with_its_holder(tmp_path):
    out = tmp_path / "job"
    code = f"from sim import store; import time\nwith store.job_lock({str(out)!r}):\n    print('locked', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(JobLocked, match=f"pid {holder.pid}"):
            run(out)
    finally:
        holder.kill()
        holder.wait()
    assert run(out).manifest["status"] == "complete"  # a killed holder's lock is released


# ------------------------------------------------------------------------- error.json
def test_error_json_never_sits_beside_a_manifest(tmp_path, monkeypatch):
    out = tmp_path / "job"
    first = run(out, seed=0)
    monkeypatch.setenv("SIM_INJECT_FAILURE", "1")
    with pytest.raises(InjectedFailure):
        run(out, seed=1)  # another configuration, which fails
    assert (out / ERROR).exists() and not (out / MANIFEST).exists()
    (kept,) = (out / SUPERSEDED).iterdir()
    assert store.is_complete(kept, first.manifest["config_hash"])
    monkeypatch.delenv("SIM_INJECT_FAILURE")
    run(out, seed=1)
    assert (out / MANIFEST).exists() and not (out / ERROR).exists()


def test_a_failure_recorded_in_a_directory_holding_a_run_moves_that_run_aside(tmp_path):
    # The command line records a job refused by validation (when the sweep's up-front check
    # is off) with record_failure: the earlier complete run does not stay beside error.json.
    out = tmp_path / "job"
    first = run(out)
    assert record_failure(out, ConfigError("Invalid configuration: x"), ["seed=0"])
    assert (out / ERROR).exists() and not (out / MANIFEST).exists()
    (kept,) = (out / SUPERSEDED).iterdir()
    assert store.is_complete(kept, first.manifest["config_hash"])
    with store.job_lock(out):  # another process writing: nothing recorded
        assert not record_failure(out, RuntimeError("late"), [])
    assert "Invalid configuration" in json.loads((out / ERROR).read_text())["error"]


def test_a_refused_configuration_touches_nothing(tmp_path):
    cfg = small_config(40, 1)
    cfg.training.budget_eur_per_staff = -5.0
    with pytest.raises(ConfigError, match="budget_eur_per_staff"):
        run_simulation(cfg, tmp_path / "job")
    assert not (tmp_path / "job").exists()


# ------------------------------------------------------------------------- confinement
def test_paths_outside_the_run_directory_are_never_certified_nor_moved(tmp_path):
    out, outside = tmp_path / "job", tmp_path / "precious.txt"
    outside.write_text("not the simulator's")
    first = run(out)
    (out / "link.parquet").symlink_to(outside)
    m = json.loads((out / MANIFEST).read_text())
    for name in ("../precious.txt", str(outside), "link.parquet"):
        hostile = {**m, "files": {**m["files"], name: store.sha256(outside)}}
        (out / MANIFEST).write_text(json.dumps(hostile))
        assert not store.is_complete(out)
    again = run(out)  # redone: the hostile manifest and its own files are set aside
    assert not again.skipped and store.is_complete(out)
    assert outside.read_text() == "not the simulator's"
    (kept,) = (out / SUPERSEDED).iterdir()
    assert sorted(tree(kept)) == sorted([*first.manifest["files"], MANIFEST])


def test_a_different_configuration_never_overwrites_a_complete_run(tmp_path):
    out = tmp_path / "job"
    first = run(out, seed=0)
    before = {name: store.sha256(out / name) for name in first.manifest["files"]}
    second = run(out, seed=1)  # same directory, other config
    assert store.is_complete(out, second.manifest["config_hash"])
    (kept,) = (out / SUPERSEDED).iterdir()
    assert store.is_complete(kept, first.manifest["config_hash"])
    assert {name: store.sha256(kept / name) for name in before} == before  # moved, unchanged
    again = run(out, seed=1)  # same config: skipped
    assert again.skipped and len(list((out / SUPERSEDED).iterdir())) == 1


def test_incomplete_leftovers_and_errors_are_replaced(tmp_path):
    out = tmp_path / "job"
    out.mkdir()
    (out / "timeseries.parquet").write_bytes(b"half-written")  # an interrupted run
    (out / ERROR).write_text('{"status": "failed"}')
    result = run(out)
    assert store.is_complete(out, result.manifest["config_hash"])
    assert not (out / ERROR).exists() and not (out / SUPERSEDED).exists()


# ------------------------------------------------------------------------- memory
def test_a_finished_model_is_freed_when_its_run_returns(tmp_path, monkeypatch):
    import sim.model

    models = []
    real = sim.model.TransitionModel

    class Tracked(real):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            models.append(weakref.ref(self))

    monkeypatch.setattr(sim.model, "TransitionModel", Tracked)
    for seed in range(2):
        run(tmp_path / f"job{seed}", seed=seed)
        run_simulation(small_config(40, 1, seed=seed))  # in memory, no directory
    assert len(models) == 4 and all(ref() is None for ref in models)
    kept = run_simulation(small_config(40, 1), keep_model=True)
    assert isinstance(kept.model, Tracked)


def test_a_skipped_run_reads_its_tables_from_disk(tmp_path):
    out = tmp_path / "job"
    first = run(out)
    again = run(out)
    assert again.skipped
    pd.testing.assert_frame_equal(again.timeseries, first.timeseries)
    assert again.manifest["config_hash"] == store.config_hash(config_dict(small_config(40, 1)))
