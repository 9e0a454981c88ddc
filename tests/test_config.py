"""Configuration: Hydra composition, structured-config type checks and range validation."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ValidationError

from sim.api import compose_config
from sim.config import Config, ConfigError, to_config


def test_default_composes_and_validates():
    cfg = compose_config()
    config = to_config(cfg)
    assert isinstance(config, Config)
    assert config.scenario_name == "business_as_usual"
    assert config.territory.kind == "synthetic"
    assert config.mutualisation.mode == "epci"


@pytest.mark.parametrize(
    "group,option,key,value",
    [
        ("territory", "small", "territory.n_communes", 60),
        ("training", "targeted_blended", "training.targeting", "furthest"),
        ("mutualisation", "opsn", "mutualisation.mode", "opsn"),
        ("mediation", "every_agent", "mediation.every_agent_mediator", True),
    ],
)
def test_group_options(group, option, key, value):
    config = to_config(compose_config([f"{group}={option}"]))
    obj = config
    for part in key.split("."):
        obj = getattr(obj, part)
    assert obj == value


def test_stress_tests_combine():
    config = to_config(compose_config(["stress=[lockdown,cyber_attack]"]))
    assert config.drivers.lockdown and config.drivers.cyber_attacks and not config.drivers.budget_cut


def test_unknown_key_fails_at_composition():
    with pytest.raises(ConfigCompositionException) as err:
        compose_config(["training.budjet_eur_per_staff=3"])
    assert "budjet_eur_per_staff" in str(err.value)


def test_wrong_type_fails_at_composition():
    with pytest.raises((ConfigCompositionException, ValidationError)) as err:
        compose_config(["training.budget_eur_per_staff=lots"])
    assert "budget_eur_per_staff" in str(err.value) or "lots" in str(err.value)


def test_unknown_scenario_lists_available_options():
    with pytest.raises(Exception) as err:
        compose_config(["scenario=does_not_exist"])
    text = str(err.value)
    assert "does_not_exist" in text and "business_as_usual" in text


@pytest.mark.parametrize(
    "override,needle",
    [
        ("training.budget_eur_per_staff=-5", "training.budget_eur_per_staff=-5.0 is below its minimum 0.0"),
        ("drivers.online_target=1.5", "drivers.online_target=1.5 is above its maximum 1.0"),
        (
            "training.modality=webinar",
            "training.modality='webinar' is not allowed; allowed values: elearning, blended, tutoring",
        ),
        ("territory.category_shares=[0.5,0.5,0.5]", "territory.category_shares must have 3 shares summing to 1"),
    ],
)
def test_out_of_range_values_name_the_key_and_allowed_values(override, needle):
    cfg = compose_config([override])
    with pytest.raises(ConfigError) as err:
        to_config(cfg)
    assert needle in str(err.value)
