"""analysis.load: discovery, validation, typed run parameters, pushed-down filters."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import fake_runs as fr
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.load import (
    AUTO_SHA256_MAX_RUNS,
    find_run_dirs,
    load,
    load_collectivites,
    load_staff_summary,
    parse_override,
    parse_value,
    resolve_verify,
    scan,
)

JOBS = fr.sweep_dir(Path("."))  # multirun/2026-11-23/17-45-00
N_GOOD = len(fr.END) * len(fr.SEEDS)
ROWS_PER_STEP = len(fr.END["baseline"]) + 2 + len(fr.POP_BANDS) + len(fr.RURALITY_OFFSET)


def job_id(n: int) -> str:
    return (JOBS / str(n)).as_posix()


def bad_ids() -> dict[str, str]:
    """kind of bad run -> its run_id (bad runs follow the good ones in make_sweep)."""
    return {kind: job_id(N_GOOD + i) for i, kind in enumerate(fr.BAD_KINDS)}


def test_only_complete_runs_are_loaded_and_bad_ones_reported(loaded):
    df, rep = loaded
    assert rep.n_found == N_GOOD + 4
    assert rep.verify == "sha256"
    assert sorted(df["run_id"].unique(), key=lambda s: int(s.rsplit("/", 1)[1])) == [job_id(i) for i in range(N_GOOD)]
    status = {r.run_id: (r.status, r.reason) for r in rep.skipped}
    bad = bad_ids()
    assert set(status) == set(bad.values())
    assert status[bad["truncated"]][0] == "corrupt" and "sha256" in status[bad["truncated"]][1]
    assert status[bad["tampered"]][0] == "corrupt" and "sha256" in status[bad["tampered"]][1]
    assert status[bad["failed"]] == ("failed", "run failed: ValueError: budget must be >= 0")
    assert status[bad["incomplete"]][0] == "incomplete" and "manifest.json" in status[bad["incomplete"]][1]
    # the tampered run's absurd values never get in
    assert df["value"].abs().max() < fr.ABSURD / 10


def test_tidy_layout_and_known_values(loaded):
    df, rep = loaded
    assert list(df.columns) == [
        "run_id",
        "scenario",
        "seed",
        "step",
        "year",
        "stratum_kind",
        "stratum",
        "metric",
        "value",
    ]
    assert len(df) == N_GOOD * (fr.N_STEPS + 1) * ROWS_PER_STEP
    assert str(df["step"].dtype) == "int32" and str(df["value"].dtype) == "float64"
    assert isinstance(df["metric"].dtype, pd.CategoricalDtype)
    # job 7 = training_first, seed index 2: maturity_mean at step 2 is END * 0.75
    row = df[
        (df["run_id"] == job_id(7))
        & (df["step"] == 2)
        & (df["metric"] == "maturity_mean")
        & (df["stratum_kind"] == "all")
    ]
    assert len(row) == 1
    assert row["value"].iloc[0] == pytest.approx(fr.END["training_first"]["maturity_mean"][2] * 0.75)
    assert row["scenario"].iloc[0] == "training_first" and row["seed"].iloc[0] == fr.SEEDS[2]
    assert row["year"].iloc[0] == pytest.approx(2021.5)
    assert rep.param_columns == []  # scenario and seed are not "other" parameters


def test_report_text_lists_every_skipped_run_with_reason(loaded):
    _, rep = loaded
    text = rep.summary()
    assert f"Loaded {N_GOOD} of {N_GOOD + 4} runs" in text
    for rid in bad_ids().values():
        assert rid in text
    frame = rep.to_frame()
    assert list(frame.columns) == ["run_id", "status", "reason", "path"]
    assert (frame["status"] == "complete").sum() == N_GOOD


def test_skipped_runs_are_logged_as_warnings(sweep_root, caplog):
    with caplog.at_level(logging.WARNING, logger="analysis.load"):
        scan(sweep_root)
    logged = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    for rid in bad_ids().values():
        assert rid in logged


def test_size_check_catches_truncation_but_not_tampering(sweep_root):
    df, rep = load(sweep_root, verify="size", metrics=["maturity_mean"])
    bad = bad_ids()
    skipped = {r.run_id: r for r in rep.skipped}
    assert "truncated" in skipped[bad["truncated"]].reason or "Parquet" in skipped[bad["truncated"]].reason
    assert bad["tampered"] not in skipped  # only sha256 sees a rewritten, valid file
    assert df["run_id"].nunique() == N_GOOD + 1


def test_no_check_still_reports_unreadable_files(sweep_root):
    df, rep = load(sweep_root, verify="none", metrics=["maturity_mean"])
    skipped = {r.run_id: r for r in rep.skipped}
    truncated = skipped[bad_ids()["truncated"]]
    assert truncated.status == "corrupt" and "cannot read timeseries.parquet" in truncated.reason
    assert str(sweep_root) not in truncated.reason  # reasons name files, not absolute paths
    assert bad_ids()["truncated"] not in set(df["run_id"])


def test_auto_verification_switches_to_size_above_the_threshold():
    assert resolve_verify("auto", AUTO_SHA256_MAX_RUNS) == "sha256"
    assert resolve_verify("auto", AUTO_SHA256_MAX_RUNS + 1) == "size"
    assert resolve_verify("none", 10) == "none"
    with pytest.raises(ValueError):
        resolve_verify("md5", 1)


def test_filters_and_last_step(sweep_root):
    df, _ = load(sweep_root, metrics=["maturity_mean"], stratum_kinds=["all"], last_step_only=True)
    assert len(df) == N_GOOD
    assert set(df["step"]) == {fr.N_STEPS}
    got = df.set_index("run_id")["value"]
    for i, (scenario, k) in enumerate((s, k) for s in fr.END for k in range(len(fr.SEEDS))):
        assert got[job_id(i)] == pytest.approx(fr.END[scenario]["maturity_mean"][k])
    df2, _ = load(sweep_root, metrics=["maturity_mean", "gap_size"], steps=[0, 3], strata=["all"])
    assert set(df2["step"]) == {0, 3}
    assert set(df2["metric"]) == {"maturity_mean", "gap_size"}
    assert len(df2) == N_GOOD * 2 * 2
    bands, _ = load(sweep_root, stratum_kinds=["pop_band"], last_step_only=True)
    assert set(bands["stratum"]) == set(fr.POP_BANDS)


def test_reusing_a_scan_report_gives_the_same_table(sweep_root, loaded):
    rep = scan(sweep_root)
    df, _ = load(sweep_root, report=rep)
    pd.testing.assert_frame_equal(df, loaded[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("-2", -2),
        ("2.5", 2.5),
        ("1e3", 1000.0),
        ("true", True),
        ("False", False),
        ("null", None),
        ("'007'", "007"),
        ('"a b"', "a b"),
        ("training_first", "training_first"),
        ("[1,2]", "[1,2]"),
    ],
)
def test_override_values_are_typed(text, expected):
    value = parse_value(text)
    assert value == expected and type(value) is type(expected)


def test_override_keys():
    assert parse_override("+training.budget=3") == ("training.budget", 3)
    assert parse_override("++x=y") == ("x", "y")
    assert parse_override("~training") is None
    assert parse_override("hydra.job.chdir=true") is None
    assert parse_override("novalue") is None


def test_grid_parameters_become_typed_columns(grid_root):
    df, rep = load(grid_root, metrics=["maturity_mean"], stratum_kinds=["all"], last_step_only=True)
    assert rep.param_columns == ["training.budget_eur_per_agent", "mediation.coverage"]
    assert list(df.columns[:5]) == ["run_id", "training.budget_eur_per_agent", "mediation.coverage", "scenario", "seed"]
    assert df["training.budget_eur_per_agent"].dtype == np.int64
    assert df["mediation.coverage"].dtype == np.float64
    assert set(df["scenario"]) == {"baseline"}  # from the config: the runs do not override it
    one = df[(df["training.budget_eur_per_agent"] == 100) & (df["mediation.coverage"] == 0.2) & (df["seed"] == 1)]
    assert one["value"].iloc[0] == pytest.approx(fr.grid_value(100, 0.2, 1))
    assert df.attrs["param_columns"] == ["training.budget_eur_per_agent", "mediation.coverage", "scenario"]


def test_a_run_without_an_override_takes_its_configured_value(tmp_path):
    fr.write_run(
        tmp_path / "a",
        "baseline",
        0,
        overrides=["training.budget_eur_per_agent=300", "seed=0"],
        extra_config={"training.budget_eur_per_agent": 300},
    )
    fr.write_run(tmp_path / "b", "baseline", 1, overrides=["seed=1"])
    df, _ = load(tmp_path, metrics=["maturity_mean"], last_step_only=True, stratum_kinds=["all"])
    got = df.set_index("run_id")["training.budget_eur_per_agent"]
    assert got["a"] == 300 and got["b"] == 100.0


def test_a_single_run_folder_loads_with_its_name_as_run_id(tmp_path):
    run = fr.write_run(tmp_path / "2026-11-23_seed3", "mediation", 3)
    df, _ = load(run, metrics=["maturity_mean"], last_step_only=True, stratum_kinds=["all"])
    assert list(df["run_id"]) == ["2026-11-23_seed3"]
    assert df["value"].iloc[0] == pytest.approx(fr.END["mediation"]["maturity_mean"][3])
    assert find_run_dirs(run / "manifest.json") == [run]


def _rewrite_manifest(run: Path, **changes) -> None:
    m = json.loads((run / "manifest.json").read_text())
    for k, v in changes.items():
        if v is None:
            m.pop(k, None)
        else:
            m[k] = v
    (run / "manifest.json").write_text(json.dumps(m))


def _break(kind: str, run: Path) -> None:
    if kind == "bad json":
        (run / "manifest.json").write_text("{not json")
    elif kind == "running":
        _rewrite_manifest(run, status="running")
    elif kind == "failed status":
        _rewrite_manifest(run, status="failed")
    elif kind == "missing file":
        (run / "staff_summary.parquet").unlink()
    elif kind == "timeseries not listed":
        m = json.loads((run / "manifest.json").read_text())
        del m["files"]["timeseries.parquet"]
        (run / "manifest.json").write_text(json.dumps(m))
    elif kind == "no files":
        _rewrite_manifest(run, files={})
    elif kind == "missing column":
        table = pq.read_table(run / "timeseries.parquet").drop_columns(["stratum"])
        pq.write_table(table, run / "timeseries.parquet")
        m = json.loads((run / "manifest.json").read_text())
        m["files"]["timeseries.parquet"] = fr.sha256_file(run / "timeseries.parquet")
        (run / "manifest.json").write_text(json.dumps(m))
    elif kind == "escaping path":
        m = json.loads((run / "manifest.json").read_text())
        m["files"]["../elsewhere.parquet"] = "0" * 64
        (run / "manifest.json").write_text(json.dumps(m))


@pytest.mark.parametrize(
    ("kind", "status", "words"),
    [
        ("bad json", "malformed", "unreadable"),
        ("running", "incomplete", "'running'"),
        ("failed status", "failed", "'failed'"),
        ("missing file", "corrupt", "staff_summary.parquet is missing"),
        ("timeseries not listed", "malformed", "not listed"),
        ("no files", "malformed", "no files"),
        ("missing column", "malformed", "lacks columns ['stratum']"),
        ("escaping path", "malformed", "outside the run folder"),
    ],
)
def test_broken_runs_are_skipped_with_a_reason(tmp_path, kind, status, words):
    good = fr.write_run(tmp_path / "good", "baseline", 0)
    bad = fr.write_run(tmp_path / "bad", "baseline", 1)
    _break(kind, bad)
    df, rep = load(tmp_path, metrics=["maturity_mean"])
    assert set(df["run_id"]) == {good.name}
    (skipped,) = rep.skipped
    assert skipped.run_id == "bad" and skipped.status == status
    assert words in skipped.reason


def test_other_column_encodings_are_read(tmp_path):
    """int64 steps and dictionary-encoded strings (pandas categoricals) load like the contract's types."""
    cols = fr.timeseries_rows("baseline", 0)
    table = pa.table(
        {
            "step": pa.array(cols["step"], pa.int64()),
            "year": cols["year"],
            "stratum_kind": pa.array(cols["stratum_kind"]).dictionary_encode(),
            "stratum": pa.array(cols["stratum"], pa.large_string()),
            "metric": pa.array(cols["metric"]).dictionary_encode(),
            "value": cols["value"],
        }
    )
    fr.write_run(tmp_path / "a", "baseline", 0)
    pq.write_table(table, tmp_path / "a" / "timeseries.parquet")
    digest = fr.sha256_file(tmp_path / "a" / "timeseries.parquet")
    _rewrite_manifest(tmp_path / "a", files={"timeseries.parquet": digest})
    fr.write_run(tmp_path / "b", "baseline", 1)
    df, rep = load(tmp_path, metrics=["maturity_mean"], stratum_kinds=["all"], last_step_only=True)
    assert not rep.skipped
    assert df.set_index("run_id")["value"].to_dict() == pytest.approx(
        {"a": fr.END["baseline"]["maturity_mean"][0], "b": fr.END["baseline"]["maturity_mean"][1]}
    )


def test_empty_and_missing_folders(tmp_path):
    df, rep = load(tmp_path)
    assert df.empty and rep.n_found == 0
    assert list(df.columns) == ["run_id", "seed", "step", "year", "stratum_kind", "stratum", "metric", "value"]
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope")


def test_collectivites_and_staff_summary_carry_run_columns(sweep_root, loaded):
    coll, rep = load_collectivites(sweep_root)
    assert len(rep.complete) == N_GOOD
    assert len(coll) == N_GOOD * len(fr.COLLECTIVITES)
    assert list(coll.columns[:3]) == ["run_id", "scenario", "seed"]
    mean = coll.groupby("run_id", observed=True)["maturity"].mean()
    offsets = np.mean([c[4] for c in fr.COLLECTIVITES])
    assert mean[job_id(6)] == pytest.approx(fr.END["training_first"]["maturity_mean"][1] + offsets)
    staff, _ = load_staff_summary(sweep_root, report=loaded[1])
    assert len(staff) == N_GOOD * 6
    row = staff[(staff["run_id"] == job_id(12))].iloc[0]
    assert row["illectronism_share"] == pytest.approx(fr.END["mediation"]["staff_illectronism_share"][2])
    few, _ = load_collectivites(sweep_root, columns=["maturity"], report=loaded[1])
    assert list(few.columns) == ["run_id", "scenario", "seed", "maturity"]


def test_last_step_without_n_steps_in_the_manifests(tmp_path):
    """Without manifest n_steps, the last step is read from the files (runs of different lengths)."""
    fr.write_run(tmp_path / "a", "baseline", 0)
    short = fr.timeseries_rows("baseline", 1)
    keep = [i for i, s in enumerate(short["step"]) if s <= 2]
    fr.write_run(tmp_path / "b", "baseline", 1, timeseries={c: [v[i] for i in keep] for c, v in short.items()})
    for run in ("a", "b"):
        _rewrite_manifest(tmp_path / run, n_steps=None)
    df, rep = load(tmp_path, metrics=["maturity_mean"], stratum_kinds=["all"], last_step_only=True)
    assert not rep.skipped
    assert df.set_index("run_id")["step"].to_dict() == {"a": fr.N_STEPS, "b": 2}
    assert df.set_index("run_id")["value"]["b"] == pytest.approx(fr.END["baseline"]["maturity_mean"][1] * 0.75)


def test_package_exports_the_functions():
    import analysis
    import analysis.cli

    assert callable(analysis.load) and analysis.load is load
    from analysis import load as again

    assert again is load
