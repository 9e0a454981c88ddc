"""Scenario presets, lever options, stress tests, experiments and launchers compose as documented."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import MissingConfigException

from sim.api import CONF_DIR, compose_config
from sim.config import LEVER_GROUPS, LEVERS, register_configs, to_config

SCENARIOS = sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))
EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
CITATION = re.compile(r"seed 00[0-4] L\d+")


def comments(text: str) -> str:
    """The YAML comments of a file as one line (a citation may span two comment lines)."""
    return " ".join(line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#"))


REQUIRED = {
    "business_as_usual",
    "massive_targeted_training",
    "mutualisation_first",
    "recruitment_first",
    "mediation",
    "combined",
    "equal_budget_training",
    "equal_budget_recruitment",
    "equal_budget_mutualisation",
}


def lever_budgets(cfg) -> dict:
    """Each lever's budget, read from the field its declaration names (sim.config.LEVERS)."""
    return {name: getattr(getattr(cfg, name), lever.budget_field) for name, lever in LEVERS.items()}


def test_the_required_scenarios_exist():
    assert REQUIRED <= set(SCENARIOS)


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_scenario_composes_validates_and_cites_its_sources(name):
    cfg = to_config(compose_config([f"scenario={name}"]))
    assert cfg.scenario_name == name
    text = (CONF_DIR / "scenario" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_")
    assert CITATION.search(comments(text)), f"{name}.yaml cites no seed line"
    levers_on = {k for k, v in lever_budgets(cfg).items() if v > 0}
    if name == "business_as_usual":
        assert not levers_on and cfg.mutualisation.coverage == 0
    else:
        assert levers_on, f"{name} turns no lever on"


@pytest.mark.parametrize("group", [*LEVER_GROUPS, "stress"])
def test_lever_and_stress_options_cite_sources_and_flag_assumed_values(group):
    for path in sorted((CONF_DIR / group).glob("*.yaml")):
        text = path.read_text()
        notes = comments(text)
        assert notes, f"{path.name} has no comment"
        if path.stem != "none":
            assert CITATION.search(notes), f"{group}/{path.name} cites no seed line"
        sets_money = re.search(r"^budget_eur_per_staff: *[1-9]", text, re.MULTILINE)
        if sets_money:
            assert "assumption" in notes, f"{group}/{path.name} does not say its budget is an assumption"


def test_lever_values_and_options_can_be_overridden_on_top_of_a_scenario():
    cfg = to_config(compose_config(["scenario=massive_targeted_training", "training.budget_eur_per_staff=300"]))
    assert (cfg.training.budget_eur_per_staff, cfg.training.targeting, cfg.training.modality) == (
        300.0,
        "furthest",
        "blended",
    )
    cfg = to_config(compose_config(["scenario=massive_targeted_training", "training=tutoring"]))
    assert cfg.training.modality == "tutoring" and cfg.scenario_name == "massive_targeted_training"
    cfg = to_config(
        compose_config(["training=tutoring", "scenario=combined", "mutualisation=opsn"])
    )  # order does not matter
    assert (
        cfg.training.modality == "tutoring"
        and cfg.mutualisation.structure == "opsn"
        and cfg.mediation.every_agent_mediator
    )


def test_levers_combine_freely_with_any_scenario_and_stress_tests():
    cfg = to_config(
        compose_config(
            ["scenario=mediation", "referents=network", "recruitment=pooled", "stress=[lockdown,cyber_attack]"]
        )
    )
    assert (
        cfg.mediation.every_agent_mediator and cfg.referents.budget_eur_per_staff > 0 and cfg.recruitment.pooled_hiring
    )
    assert cfg.drivers.lockdown and cfg.drivers.cyber_attacks and not cfg.drivers.budget_cut
    cfg = to_config(compose_config(["scenario=combined", "stress=budget_cut"]))
    assert cfg.drivers.budget_cut and not cfg.drivers.lockdown


@pytest.mark.parametrize("budget", [50.0, 250.0])
def test_equal_budget_arms_give_the_same_money_to_one_lever_each(budget):
    spent = {}
    for arm in ("training", "recruitment", "mutualisation"):
        cfg = to_config(compose_config([f"scenario=equal_budget_{arm}", f"equal_budget_eur_per_staff={budget}"]))
        on = {k: v for k, v in lever_budgets(cfg).items() if v > 0}
        assert on == {arm: budget}
        spent[arm] = on[arm]
    assert len(set(spent.values())) == 1


def test_an_unknown_scenario_fails_listing_the_available_ones():
    with pytest.raises(MissingConfigException) as err:
        compose_config(["scenario=no_such_scenario"])
    message = str(err.value)
    assert "Available options in 'scenario'" in message
    assert all(name in message for name in REQUIRED)


def test_the_command_line_reports_an_unknown_scenario_with_the_options(monkeypatch, capsys):
    import sim.cli

    monkeypatch.setattr(sys, "argv", ["sim", "scenario=no_such_scenario"])
    with pytest.raises(SystemExit) as exit_info:
        sim.cli.main()
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert "Could not find 'scenario/no_such_scenario'" in err and "mutualisation_first" in err


def compose_with_hydra(overrides):
    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides, return_hydra_config=True)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiments_compose_with_a_stable_sweep_directory_and_sweep_parameters(name):
    cfg = compose_with_hydra([f"experiment={name}"])
    assert cfg.hydra.sweep.dir == f"multirun/{name}"
    assert "seed" in cfg.hydra.sweeper.params
    assert "experiment" in cfg.hydra.job.config.override_dirname.exclude_keys
    if name == "ensemble_comparison":  # needs the ensemble named on the command line, and says so
        with pytest.raises(Exception, match="name the ensemble"):
            to_config(cfg)
    else:
        to_config(cfg)  # validates
    assert f"python -m sim -m experiment={name}" in (CONF_DIR / "experiment" / f"{name}.yaml").read_text()
    readme = (Path(CONF_DIR).parent / "experiments" / "README.md").read_text()
    assert f"experiment={name}" in readme


def test_scenario_comparison_sweeps_every_scenario_but_the_equal_budget_arms():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    params = compose_with_hydra(["experiment=scenario_comparison"]).hydra.sweeper.params
    (override,) = OverridesParser.create().parse_overrides([f"scenario={params.scenario}"])
    swept = set(override.value().filter(SCENARIOS))  # the glob Hydra expands over conf/scenario/
    assert swept == {s for s in SCENARIOS if not s.startswith("equal_budget_")}
    assert REQUIRED - swept == {"equal_budget_training", "equal_budget_recruitment", "equal_budget_mutualisation"}
    assert params.seed == "range(0,30)"


def test_slurm_launcher_composes_from_submitit_with_a_settable_partition():
    cfg = compose_with_hydra(
        ["hydra/launcher=slurm", "hydra.launcher.partition=compute", "hydra.launcher.account=proj"]
    )
    launcher = cfg.hydra.launcher
    # The project's batched launcher (docs/SWEEPS.md), a submitit SLURM launcher.
    assert launcher._target_ == "hydra_plugins.sim_sweeps.submitit.SimSlurmLauncher"
    from hydra_plugins.sim_sweeps.submitit import SimSlurmLauncher

    # (Hydra's plugin scan re-executes submitit's module: compare the base class by name.)
    assert "BaseSubmititLauncher" in {c.__name__ for c in SimSlurmLauncher.__mro__}
    assert SimSlurmLauncher._EXECUTOR == "slurm"
    assert launcher.batch_size == 0  # as few array tasks as array_parallelism allows
    assert (launcher.partition, launcher.account) == ("compute", "proj")
    assert launcher.timeout_min >= 30 and launcher.cpus_per_task == 1 and launcher.mem_gb >= 1
    assert compose_with_hydra(["hydra/launcher=slurm"]).hydra.launcher.partition is None  # cluster default


def test_local_parallel_launcher_runs_two_jobs_at_a_time():
    launcher = compose_with_hydra(["hydra/launcher=local_parallel"]).hydra.launcher
    assert launcher._target_ == "hydra_plugins.sim_sweeps.launcher.SimLauncher" and launcher.n_jobs == 2
    assert compose_with_hydra(["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]).hydra.launcher.n_jobs == 2


def test_equal_budget_arms_spend_the_same_total_within_5_percent():
    """The equal-budget comparison compares the same euros: every arm spends its whole envelope
    (State money, counted the same way: spend_<lever>_eur over the policy period)."""
    from sim.run import run_simulation

    spent = {}
    for arm in ("training", "recruitment", "mutualisation"):
        cfg = to_config(
            compose_config(
                [
                    f"scenario=equal_budget_{arm}",
                    "equal_budget_eur_per_staff=20",
                    "territory.n_communes=300",
                    "territory.seed=0",
                    "simulation.years=5",
                    "simulation.progress=false",
                    "simulation.figures=false",
                ]
            )
        )
        ts = run_simulation(cfg).timeseries
        policy = ts[(ts.stratum_kind == "all") & (ts.step > 0)]
        spent[arm] = policy.loc[policy.metric == f"spend_{arm}_eur", "value"].sum()
        unspent = policy.loc[policy.metric == f"spend_unspent_{arm}_eur", "value"].sum()
        staff = ts[(ts.metric == "staff_count") & (ts.step == 0)]["value"].iloc[0]
        budget = 20.0 * staff * 5
        assert abs(spent[arm] + unspent - budget) < 0.02 * budget, (arm, spent[arm], unspent, budget)
    low, high = min(spent.values()), max(spent.values())
    assert high - low < 0.05 * high, spent
