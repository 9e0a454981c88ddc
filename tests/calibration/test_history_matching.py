"""History matching shrinks the plausible space around the parameters that generated synthetic
targets: on a cheap known function (exactly), and on the model itself (tiny territory, short
horizon, through the Hydra sweep of the calibrate command)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.calibrate import HistoryMatching, Param, combine, maximin_order
from sim.targets import Target


def _f(x):
    """Three outputs: two depend on a and b, none on c."""
    return np.column_stack([x[:, 0] + 0.5 * x[:, 1], x[:, 0] * x[:, 1], np.sin(3 * x[:, 1])])


def test_combine_takes_the_largest_or_second_largest():
    imp = np.array([[1.0, 5.0, 2.0], [0.5, 0.2, 0.1]])
    assert list(combine(imp, "max")) == [5.0, 0.5]
    assert list(combine(imp, "second-max")) == [2.0, 0.2]


def test_maximin_order_spreads_every_prefix():
    rng = np.random.default_rng(0)
    u = np.vstack([rng.uniform(0, 0.05, (200, 2)), [[1.0, 1.0]], [[0.0, 1.0]]])
    order = maximin_order(u, 3)
    assert set(order[1:3]) == {200, 201}  # the two isolated points come right after the first


def test_history_matching_shrinks_around_the_truth_on_a_known_function():
    params = [Param("a", 0, 1), Param("b", 0, 1), Param("c", 0, 1)]
    truth = np.array([[0.3, 0.6, 0.5]])
    z = _f(truth)[0]
    targets = [
        Target(
            id=f"y{i}",
            title="",
            year=2020,
            use="calibration",
            source="x",
            metric="m",
            value=float(z[i]),
            sd=0.01,
            discrepancy_sd=0.01,
        )
        for i in range(3)
    ]
    hm = HistoryMatching(params, targets, seed=0)
    rng = np.random.default_rng(1)
    x = hm.first_design(40)
    shares, boxes = [1.0], []
    for _ in range(3):
        y = _f(x) + rng.normal(0, 0.005, (len(x), 3))
        hm.fit_wave(x, y, np.full(y.shape, 0.005**2), {t.id: 0.005**2 for t in targets})
        shares.append(hm.plausible_share(upto=len(hm.waves)))
        assert hm.plausible(truth)[0], "the parameters that made the targets must stay plausible"
        x, _ = hm.sample(40)
        boxes.append(np.ptp(x, axis=0))
    # the plausible space shrinks, and does not grow back
    assert shares[1] < 0.2
    assert all(b <= a * 1.05 for a, b in itertools.pairwise(shares))
    # a and b are pinned down near the truth; c, which no output depends on, stays wide
    last = boxes[-1]
    assert last[0] < 0.4 and last[1] < 0.4
    assert last[2] > 0.8
    near = np.abs(x[:, :2] - truth[0, :2]).max(axis=1)
    assert np.median(near) < 0.15


def test_nothing_plausible_is_reported():
    from analysis.calibrate import NoPlausibleSpace

    params = [Param("a", 0, 1)]
    t = Target(
        id="y", title="", year=2020, use="calibration", source="x", metric="m", value=5.0, sd=0.01, discrepancy_sd=0.01
    )
    hm = HistoryMatching(params, [t], seed=0)
    x = hm.first_design(12)
    hm.fit_wave(x, x[:, :1], None, {"y": 1e-6})
    with pytest.raises(NoPlausibleSpace, match="ruled out"):
        hm.sample(10, pool=512, max_rounds=2)


@pytest.mark.slow
def test_calibration_of_the_model_recovers_the_parameter_that_made_the_targets(tmp_path):
    """Synthetic targets from a run at a known training-free parameter (maturity speed), then two
    waves of the calibrate command on a tiny territory: the truth stays plausible, the plausible
    share shrinks, the ensemble is written with its manifest, and a relaunch reruns nothing."""
    from sim.api import compose_config, run
    from sim.targets import measure

    fixed = ["territory.n_communes=300"]
    truth = {"organisation.maturity_speed": 0.2, "organisation.open_data_rate": 0.02}
    probe = [f"{k}={v}" for k, v in truth.items()]
    entries = []
    for metric, date in (("maturity_mean", 2020.0), ("maturity_mean", 2021.0), ("services_online_mean", 2021.0)):
        entries.append(
            {
                "id": f"{metric}_{date:g}".replace(".", "_"),
                "title": metric,
                "year": int(date),
                "date": date,
                "quantity": {"metric": metric},
                "value": 0.0,
                "sd": 0.002,
                "discrepancy_sd": 0.002,
                "use": "calibration",
                "source": "synthetic",
            }
        )
    vals = {}
    for s in range(2):
        ts = run(
            compose_config(
                [
                    *fixed,
                    *probe,
                    "simulation.years=1",
                    f"seed={s}",
                    "simulation.progress=false",
                    "simulation.figures=false",
                ]
            )
        ).timeseries
        for e in entries:
            t = Target(
                id=e["id"],
                title="",
                year=e["year"],
                date=e["date"],
                use="calibration",
                source="x",
                metric=e["quantity"]["metric"],
                value=0,
                sd=1,
            )
            vals.setdefault(e["id"], []).append(measure(t, ts))
    for e in entries:
        e["value"] = float(np.mean(vals[e["id"]]))
    registry = tmp_path / "targets.yaml"
    registry.write_text(yaml.safe_dump({"targets": entries}), encoding="utf-8")
    out = tmp_path / "cal"
    cmd = [
        sys.executable,
        "-m",
        "analysis",
        "calibrate",
        "--out",
        str(out),
        "--targets-file",
        str(registry),
        "--params",
        "organisation.maturity_speed",
        "organisation.open_data_rate",
        "--points",
        "8",
        "--seeds",
        "2",
        "--waves",
        "2",
        "--launcher",
        "basic",
        "--no-progress",
        *(f"--set={o}" for o in fixed),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summaries = [json.loads((out / f"wave_{k}" / "summary.json").read_text()) for k in (1, 2)]
    assert summaries[0]["plausible_share_after"] < 0.6
    assert summaries[1]["plausible_share_after"] <= summaries[0]["plausible_share_after"] * 1.05
    ens = pd.read_parquet(out / "ensemble.parquet")
    man = json.loads((out / "ensemble.json").read_text())
    assert man["n_members"] == len(ens) > 0 and [t["id"] for t in man["targets"]] == [e["id"] for e in entries]
    assert man["code_version"]["git_commit"] is None or len(man["code_version"]["git_commit"]) == 40
    speed = ens["organisation.maturity_speed"]
    assert speed.min() <= truth["organisation.maturity_speed"] <= speed.max()
    from sim.config import uncertain_params

    prior = next(p for p in uncertain_params() if p.path == "organisation.maturity_speed")
    assert speed.max() - speed.min() < 0.5 * (prior.hi - prior.lo)  # well inside the prior
    # the truth is still plausible for the emulators of both waves
    from analysis.calibrate import Calibration, Settings
    from sim.targets import load_targets

    settings = Settings(**json.loads((out / "calibration.json").read_text()))
    cal = Calibration(out, settings, load_targets(registry))
    for k in (1, 2):
        cal.design(k)
        cal.outputs[k] = pd.read_parquet(out / f"wave_{k}" / "outputs.parquet")
        cal.fit(k)
    assert cal.hm.plausible(np.array([[truth[p.path] for p in cal.params]]))[0]
    # relaunching reruns nothing
    stamps = {p: p.stat().st_mtime_ns for p in (out / "wave_1" / "runs").glob("*/manifest.json")}
    again = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "all 16 runs complete" in again.stderr
    assert stamps == {p: p.stat().st_mtime_ns for p in (out / "wave_1" / "runs").glob("*/manifest.json")}


def test_calibration_refuses_targets_the_model_cannot_measure(tmp_path):
    entries = [
        {
            "id": "ok",
            "title": "t",
            "year": 2022,
            "quantity": {"metric": "maturity_mean"},
            "value": 0.2,
            "sd": 0.01,
            "discrepancy_sd": 0.01,
            "use": "calibration",
            "source": "synthetic",
        },
        {
            "id": "missing",
            "title": "t",
            "year": 2022,
            "quantity": {"metric": "no_such_metric"},
            "value": 0.2,
            "sd": 0.01,
            "discrepancy_sd": 0.01,
            "use": "calibration",
            "source": "synthetic",
        },
        {
            "id": "too_early",
            "title": "t",
            "year": 1995,
            "quantity": {"metric": "maturity_mean"},
            "value": 0.2,
            "sd": 0.01,
            "discrepancy_sd": 0.01,
            "use": "calibration",
            "source": "synthetic",
        },
    ]
    registry = tmp_path / "targets.yaml"
    registry.write_text(yaml.safe_dump({"targets": entries}), encoding="utf-8")
    base = [
        sys.executable,
        "-m",
        "analysis",
        "calibrate",
        "--targets-file",
        str(registry),
        "--dry-run",
        "--set",
        "territory.n_communes=30",
    ]
    done = subprocess.run(
        [*base, "--out", str(tmp_path / "c")], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 2
    assert "cannot measure 2 calibration target(s)" in done.stderr
    assert "missing: the run does not record the metric no_such_metric" in done.stderr
    assert "too_early: date 1995.5 is before the run starts" in done.stderr
    assert not (tmp_path / "c" / "wave_1").exists()
    # --drop-unavailable goes on with the others, listing and recording the dropped ones
    done = subprocess.run(
        [*base, "--out", str(tmp_path / "d"), "--drop-unavailable"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "targets dropped" in done.stderr and "would run" in done.stderr
    saved = json.loads((tmp_path / "d" / "calibration.json").read_text())
    assert saved["targets"] == ["ok"] and set(saved["dropped"]) == {"missing", "too_early"}


def test_abc_smc_on_the_emulators_concentrates_near_the_truth(tmp_path):
    pytest.importorskip("pyabc")
    from types import SimpleNamespace

    from analysis.calibrate import abc_smc

    params = [Param("a", 0, 1), Param("b", 0, 1)]
    target = Target(
        id="y", title="", year=2020, use="calibration", source="x", metric="m", value=0.6, sd=0.01, discrepancy_sd=0.01
    )
    hm = HistoryMatching(params, [target], seed=0)
    x = hm.first_design(30)
    hm.fit_wave(x, x[:, :1], None, {"y": 1e-6})  # y = a: a is pinned at 0.6, b is free
    grid = np.random.default_rng(0).uniform(0, 1, (2000, 2))
    sample = pd.DataFrame(grid, columns=["a", "b"]).assign(ruled_out_by_wave=np.where(hm.plausible(grid), 0, 1))
    sample.to_parquet(tmp_path / "plausible_sample.parquet")
    cal = SimpleNamespace(out=tmp_path, params=params, columns=["a", "b"], targets=[target], hm=hm)
    post = abc_smc(cal, population=100, generations=3)
    w = post["weight"] / post["weight"].sum()
    assert abs(float((w * post["a"]).sum()) - 0.6) < 0.03
    assert float(post["b"].max() - post["b"].min()) > 0.5
    assert (tmp_path / "abc_posterior.parquet").exists()
