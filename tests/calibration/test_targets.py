"""The target registry: every entry is well formed and sourced, and targets are measured on the
right metric, stratum and date of a run's outputs."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import targets as tg


def _ts(rows):
    return pd.DataFrame(rows, columns=["step", "year", "stratum_kind", "stratum", "metric", "value"])


def test_registry_loads_and_every_target_is_tagged_and_sourced():
    registry = tg.load_targets()
    assert len(registry) >= 20
    uses = {t.use for t in registry.values()}
    assert uses == {"calibration", "validation"}
    for t in registry.values():
        assert t.source.strip() and t.title.strip()
        assert (t.value is None) != (t.lo is None)
        assert t.discrepancy_sd >= 0
        assert 2015 <= t.when <= 2030
    # the seed facts named in the brief are in the registry, with their lines
    sources = " ".join(t.source for t in registry.values())
    for cited in ("seed 002 L2126-2130", "seed 000 L47", "seed 000 L49"):
        assert cited in sources


def test_select_refuses_validation_targets_for_fitting():
    registry = tg.load_targets()
    validation = next(t.id for t in registry.values() if t.use == "validation")
    with pytest.raises(tg.TargetError, match="not tagged 'calibration'"):
        tg.select(registry, [validation], use="calibration")
    with pytest.raises(tg.TargetError, match="unknown targets"):
        tg.select(registry, ["no_such_target"])
    chosen = tg.select(registry)
    assert chosen and all(t.use == "calibration" for t in chosen)


def test_measure_reads_the_last_step_at_or_before_the_date():
    ts = _ts(
        [(s, 2018 + s / 4, "all", "all", "m_share", 0.1 * s) for s in range(9)]
        + [(s, 2018 + s / 4, "kind", "region", "m_share", 1.0 + s) for s in range(9)]
    )
    t = tg.Target(id="a", title="a", year=2019, use="calibration", source="x", metric="m_share", value=0.4, sd=0.1)
    assert t.when == 2019.5
    assert tg.measure(t, ts) == pytest.approx(0.6)  # step 6 is 2019.5
    t2 = tg.Target(
        id="b",
        title="b",
        year=2019,
        date=2019.3,
        use="calibration",
        source="x",
        metric="m_share",
        stratum_kind="kind",
        stratum="region",
        value=1.0,
        sd=0.1,
    )
    assert tg.measure(t2, ts) == pytest.approx(6.0)  # step 5 (2019.25) is the last at or before 2019.3


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ({"metric": "absent"}, "does not record the metric absent"),
        ({"metric": "m_share", "stratum_kind": "age_group", "stratum": "75+"}, "no stratum age_group=75"),
        ({"metric": "m_share", "date": 2017.0}, "before the run starts"),
        ({"metric": "m_share", "date": 2025.0}, "after the run ends"),
    ],
)
def test_unmeasurable_targets_say_why(target, reason):
    ts = _ts([(s, 2018 + s / 4, "all", "all", "m_share", 0.5) for s in range(9)])
    t = tg.Target(id="x", title="x", year=2019, use="calibration", source="x", value=0.5, sd=0.1, **target)
    with pytest.raises(tg.TargetUnavailable, match=reason):
        tg.measure(t, ts)
    assert reason.split(" ")[0] in tg.availability([t], ts)["x"]


def test_measure_runs_matches_measure_run_by_run():
    frames = []
    for run, offset in (("r0", 0.0), ("r1", 0.25)):
        ts = _ts([(s, 2018 + s / 4, "all", "all", "m_share", offset + 0.01 * s) for s in range(9)])
        frames.append(ts.assign(run_id=run))
    tidy = pd.concat(frames, ignore_index=True)
    t = tg.Target(id="t", title="t", year=2019, use="calibration", source="x", metric="m_share", value=0.1, sd=0.1)
    absent = tg.Target(id="u", title="u", year=2019, use="calibration", source="x", metric="nope", value=0.1, sd=0.1)
    table = tg.measure_runs([t, absent], tidy)
    assert table.loc["r0", "t"] == pytest.approx(tg.measure(t, frames[0]))
    assert table.loc["r1", "t"] == pytest.approx(0.25 + 0.06)
    assert table["u"].isna().all()


def test_range_targets_have_zero_distance_inside():
    t = tg.Target(
        id="r", title="r", year=2022, use="validation", source="x", metric="m", lo=0.0, hi=0.7, discrepancy_sd=0.05
    )
    assert list(t.distance([0.3, 0.7, 0.8, -0.1])) == pytest.approx([0.0, 0.0, 0.1, 0.1])
    assert t.observed == pytest.approx(0.35) and t.obs_var == 0.0


def test_staff_per_1000_function_uses_commune_population():
    ts = _ts([(0, 2021.0, "all", "all", "staff_count", 300.0), (4, 2022.0, "all", "all", "staff_count", 330.0)])
    colls = pd.DataFrame({"kind": ["commune", "commune", "epci"], "population": [6000.0, 4000.0, 10000.0]})
    t = tg.Target(
        id="s",
        title="s",
        year=2021,
        date=2022.0,
        use="validation",
        source="x",
        function="staff_per_1000_inh",
        value=29.0,
        sd=1.0,
    )
    assert tg.measure(t, ts, colls) == pytest.approx(33.0)
    with pytest.raises(tg.TargetUnavailable, match="collectivites"):
        tg.measure(t, ts, None)


def test_malformed_registry_entries_are_rejected(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text(
        "targets:\n  - {id: a, title: a, year: 2020, use: fitting, source: seed 000 L999, quantity: {metric: m}, value: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(tg.TargetError) as err:
        tg.load_targets(bad)
    msg = str(err.value)
    assert "use must be one of" in msg and "sd > 0" in msg and "L999" in msg


def test_table_lists_every_target_with_its_status():
    registry = tg.load_targets()
    status = {k: None for k in registry} | {"insee_illectronism_2019": "no metric"}
    text = tg.table(registry.values(), status)
    assert text.count("\n") == len(registry) + 1
    assert "no: no metric" in text
    assert all(f"`{k}`" in text for k in registry)


def test_the_table_in_calibration_md_is_up_to_date():
    doc = tg.DOC.read_text(encoding="utf-8")
    inside = doc.split(tg.BEGIN, 1)[1].split(tg.END, 1)[0].strip()
    assert inside == tg.table(tg.load_targets().values()), "run python -m sim.targets --docs"


def test_change_targets_measure_the_difference_between_two_dates():
    ts = _ts([(s, 2018 + s / 4, "all", "all", "m_share", 0.20 - 0.01 * s) for s in range(17)])
    t = tg.Target(
        id="c",
        title="c",
        year=2021,
        use="calibration",
        source="x",
        metric="m_share",
        since=2019.5,
        value=-0.03,
        sd=0.01,
    )
    assert tg.measure(t, ts) == pytest.approx(-0.08)  # 2021.5 (step 14) minus 2019.5 (step 6)
    tidy = ts.assign(run_id="r")
    assert tg.measure_runs([t], tidy).loc["r", "c"] == pytest.approx(-0.08)
    early = tg.Target(
        id="e", title="e", year=2021, use="calibration", source="x", metric="m_share", since=2017.0, value=0, sd=1
    )
    with pytest.raises(tg.TargetUnavailable, match="before the run starts"):
        tg.measure(early, ts)
